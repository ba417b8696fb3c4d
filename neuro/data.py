"""Datasets: an IDX reader and a loader that searches the usual places and says which it used.

Search order for a dataset (``fashion-mnist``, ``mnist``):

1. ``$NEURO_DATA`` (a directory holding the IDX files, or a ``<name>/`` folder of them);
2. the user's data directory (``$XDG_DATA_HOME/neuro-cosim``, else
   ``~/.local/share/neuro-cosim``);
3. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``;
4. a download of Fashion-MNIST from its canonical location, when the network allows it
   (timeout, MD5 check against the published checksums, atomic write into 2.);
5. scikit-learn's 8×8 digits, always there, upsampled to 28×28 for workloads that expect
   that shape — a *different task*, so the source says "fallback" loudly.

IDX files (MNIST format) are read plain or gzip-compressed; the magic number, the
dimensions and the payload size are checked, and a corrupt or truncated file raises
:class:`DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import os
import struct
import tempfile
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch

from devices.validation import ConfigError

__all__ = [
    "DataError",
    "Dataset",
    "read_idx",
    "write_idx",
    "load_dataset",
    "data_dirs",
    "DATASETS",
    "FASHION_MNIST_URL",
]

#: Canonical location of Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, MIT licence).
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
#: MD5 of the published .gz files (from the Fashion-MNIST README).
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 20.0

DATASETS = ("fashion-mnist", "mnist", "digits")

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# One set without a split (e.g. the 10k MNIST digits beside the project): the last tenth is
# the test split.
_SINGLE_FILES = ("images-idx3-ubyte", "labels-idx1-ubyte")

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DataError(ValueError):
    """A data file is missing, corrupt or truncated; the message names the file."""


#: Largest IDX payload read (bytes): 1 GiB, 20x Fashion-MNIST's training images. A header
#: that claims more is refused before anything is allocated or decompressed.
MAX_IDX_BYTES = 1 << 30
#: Fewest training images (and test images) a dataset folder must hold to train on.
MIN_TRAIN_IMAGES = 10
MIN_TEST_IMAGES = 1
_CHUNK = 1 << 20


def _open(path: Path):
    with open(path, "rb") as fh:
        head = fh.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def _read_exactly(fh, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = fh.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip), header first, then exactly the payload it announces.

    Parameters
    ----------
    path : path
        The file.
    expected_magic : int, optional
        The magic number required (2051 for images, 2049 for labels).

    Returns
    -------
    numpy.ndarray
        Shape as the header says (``(N, 28, 28)`` images, ``(N,)`` labels).

    Raises
    ------
    DataError
        Wrong magic, unknown type code, a header announcing more than
        :data:`MAX_IDX_BYTES`, or a payload shorter or longer than the header. A gzip file
        is decompressed as a stream and never beyond one byte past what the header
        announces, so a compression bomb costs no more memory than an honest file.
    """
    path = Path(path)
    try:
        with _open(path) as fh:
            head = _read_exactly(fh, 4)
            if len(head) < 4:
                raise DataError(f"{path}: truncated IDX header ({len(head)} bytes)")
            zero, type_code, ndim = struct.unpack(">HBB", head)
            magic = struct.unpack(">I", head)[0]
            if zero != 0 or type_code not in _IDX_DTYPES or ndim == 0:
                raise DataError(f"{path}: not an IDX file (magic {magic:#010x})")
            if expected_magic is not None and magic != expected_magic:
                raise DataError(f"{path}: magic number {magic} where {expected_magic} was expected")
            raw_dims = _read_exactly(fh, 4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(
                    f"{path}: truncated IDX header ({4 + len(raw_dims)} of {4 + 4 * ndim} bytes)"
                )
            dims = struct.unpack(f">{ndim}I", raw_dims)
            dtype = _IDX_DTYPES[type_code]
            expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
            if expected > MAX_IDX_BYTES:
                raise DataError(
                    f"{path}: header says {dims} ({expected:,} bytes), more than the "
                    f"{MAX_IDX_BYTES:,} bytes an IDX file may hold here"
                )
            if not isinstance(fh, gzip.GzipFile):
                size = os.fstat(fh.fileno()).st_size - 4 - 4 * ndim
                if size != expected:
                    what = "truncated" if size < expected else "too long"
                    raise DataError(
                        f"{path}: {what}: header says {dims} ({expected} bytes), file holds "
                        f"{size} bytes"
                    )
            buf = bytearray(expected)
            view, got = memoryview(buf), 0
            while got < expected:
                n = fh.readinto(view[got : got + _CHUNK])
                if not n:
                    break
                got += n
            extra = len(fh.read(1)) if got == expected else 0
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc})") from None
    if got != expected or extra:
        what = "truncated" if got < expected else "too long"
        held = f"{got} bytes" if got < expected else "more"
        raise DataError(f"{path}: {what}: header says {dims} ({expected} bytes), file holds {held}")
    arr = np.frombuffer(buf, dtype=dtype).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip if ``compress`` or the name ends in ``.gz``)."""
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ConfigError(
            f"write_idx.array dtype must be one of uint8, int8, int16, int32, float32, float64; got {array.dtype}"
        )
    code = codes[native]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(_IDX_DTYPES[code], copy=False).tobytes()
    gz = compress if compress is not None else path.suffix == ".gz"
    opener = gzip.open if gz else open
    with opener(path, "wb") as fh:
        fh.write(header + body)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A classification dataset held as raw integer images.

    Attributes
    ----------
    name : str
        ``"fashion-mnist"``, ``"mnist"`` or ``"digits"``.
    source : str
        Where it was loaded from (a path, ``"download: URL"`` or a fallback note).
    x_train, x_test : numpy.ndarray
        Images, shape ``(N, H, W)``, integers in ``[0, max_value]``.
    y_train, y_test : numpy.ndarray
        Labels, shape ``(N,)``, ``int64``.
    max_value : float
        Full-scale pixel value (255 for MNIST-style data).
    fallback : bool
        True when the requested dataset was not found and another stands in.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    max_value: float = 255.0
    fallback: bool = False

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def tensors(self, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as float32 in ``[0, 1]``, shape ``(N, 1, H, W)``, and int64 labels."""
        if split not in ("train", "test"):
            raise ConfigError(f"Dataset.split must be 'train' or 'test'; got {split!r}")
        x = self.x_train if split == "train" else self.x_test
        y = self.y_train if split == "train" else self.y_test
        if limit is not None:
            x, y = x[:limit], y[:limit]
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32) / self.max_value)
        xt = xt.unsqueeze(1) if xt.ndim == 3 else xt  # (N, C, H, W) images keep their channels
        return xt, torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))

    def fingerprint(self) -> str:
        """SHA-256 over the arrays: identifies the exact data a model was trained on.

        Computed once per dataset object (the arrays are not meant to change).
        """
        cached = self.__dict__.get("_fingerprint")
        if cached is not None:
            return cached
        h = hashlib.sha256()
        for arr in (self.x_train, self.y_train, self.x_test, self.y_test):
            h.update(str(arr.shape).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        self.__dict__["_fingerprint"] = h.hexdigest()[:16]  # frozen: bypass __setattr__
        return self.__dict__["_fingerprint"]


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/neuro-cosim`` or ``~/.local/share/neuro-cosim``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "neuro-cosim"


def data_dirs(name: str) -> list[Path]:
    """Directories searched for ``name``, in order."""
    roots: list[Path] = []
    if os.environ.get("NEURO_DATA"):
        roots.append(Path(os.environ["NEURO_DATA"]))
    roots.append(user_data_dir())
    dirs: list[Path] = []
    for root in roots:
        dirs += [root / name, root]
    if name == "fashion-mnist":
        dirs.append(DEBIAN_FASHION_MNIST)
    return dirs


def _find(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def _load_images_labels(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(images, expected_magic=2051)
    y = read_idx(labels, expected_magic=2049).astype(np.int64)
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{images}: {x.shape[0]} images but {labels} has {y.shape[0]} labels")
    return x, y


def _load_dir(name: str, directory: Path) -> Dataset | None:
    split = {k: [_find(directory, s) for s in stems] for k, stems in _SPLIT_FILES.items()}
    if all(p is not None for pair in split.values() for p in pair):
        x_tr, y_tr = _load_images_labels(*split["train"])  # type: ignore[arg-type]
        x_te, y_te = _load_images_labels(*split["test"])  # type: ignore[arg-type]
        return _checked(Dataset(name, str(directory), x_tr, y_tr, x_te, y_te))
    single = [_find(directory, s) for s in _SINGLE_FILES]
    if all(p is not None for p in single):
        x, y = _load_images_labels(*single)  # type: ignore[arg-type]
        n_test = max(1, x.shape[0] // 10)
        return _checked(
            Dataset(
                name,
                f"{directory} (one set; last {n_test} as test)",
                x[:-n_test],
                y[:-n_test],
                x[-n_test:],
                y[-n_test:],
            )
        )
    return None


def _checked(ds: Dataset) -> Dataset:
    """``ds`` if a workload can train and be tested on it, else :class:`DataError`.

    MNIST-format sets are 28×28 ``uint8`` images with labels 0–9; a folder with fewer than
    :data:`MIN_TRAIN_IMAGES` training images (or no test image, or one class only) cannot
    train a network.
    """
    where = ds.source
    for split, x, y in (("train", ds.x_train, ds.y_train), ("test", ds.x_test, ds.y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DataError(
                f"{where}: {split} images must be uint8 of shape (N, 28, 28); got {x.dtype} "
                f"{tuple(x.shape)}"
            )
        if y.size and (y.min() < 0 or y.max() > 9):
            raise DataError(
                f"{where}: {split} labels must be 0 to 9; got {int(y.min())} to {int(y.max())}"
            )
    if len(ds.y_train) < MIN_TRAIN_IMAGES or len(ds.y_test) < MIN_TEST_IMAGES:
        raise DataError(
            f"{where}: too small to train on: {len(ds.y_train)} training and {len(ds.y_test)} "
            f"test images (need at least {MIN_TRAIN_IMAGES} and {MIN_TEST_IMAGES})"
        )
    if len(np.unique(ds.y_train)) < 2:
        raise DataError(f"{where}: the training labels hold one class only")
    return ds


def _download_fashion_mnist(dest: Path, base_url: str, md5: dict[str, str]) -> Dataset:
    dest.mkdir(parents=True, exist_ok=True)
    for fname, digest in md5.items():
        target = dest / fname
        if target.is_file() and hashlib.md5(target.read_bytes()).hexdigest() == digest:
            continue
        with urllib.request.urlopen(base_url + fname, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            payload = resp.read()
        got = hashlib.md5(payload).hexdigest()
        if got != digest:
            raise DataError(f"{base_url + fname}: MD5 {got}, expected {digest}")
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{fname}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, target)
    ds = _load_dir("fashion-mnist", dest)
    assert ds is not None
    return dataclasses.replace(ds, source=f"download: {base_url} -> {dest}")


def load_digits(size: int | None = None) -> Dataset:
    """scikit-learn's 8×8 digits (1,797 images, values 0–16), split 80/20 with a fixed seed.

    With ``size`` the images are resized (bilinear) to ``size × size`` and rescaled to 0–255.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = bunch.images.astype(np.float32)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    n_test = len(y) // 5
    max_value = 16.0
    if size is not None:
        t = torch.from_numpy(x).unsqueeze(1) / 16.0
        t = torch.nn.functional.interpolate(
            t, size=(size, size), mode="bilinear", align_corners=False
        )
        x = (t.squeeze(1).clamp(0, 1) * 255).round().numpy()
        max_value = 255.0
    x = x.astype(np.uint8)
    return Dataset(
        "digits",
        "scikit-learn load_digits",
        x[n_test:],
        y[n_test:],
        x[:n_test],
        y[:n_test],
        max_value,
    )


def _external_loader(name: str):
    """Readers that live in their own modules, by name (CIFAR: :mod:`neuro.cifar`; the
    user's arrays, torch datasets and image folders: :mod:`neuro.datasets`)."""
    from neuro import cifar, datasets  # they import this module: kept out of its import

    if name in datasets.names():
        return datasets.get
    return cifar.load_cifar if cifar.parse_name(name) is not None else None


def load_dataset(
    name: str,
    *,
    allow_download: bool = True,
    allow_fallback: bool = True,
    base_url: str = FASHION_MNIST_URL,
) -> Dataset:
    """Load a dataset from the first place it is found (see the module docstring).

    Parameters
    ----------
    name : {"fashion-mnist", "mnist", "digits"}
    allow_download : bool
        Try the canonical download for Fashion-MNIST.
    allow_fallback : bool
        Stand in scikit-learn's digits (resized to 28×28) when nothing else is found.

    Returns
    -------
    Dataset
        ``source`` says where it came from; ``fallback`` is True for a stand-in.
    """
    external = _external_loader(name)
    if external is not None:
        return external(name)
    if name not in DATASETS:
        raise ConfigError(
            f"dataset must be one of {', '.join(DATASETS)}; got {name!r} (CIFAR: cifar10 or "
            "cifar100, optionally ':folder', from the binary version; see neuro.cifar)"
        )
    if name == "digits":
        return load_digits()
    for directory in data_dirs(name):
        if directory.is_dir():
            ds = _load_dir(name, directory)
            if ds is not None:
                return ds
    reasons = [f"not found in {', '.join(str(d) for d in data_dirs(name))}"]
    if name == "fashion-mnist" and allow_download:
        try:
            return _download_fashion_mnist(user_data_dir() / name, base_url, FASHION_MNIST_MD5)
        except (OSError, DataError) as exc:
            reasons.append(f"download failed ({exc})")
    if not allow_fallback:
        raise DataError(f"dataset {name!r}: " + "; ".join(reasons))
    warnings.warn(
        f"dataset {name!r} {'; '.join(reasons)}: using scikit-learn digits resized to 28x28 "
        "instead (install dataset-fashion-mnist or set NEURO_DATA)",
        stacklevel=2,
    )
    ds = load_digits(size=28)
    return dataclasses.replace(
        ds,
        source=f"fallback: scikit-learn digits resized to 28x28 ({name} not found)",
        fallback=True,
    )
