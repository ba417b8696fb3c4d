"""Rate-coded ANN-to-SNN conversion of ReLU networks (MLPs, CNNs, ResNets), simulated in Brian2.

Method (Diehl et al., IJCNN 2015; Rueckauer et al., Front. Neurosci. 11:682, 2017; for
residual networks Hu et al., "Spiking deep residual network", arXiv:1805.01352, 2018, and
Sengupta et al., Front. Neurosci. 13:95, 2019):

* The model is traced with ``torch.fx`` into a graph of modules and additions. Every ReLU
  output becomes a *population* of integrate-and-fire neurons; the input is population 0.
  Everything between populations must be affine: ``Conv2d``, ``Linear``, ``AvgPool2d``,
  ``AdaptiveAvgPool2d``, ``Flatten``, ``Dropout``, ``Identity``, ``BatchNorm1d/2d`` in eval
  mode, and additions of such terms. The pre-activation of a population is therefore
  ``z = Σ_s W_s a_s + b`` over its source populations ``s``; each ``W_s`` is composed
  numerically from the torch modules in float64 (column ``i`` is the network's linear part
  applied to the unit input ``e_i``; ``b`` is the network at zero input). This folds
  BatchNorm into the preceding convolution's weights and bias (Rueckauer 2017, sec. 2.2.3:
  ``W' = γ W / σ``, ``b' = γ (b - μ) / σ + β``) and average pooling into the next map
  (sec. 2.2.4). ``W`` is stored sparse where it has zeros (convolutions).
* Residual connections (Hu et al. 2018, sec. 3; Sengupta et al. 2019, sec. 2.3): a block's
  output population receives two projections, the block's last convolution (BatchNorm
  folded) from the inner population and the shortcut from the block's input population
  (the identity, or the folded 1×1 convolution + BatchNorm of a projection shortcut); the
  addition happens on the membrane. Threshold balancing runs over the skip as over every
  projection: ``W_s <- W_s lam_s / lam_k`` with ``lam_s`` the source population's scale
  (Hu et al.'s shortcut normalisation: the skip is rescaled by the ratio of the two
  populations' activation maxima).
* Max pooling (Rueckauer 2017, sec. 2.2.6): a ``MaxPool2d`` after a ReLU becomes a
  population of *gates*, one per pooled unit: a spike of a neuron in the window passes
  through the gate only when it makes that neuron's spike count so far this input strictly
  the largest in the window (the online estimate of the maximally firing neuron). The
  gate's spike count is then, at every step, the largest spike count in its window, and
  its rate that of the most active neuron. (Letting ties pass as well lets neurons that
  fire at the same rate through in turn: on ``resnet-fmnist`` that overestimated the
  pooled rates by 14 % and cost 8 points.) A gate fires at most once per step and has the
  scale of its source population. Its connections to the window (fixed, weight 1) count
  as synapses and their spikes as synaptic events.
* Every ReLU unit becomes an integrate-and-fire neuron with threshold 1 and reset by
  subtraction (``v -= 1``), which keeps the residual charge (Rueckauer 2017, sec. 2.2).
* Data-based threshold balancing: with ``lam_k`` the ``percentile`` (99.9 by default;
  100 = max, Diehl 2015) of population ``k``'s ReLU activations on calibration data and
  ``lam_0 = 1`` for the input, ``W_s <- W_s lam_s / lam_k`` and ``b_k <- b_k / lam_k``.
* Biases are constant input currents: ``b_k`` is added to ``v`` at every time step.
* Input: each pixel in ``[0, 1]`` spikes with that probability per step (Bernoulli/Poisson
  rate coding).
* Output: the last population integrates without spiking (a trailing ReLU is dropped);
  the prediction after ``t`` steps is the argmax of its potential (the accumulated input,
  as in Rueckauer 2017's analog readout) after exactly ``t`` steps, recorded at every
  checkpoint in a single run.

Synapses: a dense map is connected all to all; a sparse one only at its non-zero entries
(``Synapses.connect(i=..., j=...)``). Synaptic events are counted per source neuron:
its spikes times its synapses (over all its projections).

Each projection adds one step of latency (a spike is delivered at the end of the step it
was emitted in); a gate adds one more. Anything else (other activations, max pooling that
does not follow a ReLU, attention, products of activations) is refused with a
``ConfigError`` naming the layer (see ``snn/README.md``).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import operator
from collections.abc import Callable
from typing import Any

import brian2 as b2
import numpy as np
import scipy.sparse as sp
import torch
import torch.fx
from brian2 import ms
from torch import nn

from devices.validation import ConfigError
from snn.backend import (
    StandaloneProject,
    check_backend,
    check_run_inputs,
    insert_seed,
    use_runtime,
)

__all__ = ["ConvertedNetwork", "convert", "affine_maps", "network_graph", "Graph", "Projection",
           "SpikingRun", "MAX_MAP_ENTRIES", "MAX_SYNAPSES"]  # fmt: skip

#: Largest composed map, inputs × outputs of one projection (1e8): it is computed one input
#: unit at a time (``inputs`` forward passes of ``outputs`` values each, in float64).
MAX_MAP_ENTRIES = 100_000_000
#: Most synapses (non-zero weights, all layers together) a converted network may have
#: (2e7): Brian2 keeps indices and weight per synapse, and standalone writes them to disk.
MAX_SYNAPSES = 20_000_000

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_AFFINE = (nn.Conv2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear, nn.Dropout,
           nn.Dropout1d, nn.Dropout2d, nn.Identity, *_BN)  # fmt: skip
_ALLOWED = (
    "Conv2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Linear, Dropout, BatchNorm1d/2d, "
    "Identity, additions (residual connections), ReLU and MaxPool2d after a ReLU"
)
_BATCH_VALUES = 2**21  # float64 values per batch of unit inputs (inputs + outputs): 16 MiB

Weights = np.ndarray | sp.csc_array
_Sources = dict[int, torch.Tensor]


@dataclasses.dataclass
class SpikingRun:
    """What a simulation of the converted network produced.

    Attributes
    ----------
    steps : numpy.ndarray
        ``(C,)`` checkpoints (time steps).
    predictions : numpy.ndarray
        ``(C, N)`` class per image after each checkpoint's number of steps.
    spikes : list of int
        Spikes per spiking population (input first, then hidden populations and max-pool
        gates in network order; the output does not spike), all images, over all
        ``steps[-1]`` steps.
    synaptic_events : int
        Σ over spiking neurons of spikes × that neuron's synapses (its fan-out), all images.
    neuron_updates : int
        Non-input neurons × time steps, all images.
    spikes_at : numpy.ndarray
        ``(C, L)`` spikes per spiking population (input first) up to each checkpoint.
    events_at : numpy.ndarray
        ``(C,)`` synaptic events up to each checkpoint, all images.
    """

    steps: np.ndarray
    predictions: np.ndarray
    spikes: list[int]
    synaptic_events: int
    neuron_updates: int
    spikes_at: np.ndarray
    events_at: np.ndarray

    def accuracy(self, labels: np.ndarray) -> np.ndarray:
        """``(C,)`` accuracy (fraction) at every checkpoint against ``labels`` ``(N,)``."""
        return (self.predictions == np.asarray(labels)[None, :]).mean(axis=1)


@dataclasses.dataclass
class Projection:
    """Synapses from one population to another.

    Attributes
    ----------
    src, dst : int
        Population indices (0: the input).
    w : numpy.ndarray or scipy.sparse.csc_array
        ``(n_dst, n_src)`` weights (a max-pool gate's window: ones).
    gate : bool
        A max-pool gate's window (fixed connections, no weight: see the module docstring).
    """

    src: int
    dst: int
    w: Weights
    gate: bool = False


@dataclasses.dataclass
class Graph:
    """The network as populations and projections, before threshold balancing.

    Attributes
    ----------
    kinds : list of str
        Per population: ``"input"``, ``"if"`` (ReLU → integrate-and-fire), ``"gate"``
        (max pooling) or ``"out"`` (the readout, last).
    shapes : list of tuple of int
        Per population, one input's shape (torch order, e.g. ``(C, H, W)``).
    projections : list of Projection
        In order of their target population.
    biases : list of numpy.ndarray
        Per population ``(n,)`` (zeros for the input and gates).
    pools : dict
        Gate population → its ``nn.MaxPool2d`` (for the calibration forward).
    names : list of str
        Per population, the modules that compute it (for messages).
    """

    kinds: list[str]
    shapes: list[tuple[int, ...]]
    projections: list[Projection]
    biases: list[np.ndarray]
    pools: dict[int, nn.MaxPool2d]
    names: list[str]

    @property
    def sizes(self) -> list[int]:
        return [int(np.prod(s)) for s in self.shapes]

    def incoming(self, k: int) -> list[Projection]:
        return [p for p in self.projections if p.dst == k]


@dataclasses.dataclass
class _Expr:
    """An affine function of populations: ``f(S)``, its linear part, and how it was built."""

    f: Callable[[_Sources], torch.Tensor]
    lin: Callable[[_Sources], torch.Tensor]
    sources: tuple[int, ...]
    shape: tuple[int, ...]
    names: str
    pure: int | None = None  # the population itself, nothing applied


class _Tracer(torch.fx.Tracer):
    """Keeps the convertible modules (and their subclasses) whole."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (*_AFFINE, nn.ReLU, nn.MaxPool2d)) or super().is_leaf_module(
            m, qualname
        )


