"""IDX reading and the dataset search order (no real dataset needed)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from devices.validation import ConfigError
from neuro import data
from neuro.data import DataError, load_dataset, read_idx, write_idx


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """No $NEURO_DATA, an empty user data dir, and no Debian directory."""
    monkeypatch.delenv("NEURO_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    return tmp_path


def _fake_set(directory: Path, rng, n_train=30, n_test=10, gz=True, single=False):
    directory.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    x = rng.integers(0, 256, size=(n_train + n_test, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=n_train + n_test).astype(np.uint8)
    if single:
        write_idx(directory / f"images-idx3-ubyte{ext}", x)
        write_idx(directory / f"labels-idx1-ubyte{ext}", y)
    else:
        write_idx(directory / f"train-images-idx3-ubyte{ext}", x[:n_train])
        write_idx(directory / f"train-labels-idx1-ubyte{ext}", y[:n_train])
        write_idx(directory / f"t10k-images-idx3-ubyte{ext}", x[n_train:])
        write_idx(directory / f"t10k-labels-idx1-ubyte{ext}", y[n_train:])
    return x, y


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, rng, suffix, dtype):
    arr = (rng.standard_normal((5, 3, 4)) * 50).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, arr)
    if suffix:
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_idx_magic_numbers_are_the_mnist_ones(tmp_path):
    write_idx(tmp_path / "i", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "l", np.zeros(2, np.uint8))
    assert (tmp_path / "i").read_bytes()[:4] == (2051).to_bytes(4, "big")
    assert (tmp_path / "l").read_bytes()[:4] == (2049).to_bytes(4, "big")


def test_idx_wrong_magic(tmp_path):
    write_idx(tmp_path / "l", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="magic number 2049 where 2051 was expected"):
        read_idx(tmp_path / "l", expected_magic=2051)


def test_idx_not_idx(tmp_path):
    (tmp_path / "x").write_bytes(b"hello world!")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize("cut", [3, 9, 100])
def test_idx_truncated(tmp_path, cut):
    write_idx(tmp_path / "i", np.ones((2, 28, 28), np.uint8))
    raw = (tmp_path / "i").read_bytes()
    (tmp_path / "t").write_bytes(raw[:cut])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "t")


def test_idx_too_long(tmp_path):
    write_idx(tmp_path / "i", np.ones((2, 2), np.uint8))
    (tmp_path / "i").write_bytes((tmp_path / "i").read_bytes() + b"\0")
    with pytest.raises(DataError, match="too long"):
        read_idx(tmp_path / "i")


def test_idx_truncated_gzip(tmp_path):
    write_idx(tmp_path / "i.gz", np.ones((50, 28, 28), np.uint8))
    raw = (tmp_path / "i.gz").read_bytes()
    (tmp_path / "t.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="t.gz"):
        read_idx(tmp_path / "t.gz")


def test_write_idx_refuses_unknown_dtype(tmp_path):
    with pytest.raises(ConfigError, match="dtype must be one of"):
        write_idx(tmp_path / "x", np.zeros(3, np.complex64))


def test_neuro_data_comes_first(isolated_dirs, monkeypatch, rng):
    env_dir = isolated_dirs / "env"
    x_env, _ = _fake_set(env_dir / "fashion-mnist", rng, n_train=20)
    _fake_set(isolated_dirs / "xdg" / "neuro-cosim" / "fashion-mnist", rng, n_train=40)
    monkeypatch.setenv("NEURO_DATA", str(env_dir))
    ds = load_dataset("fashion-mnist", allow_download=False)
    assert ds.source == str(env_dir / "fashion-mnist")
    assert ds.x_train.shape == (20, 28, 28)
    np.testing.assert_array_equal(ds.x_train, x_env[:20])
    assert not ds.fallback


def test_user_data_dir_then_debian(isolated_dirs, monkeypatch, rng):
    debian = isolated_dirs / "debian"
    _fake_set(debian, rng, n_train=12, gz=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    ds = load_dataset("fashion-mnist", allow_download=False)
    assert ds.source == str(debian) and ds.x_train.shape[0] == 12
    _fake_set(isolated_dirs / "xdg" / "neuro-cosim" / "fashion-mnist", rng, n_train=15)
    ds = load_dataset("fashion-mnist", allow_download=False)
    assert ds.x_train.shape[0] == 15 and "xdg" in ds.source


def test_single_set_splits_last_tenth(isolated_dirs, monkeypatch, rng):
    x, y = _fake_set(isolated_dirs / "mnist10", rng, n_train=90, n_test=10, single=True)
    monkeypatch.setenv("NEURO_DATA", str(isolated_dirs / "mnist10"))
    ds = load_dataset("mnist")
    assert ds.x_train.shape == (90, 28, 28) and ds.x_test.shape == (10, 28, 28)
    np.testing.assert_array_equal(ds.x_test, x[90:])
    np.testing.assert_array_equal(ds.y_test, y[90:])
    assert "last 10 as test" in ds.source


def test_image_label_count_mismatch(isolated_dirs, monkeypatch):
    d = isolated_dirs / "bad"
    d.mkdir()
    write_idx(d / "images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(d / "labels-idx1-ubyte", np.zeros(4, np.uint8))
    monkeypatch.setenv("NEURO_DATA", str(d))
    with pytest.raises(DataError, match="5 images but .* has 4 labels"):
        load_dataset("mnist")


def test_fallback_to_digits_says_so(isolated_dirs):
    with pytest.warns(UserWarning, match="scikit-learn digits"):
        ds = load_dataset("fashion-mnist", allow_download=False)
    assert ds.fallback and ds.source.startswith("fallback: scikit-learn digits")
    assert ds.image_shape == (28, 28) and ds.n_classes == 10
    assert len(ds.y_train) + len(ds.y_test) == 1797


def test_no_fallback_raises(isolated_dirs):
    with pytest.raises(DataError, match="'mnist': not found in"):
        load_dataset("mnist", allow_fallback=False)


def test_unknown_dataset():
    with pytest.raises(
        ConfigError, match="dataset must be one of fashion-mnist, mnist, digits; got 'cifar'"
    ):
        load_dataset("cifar")


def test_digits_tensors_in_unit_range():
    ds = load_dataset("digits")
    x, y = ds.tensors("test")
    assert x.shape == (359, 1, 8, 8) and y.shape == (359,)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    with pytest.raises(ConfigError, match="split must be 'train' or 'test'; got 'val'"):
        ds.tensors("val")


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _serve_fake_fmnist(root: Path, rng) -> dict[str, str]:
    _fake_set(root, rng, n_train=10, n_test=4)
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in root.glob("*.gz")}


def test_download_checks_md5_and_writes_atomically(isolated_dirs, http_server, monkeypatch, rng):
    root, url = http_server
    md5 = _serve_fake_fmnist(root, rng)
    monkeypatch.setattr(data, "FASHION_MNIST_MD5", md5)
    ds = load_dataset("fashion-mnist", base_url=url, allow_fallback=False)
    assert ds.source.startswith(f"download: {url}")
    assert ds.x_train.shape == (10, 28, 28)
    dest = isolated_dirs / "xdg" / "neuro-cosim" / "fashion-mnist"
    assert sorted(p.name for p in dest.iterdir()) == sorted(md5)  # no temp files left
    # Now found locally, without the network.
    assert load_dataset("fashion-mnist", allow_download=False).source == str(dest)


def test_download_md5_mismatch_leaves_nothing(isolated_dirs, http_server, monkeypatch, rng):
    root, url = http_server
    md5 = _serve_fake_fmnist(root, rng)
    md5 = {k: "0" * 32 for k in md5}
    monkeypatch.setattr(data, "FASHION_MNIST_MD5", md5)
    with pytest.raises(DataError, match="download failed .*MD5"):
        load_dataset("fashion-mnist", base_url=url, allow_fallback=False)
    dest = isolated_dirs / "xdg" / "neuro-cosim" / "fashion-mnist"
    assert not any(p.name.endswith(".gz") for p in dest.iterdir())


def test_download_unreachable_falls_back(isolated_dirs):
    with pytest.warns(UserWarning, match="download failed"):
        ds = load_dataset("fashion-mnist", base_url="http://127.0.0.1:9/")
    assert ds.fallback


# -- the weight cache -------------------------------------------------------------------------
def test_damaged_weight_cache_entry_is_rebuilt_with_a_warning(tmp_path, monkeypatch):
    from neuro.workloads import get
    from neuro.workloads.training import cached_accuracy, trained_model

    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "cache"))
    w = get("mlp-digits")
    first = trained_model(w)
    first.path.write_bytes(b"scribbled")  # a damaged entry
    with pytest.warns(UserWarning, match=r"weight cache entry .*\.pt is damaged .*training again"):
        again = trained_model(w)
    assert again.test_accuracy == first.test_accuracy  # deterministic training, same weights
    assert trained_model(w).path.read_bytes()[:2] == b"PK"  # a torch zip archive again
    first.path.with_suffix(".json").write_text("{not json")
    assert cached_accuracy("mlp-digits") is None  # the listing passes over it
    with pytest.warns(UserWarning, match="is damaged"):
        assert trained_model(w).test_accuracy == first.test_accuracy
    assert cached_accuracy("mlp-digits") == first.test_accuracy
