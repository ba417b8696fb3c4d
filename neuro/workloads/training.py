"""Deterministic CPU training of a workload, cached on disk by a hash of its definition.

The cache key hashes everything that decides the weights: the workload name, the model's
architecture (its ``repr``), the training recipe, the dataset's fingerprint and the torch
major.minor version. Weights live in ``$NEURO_CACHE/weights`` (default
``~/.cache/neuro-cosim/weights``), written atomically with a JSON side file holding the
FP32 test accuracy and the data source.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from devices.validation import ConfigError
from neuro.data import Dataset, load_dataset
from neuro.workloads.base import Workload

__all__ = [
    "TrainedModel",
    "trained_model",
    "cache_dir",
    "cached_accuracy",
    "check_inputs",
    "evaluate_accuracy",
    "dataset_for",
    "load_state",
    "fit_state",
    "state_mismatch",
]


@dataclasses.dataclass
class TrainedModel:
    """A workload's trained network and what is known about it.

    Attributes
    ----------
    model : torch.nn.Module
        In eval mode, FP32, on the CPU.
    test_accuracy : float
        FP32 top-1 on the test split (fraction); mAP@0.5 for a detection dataset
        (:mod:`neuro.detection`).
    data_source : str
        Where the dataset came from.
    key : str
        Cache key (hash of the definition).
    path : pathlib.Path
        The cached weights.
    train_time_s : float
        Wall time of the training that produced the cache (0 if it predates timing).
    """

    model: nn.Module
    test_accuracy: float
    data_source: str
    key: str
    path: Path
    train_time_s: float


def cache_dir() -> Path:
    """``$NEURO_CACHE`` or ``~/.cache/neuro-cosim``."""
    return Path(os.environ.get("NEURO_CACHE") or Path.home() / ".cache" / "neuro-cosim")


def check_inputs(workload: Workload) -> None:
    """Before any work: the workload's dataset loads and the weight cache can be used.

    Raises
    ------
    DataError
        The dataset found is malformed or too small (see :func:`neuro.data.load_dataset`).
    ConfigError
        ``$NEURO_CACHE`` (or its default) is not a folder that can be created or written.
    """
    if workload.dataset is None:
        return
    dataset_for(workload)  # loaded once per process: the run reuses it
    folder = cache_dir() / "weights"
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"weight cache {str(folder)!r} cannot be created or written ({probe} is "
            f"{'not a folder' if not probe.is_dir() else 'not writable'}); set NEURO_CACHE"
        )


def cached_accuracy(name: str) -> float | None:
    """FP32 test accuracy of the newest readable cache entry of workload ``name`` (or None).

    Damaged side files are passed over (they are rebuilt when the workload trains).
    """
    try:
        entries = sorted(
            (cache_dir() / "weights").glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime
        )
    except OSError:
        return None
    for meta in reversed(entries):
        try:
            acc = json.loads(meta.read_text())["test_accuracy"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(acc, float) and 0.0 <= acc <= 1.0:
            return acc
    return None


@lru_cache(maxsize=4)
def _cached_dataset(name: str, data_env: str) -> Dataset:
    return load_dataset(name)


def dataset_for(workload: Workload) -> Dataset:
    """The workload's dataset (loaded once per process and data location)."""
    if workload.dataset is None:
        raise ConfigError(f"workload {workload.name!r} is shape-only and has no dataset")
    return _cached_dataset(workload.dataset, os.environ.get("NEURO_DATA", ""))


def _key(workload: Workload, data: Dataset) -> str:
    torch_mm = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    spec = {
        "name": workload.name,
        "arch": repr(workload.build()),
        "input_shape": list(workload.input_shape),
        "train": dataclasses.asdict(workload.train),
        "data": [data.name, data.fingerprint()],
        "torch": torch_mm,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@torch.no_grad()
def evaluate_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000
) -> float:
    """Top-1 accuracy (fraction) of ``model`` on ``x`` (N, …) against labels ``y`` (N,)."""
    model.eval()
    correct = 0
    for i in range(0, len(y), batch_size):
        correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    return correct / len(y)