def _linear_part(m: nn.Module) -> nn.Module:
    """``m`` with every offset (biases, BatchNorm running means) set to zero."""
    lin = copy.deepcopy(m)
    for sub in lin.modules():
        if isinstance(sub, (nn.Linear, nn.Conv2d, *_BN)) and sub.bias is not None:
            sub.bias.zero_()
        if isinstance(sub, _BN):
            sub.running_mean.zero_()
    return lin


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


class _Builder:
    """Walks the traced graph and collects populations and projections (float64)."""

    def __init__(self, in_shape: tuple[int, ...]) -> None:
        self.kinds, self.shapes, self.names = ["input"], [in_shape], ["input"]
        self.projections: list[Projection] = []
        self.biases: list[np.ndarray] = [np.zeros(int(np.prod(in_shape)))]
        self.pools: dict[int, nn.MaxPool2d] = {}
        self.synapses = 0

    def pure(self, k: int) -> _Expr:
        def f(s: _Sources) -> torch.Tensor:
            return s[k]

        return _Expr(f, f, (k,), self.shapes[k], "", k)

    def zeros(self, sources: tuple[int, ...], n: int) -> _Sources:
        return {s: torch.zeros(n, *self.shapes[s], dtype=torch.float64) for s in sources}

    def apply(self, e: _Expr, m: Callable, lin: Callable, name: str) -> _Expr:
        names = f"{e.names} → {name}" if e.names else name
        try:
            y0 = m(e.f(self.zeros(e.sources, 2)))
        except RuntimeError as exc:
            raise ConfigError(
                f"convert: {names} cannot take inputs of shape {tuple(e.shape)}: {_first_line(exc)}"
            ) from None
        if y0.ndim < 2 or y0.shape[0] != 2:
            raise ConfigError(f"convert: {names} must keep the batch dimension first")
        f0, l0 = e.f, e.lin
        return _Expr(lambda s: m(f0(s)), lambda s: lin(l0(s)), e.sources, tuple(y0.shape[1:]),
                     names)  # fmt: skip

    def add(self, a: _Expr, b: _Expr, where: str) -> _Expr:
        if a.shape != b.shape:
            raise ConfigError(f"convert: {where} adds shapes {tuple(a.shape)} and {tuple(b.shape)}")
        srcs = tuple(sorted({*a.sources, *b.sources}))

        def pick(s: _Sources, keys: tuple[int, ...]) -> _Sources:
            return {k: s[k] for k in keys}

        fa, fb, la, lb = a.f, b.f, a.lin, b.lin
        return _Expr(lambda s: fa(pick(s, a.sources)) + fb(pick(s, b.sources)),
                     lambda s: la(pick(s, a.sources)) + lb(pick(s, b.sources)), srcs, a.shape,
                     f"({a.names or 'skip'}) + ({b.names or 'skip'})")  # fmt: skip

    def _new(self, kind: str, shape: tuple[int, ...], names: str) -> int:
        self.kinds.append(kind)
        self.shapes.append(shape)
        self.names.append(names)
        return len(self.kinds) - 1

    @torch.no_grad()
    def materialise(self, e: _Expr, kind: str) -> int:
        """A new population whose pre-activation is ``e``; returns its index."""
        k = self._new(kind, e.shape, e.names)
        n_out = int(np.prod(e.shape))
        self.biases.append(e.f(self.zeros(e.sources, 1))[0].reshape(-1).numpy().copy())
        added = []
        for s in e.sources:
            n_in = int(np.prod(self.shapes[s]))
            if n_in * n_out > MAX_MAP_ENTRIES:
                raise ConfigError(
                    f"convert: {e.names} maps {n_in} inputs to {n_out} outputs; a composed map "
                    f"may have at most MAX_MAP_ENTRIES = {MAX_MAP_ENTRIES:.0e} inputs × outputs"
                )
            others = self.zeros(tuple(o for o in e.sources if o != s), 1)
            batch = max(1, _BATCH_VALUES // (n_in + n_out))
            rows, cols, vals = [], [], []
            for start in range(0, n_in, batch):
                m = min(batch, n_in - start)
                unit = torch.zeros(m, n_in, dtype=torch.float64)
                unit[torch.arange(m), torch.arange(start, start + m)] = 1.0
                srcs = {o: z.expand(m, *z.shape[1:]) for o, z in others.items()}
                srcs[s] = unit.reshape(m, *self.shapes[s])
                y = e.lin(srcs).reshape(m, n_out)  # row r: column start + r of W
                r, j = torch.nonzero(y, as_tuple=True)
                rows.append(j.numpy())
                cols.append(r.numpy() + start)
                vals.append(y[r, j].numpy())
            nnz = int(sum(len(v) for v in vals))
            if nnz == 0:
                continue  # this source does not reach the population
            coo = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
            w: Weights
            if nnz == n_in * n_out:
                w = np.zeros((n_out, n_in))
                w[coo[1]] = coo[0]
            else:
                w = sp.csc_array(coo, shape=(n_out, n_in))
                w.sum_duplicates()
                w.sort_indices()
            self.synapses += nnz
            if self.synapses > MAX_SYNAPSES:
                raise ConfigError(
                    f"convert: the network would need {self.synapses} synapses by layer "
                    f"{k - 1}; the limit is MAX_SYNAPSES = {MAX_SYNAPSES:.0e}"
                )
            added.append(Projection(s, k, w))
        if not added:
            raise ConfigError(f"convert: layer {k - 1} ({e.names}) has only zero weights")
        g = torch.Generator().manual_seed(0)
        u = {s: torch.rand(2, *self.shapes[s], dtype=torch.float64, generator=g)
             for s in e.sources}  # fmt: skip
        ref = e.f(u).reshape(2, -1).numpy()
        got = self.biases[k] + sum((p.w @ u[p.src].reshape(2, -1).numpy().T).T for p in added)
        if not np.abs(got - ref).max() <= 1e-9 * max(1.0, float(np.abs(ref).max())):
            raise ConfigError(f"convert: {e.names} is not affine (a module overrides forward?)")
        self.projections += added
        return k

    def gate(self, src: int, pool: nn.MaxPool2d, name: str) -> int:
        """Max-pool gates over population ``src`` (shape ``(C, H, W)``)."""
        shape = self.shapes[src]
        if len(shape) != 3 or pool.ceil_mode or pool.return_indices:
            raise ConfigError(
                f"convert: module {name} (MaxPool2d) needs (C, H, W) inputs, ceil_mode=False "
                f"and return_indices=False; got input shape {tuple(shape)}"
            )
        c, h, w = shape
        idx = torch.arange(1, c * h * w + 1, dtype=torch.float64).reshape(1, c, h, w)
        cols = nn.functional.unfold(idx, pool.kernel_size, pool.dilation, pool.padding,
                                    pool.stride)[0]  # (C·kh·kw, L), 0 = padding  # fmt: skip
        out = nn.functional.max_pool2d(idx, pool.kernel_size, pool.stride, pool.padding,
                                       pool.dilation)  # fmt: skip
        per = cols.shape[0] // c
        length = cols.shape[1]
        rows_, cols_ = [], []
        for ch in range(c):
            block = cols[ch * per : (ch + 1) * per]  # (kh·kw, L)
            kk, ll = torch.nonzero(block, as_tuple=True)
            rows_.append((ch * length + ll).numpy())
            cols_.append((block[kk, ll] - 1).long().numpy())
        r, s_ = np.concatenate(rows_), np.concatenate(cols_)
        k = self._new("gate", tuple(out.shape[1:]), f"{self.names[src]} → MaxPool2d")
        wmat = sp.csc_array((np.ones(len(r)), (r, s_)), shape=(c * length, c * h * w))
        wmat.sum_duplicates()
        wmat.sort_indices()
        self.biases.append(np.zeros(c * length))
        self.projections.append(Projection(src, k, wmat, gate=True))
        self.pools[k] = pool
        self.synapses += wmat.nnz
        return k


def _refuse(what: str) -> ConfigError:
    return ConfigError(f"convert: {what} cannot be converted; allowed: {_ALLOWED}")


def _inside(node: torch.fx.Node) -> str:
    """`` in module <path> (<Type>)`` for an operation written inside a submodule."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path, cls = list(stack.values())[-1]
    return f" in module {path} ({getattr(cls, '__name__', cls)})"


#: Tensor methods that only move values (linear maps: composed like any affine module).
_MOVES = ("flatten", "transpose", "permute", "reshape", "view", "contiguous")


@torch.no_grad()
def network_graph(model: nn.Module, in_shape: tuple[int, ...]) -> Graph:
    """The network as populations and affine projections (see the module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        Any model ``torch.fx`` can trace whose operations are those listed in this module's
        docstring; evaluated in float64 in eval mode (the model is not changed).
    in_shape : tuple of int
        One input without the batch dimension, e.g. ``(1, 28, 28)``.
    """
    shape = tuple(int(s) for s in in_shape)
    root = copy.deepcopy(model).double().eval()
    if isinstance(root, (*_AFFINE, nn.ReLU, nn.MaxPool2d)):
        root = nn.Sequential(root)
    try:
        fx_graph = _Tracer().trace(root)
    except Exception as exc:  # noqa: BLE001 - any tracing failure is the user's model
        raise ConfigError(
            f"convert: {type(model).__name__} cannot be traced by torch.fx: {_first_line(exc)}"
        ) from None
    b = _Builder(shape)
    env: dict[torch.fx.Node, _Expr] = {}
    has_weights = False
    out: _Expr | None = None

    def relu(e: _Expr) -> _Expr:
        # of a population (or the [0, 1] input) a ReLU is the identity
        return e if e.pure is not None else b.pure(b.materialise(e, "if"))

    for node in fx_graph.nodes:
        args = [env.get(a) if isinstance(a, torch.fx.Node) else a for a in node.args]
        if node.op == "placeholder":
            if env:
                raise ConfigError("convert: the model must take one input")
            env[node] = b.pure(0)
        elif node.op == "call_module":
            m = root.get_submodule(str(node.target))
            label = f"module {node.target} ({type(m).__name__})"
            if isinstance(m, nn.ReLU):
                env[node] = relu(args[0])
            elif isinstance(m, nn.MaxPool2d):
                if args[0].pure is None:
                    raise ConfigError(
                        f"convert: {label} must follow a ReLU (spiking max pooling gates the "
                        "spikes of a population of neurons; max and ReLU commute, so move it "
                        "after the ReLU)"
                    )
                env[node] = b.pure(b.gate(args[0].pure, m, str(node.target)))
            elif isinstance(m, _AFFINE):
                if isinstance(m, _BN) and m.running_mean is None:
                    raise ConfigError(
                        f"convert: {label} has no running statistics "
                        "(track_running_stats=False), so it is not affine at inference"
                    )
                has_weights |= isinstance(m, (nn.Linear, nn.Conv2d))
                env[node] = b.apply(args[0], m, _linear_part(m), type(m).__name__)
            else:
                raise _refuse(label)
        elif node.op == "get_attr":  # a constant (a learned position embedding): an offset
            env[node] = operator.attrgetter(str(node.target))(root).detach()
        elif node.op in ("call_function", "call_method"):
            fn = node.target
            label = f"operation {node.name} ({getattr(fn, '__name__', fn)}){_inside(node)}"
            tensors = [a for a in args if isinstance(a, _Expr)]
            consts = [a for a in args if isinstance(a, torch.Tensor)]
            if fn in (operator.add, torch.add, "add") and len(tensors) == 2 and not node.kwargs:
                env[node] = b.add(tensors[0], tensors[1], label)
            elif fn in (operator.add, torch.add, "add") and len(tensors) == len(consts) == 1:

                def shift(t: torch.Tensor, c: torch.Tensor = consts[0]) -> torch.Tensor:
                    return t + c

                env[node] = b.apply(tensors[0], shift, lambda t: t, "add constant")
            elif (
                fn in _MOVES
                and len(tensors) == 1
                and args[0] is tensors[0]
                and all(isinstance(a, int) for a in args[1:])
                and not node.kwargs
            ):

                def move(t: torch.Tensor, fn: str = str(fn), rest: tuple = tuple(args[1:])):
                    return getattr(t, fn)(*rest)

                env[node] = b.apply(tensors[0], move, move, str(fn))
            elif fn in (torch.relu, nn.functional.relu, "relu") and len(tensors) == 1:
                env[node] = relu(tensors[0])
            elif (
                fn is torch.flatten
                and len(tensors) == 1
                and all(isinstance(a, int) for a in args[1:])
            ):
                dims = tuple(args[1:]) + tuple(node.kwargs.values())

                def flat(t: torch.Tensor, dims: tuple = dims) -> torch.Tensor:
                    return torch.flatten(t, *dims)

                env[node] = b.apply(tensors[0], flat, flat, "flatten")
            else:
                raise _refuse(label)
        elif node.op == "output":
            out = args[0] if isinstance(args[0], _Expr) else None
            if out is None:
                raise ConfigError("convert: the model must return one tensor")
        else:
            raise _refuse(f"{node.op} {node.target}")
    if not has_weights:
        raise ConfigError("convert: the model has no Linear layer and no Conv2d layer")
    assert out is not None
    if out.pure is not None:  # a trailing ReLU: its population becomes the readout
        k = out.pure
        if b.kinds[k] != "if" or k != len(b.kinds) - 1:
            raise ConfigError("convert: the model must end with an affine layer (the readout)")
        b.kinds[k] = "out"
    else:
        b.materialise(out, "out")
    return Graph(b.kinds, b.shapes, b.projections, b.biases, b.pools, b.names)


def affine_maps(model: nn.Module, in_shape: tuple[int, ...]) -> list[tuple[Weights, np.ndarray]]:
    """A chain network as composed affine maps, one per layer of IF neurons (and the output).

    Parameters
    ----------
    model : torch.nn.Module
        A network without skips or max pooling (see :func:`network_graph` for the general
        graph); evaluated in float64 in eval mode (the model is not changed).
    in_shape : tuple of int
        One input without the batch dimension, e.g. ``(1, 28, 28)``.

    Returns
    -------
    list of (W, b)
        ``W`` ``(n_out, n_in)``: ``numpy.ndarray`` when it has no zero, else a
        ``scipy.sparse.csc_array`` of its non-zeros; ``b`` ``(n_out,)``. ``n_in`` of the
        first map is ``prod(in_shape)``; each next map takes the previous one's outputs,
        flattened in torch's (C, H, W) order.
    """
    g = network_graph(model, in_shape)
    chain = [(p.src, p.dst) for p in g.projections]
    if chain != [(k, k + 1) for k in range(len(g.kinds) - 1)] or "gate" in g.kinds:
        raise ConfigError("affine_maps: the network has skips or max pooling; use network_graph")
    return [(p.w, g.biases[p.dst]) for p in g.projections]


@torch.no_grad()
def convert(
    model: nn.Module, x_calib: torch.Tensor, *, percentile: float = 99.9
) -> ConvertedNetwork:
    """Convert a ReLU network (MLP, CNN or ResNet) with data-based threshold balancing.

    Parameters
    ----------
    model : torch.nn.Module
        A network of the operations listed in this module's docstring (BatchNorm in eval
        statistics); the output has no ReLU (a trailing one is ignored: the readout is the
        potential).
    x_calib : torch.Tensor
        ``(N, *input_shape)`` calibration inputs in ``[0, 1]`` (a few hundred training
        images suffice); ``x_calib.shape[1:]`` is the input shape the maps are built for
        (``(N, 1, 28, 28)`` for a CNN on 28×28 images).
    percentile : float
        Percentile of the activations that is mapped to the threshold (100: the maximum).
    """
    if not 0 < percentile <= 100:
        raise ConfigError(f"convert percentile must be in (0, 100]; got {percentile!r}")
    if x_calib.ndim < 2:
        raise ConfigError(f"convert: x_calib must be (N, *input_shape); got {tuple(x_calib.shape)}")
    a0 = x_calib.reshape(len(x_calib), -1).double().numpy()
    if a0.min() < 0 or a0.max() > 1:
        raise ConfigError("convert: calibration inputs must lie in [0, 1]")
    g = network_graph(model, tuple(x_calib.shape[1:]))
    acts: list[np.ndarray] = [a0]
    lams = [1.0]  # inputs are spike probabilities in [0, 1]
    for k in range(1, len(g.kinds)):
        if g.kinds[k] == "gate":
            (proj,) = g.incoming(k)
            src = torch.from_numpy(acts[proj.src]).reshape(-1, *g.shapes[proj.src])
            acts.append(g.pools[k](src).reshape(len(a0), -1).numpy())
            lams.append(lams[proj.src])
            continue
        z = g.biases[k] + sum(
            (p.w @ acts[p.src].T).T if sp.issparse(p.w) else acts[p.src] @ p.w.T
            for p in g.incoming(k)
        )
        a = z if g.kinds[k] == "out" else np.maximum(z, 0)
        pos = a[a > 0]
        lams.append(float(np.percentile(pos, percentile)) if pos.size else 1.0)
        acts.append(a)
    projections = [
        p if p.gate else Projection(p.src, p.dst, p.w * (lams[p.src] / lams[p.dst]))
        for p in g.projections
    ]
    biases = [b / lam for b, lam in zip(g.biases, lams)]
    return ConvertedNetwork(g.kinds, g.shapes, projections, biases, lams[1:], percentile)


def _pattern_hash(i: np.ndarray, j: np.ndarray) -> str:
    h = hashlib.sha256(np.ascontiguousarray(i, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(j, dtype=np.int32).tobytes())
    return h.hexdigest()[:16]


#: A gate's synapse: pass this spike when it makes its neuron's count (this spike included;
#: ``cnt`` grows at the reset, after the synapses) larger than the window's largest count
#: so far (``m``). Every count is at most ``m`` and grows by at most one per step, so a
#: spike passes exactly when its neuron's count equals ``m``, and then the largest count
#: becomes ``m + 1``: the gate's reset raises ``m`` by one when it fires (see
#: ``_construct``). The gate's spike count is then the window's largest spike count at
#: every step. The synapse only adds to ``fire`` and reads ``m``, so its outcome does not
#: depend on the order in which the window's spikes of one step are processed, which Brian
#: 2 can see: it vectorises the code (numpy ``add.at``) instead of warning about an
#: order-dependent block and falling back on a Python loop for every run, as it did when the
#: synapse also raised ``m`` itself.
_GATE_ON_PRE = "fire_post += int(cnt_pre + 1 > m_post)"


class ConvertedNetwork:
    """A converted network: populations, balanced projections and biases, run in Brian2.

    Attributes
    ----------
    kinds : list of str
        Per population (input first): ``"input"``, ``"if"``, ``"gate"``, ``"out"`` (last).
    projections : list of Projection
        Balanced weights (units of the threshold per spike).
    biases : list of numpy.ndarray
        Per population, units of the threshold per step (zeros for input and gates).
    lams : list of float
        Scale factor of each non-input population (the activation percentile; a gate has
        its source's).
    sizes : list of int
        Neurons per population, input first.
    layers : list of (W, b)
        For population ``k + 1``: the weights of the projection from population ``k`` (the
        chain a network without skips is; an empty sparse matrix where there is none) and
        its bias. ``W`` is a dense ``numpy.ndarray`` or a sparse ``scipy.sparse.csc_array``.
    fan_out : list of numpy.ndarray
        Synapses of each source neuron of each population over all its projections
        (``sizes[k]`` values for population ``k``; the output has none and is not listed).
    edges : list of (int, int, float)
        ``(src, dst, mean synapses per source neuron)`` of every projection, for routing.
    """

    def __init__(
        self,
        kinds: list[str],
        shapes: list[tuple[int, ...]],
        projections: list[Projection],
        biases: list[np.ndarray],
        lams: list[float],
        percentile: float,
    ) -> None:
        self.kinds, self.lams, self.percentile = list(kinds), list(lams), percentile
        self.in_shape = tuple(shapes[0])
        self.sizes = [int(np.prod(s)) for s in shapes]
        self.biases = [np.asarray(b, dtype=float) for b in biases]
        self.projections: list[Projection] = []
        # connectivity: None (all to all, synapse index i * n_out + j) or (i, j) arrays
        # sorted by source then target, the order of sparse W's non-zeros in CSC format
        self._conn: list[tuple[np.ndarray, np.ndarray] | None] = []
        fan = [np.zeros(n, dtype=np.int64) for n in self.sizes[:-1]]
        self.edges: list[tuple[int, int, float]] = []
        for p in projections:
            w = p.w
            if sp.issparse(w):
                w = sp.csc_array(w)
                w.sum_duplicates()
                w.sort_indices()
                counts = np.diff(w.indptr).astype(np.int64)
                self._conn.append((np.repeat(np.arange(w.shape[1]), counts), w.indices.copy()))
            else:
                w = np.asarray(w)
                self._conn.append(None)
                counts = np.full(w.shape[1], w.shape[0], dtype=np.int64)
            fan[p.src] += counts
            self.edges.append((p.src, p.dst, float(counts.mean())))
            self.projections.append(Projection(p.src, p.dst, w, p.gate))
        self.fan_out = fan
        self.layers: list[tuple[Weights, np.ndarray]] = []
        for k in range(len(self.sizes) - 1):
            chain = [p.w for p in self.projections if (p.src, p.dst) == (k, k + 1)]
            w = chain[0] if chain else sp.csc_array((self.sizes[k + 1], self.sizes[k]))
            self.layers.append((w, self.biases[k + 1]))
        self._projects: dict[tuple, StandaloneProject] = {}

    @property
    def build_time_s(self) -> float:
        """Seconds spent generating and compiling standalone builds (the last one per shape)."""
        return float(sum(p.build_time_s or 0.0 for p in self._projects.values()))

    @property
    def synapses(self) -> list[int]:
        """Synapses per source population (all its projections), input first."""
        return [int(f.sum()) for f in self.fan_out]

    def describe(self) -> dict[str, Any]:
        """Sizes, kinds, projections, synapses, scale factors and percentile, for configs."""
        return {"sizes": self.sizes, "kinds": self.kinds, "in_shape": list(self.in_shape),
                "projections": [[p.src, p.dst] for p in self.projections],
                "synapses": self.synapses, "sparse": [c is not None for c in self._conn],
                "lambda": self.lams, "percentile": self.percentile}  # fmt: skip

    def _connectivity(self) -> list[Any]:
        return [
            [p.src, p.dst, p.gate, "all-to-all" if c is None else _pattern_hash(*c)]
            for p, c in zip(self.projections, self._conn)
        ]

    # -- Brian2 --------------------------------------------------------------------
    def _construct(
        self, n_images: int, steps: int, stride: int, v_init: float, values: dict | None
    ):
        dt = 1 * ms  # the simulated step; physical latency is set by the caller's dt
        t_img = steps * dt
        x_in = b2.TimedArray(
            np.zeros((n_images, self.sizes[0])) if values is None else values["x"],
            dt=t_img, name="x_in",
        )  # fmt: skip
        gated = {p.src for p in self.projections if p.gate}
        inp = b2.NeuronGroup(self.sizes[0], "run_seed : integer (shared)\ncnt : 1",
                             threshold="rand() < x_in(t, i)",
                             reset="cnt += 1" if 0 in gated else None,
                             namespace={"x_in": x_in}, name="c_inp", dt=dt)  # fmt: skip
        if 0 in gated:
            inp.run_regularly("cnt = 0", dt=t_img, when="start", name="c_inp_reset")
        groups, objs = [inp], [inp]
        for k in range(1, len(self.sizes)):
            kind, n, name = self.kinds[k], self.sizes[k], f"c_l{k - 1}"
            if kind == "gate":
                g = b2.NeuronGroup(n, "m : 1\nfire : 1", threshold="fire > 0.5",
                                   reset="m += 1\nfire = 0", name=name, dt=dt)  # fmt: skip
                # clear the gate right after its threshold, before this step's synapses can
                # set it again (a reset in the usual slot, after them, would drop their spike)
                g.resetter["spike"].when, g.resetter["spike"].order = "thresholds", 1
                g.run_regularly("m = 0\nfire = 0", dt=t_img, when="start", name=f"{name}_reset")
            else:
                spiking = kind == "if"
                count = "\ncnt += 1" if k in gated else ""
                g = b2.NeuronGroup(
                    n, "v : 1\nbias : 1\ncnt : 1", threshold="v >= 1" if spiking else None,
                    reset=f"v -= 1{count}" if spiking else None, name=name, dt=dt,
                )  # fmt: skip
                v0 = repr(float(v_init)) if spiking else "0"
                g.run_regularly(f"v = {v0}\ncnt = 0", dt=t_img, when="start", name=f"{name}_reset")
                g.run_regularly("v += bias", dt=dt, when="groups", name=f"{name}_bias")
            groups.append(g)
            objs.append(g)
        syns = []
        for q, (p, conn) in enumerate(zip(self.projections, self._conn)):
            if p.gate:
                s = b2.Synapses(groups[p.src], groups[p.dst], on_pre=_GATE_ON_PRE,
                                name=f"c_s{q}", dt=dt)  # fmt: skip
            else:
                s = b2.Synapses(groups[p.src], groups[p.dst], "w : 1", on_pre="v_post += w",
                                name=f"c_s{q}", dt=dt)  # fmt: skip
            if conn is None:
                s.connect()
            else:
                s.connect(i=conn[0], j=conn[1])
            syns.append(s)
            objs.append(s)
        # bookkeeping: one counter per spiking population sums its spikes and their synapses
        n_sp = len(groups) - 1
        cnt = b2.NeuronGroup(n_sp, "spk : 1\nev : 1", name="c_cnt", dt=dt)
        cnt.run_regularly("spk = 0\nev = 0", dt=t_img, when="start", name="c_cnt_reset")
        counters = []
        for k, g in enumerate(groups[:-1]):
            c = b2.Synapses(g, cnt, "fan : 1", on_pre="spk_post += 1\nev_post += fan",
                            name=f"c_c{k}", dt=dt)  # fmt: skip
            c.connect(i=np.arange(len(g)), j=np.full(len(g), k))
            c.fan = self.fan_out[k].astype(float)
            counters.append(c)
        # record at the start of a step, before the image-start resets (order -1): the
        # record at step s holds what the s steps before it integrated
        mon = dict(record=True, dt=stride * dt, when="start", order=-1)
        vmon = b2.StateMonitor(groups[-1], "v", name="c_vmon", **mon)
        cmon = b2.StateMonitor(cnt, ["spk", "ev"], name="c_cmon", **mon)
        net = b2.Network(*objs, cnt, *counters, vmon, cmon)
        # one step more than the images, so that the last image's last record is taken
        h = dict(net=net, x_in=x_in, inp=inp, groups=groups, syns=syns, vmon=vmon, cmon=cmon,
                 duration=n_images * t_img + dt)  # fmt: skip
        if values is not None:
            for q, s in enumerate(syns):
                if values["w"][q] is not None:
                    s.w[:] = values["w"][q]
            for k, b in values["b"].items():
                groups[k].bias[:] = b
        return h

    def _values(self, x: np.ndarray) -> dict[str, Any]:
        return {
            "x": x,
            # all to all: synapse (i, j) = W[j, i], i-major; sparse: the CSC order of (i, j)
            "w": [
                None if p.gate else p.w.T.reshape(-1) if c is None else p.w.data
                for p, c in zip(self.projections, self._conn)
            ],  # fmt: skip
            "b": {
                k: self.biases[k]
                for k in range(1, len(self.sizes))
                if self.kinds[k] in ("if", "out")
            },  # fmt: skip
        }

    def run(
        self,
        x: torch.Tensor | np.ndarray,
        steps: int,
        *,
        checkpoints: list[int] | None = None,
        seed: int = 0,
        backend: str = "standalone",
        v_init: float = 0.0,
    ) -> SpikingRun:
        """Simulate ``x`` (N inputs in ``[0, 1]``, any shape with N first) for ``steps`` each.

        ``checkpoints`` must be multiples of their greatest common divisor (default: powers
        of two up to ``steps``). The seed drives the input spikes (standalone: through
        ``run_seed``; runtime: ``brian2.seed`` right before the run).
        """
        check_backend(backend)
        xs, cps, stride = check_run_inputs(x, self.sizes[0], steps, checkpoints)
        n = len(xs)
        values = self._values(np.clip(xs, 0.0, 1.0))
        if not 0.0 <= v_init < 1.0:
            raise ConfigError(
                f"run v_init must be in [0, 1) (a fraction of the threshold); got {v_init!r}"
            )
        v_init = float(v_init)
        if backend == "standalone":
            key = (n, steps, stride, v_init)
            if key not in self._projects:
                spec = {"sizes": self.sizes, "kinds": self.kinds, "n": n, "steps": steps,
                        "stride": stride, "v_init": v_init,
                        "connectivity": self._connectivity()}  # fmt: skip

                def construct(key=key):
                    h = self._construct(*key, None)
                    insert_seed(h["inp"])
                    h["net"].run(h["duration"])
                    return h

                self._projects[key] = StandaloneProject("conv", spec, construct)
            proj = self._projects[key]
            h = proj._ensure()
            args: dict[Any, Any] = {h["x_in"]: values["x"], h["inp"].run_seed: seed}
            for q, s in enumerate(h["syns"]):
                if values["w"][q] is not None:
                    args[s.w] = values["w"][q]
            for k, b in values["b"].items():
                args[h["groups"][k].bias] = b
            proj.run(args)
        else:
            use_runtime()
            h = self._construct(n, steps, stride, v_init, values)
            b2.seed(seed)
            h["net"].run(h["duration"], namespace={})
        per_img = steps // stride
        idx = np.asarray(cps) // stride - 1

        def at_checkpoints(rec: np.ndarray) -> np.ndarray:  # (rows, records) → (rows, n, C)
            rec = np.asarray(rec)[:, 1 : n * per_img + 1]
            return rec.reshape(rec.shape[0], n, per_img)[:, :, idx]

        preds = at_checkpoints(h["vmon"].v[:]).argmax(axis=0).T  # (C, n)
        spk = np.rint(at_checkpoints(h["cmon"].spk[:]).sum(axis=1).T).astype(np.int64)
        ev = np.rint(at_checkpoints(h["cmon"].ev[:]).sum(axis=(0, 1))).astype(np.int64)
        if backend == "standalone":
            self._projects[(n, steps, stride, v_init)].cleanup_run_args()
        end = cps.index(steps)
        return SpikingRun(
            steps=np.asarray(cps),
            predictions=preds,
            spikes=[int(s) for s in spk[end]],
            synaptic_events=int(ev[end]),
            neuron_updates=int(sum(self.sizes[1:]) * steps * n),
            spikes_at=spk,
            events_at=ev,
        )
