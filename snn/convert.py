"""Rate-coded ANN-to-SNN conversion of ReLU networks (MLPs and CNNs), simulated in Brian2.

Method (Diehl et al., IJCNN 2015; Rueckauer et al., Front. Neurosci. 11:682, 2017):

* The ``nn.Sequential`` is cut at its ReLUs. Every run of affine modules between two
  ReLUs (``Conv2d``, ``AvgPool2d``, ``Flatten``, ``Linear``, ``Dropout`` and
  ``BatchNorm1d/2d`` in eval mode, ``Identity``) is composed into ONE affine map
  ``z = W a + b``, computed numerically from the torch modules in float64 (Rueckauer 2017,
  sec. 2: average pooling after a ReLU is linear on the spike rates, so it folds into the
  next map). ``W`` is stored sparse where it has zeros (convolutions) and dense otherwise.
* Every ReLU unit becomes an integrate-and-fire neuron with threshold 1 and reset by
  subtraction (``v -= 1``), which keeps the residual charge (Rueckauer 2017, sec. 2.2).
* Data-based threshold balancing: with ``lam_l`` the ``percentile`` (99.9 by default;
  100 = max, Diehl 2015) of layer ``l``'s ReLU activations on calibration data and
  ``lam_0`` that of the input, ``W_l <- W_l lam_{l-1} / lam_l`` and ``b_l <- b_l / lam_l``.
* Biases are constant input currents: ``b_l`` is added to ``v`` at every time step.
* Input: each pixel in ``[0, 1]`` (divided by ``lam_0``) spikes with that probability per
  step (Bernoulli/Poisson rate coding).
* Output: the last layer integrates without spiking; the prediction after ``t`` steps is
  the argmax of its potential (the accumulated input, as in Rueckauer 2017's analog
  readout) after exactly ``t`` steps, recorded at every checkpoint in a single run.

Synapses: a dense map is connected all to all; a sparse one only at its non-zero entries
(``Synapses.connect(i=..., j=...)``). Synaptic events are counted per source neuron:
its spikes times its synapses (the non-zeros of its column of ``W``).

Each layer adds one step of latency (a spike is delivered at the end of the step it was
emitted in). Anything but the modules above (``MaxPool2d``, other activations, residual
blocks) is refused with a ``ConfigError`` (see ``snn/README.md``).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from typing import Any

import brian2 as b2
import numpy as np
import scipy.sparse as sp
import torch
from brian2 import ms
from torch import nn

from devices.validation import ConfigError
from snn.backend import StandaloneProject, check_backend, insert_seed, use_runtime

__all__ = ["ConvertedNetwork", "convert", "affine_maps", "SpikingRun", "MAX_MAP_ENTRIES",
           "MAX_SYNAPSES"]  # fmt: skip

#: Largest composed map, inputs × outputs of one segment (1e8): it is computed one input
#: unit at a time (``inputs`` forward passes of ``outputs`` values each, in float64).
MAX_MAP_ENTRIES = 100_000_000
#: Most synapses (non-zero weights, all layers together) a converted network may have
#: (2e7): Brian2 keeps indices and weight per synapse, and standalone writes them to disk.
MAX_SYNAPSES = 20_000_000

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_AFFINE = (nn.Conv2d, nn.AvgPool2d, nn.Flatten, nn.Linear, nn.Dropout, nn.Dropout1d,
           nn.Dropout2d, nn.Identity, *_BN)  # fmt: skip
_ALLOWED = "Conv2d, AvgPool2d, Flatten, Linear, Dropout, BatchNorm1d/2d, Identity and ReLU"
_BATCH_VALUES = 2**21  # float64 values per batch of unit inputs (inputs + outputs): 16 MiB

Weights = np.ndarray | sp.csc_array


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
        Spikes per layer (input first; the output layer does not spike), all images, over
        all ``steps[-1]`` steps.
    synaptic_events : int
        Σ over spiking neurons of spikes × that neuron's synapses (its fan-out), all images.
    neuron_updates : int
        Non-input neurons × time steps, all images.
    spikes_at : numpy.ndarray
        ``(C, L)`` spikes per spiking layer (input first) up to each checkpoint, all images.
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


def _modules(model: nn.Module) -> list[nn.Module]:
    if isinstance(model, nn.Sequential):
        return [m for child in model.children() for m in _modules(child)]
    return [model]


def _segments(model: nn.Module) -> list[list[nn.Module]]:
    """The runs of affine modules between ReLUs (a trailing ReLU is dropped: readout)."""
    segments: list[list[nn.Module]] = []
    run: list[nn.Module] = []
    for k, m in enumerate(_modules(model)):
        if isinstance(m, nn.ReLU):
            # with no affine module since the last ReLU (or the [0, 1] input) it is identity
            if run:
                segments.append(run)
                run = []
        elif isinstance(m, _AFFINE):
            if isinstance(m, _BN) and m.running_mean is None:
                raise ConfigError(
                    f"convert: module {k} ({type(m).__name__}) has no running statistics "
                    "(track_running_stats=False), so it is not affine at inference"
                )
            run.append(m)
        else:
            raise ConfigError(
                f"convert: module {k} ({type(m).__name__}) cannot be converted; allowed: "
                f"{_ALLOWED} (affine modules between ReLUs are composed into one map)"
            )
    if run:
        segments.append(run)
    if not any(isinstance(m, (nn.Linear, nn.Conv2d)) for s in segments for m in s):
        raise ConfigError("convert: the model has no Linear layer and no Conv2d layer")
    return segments


def _linear_part(f: nn.Sequential) -> nn.Sequential:
    """``f`` with every offset (biases, BatchNorm running means) set to zero."""
    lin = copy.deepcopy(f)
    for m in lin.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, *_BN)) and m.bias is not None:
            m.bias.zero_()
        if isinstance(m, _BN):
            m.running_mean.zero_()
    return lin


def _names(mods: list[nn.Module]) -> str:
    return " → ".join(type(m).__name__ for m in mods)


@torch.no_grad()
def _affine_map(
    mods: list[nn.Module], in_shape: tuple[int, ...]
) -> tuple[Weights, np.ndarray, tuple[int, ...]]:
    """Compose ``mods`` into ``W`` ``(n_out, n_in)`` and ``b`` ``(n_out,)``, float64.

    ``b = f(0)``; column ``i`` of ``W`` is the linear part of ``f`` (``f`` with its offsets
    zeroed) applied to the unit input ``e_i``, which equals ``f(e_i) - f(0)`` without the
    cancellation (for one ``Linear`` it is its weight, bit for bit). Checked against ``f``
    on two random inputs (relative 1e-9): a module that is not affine is refused.
    """
    f = copy.deepcopy(nn.Sequential(*mods)).double().eval()
    n_in = int(np.prod(in_shape))
    try:
        y0 = f(torch.zeros(2, *in_shape, dtype=torch.float64))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"convert: {_names(mods)} cannot take inputs of shape {tuple(in_shape)}: {first}"
        ) from None
    if y0.ndim < 2 or y0.shape[0] != 2:
        raise ConfigError(f"convert: {_names(mods)} must keep the batch dimension first")
    out_shape = tuple(y0.shape[1:])
    n_out = int(np.prod(out_shape))
    if n_in * n_out > MAX_MAP_ENTRIES:
        raise ConfigError(
            f"convert: {_names(mods)} maps {n_in} inputs to {n_out} outputs; a composed map "
            f"may have at most MAX_MAP_ENTRIES = {MAX_MAP_ENTRIES:.0e} inputs × outputs"
        )
    b = y0[0].reshape(-1).numpy().copy()
    lin = _linear_part(f)
    batch = max(1, _BATCH_VALUES // (n_in + n_out))
    rows, cols, vals = [], [], []
    for start in range(0, n_in, batch):
        m = min(batch, n_in - start)
        e = torch.zeros(m, n_in, dtype=torch.float64)
        e[torch.arange(m), torch.arange(start, start + m)] = 1.0
        y = lin(e.reshape(m, *in_shape)).reshape(m, n_out)  # row r: column start + r of W
        r, j = torch.nonzero(y, as_tuple=True)
        rows.append(j.numpy())
        cols.append(r.numpy() + start)
        vals.append(y[r, j].numpy())
    nnz = int(sum(len(v) for v in vals))
    coo = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
    w: Weights
    if nnz == n_in * n_out:
        w = np.zeros((n_out, n_in))
        w[coo[1]] = coo[0]
    else:
        w = sp.csc_array(coo, shape=(n_out, n_in))
        w.sum_duplicates()
        w.sort_indices()
    u = torch.rand(2, *in_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = f(u).reshape(2, -1).numpy()
    got = (w @ u.reshape(2, -1).numpy().T).T + b
    if not np.abs(got - ref).max() <= 1e-9 * max(1.0, float(np.abs(ref).max())):
        raise ConfigError(f"convert: {_names(mods)} is not affine (a module overrides forward?)")
    return w, b, out_shape


def affine_maps(model: nn.Module, in_shape: tuple[int, ...]) -> list[tuple[Weights, np.ndarray]]:
    """The network as composed affine maps, one per layer of IF neurons (and the output).

    Parameters
    ----------
    model : torch.nn.Module
        ``nn.Sequential`` (nested ones are flattened) of the modules listed in this
        module's docstring; evaluated in float64 in eval mode (the model is not changed).
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
    shape = tuple(int(s) for s in in_shape)
    maps, synapses = [], 0
    for k, seg in enumerate(_segments(model)):
        w, b, shape = _affine_map(seg, shape)
        synapses += w.nnz if sp.issparse(w) else w.size
        if synapses > MAX_SYNAPSES:
            raise ConfigError(
                f"convert: the network would need {synapses} synapses by layer {k}; the "
                f"limit is MAX_SYNAPSES = {MAX_SYNAPSES:.0e}"
            )
        if sp.issparse(w) and w.nnz == 0:
            raise ConfigError(f"convert: layer {k} ({_names(seg)}) has only zero weights")
        maps.append((w, b))
    return maps


