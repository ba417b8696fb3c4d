"""Small C kernels compiled at first use with the system C compiler and loaded with ctypes.

A package that has a hot loop torch cannot express well (a bit-true FP16 GEMM, a fused
random draw) ships its C source next to its Python and describes it with a
:class:`CExtension`. On first use the source is compiled with the first flag set that
works, the shared library is loaded with :mod:`ctypes`, and a ``setup`` callback declares
the functions' argument types. The caller keeps a torch path for when the kernel is not
:meth:`CExtension.available`: no C compiler, a failed build, or ``NEURO_COSIM_NO_CEXT=1``
in the environment (then :meth:`CExtension.reason` says why).

The library is cached in ``$NEURO_CACHE/cext`` (else ``$XDG_CACHE_HOME/neuro-cosim/cext``,
else ``~/.cache/neuro-cosim/cext``), named by the extension's name and a hash of the source,
the compiler, its flags and the machine (``-march=native`` code is CPU specific), and built
under a file lock into a temporary file renamed into place, so concurrent processes build
it once and never load half a file.

This module imports nothing of ours: any package may use it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from devices.validation import require

__all__ = [
    "DEFAULT_FLAGS",
    "ENV_DISABLE",
    "CExtension",
    "build",
    "cache_dir",
    "compiler",
    "cpu_signature",
    "disabled",
]

#: Environment variable that, set to a non-empty value other than ``0``, keeps every C
#: kernel off (the callers use torch).
ENV_DISABLE = "NEURO_COSIM_NO_CEXT"
#: Flag sets tried in order: tuned for this CPU, then portable. ``-ffp-contract=off``: no
#: fused multiply-add may merge a product and a sum the source rounds separately; no
#: ``-ffast-math`` for the same reason (IEEE semantics, signed zeros, inf and NaN).
DEFAULT_FLAGS: tuple[tuple[str, ...], ...] = (
    ("-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-std=c99", "-fPIC",
     "-shared"),
    ("-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c99", "-fPIC", "-shared"),
)  # fmt: skip


def disabled() -> bool:
    """Whether ``NEURO_COSIM_NO_CEXT`` keeps the C kernels off."""
    return os.environ.get(ENV_DISABLE, "") not in ("", "0")


def cache_dir() -> Path:
    """``$NEURO_CACHE/cext``, else ``$XDG_CACHE_HOME/neuro-cosim/cext``, else ``~/.cache/...``."""
    root = os.environ.get("NEURO_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (
            str(Path(xdg) / "neuro-cosim") if xdg else str(Path.home() / ".cache" / "neuro-cosim")
        )
    return Path(root) / "cext"


def cpu_signature() -> str:
    """What ``-march=native`` depends on: the CPU's model and feature flags where Linux says."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    keep = [ln for ln in text.splitlines() if ln.startswith(("model name", "flags", "Features"))]
    return "\n".join(sorted(set(keep)))


