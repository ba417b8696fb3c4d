"""The workload: a network, its dataset, its training recipe and its layer shapes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cached_property

from torch import nn

from devices.validation import param, require, validate
from neuro.workloads.layers import LayerShape, extract_layers

__all__ = ["TrainConfig", "Workload"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How a workload's weights are trained (Adam, cross-entropy, fixed seed, CPU).

    Attributes
    ----------
    epochs : int
        Passes over the training split.
    batch_size : int
        Mini-batch size.
    lr : float
        Adam learning rate.
    weight_decay : float
        L2 penalty.
    seed : int
        Seeds initialisation and shuffling: the same seed gives the same weights, bit for bit.
    train_limit : int or None
        Use only the first N training images (None: all).
    """

    epochs: int = param(5, integer=True, ge=1, le=1000)
    batch_size: int = param(128, integer=True, ge=1)
    lr: float = param(1e-3, gt=0.0, le=1.0)
    weight_decay: float = param(0.0, ge=0.0, le=1.0)
    seed: int = param(0, integer=True, ge=0)
    train_limit: int | None = param(None, integer=True, ge=1, optional=True)

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True, eq=False)
class Workload:
    """A neural-network workload shared by every target.

    Attributes
    ----------
    name : str
        Registry name (``"mlp-fmnist"``).
    description : str
        One line.
    build : callable
        Returns a fresh, untrained ``nn.Module``.
    input_shape : tuple of int
        One input without the batch dimension, e.g. ``(1, 28, 28)``.
    dataset : str or None
        Dataset name for :func:`neuro.data.load_dataset`; None for shape-only workloads,
        which get cost figures but no accuracy.
    train : TrainConfig or None
        Training recipe (None for shape-only workloads).
    n_classes : int
        Output classes.
    unsupervised : bool
        The target learns the weights itself from the dataset (Diehl & Cook STDP): a
        dataset without a training recipe.
    weights : str or None
        A state dict file (``torch.save(model.state_dict(), path)``) of the user's own
        trained weights, loaded with ``torch.load(weights_only=True)`` instead of training
        (a training recipe is then optional).
    spiking_steps : int
        Time steps per input that the spiking target's rate-coded conversion runs by
        default (``SpikingConfig.steps=None``): where the converted accuracy has plateaued.
        Deep networks need more steps, because each layer adds a step of latency and
        quantises its rate to ``1/T`` (Rueckauer et al. 2017, sec. 3.1).
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    dataset: str | None = None
    train: TrainConfig | None = None
    n_classes: int = 10
    unsupervised: bool = False
    weights: str | None = None
    spiking_steps: int = 64

    def __post_init__(self) -> None:
        require(bool(self.name), self, "name", self.name, "a non-empty string")
        require(
            isinstance(self.spiking_steps, int)
            and not isinstance(self.spiking_steps, bool)
            and 1 <= self.spiking_steps <= 100000,
            self, "spiking_steps", self.spiking_steps, "an integer in [1, 100000]",
        )  # fmt: skip
        require(
            all(isinstance(d, int) and d > 0 for d in self.input_shape),
            self, "input_shape", self.input_shape, "a tuple of positive integers",
        )  # fmt: skip
        require(
            (self.dataset is None) == (self.train is None)
            or bool(self.dataset and (self.unsupervised or self.weights)),
            self, "train", self.train,
            "set exactly when a dataset is set (unless unsupervised or given weights)",
        )  # fmt: skip
        require(
            self.weights is None or bool(self.dataset), self, "weights", self.weights,
            "None for a shape-only workload (weights are evaluated on its dataset)",
        )  # fmt: skip

    @property
    def shape_only(self) -> bool:
        """True when the workload has no dataset (costs only, no accuracy)."""
        return self.dataset is None

    @cached_property
    def layers(self) -> list[LayerShape]:
        """Layer shapes for one input (see :func:`extract_layers`)."""
        return extract_layers(self.build(), self.input_shape)

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return sum(layer.macs for layer in self.layers)

    @property
    def ops_per_inference(self) -> int:
        """2 × MACs: the op count every paradigm reports for this workload."""
        return 2 * self.macs

    @property
    def n_weights(self) -> int:
        """Weights of the conv and linear layers."""
        return sum(layer.n_weights for layer in self.layers if layer.weight_shape)