@torch.no_grad()
def convert(
    model: nn.Module, x_calib: torch.Tensor, *, percentile: float = 99.9
) -> ConvertedNetwork:
    """Convert a ReLU network (MLP or CNN) with data-based threshold balancing.

    Parameters
    ----------
    model : torch.nn.Module
        ``nn.Sequential`` of ``Conv2d``, ``AvgPool2d``, ``Flatten``, ``Linear``,
        ``Dropout``, ``BatchNorm1d/2d`` (eval statistics), ``Identity`` and ``ReLU``; the
        output has no ReLU (a trailing one is ignored: the readout is the potential).
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
    a = x_calib.reshape(len(x_calib), -1).double().numpy()
    if a.min() < 0 or a.max() > 1:
        raise ConfigError("convert: calibration inputs must lie in [0, 1]")
    layers = affine_maps(model, tuple(x_calib.shape[1:]))
    lam_prev = 1.0  # inputs are spike probabilities in [0, 1]
    scaled, lams = [], []
    for k, (w, b) in enumerate(layers):
        z = a @ w.T + b if isinstance(w, np.ndarray) else (w @ a.T).T + b
        last = k == len(layers) - 1
        a = z if last else np.maximum(z, 0)
        pos = a[a > 0]
        lam = float(np.percentile(pos, percentile)) if pos.size else 1.0
        scaled.append((w * lam_prev / lam, b / lam))
        lams.append(lam)
        lam_prev = lam
    return ConvertedNetwork(scaled, lams, percentile, in_shape=tuple(x_calib.shape[1:]))


def _pattern_hash(i: np.ndarray, j: np.ndarray) -> str:
    h = hashlib.sha256(np.ascontiguousarray(i, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(j, dtype=np.int32).tobytes())
    return h.hexdigest()[:16]


class ConvertedNetwork:
    """A converted network: balanced weights and biases, simulated in Brian2.

    Attributes
    ----------
    layers : list of (W, b)
        Balanced maps, ``W`` ``(n_out, n_in)`` dense ``numpy.ndarray`` or sparse
        ``scipy.sparse.csc_array``, ``b`` ``(n_out,)`` (units of the threshold per step).
    lams : list of float
        Scale factor of each layer (the activation percentile).
    sizes : list of int
        Neurons per layer, input first.
    fan_out : list of numpy.ndarray
        Synapses of each source neuron of each layer (``sizes[k]`` values for layer ``k``).
    """

    def __init__(
        self,
        layers: list[tuple[Weights, np.ndarray]],
        lams: list[float],
        percentile: float,
        *,
        in_shape: tuple[int, ...] | None = None,
    ) -> None:
        self.lams, self.percentile = lams, percentile
        self.layers: list[tuple[Weights, np.ndarray]] = []
        # connectivity: None (all to all, synapse index i * n_out + j) or (i, j) arrays
        # sorted by source then target, the order of sparse W's non-zeros in CSC format
        self._conn: list[tuple[np.ndarray, np.ndarray] | None] = []
        self.fan_out: list[np.ndarray] = []
        for w, b in layers:
            if sp.issparse(w):
                w = sp.csc_array(w)
                w.sum_duplicates()
                w.sort_indices()
                counts = np.diff(w.indptr)
                self._conn.append((np.repeat(np.arange(w.shape[1]), counts), w.indices.copy()))
                self.fan_out.append(counts.astype(np.int64))
            else:
                w = np.asarray(w)
                self._conn.append(None)
                self.fan_out.append(np.full(w.shape[1], w.shape[0], dtype=np.int64))
            self.layers.append((w, b))
        self.sizes = [self.layers[0][0].shape[1]] + [w.shape[0] for w, _ in self.layers]
        self.in_shape = in_shape or (self.sizes[0],)
        self._projects: dict[tuple, StandaloneProject] = {}

    @property
    def build_time_s(self) -> float:
        """Seconds spent generating and compiling standalone builds (the last one per shape)."""
        return float(sum(p.build_time_s or 0.0 for p in self._projects.values()))

    @property
    def synapses(self) -> list[int]:
        """Synapses per layer (non-zero weights of sparse maps, all pairs of dense ones)."""
        return [int(f.sum()) for f in self.fan_out]

    def describe(self) -> dict[str, Any]:
        """Sizes, synapses, scale factors and percentile, for configs."""
        return {"sizes": self.sizes, "in_shape": list(self.in_shape), "synapses": self.synapses,
                "sparse": [c is not None for c in self._conn], "lambda": self.lams,
                "percentile": self.percentile}  # fmt: skip

    def _connectivity(self) -> list[str]:
        return ["all-to-all" if c is None else _pattern_hash(*c) for c in self._conn]

    # -- Brian2 --------------------------------------------------------------------
    def _construct(self, n_images: int, steps: int, stride: int, values: dict | None):
        dt = 1 * ms  # the simulated step; physical latency is set by the caller's dt
        t_img = steps * dt
        x_in = b2.TimedArray(
            np.zeros((n_images, self.sizes[0])) if values is None else values["x"],
            dt=t_img, name="x_in",
        )  # fmt: skip
        inp = b2.NeuronGroup(self.sizes[0], "run_seed : integer (shared)",
                             threshold="rand() < x_in(t, i)", namespace={"x_in": x_in},
                             name="c_inp", dt=dt)  # fmt: skip
        groups, syns, objs = [inp], [], [inp]
        for k, n in enumerate(self.sizes[1:]):
            last = k == len(self.sizes) - 2
            g = b2.NeuronGroup(
                n, "v : 1\nbias : 1", threshold=None if last else "v >= 1",
                reset=None if last else "v -= 1", name=f"c_l{k}", dt=dt,
            )  # fmt: skip
            g.run_regularly("v = 0", dt=t_img, when="start", name=f"c_l{k}_reset")
            g.run_regularly("v += bias", dt=dt, when="groups", name=f"c_l{k}_bias")
            s = b2.Synapses(groups[-1], g, "w : 1", on_pre="v_post += w", name=f"c_s{k}", dt=dt)
            if self._conn[k] is None:
                s.connect()
            else:
                s.connect(i=self._conn[k][0], j=self._conn[k][1])
            groups.append(g)
            syns.append(s)
            objs += [g, s]
        # bookkeeping: one counter per spiking layer sums its spikes and their synapses
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
            for k, s in enumerate(syns):
                s.w[:] = values["w"][k]
                groups[k + 1].bias[:] = values["b"][k]
        return h

    def _values(self, x: np.ndarray) -> dict[str, Any]:
        return {
            "x": x,
            # all to all: synapse (i, j) = W[j, i], i-major; sparse: the CSC order of (i, j)
            "w": [
                w.T.reshape(-1) if c is None else w.data
                for (w, _), c in zip(self.layers, self._conn)
            ],  # fmt: skip
            "b": [b for _, b in self.layers],
        }

    def run(
        self,
        x: torch.Tensor | np.ndarray,
        steps: int,
        *,
        checkpoints: list[int] | None = None,
        seed: int = 0,
        backend: str = "standalone",
    ) -> SpikingRun:
        """Simulate ``x`` (N inputs in ``[0, 1]``, any shape with N first) for ``steps`` each.

        ``checkpoints`` must be multiples of their greatest common divisor (default: powers
        of two up to ``steps``). The seed drives the input spikes (standalone: through
        ``run_seed``; runtime: ``brian2.seed`` right before the run).
        """
        check_backend(backend)
        xs = np.asarray(x, dtype=float).reshape(len(x), -1)
        if xs.shape[1] != self.sizes[0]:
            raise ConfigError(f"run: inputs must have {self.sizes[0]} values; got {xs.shape[1]}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"run: steps must be an integer >= 1; got {steps!r}")
        cps = list(checkpoints or [s for s in (2**k for k in range(20)) if s <= steps])
        if not all(isinstance(c, int | np.integer) and 1 <= c <= steps for c in cps):
            raise ConfigError(f"run: checkpoints must be integers in [1, {steps}]; got {cps}")
        if steps not in cps:
            cps = [*cps, steps]
        stride = int(np.gcd.reduce(np.asarray(cps, dtype=int)))
        n = len(xs)
        values = self._values(np.clip(xs, 0.0, 1.0))
        if backend == "standalone":
            key = (n, steps, stride)
            if key not in self._projects:
                spec = {"sizes": self.sizes, "n": n, "steps": steps, "stride": stride,
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
            for k, s in enumerate(h["syns"]):
                args[s.w] = values["w"][k]
                args[h["groups"][k + 1].bias] = values["b"][k]
            proj.run(args)
        else:
            use_runtime()
            h = self._construct(n, steps, stride, values)
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
            self._projects[(n, steps, stride)].cleanup_run_args()
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
