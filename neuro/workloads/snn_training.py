"""Direct training of a workload as a spiking network (surrogate gradients), cached on disk.

The network is the workload's own ``nn.Sequential`` with every ReLU replaced by a
discrete LIF neuron (:class:`snn.lif.SpikingSequential`, equations there), trained from
scratch by backpropagation through ``T`` time steps with Adam and cross-entropy on the
output integrator ``u[T] / T``. The cache works as :func:`neuro.workloads.trained_model`'s:
the key hashes the workload name, the architecture, the input shape, the recipe
(:class:`SNNTrainConfig`, the time steps and the neuron included), the dataset's
fingerprint and torch's major.minor version; weights and a JSON side file (torch test
accuracy, training time) live in ``$NEURO_CACHE/weights`` and are written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from devices.validation import ConfigError, param, validate
from neuro.data import Dataset
from neuro.workloads.base import Workload
from neuro.workloads.training import cache_dir, dataset_for, fit
from snn.lif import LIFConfig, SpikingSequential

__all__ = ["SNNTrainConfig", "TrainedSNN", "trained_snn", "snn_accuracy", "default_recipe"]


@dataclasses.dataclass(frozen=True)
class SNNTrainConfig:
    """How a workload is trained as a spiking network (Adam, cross-entropy, CPU, 1 seed).

    Attributes
    ----------
    steps : int
        Time steps ``T`` per input during training (and by default at inference).
    epochs : int
        Passes over the training split.
    batch_size : int
        Mini-batch size.
    lr : float
        Adam learning rate (cosine-annealed to 0 over the run).
    seed : int
        Seeds initialisation and shuffling.
    train_limit : int or None
        Use only the first N training images (None: all).
    lif : LIFConfig
        The neuron.
    """

    steps: int = param(4, integer=True, ge=1, le=64)
    epochs: int = param(3, integer=True, ge=1, le=100)
    batch_size: int = param(128, integer=True, ge=1)
    lr: float = param(5e-3, gt=0.0, le=1.0)
    seed: int = param(0, integer=True, ge=0)
    train_limit: int | None = param(None, integer=True, ge=1, optional=True)
    lif: LIFConfig = dataclasses.field(default_factory=LIFConfig)

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass
class TrainedSNN:
    """A workload trained as a spiking network.

    Attributes
    ----------
    net : SpikingSequential
        In eval mode, FP32, CPU.
    test_accuracy : float
        Torch forward (FP32) top-1 on the full test split after ``steps`` (fraction).
    data_source : str
        Where the dataset came from.
    key : str
        Cache key.
    path : pathlib.Path
        The cached weights.
    train_time_s : float
        Wall time of the training that produced the cache.
    train_cpu_s : float
        CPU time of this process during that training (the figure that does not depend
        on how many other jobs share the machine; one torch thread: about the wall time
        on a quiet machine).
    recipe : SNNTrainConfig
        How it was trained.
    """

    net: SpikingSequential
    test_accuracy: float
    data_source: str
    key: str
    path: Path
    train_time_s: float
    recipe: SNNTrainConfig
    train_cpu_s: float = float("nan")


#: Epochs per workload, chosen so that one training takes at most a few minutes of CPU on
#: one torch thread (snn/README.md, measured: mlp-fmnist 22 / 33 / 45 s at T = 2 / 4 / 8,
#: cnn-fmnist 70 / 139 / 287 s; 4 more MLP epochs gained 0.6 points at T = 4).
EPOCHS = {"mlp-fmnist": 8, "cnn-fmnist": 4, "mlp-digits": 30}


def default_recipe(workload: Workload, steps: int = 4, **changes) -> SNNTrainConfig:
    """The recipe used for ``workload`` at ``steps`` (``EPOCHS`` of it, else the default)."""
    base = {"steps": steps}
    if workload.name in EPOCHS:
        base["epochs"] = EPOCHS[workload.name]
    return SNNTrainConfig(**{**base, **changes})


def _key(workload: Workload, data: Dataset, recipe: SNNTrainConfig) -> str:
    torch_mm = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    spec = {
        "kind": "snn-surrogate-bptt-v1",
        "name": workload.name,
        "arch": repr(workload.build()),
        "input_shape": list(workload.input_shape),
        "train": dataclasses.asdict(recipe),
        "data": [data.name, data.fingerprint()],
        "torch": torch_mm,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@torch.no_grad()
def snn_accuracy(
    net: SpikingSequential, x: torch.Tensor, y: torch.Tensor, *, steps: int | None = None,
    batch_size: int = 500,
) -> float:  # fmt: skip
    """Top-1 accuracy (fraction) of the torch forward after ``steps`` on ``x``, ``y``."""
    net.eval()
    correct = 0
    for i in range(0, len(y), batch_size):
        out = net.run(x[i : i + batch_size], steps)
        correct += int((out.potentials[-1].argmax(1) == y[i : i + batch_size]).sum())
    return correct / len(y)


def _train(workload: Workload, data: Dataset, recipe: SNNTrainConfig) -> SpikingSequential:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        net = SpikingSequential(workload.build(), recipe.lif, recipe.steps)
    x, y = data.tensors("train", limit=recipe.train_limit)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    return fit(net, x, y, opt, epochs=recipe.epochs, batch_size=recipe.batch_size,
               seed=recipe.seed, desc=f"train snn {workload.name}",
               scheduler=torch.optim.lr_scheduler.CosineAnnealingLR)  # fmt: skip


def trained_snn(
    workload: Workload, recipe: SNNTrainConfig | None = None, *, retrain: bool = False
) -> TrainedSNN:
    """The workload trained as a spiking network, from the cache or trained now (and cached).

    Parameters
    ----------
    workload : Workload
        A supervised workload with a dataset whose model is an ``nn.Sequential`` of affine
        modules and ReLUs (``mlp-fmnist``, ``cnn-fmnist``, ``mlp-digits``).
    recipe : SNNTrainConfig, optional
        Time steps, neuron and optimiser (default ``SNNTrainConfig()``).
    retrain : bool
        Ignore the cache and train again (the result overwrites it).

    Raises
    ------
    ConfigError
        For a shape-only or unsupervised workload.
    """
    recipe = recipe or SNNTrainConfig()
    if workload.shape_only or workload.unsupervised:
        raise ConfigError(
            f"trained_snn: workload {workload.name!r} has no supervised training data "
            "(use mlp-fmnist, cnn-fmnist or mlp-digits)"
        )
    data = dataset_for(workload)
    key = _key(workload, data, recipe)
    folder = cache_dir() / "weights"
    path = folder / f"{workload.name}-snn-T{recipe.steps}-{key}.pt"
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file() and not retrain:
        net = SpikingSequential(workload.build(), recipe.lif, recipe.steps)
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        meta = json.loads(meta_path.read_text())
        return TrainedSNN(net.eval(), meta["test_accuracy"], meta["data_source"], key, path,
                          meta["train_time_s"], recipe, meta.get("train_cpu_s", float("nan")))  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    net = _train(workload, data, recipe)
    train_time_s, train_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    acc = snn_accuracy(net, *data.tensors("test"))
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".weights.")
    os.close(fd)
    torch.save(net.state_dict(), tmp)
    os.replace(tmp, path)
    meta = {"workload": workload.name, "test_accuracy": acc, "data_source": data.source,
            "train_time_s": train_time_s, "train_cpu_s": train_cpu_s, "torch_threads": torch.get_num_threads(),
            "train": dataclasses.asdict(recipe)}  # fmt: skip
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".meta.")
    with os.fdopen(fd, "w") as fh:
        json.dump(meta, fh, indent=1)
    os.replace(tmp, meta_path)
    return TrainedSNN(net, acc, data.source, key, path, train_time_s, recipe, train_cpu_s)