def _train(workload: Workload, data: Dataset) -> nn.Module:
    cfg = workload.train
    assert cfg is not None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)  # nn.init takes no generator: seed it, in a forked RNG.
        model = workload.build()
    x, y = data.tensors("train", limit=cfg.train_limit)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return fit(model, x, y, opt, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed,
               desc=f"train {workload.name}")  # fmt: skip


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    opt: torch.optim.Optimizer,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    desc: str,
    scheduler: Callable[[torch.optim.Optimizer, int], Any] | None = None,
) -> nn.Module:
    """Cross-entropy mini-batch training, shuffled by a generator seeded from ``seed``.

    ``scheduler(opt, total_steps)`` builds a learning-rate scheduler stepped after every
    batch. Returns ``model`` in eval mode; the same seed gives the same weights, bit for bit.
    """
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    total = epochs * ((len(y) + batch_size - 1) // batch_size)
    sched = scheduler(opt, total) if scheduler is not None else None
    model.train()
    with tqdm(total=total, desc=desc, unit="batch", leave=False, disable=None) as bar:
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=gen)
            for i in range(0, len(y), batch_size):
                idx = order[i : i + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                bar.update(1)
    return model.eval()


_GIVEN: dict[tuple[int, str, str], TrainedModel] = {}  # loaded once per process and file


def state_mismatch(model: nn.Module, state: Any) -> str | None:
    """The first way ``state`` does not fit ``model`` (None when it loads), in a few words.

    A missing key, an unexpected key or a key whose shape differs, each with its shape,
    in the model's key order (then the file's).
    """
    if not isinstance(state, dict):
        return f"the file holds a {type(state).__name__}, not a state dict"
    own = model.state_dict()
    for key, value in own.items():
        if key not in state:
            return f"missing key {key!r} (shape {tuple(value.shape)})"
        got = getattr(state[key], "shape", None)
        if got is None or tuple(got) != tuple(value.shape):
            shown = tuple(got) if got is not None else type(state[key]).__name__
            return f"key {key!r} has shape {shown}; the model's is {tuple(value.shape)}"
    for key, value in state.items():
        if key not in own:
            shape = tuple(getattr(value, "shape", ()))
            return f"unexpected key {key!r} (shape {shape})"
    return None


def load_state(path: str | os.PathLike, owner: str) -> dict:
    """A state dict file read with ``torch.load(weights_only=True)`` (tensors only, no code).

    Raises
    ------
    ConfigError
        One line naming ``owner`` and the file: not found, or refused by the safe unpickler.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{owner}: weights file {str(path)!r} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling refused, not a torch file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{owner}: weights {str(path)!r} do not load into its model with "
            f"torch.load(weights_only=True): {first}"
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a training checkpoint: its model's weights
    return state


def fit_state(model: nn.Module, state: Any, owner: str, path: str | os.PathLike) -> nn.Module:
    """``model`` with ``state`` loaded, after the model's own key renaming if it has one
    (``adapt_state_dict``, e.g. torchvision's ResNet-18 names); a mismatch raises one line."""
    adapt = getattr(model, "adapt_state_dict", None)
    if adapt is not None and isinstance(state, dict):
        state = adapt(state)
    problem = state_mismatch(model, state)
    if problem is not None:
        raise ConfigError(
            f"{owner}: weights {str(path)!r} do not load into its model with "
            f"torch.load(weights_only=True): {problem}"
        )
    model.load_state_dict(state)
    return model


def _load_given(workload: Workload, data: Dataset, digest: str) -> TrainedModel:
    path = Path(str(workload.weights)).expanduser()
    owner = f"workload {workload.name!r}"
    model = fit_state(workload.build(), load_state(path, owner), owner, path)
    from neuro.detection import score_model  # top-1, or mAP@0.5 on a detection dataset

    acc = score_model(data, model, *data.tensors("test"))
    return TrainedModel(model.eval(), acc, data.source, f"file:{digest}", path, 0.0)


def _given_weights(workload: Workload, data: Dataset) -> TrainedModel:
    """The workload with the user's weights file (hashed, so a changed file reloads)."""
    path = Path(str(workload.weights)).expanduser()
    if not path.is_file():
        raise ConfigError(f"workload {workload.name!r}: weights file {str(path)!r} not found")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    key = (id(workload), data.fingerprint(), digest)
    if key not in _GIVEN:
        _GIVEN[key] = _load_given(workload, data, digest)
    return _GIVEN[key]


def trained_model(workload: Workload, *, retrain: bool = False) -> TrainedModel:
    """The workload's trained network, from the cache or trained now (and cached).

    Parameters
    ----------
    workload : Workload
        Must have a dataset.
    retrain : bool
        Ignore the cache and train again (the result overwrites it).
    """
    data = dataset_for(workload)
    if workload.weights is not None:  # the user's own trained weights: loaded, never trained
        return _given_weights(workload, data)
    key = _key(workload, data)
    folder = cache_dir() / "weights"
    path = folder / f"{workload.name}-{key}.pt"
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file() and not retrain:
        try:
            model = workload.build()
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            meta = json.loads(meta_path.read_text())
            acc, source = meta["test_accuracy"], meta["data_source"]
            train_time_s = meta.get("train_time_s", 0.0)
            if not isinstance(acc, float) or not 0.0 <= acc <= 1.0 or not isinstance(source, str):
                raise ValueError("bad test_accuracy or data_source in the side file")
            return TrainedModel(model.eval(), acc, source, key, path, float(train_time_s))
        except Exception as exc:  # noqa: BLE001 - any damage: train again, overwrite the entry
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            warnings.warn(
                f"weight cache entry {path.name} is damaged ({type(exc).__name__}: {reason}); "
                "training again and replacing it",
                stacklevel=2,
            )
    t0 = time.perf_counter()
    model = _train(workload, data)
    train_time_s = time.perf_counter() - t0
    acc = evaluate_accuracy(model, *data.tensors("test"))
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".weights.")
    os.close(fd)
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    meta = {
        "workload": workload.name,
        "test_accuracy": acc,
        "data_source": data.source,
        "train_time_s": train_time_s,
        "train": dataclasses.asdict(workload.train),
    }
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".meta.")
    with os.fdopen(fd, "w") as fh:
        json.dump(meta, fh, indent=1)
    os.replace(tmp, meta_path)
    return TrainedModel(model, acc, data.source, key, path, train_time_s)
