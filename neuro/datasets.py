"""The user's own data as a workload's dataset: arrays, a torch ``Dataset`` or an image folder.

Build a :class:`neuro.data.Dataset` with :func:`from_arrays`, :func:`from_torch` or
:func:`from_folder`, give it a name with :func:`register`, and name it in a workload
(``Workload(..., dataset="my-data")``) like a built-in one::

    from neuro import datasets, workloads
    data = datasets.from_folder("~/data/wafers", size=28, grayscale=True)
    datasets.register("wafers", data)
    workloads.register(workloads.Workload("my-cnn", "my CNN on wafers", build, (1, 28, 28),
                                          dataset="wafers", train=workloads.TrainConfig()))

Every dataset keeps its ``source`` (the folder, or what the caller says it is), which the
targets record in each run's provenance beside the accuracy. Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from devices.validation import ConfigError
from neuro.data import DataError, Dataset

__all__ = ["from_arrays", "from_torch", "from_folder", "register", "get", "names", "IMAGE_SUFFIXES"]

#: Image files :func:`from_folder` reads (through Pillow).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm")
_REGISTRY: dict[str, Dataset] = {}


def _array(v: Any, what: str) -> np.ndarray:
    if hasattr(v, "detach"):  # a torch tensor
        v = v.detach().cpu().numpy()
    a = np.asarray(v)
    if a.dtype == object:
        raise ConfigError(f"from_arrays: {what} must be a numeric array; got objects")
    return a


def from_arrays(
    x_train: Any,
    y_train: Any,
    x_test: Any = None,
    y_test: Any = None,
    *,
    name: str = "arrays",
    source: str = "arrays given by the caller",
    max_value: float | None = None,
    test_fraction: float = 0.2,
) -> Dataset:
    """A dataset from ``(x, y)`` arrays or tensors.

    Parameters
    ----------
    x_train, x_test : array-like
        Images ``(N, H, W)`` or ``(N, C, H, W)``: integers in ``[0, max_value]`` or floats
        in ``[0, 1]``.
    y_train, y_test : array-like
        Integer class labels ``(N,)`` from 0.
    x_test, y_test : optional
        Without them the last ``test_fraction`` of the training arrays is the test split
        (in the order given; shuffle first if it is sorted).
    name, source : str
        Recorded with every run.
    max_value : float, optional
        Full-scale value; default 255 for integer images and 1 for floats.
    """
    x, y = _array(x_train, "x_train"), _array(y_train, "y_train")
    if (x_test is None) != (y_test is None):
        raise ConfigError("from_arrays: give both x_test and y_test, or neither")
    if x_test is None:
        if not 0.0 < test_fraction < 1.0:
            raise ConfigError(f"from_arrays: test_fraction must be in (0, 1); got {test_fraction}")
        n_test = max(1, int(round(len(y) * test_fraction)))
        x, xt, y, yt = x[:-n_test], x[-n_test:], y[:-n_test], y[-n_test:]
    else:
        xt, yt = _array(x_test, "x_test"), _array(y_test, "y_test")
    floats = np.issubdtype(x.dtype, np.floating)
    full = float(max_value if max_value is not None else (1.0 if floats else 255.0))
    for what, xs, ys in (("train", x, y), ("test", xt, yt)):
        if xs.ndim not in (3, 4) or len(xs) != len(ys) or ys.ndim != 1 or len(ys) == 0:
            raise ConfigError(
                f"from_arrays: {what} images must be (N, H, W) or (N, C, H, W) with N labels "
                f"(N >= 1); got images {xs.shape} and labels {ys.shape}"
            )
        if not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0:
            raise ConfigError(f"from_arrays: {what} labels must be integers >= 0")
        if not np.all(np.isfinite(xs)) or xs.min() < 0 or xs.max() > full:
            raise ConfigError(
                f"from_arrays: {what} pixel values must lie in [0, {full:g}] (max_value); got "
                f"[{float(np.nanmin(xs)):g}, {float(np.nanmax(xs)):g}]"
            )
    if x.shape[1:] != xt.shape[1:]:
        raise ConfigError(f"from_arrays: train images {x.shape[1:]} but test {xt.shape[1:]}")
    dtype = np.float32 if floats else x.dtype
    return Dataset(
        name, source, np.ascontiguousarray(x, dtype=dtype), y.astype(np.int64),
        np.ascontiguousarray(xt, dtype=dtype), yt.astype(np.int64), full,
    )  # fmt: skip


def _stack(ds: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in range(len(ds)):
        item = ds[i]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ConfigError(f"from_torch: {what}[{i}] must be an (image, label) pair")
        xs.append(_array(item[0], f"{what}[{i}] image"))
        ys.append(int(item[1]))
    if not xs:
        raise ConfigError(f"from_torch: {what} is empty")
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def from_torch(
    train: Any, test: Any, *, name: str = "torch-dataset", source: str | None = None
) -> Dataset:
    """A dataset from two map-style torch ``Dataset`` objects of ``(image, label)`` pairs.

    Images are tensors ``(C, H, W)`` or ``(H, W)`` (apply ``transforms.ToTensor()`` to PIL
    images): floats in ``[0, 1]`` or integers in ``[0, 255]``.
    """
    x, y = _stack(train, "train")
    xt, yt = _stack(test, "test")
    src = source or f"torch Dataset {type(train).__name__} ({len(y)} train, {len(yt)} test)"
    return from_arrays(x, y, xt, yt, name=name, source=src)


def _read_image(path: Path, size: int | None, grayscale: bool) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("L" if grayscale else "RGB")
            if size is not None:
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            a = np.asarray(im, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return a if grayscale else np.ascontiguousarray(a.transpose(2, 0, 1))


def from_folder(
    path: str | os.PathLike,
    *,
    size: int | None = None,
    grayscale: bool = False,
    name: str | None = None,
) -> Dataset:
    """A dataset from an image folder: ``path/train/<class>/*.png`` and ``path/test/<class>/*``.

    The layout of torchvision's ``ImageFolder``, one folder per class, classes numbered in
    sorted order of their folder names (the same in both splits). Images are read with
    Pillow as 8-bit grey (``grayscale``) or RGB, resized to ``size × size`` when given
    (else they must all have one size).
    """
    root = Path(path).expanduser()
    splits = {s: root / s for s in ("train", "test")}
    missing = [str(p) for p in splits.values() if not p.is_dir()]
    if missing:
        raise DataError(
            f"image folder {root}: no {', '.join(missing)}; expected train/<class>/*.png and "
            "test/<class>/*.png"
        )
    classes = sorted(d.name for d in splits["train"].iterdir() if d.is_dir())
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, folder in splits.items():
        xs, ys = [], []
        for label, cls in enumerate(classes):
            files = sorted(
                f for f in (folder / cls).glob("*") if f.suffix.lower() in IMAGE_SUFFIXES
            )
            xs += [_read_image(f, size, grayscale) for f in files]
            ys += [label] * len(files)
        extra = sorted(
            d.name for d in folder.iterdir() if d.is_dir() and d.name not in set(classes)
        )
        if extra:
            raise DataError(f"{folder}: classes {extra} are not in {splits['train']}")
        if not xs:
            raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in class folders")
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            raise DataError(
                f"{folder}: images of different sizes {sorted(shapes)[:3]}; pass size=..."
            )
        arrays[split] = (np.stack(xs), np.asarray(ys, dtype=np.int64))
    return from_arrays(
        *arrays["train"], *arrays["test"], name=name or root.name,
        source=f"{root} (image folder, classes {', '.join(classes)})",
    )  # fmt: skip


def register(name: str, dataset: Dataset, *, replace: bool = False) -> Dataset:
    """Make ``dataset`` loadable by ``name`` (``neuro.data.load_dataset``, workloads)."""
    if not isinstance(dataset, Dataset):
        raise ConfigError(f"datasets.register: expected a neuro.data.Dataset; got {type(dataset)}")
    if name in _REGISTRY and not replace:
        raise ConfigError(f"dataset {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = dataset
    return dataset


def get(name: str) -> Dataset:
    """The dataset registered as ``name``."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown user dataset {name!r}; registered: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def names() -> list[str]:
    """Registered user datasets."""
    return sorted(_REGISTRY)
