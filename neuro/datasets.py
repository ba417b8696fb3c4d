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

__all__ = [
    "from_arrays",
    "from_torch",
    "from_folder",
    "from_path",
    "from_detection_folder",
    "register",
    "get",
    "names",
    "IMAGE_SUFFIXES",
]

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


def _read_image(
    path: Path, size: int | None, grayscale: bool, crop: float | None = None
) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("L" if grayscale else "RGB")
            if size is not None and crop is not None:  # shorter side to size/crop, centre crop
                short = max(size, round(size / crop))
                w, h = im.size
                scale = short / min(w, h)
                nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
                im = im.resize((nw, nh), Image.Resampling.BILINEAR)
                left, top = (nw - size) // 2, (nh - size) // 2
                im = im.crop((left, top, left + size, top + size))
            elif size is not None:
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            a = np.asarray(im, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return a if grayscale else np.ascontiguousarray(a.transpose(2, 0, 1))


def _has_images(folder: Path) -> bool:
    return any(
        f.suffix.lower() in IMAGE_SUFFIXES
        for d in folder.iterdir()
        if d.is_dir()
        for f in d.iterdir()
    )


def from_folder(
    path: str | os.PathLike,
    *,
    size: int | None = None,
    grayscale: bool = False,
    name: str | None = None,
    crop: float | None = None,
) -> Dataset:
    """A dataset from an image folder: ``path/train/<class>/*.png`` and ``path/test/<class>/*``.

    The layout of torchvision's ``ImageFolder``, one folder per class, classes numbered in
    sorted order of their folder names (the same in both splits; ImageNet's ``n01440764``
    … folders so get ImageNet's class indices). ``val/`` stands for ``test/``. A folder of
    class folders without splits (``path/<class>/*``: a set to evaluate a pretrained
    model on) is the test split, and a fixed shuffle of the same images (seed 0) the
    training split that calibrations draw from; the source says so. Images are read with
    Pillow as 8-bit grey (``grayscale``) or RGB, resized to ``size × size`` when given
    (else they must all have one size); with ``crop`` (e.g. 0.875, torchvision's
    ImageNet evaluation: shorter side to 256, centre 224) the shorter side goes to
    ``size / crop`` and the centre ``size × size`` is kept.
    """
    root = Path(path).expanduser()
    test_name = "test" if (root / "test").is_dir() or not (root / "val").is_dir() else "val"
    splits = {"train": root / "train", "test": root / test_name}
    one_split = root.is_dir() and not any(p.is_dir() for p in splits.values()) and _has_images(root)
    if one_split:
        splits = {"test": root}
    missing = [str(p) for p in splits.values() if not p.is_dir()]
    if missing:
        raise DataError(
            f"image folder {root}: no {', '.join(missing)}; expected train/<class>/*.png and "
            "test/<class>/*.png (or <class>/*.png: an evaluation set)"
        )
    first = splits["test"] if one_split else splits["train"]
    classes = sorted(d.name for d in first.iterdir() if d.is_dir())
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, folder in splits.items():
        xs, ys = [], []
        for label, cls in enumerate(classes):
            files = sorted(
                f for f in (folder / cls).glob("*") if f.suffix.lower() in IMAGE_SUFFIXES
            )
            xs += [_read_image(f, size, grayscale, crop) for f in files]
            ys += [label] * len(files)
        extra = sorted(
            d.name for d in folder.iterdir() if d.is_dir() and d.name not in set(classes)
        )
        if extra:
            raise DataError(f"{folder}: classes {extra} are not in {first}")
        if not xs:
            raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in class folders")
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            raise DataError(
                f"{folder}: images of different sizes {sorted(shapes)[:3]}; pass size=..."
            )
        arrays[split] = (np.stack(xs), np.asarray(ys, dtype=np.int64))
    shown = ", ".join(classes[:10]) + (f", … ({len(classes)} classes)" if len(classes) > 10 else "")
    source = f"{root} (image folder, classes {shown})"
    if one_split:
        xt, yt = arrays["test"]
        order = np.random.default_rng(0).permutation(len(yt))
        arrays["train"] = (xt[order], yt[order])
        source = (
            f"{root} (image folder of {len(yt)} evaluation images, classes {shown}; no "
            "training split: calibrations use the same images, shuffled)"
        )
    return from_arrays(
        *arrays["train"], *arrays["test"], name=name or root.name, source=source,
    )  # fmt: skip


def from_path(
    path: str | os.PathLike,
    input_shape: tuple[int, ...],
    *,
    crop: float | None = None,
    name: str | None = None,
) -> Dataset:
    """The data a folder holds, read for a model of ``input_shape`` ``(C, H, W)``.

    A folder of CIFAR-10 or CIFAR-100 binaries (``data_batch_1.bin`` … / ``train.bin``,
    :mod:`neuro.cifar`, their native 3×32×32) or an image folder (:func:`from_folder`,
    resized to ``H`` (square inputs), grey when ``C`` is 1, with ``crop``). Nothing is
    downloaded; a folder that is neither raises one line saying what was looked for.
    """
    from neuro import cifar

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(
            f"data {str(root)!r} is not a folder; give an image folder (<class>/*.png, or "
            "train/ and test/ of them) or a folder of the CIFAR binary version"
        )
    for kind, spec in cifar.CIFAR.items():
        for folder in (root, root / str(spec["folder"])):
            test = all((folder / f).is_file() for f in spec["test"])
            if test and any((folder / f).is_file() for f in spec["train"]):
                return cifar.load_cifar(f"{kind}:{folder}")
    if len(input_shape) != 3 or input_shape[-1] != input_shape[-2]:
        raise ConfigError(f"from_path: input_shape must be (C, H, H); got {input_shape}")
    return from_folder(root, size=int(input_shape[-1]), grayscale=input_shape[0] == 1,
                       name=name, crop=crop)  # fmt: skip


_DETECTION_LAYOUT = (
    "images/*.jpg with labels/<same name>.txt (YOLO format: one line 'class cx cy w h' per "
    "object, normalised to [0, 1]), or images/train|val/ and labels/train|val/ of them"
)


def _detection_split(images: Path, labels: Path, size: int) -> tuple[np.ndarray, tuple]:
    """The images of one folder, resized to ``size``, and their boxes (YOLO rows)."""
    files = sorted(f for f in images.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{images}: no images ({', '.join(IMAGE_SUFFIXES)}); expected "
                        f"{_DETECTION_LAYOUT}")  # fmt: skip
    stems = {f.stem for f in files}
    orphans = sorted(f.name for f in labels.glob("*.txt") if f.stem not in stems)
    if orphans:
        raise DataError(
            f"{labels}: label files without an image in {images}: {', '.join(orphans[:3])}"
            + (f" and {len(orphans) - 3} more" if len(orphans) > 3 else "")
        )
    boxes = []
    for f in files:
        label = labels / f"{f.stem}.txt"
        rows = []
        if label.is_file():  # no label file: an image without objects (as Darknet reads it)
            for n, line in enumerate(label.read_text().splitlines(), 1):
                if line.strip():
                    rows.append(_label_row(line, label, n))
        boxes.append(np.asarray(rows, dtype=np.float64).reshape(-1, 6))
    x = np.stack([_read_image(f, size, grayscale=False) for f in files])
    return x, tuple(boxes)


def _label_row(line: str, path: Path, n: int) -> list[float]:
    """``class cx cy w h [difficult]`` checked: class an integer >= 0, the box inside [0, 1]."""
    parts = line.split()
    try:
        values = [float(v) for v in parts]
    except ValueError:
        values = []
    ok = (
        len(values) in (5, 6) and values[0].is_integer() and values[0] >= 0
        and all(np.isfinite(values)) and all(0.0 <= v <= 1.0 for v in values[1:5])
        and values[3] > 0 and values[4] > 0 and (len(values) == 5 or values[5] in (0.0, 1.0))
    )  # fmt: skip
    if not ok:
        raise DataError(
            f"{path} line {n}: expected 'class cx cy w h' (class an integer >= 0; centre, "
            f"width and height fractions of the image in [0, 1], w and h > 0; an optional "
            f"6th field 0/1 marks a difficult object); got {line.strip()[:80]!r}"
        )
    return [*values[:5], values[5] if len(values) == 6 else 0.0]


def from_detection_folder(
    path: str | os.PathLike,
    *,
    size: int = 416,
    config: Any = None,
    name: str | None = None,
) -> Dataset:
    """A detection dataset from a folder in YOLO (Darknet) format, read for a detector.

    Layout: ``images/*.jpg`` (any of :data:`IMAGE_SUFFIXES`) with ``labels/<stem>.txt``,
    or the split layout ``images/train/``, ``images/val/`` (or ``test/``) with
    ``labels/train/``, ``labels/val/``. Each label file holds one object per line,
    ``class cx cy w h``: the class index and the box centre, width and height as fractions
    of the image (Darknet's ``voc_label.py`` writes VOC in this form). An optional sixth
    field 1 marks a VOC *difficult* object (neither counted nor penalised). An image
    without a label file has no objects. Class names may be given one per line in
    ``classes.txt`` (or a single ``*.names`` file) beside ``images/``.

    Images are read as RGB and resized to ``size × size`` (YOLOv2's plain resize; the
    normalised boxes are unchanged by it). Without a training split, the calibrations
    (analog ADC ranges) draw on the same images in a fixed shuffle (seed 0), as
    :func:`from_folder` does; the source says so.

    Parameters
    ----------
    path : path
        The folder.
    size : int
        Input height and width of the detector, pixels.
    config : neuro.detection.DetectionConfig, optional
        Decoding and scoring (default VOC anchors, Darknet's thresholds).
    name : str, optional
        Recorded with every run (default the folder's name).

    Returns
    -------
    neuro.detection.DetectionDataset
        ``y_test`` are image indices; ``boxes_test`` their objects.

    Raises
    ------
    DataError
        Not a folder, no ``images/`` or ``labels/``, no images, a label line that is not
        ``class cx cy w h``, a label file without its image, or no object at all; each in
        one line naming the path and the expected layout.
    """
    from neuro.detection import DetectionConfig, DetectionDataset

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"detection data {str(root)!r} is not a folder; give {_DETECTION_LAYOUT}")
    images, labels = root / "images", root / "labels"
    if not images.is_dir() or not labels.is_dir():
        missing = " and ".join(str(p) for p in (images, labels) if not p.is_dir())
        raise DataError(f"detection folder {root}: no {missing}; expected {_DETECTION_LAYOUT}")
    test = next((s for s in ("test", "val") if (images / s).is_dir()), None)
    if test is not None:
        splits = {"test": (images / test, labels / test)}
        if (images / "train").is_dir():
            splits["train"] = (images / "train", labels / "train")
    else:
        splits = {"test": (images, labels)}
    arrays = {}
    for split, (img, lab) in splits.items():
        if not lab.is_dir():
            raise DataError(f"detection folder {root}: no {lab} for {img}; expected "
                            f"{_DETECTION_LAYOUT}")  # fmt: skip
        arrays[split] = _detection_split(img, lab, int(size))
    xt, bt = arrays["test"]
    n_objects = sum(len(b) for b in bt)
    if n_objects == 0:
        raise DataError(
            f"detection folder {root}: no objects in the labels of its {len(bt)} test images; "
            f"expected {_DETECTION_LAYOUT}"
        )
    names_file = root / "classes.txt"
    if not names_file.is_file():
        found = sorted(root.glob("*.names"))
        names_file = found[0] if len(found) == 1 else names_file
    class_names = (
        tuple(s.strip() for s in names_file.read_text().splitlines() if s.strip())
        if names_file.is_file() else ()
    )  # fmt: skip
    source = f"{root} (detection folder, YOLO labels: {len(bt)} test images, {n_objects} objects"
    if "train" in arrays:
        x, b = arrays["train"]
        source += f"; {len(b)} training images)"
    else:
        order = np.random.default_rng(0).permutation(len(bt))
        x, b = xt[order], tuple(bt[i] for i in order)
        source += "; no training split: calibrations use the same images, shuffled)"
    return DetectionDataset(
        name or root.name, source, x, np.arange(len(b), dtype=np.int64),
        xt, np.arange(len(bt), dtype=np.int64), 255.0,
        boxes_train=b, boxes_test=bt, class_names=class_names,
        config=config if config is not None else DetectionConfig(),
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