def compiler() -> str | None:
    """Path of the C compiler: ``$CC``, else ``cc``, ``gcc`` or ``clang`` on ``PATH``; None if none."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and (path := shutil.which(name)):
            return path
    return None


def build(
    name: str, source: Path, cc: str, flag_sets: Sequence[Sequence[str]] = DEFAULT_FLAGS
) -> tuple[Path | None, str]:
    """Compile ``source`` (or find it in the cache) with the first flag set that works.

    Parameters
    ----------
    name : str
        Stem of the library's file name (``<name>-<hash>.so``).
    source : pathlib.Path
        The C file.
    cc : str
        The compiler.
    flag_sets : sequence of sequences of str
        Tried in order; each must make a shared library (``-shared -fPIC``).

    Returns
    -------
    tuple
        ``(path, "")`` on success, else ``(None, why)`` with every attempt's error.
    """
    errors = []
    try:
        cache = cache_dir()
    except (RuntimeError, KeyError) as exc:  # Path.home() without a home directory
        return None, f"no cache folder for the compiled kernel: {exc} (set NEURO_CACHE)"
    try:
        text = Path(source).read_bytes()
    except OSError as exc:
        return None, f"cannot read {source}: {exc}"
    for flags in flag_sets:
        key = hashlib.sha256(
            b"\0".join([text, cc.encode(), " ".join(flags).encode(),
                        platform.machine().encode(), cpu_signature().encode()])
        ).hexdigest()[:24]  # fmt: skip
        lib = cache / f"{name}-{key}{'.dll' if sys.platform == 'win32' else '.so'}"
        if lib.exists():
            return lib, ""
        try:
            cache.mkdir(parents=True, exist_ok=True)
            from filelock import FileLock

            with FileLock(str(lib) + ".lock", timeout=120):
                if lib.exists():
                    return lib, ""
                fd, tmp = tempfile.mkstemp(suffix=lib.suffix, dir=cache)
                os.close(fd)
                try:
                    run = subprocess.run(
                        [cc, *flags, "-o", tmp, str(source)],
                        capture_output=True, text=True, timeout=120,
                    )  # fmt: skip
                    if run.returncode == 0:
                        os.replace(tmp, lib)  # atomic: a reader sees all of it or nothing
                        return lib, ""
                    why = run.stderr.strip()[:300] or f"exit status {run.returncode}"
                    errors.append(f"{Path(cc).name} {' '.join(flags)}: {why}")
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
        except Exception as exc:  # noqa: BLE001 - any failure means "use torch"
            errors.append(f"{type(exc).__name__}: {exc}")
    return None, "; ".join(errors)


class CExtension:
    """One C source built and loaded at first use (thread safe), or unavailable with a reason.

    Parameters
    ----------
    name : str
        Stem of the cached library's name, e.g. ``"fp16gemm"``.
    source : pathlib.Path
        The C file (shipped as package data).
    setup : callable, optional
        ``setup(lib)`` declares ``argtypes``/``restype`` on the loaded
        :class:`ctypes.CDLL`; an exception there makes the extension unavailable.
    flag_sets : sequence of sequences of str
        Compiler flag sets tried in order (default :data:`DEFAULT_FLAGS`).

    Examples
    --------
    >>> ext = CExtension("demo", Path("demo.c"))  # doctest: +SKIP
    >>> lib = ext.lib() if ext.available() else None  # doctest: +SKIP
    """

    def __init__(
        self,
        name: str,
        source: Path | str,
        setup: Callable[[ctypes.CDLL], None] | None = None,
        flag_sets: Sequence[Sequence[str]] = DEFAULT_FLAGS,
    ) -> None:
        require(isinstance(name, str) and name.isidentifier(), "CExtension", "name", name,
                "an identifier (it names the cached library)")  # fmt: skip
        require(len(flag_sets) >= 1, "CExtension", "flag_sets", flag_sets, "at least one flag set")
        self.name, self.source = name, Path(source)
        self.setup, self.flag_sets = setup, tuple(tuple(f) for f in flag_sets)
        self._lock = threading.Lock()
        self._lib: ctypes.CDLL | bool | None = None  # None: not tried; False: failed
        self._reason = "not loaded yet"
        self.path: Path | None = None

    def reset(self) -> None:
        """Forget the loaded state: the next use builds (or finds in the cache) and loads again."""
        with self._lock:
            self._lib, self._reason, self.path = None, "not loaded yet", None

    def _load(self) -> ctypes.CDLL | None:
        if self._lib is not None:
            return self._lib or None
        with self._lock:
            if self._lib is not None:
                return self._lib or None
            self._lib, self._reason = False, ""
            cc = compiler()
            if cc is None:
                self._reason = "no C compiler (cc, gcc, clang or $CC) on PATH"
                return None
            path, self._reason = build(self.name, self.source, cc, self.flag_sets)
            if path is None:
                return None
            try:
                lib = ctypes.CDLL(str(path))
                if self.setup is not None:
                    self.setup(lib)
            except Exception as exc:  # noqa: BLE001 - any failure means "use torch"
                self._reason = f"cannot load {path}: {type(exc).__name__}: {exc}"
                return None
            self._lib, self.path = lib, path
            return lib

    def available(self) -> bool:
        """Whether the kernel is in use: built (at the first call) and not disabled by
        ``NEURO_COSIM_NO_CEXT``. :meth:`reason` says why not."""
        if disabled():
            return False
        return self._load() is not None

    def reason(self) -> str:
        """Why :meth:`available` is False (empty when it is True)."""
        if disabled():
            return f"disabled by {ENV_DISABLE}={os.environ[ENV_DISABLE]}"
        self._load()
        return self._reason

    def lib(self) -> ctypes.CDLL:
        """The loaded library.

        Raises
        ------
        RuntimeError
            If the extension is not :meth:`available` (the message says why).
        """
        if not self.available():
            raise RuntimeError(f"C extension {self.name!r} is not available: {self.reason()}")
        lib = self._load()
        assert lib is not None
        return lib
