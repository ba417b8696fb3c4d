"""devices.cext: a C source built at first use, cached, loaded; or unavailable with a reason."""

from __future__ import annotations

import ctypes

import pytest

from devices import cext
from devices.validation import ConfigError

SOURCE = "int add3(int a) { return a + 3; }\n"

pytestmark = pytest.mark.skipif(cext.compiler() is None, reason="no C compiler")


def declare(lib: ctypes.CDLL) -> None:
    lib.add3.argtypes = [ctypes.c_int]
    lib.add3.restype = ctypes.c_int


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(cext.ENV_DISABLE, raising=False)
    return tmp_path / "cache" / "cext"


def test_builds_once_and_loads_from_the_cache(tmp_path, cache):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)
    ext = cext.CExtension("add3", src, declare)
    assert ext.available() and ext.reason() == ""
    assert ext.lib().add3(4) == 7
    assert ext.path is not None and ext.path.parent == cache and ext.path.name.startswith("add3-")
    built = ext.path.stat().st_mtime_ns
    again = cext.CExtension("add3", src, declare)  # another process would do the same
    assert again.lib().add3(-3) == 0 and again.path == ext.path
    assert again.path.stat().st_mtime_ns == built  # found, not rebuilt
    src.write_text(SOURCE.replace("+ 3", "+ 4"))  # a new source is a new library
    changed = cext.CExtension("add3", src, declare)
    assert changed.lib().add3(4) == 8 and changed.path != ext.path


def test_first_flag_set_that_fails_falls_back_to_the_next(tmp_path, cache):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)
    flags = (("-fno-such-flag-xyz", "-fPIC", "-shared"), ("-O1", "-fPIC", "-shared"))
    ext = cext.CExtension("add3", src, declare, flags)
    assert ext.lib().add3(1) == 4


def test_no_compiler_makes_it_unavailable_with_a_reason(tmp_path, cache, monkeypatch):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ext = cext.CExtension("add3", src, declare)
    assert cext.compiler() is None
    assert not ext.available()
    assert ext.reason() == "no C compiler (cc, gcc, clang or $CC) on PATH"
    with pytest.raises(RuntimeError, match="'add3' is not available: no C compiler"):
        ext.lib()


def test_failed_build_names_the_compiler_and_error(tmp_path, cache):
    src = tmp_path / "bad.c"
    src.write_text("int f(void) { return }\n")
    ext = cext.CExtension("bad", src)
    assert not ext.available()
    assert "error" in ext.reason() and "-shared" in ext.reason()
    assert not list(cache.glob("bad-*.so"))  # nothing half-built left behind
    missing = cext.CExtension("missing", tmp_path / "nowhere.c")
    assert not missing.available() and "cannot read" in missing.reason()


def test_setup_failure_makes_it_unavailable(tmp_path, cache):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)

    def wrong(lib):
        lib.no_such_function.restype = ctypes.c_int  # AttributeError from ctypes

    ext = cext.CExtension("add3", src, wrong)
    assert not ext.available() and ext.reason().startswith("cannot load ")
    assert "AttributeError" in ext.reason()


def test_environment_variable_disables_and_reset_reloads(tmp_path, cache, monkeypatch):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)
    ext = cext.CExtension("add3", src, declare)
    monkeypatch.setenv(cext.ENV_DISABLE, "1")
    assert not ext.available() and ext.reason() == "disabled by NEURO_COSIM_NO_CEXT=1"
    assert ext.path is None and not cache.exists()  # not even built
    monkeypatch.setenv(cext.ENV_DISABLE, "0")  # "0" means enabled
    assert ext.available()
    ext.reset()
    assert ext.path is None and ext.lib().add3(0) == 3


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "a"))
    assert cext.cache_dir() == tmp_path / "a" / "cext"
    monkeypatch.delenv("NEURO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cext.cache_dir() == tmp_path / "x" / "neuro-cosim" / "cext"


def test_invalid_arguments():
    with pytest.raises(ConfigError, match="name"):
        cext.CExtension("not a name", "x.c")
    with pytest.raises(ConfigError, match="at least one flag set"):
        cext.CExtension("ok", "x.c", flag_sets=())


def test_no_home_directory_makes_it_unavailable_with_a_reason(tmp_path, monkeypatch):
    src = tmp_path / "add3.c"
    src.write_text(SOURCE)
    for var in ("NEURO_CACHE", "XDG_CACHE_HOME", cext.ENV_DISABLE):
        monkeypatch.delenv(var, raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(cext.Path, "home", staticmethod(no_home))
    ext = cext.CExtension("add3", src, declare)
    assert not ext.available()
    assert ext.reason().startswith("no cache folder for the compiled kernel: Could not determine")
