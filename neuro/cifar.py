"""CIFAR-10 and CIFAR-100 from the official *binary version*, read with numpy (never unpickled).

The binary version (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html) is a
set of files of fixed-size records:

* CIFAR-10 (``cifar-10-binary.tar.gz`` → ``cifar-10-batches-bin/``): ``data_batch_1.bin``
  … ``data_batch_5.bin`` (training) and ``test_batch.bin``; each record is 3,073 bytes,
  one label byte (0–9) then the 32×32 image as 1,024 red, 1,024 green and 1,024 blue bytes,
  each plane in row-major order.
* CIFAR-100 (``cifar-100-binary.tar.gz`` → ``cifar-100-binary/``): ``train.bin`` and
  ``test.bin``; each record is 3,074 bytes, the coarse label (0–19), the fine label (0–99)
  and the image as above. The fine label is the class.

Where a dataset is looked for: ``"cifar10"`` searches every directory of
:func:`neuro.data.data_dirs` (``$NEURO_DATA``, then the user's data directory; in each the
folder itself, ``<dir>/cifar10`` and the extracted ``cifar-10-batches-bin``);
``"cifar10:/path/to/folder"`` reads that folder only (the workload option: a workload's
``dataset`` may name its folder). Nothing is downloaded: a missing dataset raises
:class:`neuro.data.DataError` with one line naming where it looked and how to provide it.
The file sizes and labels are checked; a truncated or corrupt file is named.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neuro.data import DataError, Dataset, data_dirs

__all__ = ["CIFAR", "load_cifar", "read_cifar_bin", "write_cifar_bin", "parse_name"]

#: What each dataset's binary version holds: extracted folder, files, label bytes, classes.
CIFAR = {
    "cifar10": {
        "folder": "cifar-10-batches-bin",
        "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
        "test": ("test_batch.bin",),
        "label_bytes": 1,
        "classes": 10,
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    },
    "cifar100": {
        "folder": "cifar-100-binary",
        "train": ("train.bin",),
        "test": ("test.bin",),
        "label_bytes": 2,
        "classes": 100,
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    },
}
_IMAGE_BYTES = 3 * 32 * 32


def parse_name(name: str) -> tuple[str, Path | None] | None:
    """``("cifar10", None)`` for ``"cifar10"``, ``("cifar10", Path(p))`` for
    ``"cifar10:p"``; None for a name that is no CIFAR dataset."""
    base, sep, folder = name.partition(":")
    if base not in CIFAR:
        return None
    return base, (Path(os.path.expanduser(folder)) if sep and folder else None)


def read_cifar_bin(path: str | os.PathLike, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """One binary CIFAR file: images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64.

    ``label_bytes`` is 1 (CIFAR-10) or 2 (CIFAR-100: coarse then fine; the fine label is
    returned). Raises :class:`DataError` naming the file when its size is not a whole
    number of records.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    record = label_bytes + _IMAGE_BYTES
    if raw.size == 0 or raw.size % record:
        raise DataError(
            f"{path}: {raw.size} bytes is not a whole number of {record}-byte CIFAR records "
            "(truncated, or not the binary version)"
        )
    rows = raw.reshape(-1, record)
    y = rows[:, label_bytes - 1].astype(np.int64)
    x = rows[:, label_bytes:].reshape(-1, 3, 32, 32)
    return np.ascontiguousarray(x), y


def write_cifar_bin(
    path: str | os.PathLike, x: np.ndarray, y: np.ndarray, *, coarse: np.ndarray | None = None
) -> None:
    """Write images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` in the binary format
    (CIFAR-100's when ``coarse`` labels are given). For tests and small subsets."""
    x = np.asarray(x, dtype=np.uint8).reshape(len(x), _IMAGE_BYTES)
    labels = [np.asarray(y, dtype=np.uint8)[:, None]]
    if coarse is not None:
        labels.insert(0, np.asarray(coarse, dtype=np.uint8)[:, None])
    np.concatenate([*labels, x], axis=1).tofile(path)


def _candidates(base: str, folder: Path | None) -> list[Path]:
    sub = CIFAR[base]["folder"]
    roots = [folder] if folder is not None else data_dirs(base)
    out: list[Path] = []
    for root in roots:
        for d in (root, root / sub):
            if d not in out:
                out.append(d)
    return out


def _read_split(directory: Path, files: tuple[str, ...], base: str) -> tuple[np.ndarray, ...]:
    spec = CIFAR[base]
    xs, ys = [], []
    for fname in files:
        x, y = read_cifar_bin(directory / fname, spec["label_bytes"])
        if y.max() >= spec["classes"]:
            raise DataError(
                f"{directory / fname}: label {int(y.max())} out of range for {base} "
                f"(0 to {spec['classes'] - 1})"
            )
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def load_cifar(name: str) -> Dataset:
    """CIFAR-10 or CIFAR-100 (``"cifar10"``, ``"cifar100"``, or with ``":folder"``).

    Training files that are present are used (all five CIFAR-10 batches when extracted as
    published); the test file must be there. ``Dataset.source`` is the folder read.
    """
    parsed = parse_name(name)
    if parsed is None:
        raise DataError(f"{name!r} is not a CIFAR dataset; valid: {', '.join(CIFAR)}")
    base, folder = parsed
    spec = CIFAR[base]
    looked = _candidates(base, folder)
    for d in looked:
        train = tuple(f for f in spec["train"] if (d / f).is_file())
        if train and all((d / f).is_file() for f in spec["test"]):
            x_tr, y_tr = _read_split(d, train, base)
            x_te, y_te = _read_split(d, spec["test"], base)
            partial = "" if len(train) == len(spec["train"]) else f" ({len(train)} training files)"
            return Dataset(base, f"{d}{partial}", x_tr, y_tr, x_te, y_te)
    files = ", ".join((spec["train"][0], spec["test"][0]))
    raise DataError(
        f"dataset {base!r} not found: looked for {files} in {', '.join(map(str, looked))}; "
        f"download the binary version ({spec['url']}), extract it and set NEURO_DATA to the "
        f"folder holding {spec['folder']}/ (or name it: dataset '{base}:/path/to/folder')"
    )
