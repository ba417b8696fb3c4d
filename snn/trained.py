"""Layered discrete-time spiking networks in Brian2: trained LIF networks and NIR imports.

:class:`LIFNetwork` simulates a chain of affine maps ``W_l, b_l`` (from
:func:`snn.convert.affine_maps`: conv, pooling and linear modules between two neuron
layers composed into one sparse or dense map) and neuron layers, with Brian2's state held
in float64 and one Brian2 time step per network step. Per step, for each layer ``l`` in
order (the equations of :mod:`snn.lif`, plus NIR's current-based neuron):

* ``lif``:  ``v = β v + in + bias``; spike if ``v > ϑ`` (``v ≥ ϑ`` when ``strict`` is
  false); then ``v ← v_reset`` (``reset="zero"``) or ``v ← v - ϑ`` (``"subtract"``);
* ``cuba``: ``i = α i + in + bias; v = β v + i + c``, then threshold and reset as ``lif``;
* ``integrator`` (output only, no spikes): ``v = β v + in + bias`` (``β = 1``: the
  membrane-potential readout of :mod:`snn.lif`, ``β < 1``: NIR's ``LI``),

where ``in`` is the sum of the weights of the synapses whose presynaptic neuron spiked in
this step. A spike reaches the next layer within the same step: each layer's synaptic
pathway, update, threshold and reset are scheduled in that order inside Brian2's
``thresholds`` slot (``when``/``order``), so layer ``l + 1`` updates after layer ``l``
has spiked, as in the torch forward.

Input: ``"graded"`` (direct encoding: every non-zero input value is sent at every step as
a graded spike whose payload is the value, as Loihi 2's graded spikes; the first map's
synapses add ``w × value``) or ``"bernoulli"`` (rate coding: a value in ``[0, 1]`` spikes
with that probability per step, as :mod:`snn.convert`). Readout: ``"potential"`` (argmax
of the output integrator) or ``"spikes"`` (argmax of the output layer's spike counts, the
first maximum on ties as ``torch.argmax``).

Counting is :mod:`snn.convert`'s: one counter per spiking layer (input first) sums its
spikes and, per spike, the neuron's synapses (its fan-out: the non-zeros of its column of
``W``); a synaptic event is one spike reaching one synapse. Standalone runs are built once
per shape (:class:`snn.backend.StandaloneProject`) and re-run per chunk of inputs with
the weights and inputs as ``run_args``; the last chunk is padded with zeros and the padded
inputs are left out of every count.
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

from devices.validation import ConfigError
from snn.backend import (
    StandaloneProject,
    check_backend,
    check_run_inputs,
    insert_seed,
    use_runtime,
)
from snn.convert import SpikingRun, affine_maps

__all__ = ["Neurons", "LIFNetwork", "from_spiking_sequential", "with_device_synapses"]

Weights = np.ndarray | sp.csc_array
KINDS = ("lif", "cuba", "integrator")
INPUTS = ("graded", "bernoulli")
READOUTS = ("potential", "spikes")


def _pattern_hash(i: np.ndarray, j: np.ndarray) -> str:
    h = hashlib.sha256(np.ascontiguousarray(i, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(j, dtype=np.int32).tobytes())
    return h.hexdigest()[:16]


def _vec(value: Any, n: int, what: str) -> np.ndarray:
    a = np.asarray(value, dtype=float).reshape(-1)
    if a.size == 1:
        a = np.full(n, float(a[0]))
    if a.size != n:
        raise ConfigError(f"Neurons.{what} must have 1 or {n} values; got {a.size}")
    return a


@dataclasses.dataclass
class Neurons:
    """One layer of neurons of a :class:`LIFNetwork` (equations in the module docstring).

    Attributes
    ----------
    kind : str
        ``"lif"``, ``"cuba"`` or ``"integrator"`` (output layer only).
    n : int
        Neurons in the layer.
    beta : numpy.ndarray
        ``(n,)`` membrane decay per step (1: no leak).
    threshold : numpy.ndarray
        ``(n,)`` firing threshold ``ϑ``.
    reset : str
        ``"zero"`` (to ``v_reset``) or ``"subtract"`` (``v - ϑ``).
    strict : bool
        Spike if ``v > ϑ`` (True: NIR, snnTorch, :mod:`snn.lif`) or ``v ≥ ϑ`` (False:
        :mod:`snn.convert`).
    v_reset : numpy.ndarray
        ``(n,)`` potential after a spike with ``reset="zero"``.
    alpha : numpy.ndarray
        ``(n,)`` synaptic current decay per step (``cuba`` only).
    drive : numpy.ndarray
        ``(n,)`` constant added to ``v`` per step after the current (``cuba``: NIR's
        ``v_leak`` term); ``lif`` and ``integrator`` hold it in the bias instead.
    """

    kind: str
    n: int
    beta: Any = 1.0
    threshold: Any = 1.0
    reset: str = "zero"
    strict: bool = True
    v_reset: Any = 0.0
    alpha: Any = 0.0
    drive: Any = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Neurons.kind must be one of {KINDS}; got {self.kind!r}")
        if self.reset not in ("zero", "subtract"):
            raise ConfigError(f"Neurons.reset must be 'zero' or 'subtract'; got {self.reset!r}")
        for f in ("beta", "threshold", "v_reset", "alpha", "drive"):
            setattr(self, f, _vec(getattr(self, f), self.n, f))

    @property
    def spiking(self) -> bool:
        """False for the non-spiking output integrator."""
        return self.kind != "integrator"

    def code_spec(self) -> dict[str, Any]:
        """What changes the generated code (not the parameter values)."""
        return {"kind": self.kind, "n": self.n, "reset": self.reset, "strict": self.strict}


class LIFNetwork:
    """A chain of affine maps and neuron layers simulated in Brian2 (see the module docstring).

    Parameters
    ----------
    layers : list of (W, b)
        ``W`` ``(n_out, n_in)`` dense array or scipy sparse matrix, ``b`` ``(n_out,)``;
        ``n_in`` of each map is the previous map's ``n_out``.
    neurons : list of Neurons
        One per map, with ``n`` its ``n_out``; only the last may be an ``integrator``.
    input : str
        ``"graded"`` or ``"bernoulli"``.
    readout : str
        ``"potential"`` (the last layer must be an ``integrator``) or ``"spikes"`` (a
        spiking last layer).
    in_shape : tuple of int, optional
        One input's shape (for exports); default ``(n_in,)``.
    delays : list of int, optional
        Per map, 0 (default: a spike arrives in the step it was sent) or 1 (in the next
        step; a spike of an input's last step is dropped with the input).
        :mod:`snn.convert`'s networks deliver a spike one step later into every hidden
        layer (``[1, …, 1, 0]``).
    """

    def __init__(
        self,
        layers: list[tuple[Weights, np.ndarray]],
        neurons: list[Neurons],
        *,
        input: str = "graded",
        readout: str = "potential",
        in_shape: tuple[int, ...] | None = None,
        delays: list[int] | None = None,
    ) -> None:
        if input not in INPUTS:
            raise ConfigError(f"LIFNetwork.input must be one of {INPUTS}; got {input!r}")
        if readout not in READOUTS:
            raise ConfigError(f"LIFNetwork.readout must be one of {READOUTS}; got {readout!r}")
        if len(layers) != len(neurons) or not layers:
            raise ConfigError(
                f"LIFNetwork: one Neurons per map; got {len(layers)} maps, {len(neurons)} layers"
            )
        for k, nr in enumerate(neurons):
            last = k == len(neurons) - 1
            if not last and not nr.spiking:
                raise ConfigError(f"LIFNetwork: layer {k} is an integrator but not the last")
            if layers[k][0].shape[0] != nr.n:
                raise ConfigError(
                    f"LIFNetwork: layer {k} has {nr.n} neurons but its map "
                    f"{layers[k][0].shape[0]} outputs"
                )
            if k and layers[k][0].shape[1] != layers[k - 1][0].shape[0]:
                raise ConfigError(
                    f"LIFNetwork: map {k} takes {layers[k][0].shape[1]} inputs; map {k - 1} "
                    f"gives {layers[k - 1][0].shape[0]}"
                )
        if (readout == "potential") == neurons[-1].spiking:
            raise ConfigError(
                f"LIFNetwork: readout {readout!r} needs "
                + ("an integrator" if readout == "potential" else "a spiking")
                + " output layer"
            )
        self.delays = [0] * len(layers) if delays is None else [int(d) for d in delays]
        if len(self.delays) != len(layers) or not set(self.delays) <= {0, 1}:
            raise ConfigError(
                f"LIFNetwork.delays must be {len(layers)} values, each 0 or 1; got {delays!r}"
            )
        self.input, self.readout, self.neurons = input, readout, neurons
        self.layers: list[tuple[Weights, np.ndarray]] = []
        self._conn: list[tuple[np.ndarray, np.ndarray] | None] = []
        self.fan_out: list[np.ndarray] = []
        for w, b in layers:
            if sp.issparse(w):
                w = sp.csc_array(w, dtype=float)
                w.sum_duplicates()
                w.sort_indices()
                counts = np.diff(w.indptr)
                self._conn.append((np.repeat(np.arange(w.shape[1]), counts), w.indices.copy()))
                self.fan_out.append(counts.astype(np.int64))
            else:
                w = np.asarray(w, dtype=float)
                self._conn.append(None)
                self.fan_out.append(np.full(w.shape[1], w.shape[0], dtype=np.int64))
            self.layers.append((w, np.asarray(b, dtype=float).reshape(-1)))
        self.sizes = [self.layers[0][0].shape[1]] + [w.shape[0] for w, _ in self.layers]
        self.in_shape = tuple(in_shape) if in_shape else (self.sizes[0],)
        self._projects: dict[tuple, StandaloneProject] = {}

    @property
    def synapses(self) -> list[int]:
        """Synapses per map (non-zeros of sparse maps, all pairs of dense ones)."""
        return [int(f.sum()) for f in self.fan_out]

    @property
    def build_time_s(self) -> float:
        """Seconds spent generating and compiling standalone builds (last one per shape)."""
        return float(sum(p.build_time_s or 0.0 for p in self._projects.values()))

    def describe(self) -> dict[str, Any]:
        """Sizes, synapses, neuron kinds, input coding and readout, for configs."""
        return {"sizes": self.sizes, "in_shape": list(self.in_shape), "synapses": self.synapses,
                "neurons": [n.code_spec() for n in self.neurons], "input": self.input,
                "readout": self.readout, "delays": self.delays}  # fmt: skip

    def _spec(self, n: int, steps: int, stride: int) -> dict[str, Any]:
        conn = ["all-to-all" if c is None else _pattern_hash(*c) for c in self._conn]
        return {"sizes": self.sizes, "n": n, "steps": steps, "stride": stride,
                "connectivity": conn, "neurons": [x.code_spec() for x in self.neurons],
                "input": self.input, "readout": self.readout, "delays": self.delays,
                "version": 1}  # fmt: skip

    # -- Brian2 --------------------------------------------------------------------
    def _construct(self, n_images: int, steps: int, stride: int, values: dict | None):
        dt = 1 * ms
        t_img = steps * dt
        x_in = b2.TimedArray(
            np.zeros((n_images, self.sizes[0])) if values is None else values["x"],
            dt=t_img, name="l_x_in",
        )  # fmt: skip
        graded = self.input == "graded"
        inp = b2.NeuronGroup(
            self.sizes[0], "g : 1\nrun_seed : integer (shared)",
            threshold="g != 0" if graded else "rand() < g", reset="",
            namespace={"x_in": x_in}, name="l_inp", dt=dt,
        )  # fmt: skip
        inp.run_regularly("g = x_in(t, i)", dt=t_img, when="start", name="l_inp_set")
        inp.thresholder["spike"].order = 0
        groups, syns, objs = [inp], [], [inp]
        order = 1
        for k, nr in enumerate(self.neurons):
            model = "v : 1\nacc : 1\nbias : 1 (constant)\nbeta : 1 (constant)\n"
            start = "v = 0\nacc = 0"
            # a delayed map: what arrived in this step is used in the next one (a buffer
            # cleared at every input's start, so nothing crosses into the next input)
            arrived, shift = (
                ("acc_d", "acc_d = acc\nacc = 0") if self.delays[k] else ("acc", "acc = 0")
            )
            if self.delays[k]:
                model += "acc_d : 1\n"
                start += "\nacc_d = 0"
            if nr.kind == "cuba":
                model += "i_syn : 1\nalpha : 1 (constant)\ndrive : 1 (constant)\n"
                update = f"i_syn = alpha * i_syn + {arrived} + bias\nv = beta * v + i_syn + drive"
                start += "\ni_syn = 0"
            else:
                update = f"v = beta * v + {arrived} + bias"
            threshold = reset = None
            if nr.spiking:
                model += "theta : 1 (constant)\nvr : 1 (constant)\ncnt : 1\n"
                threshold = "v > theta" if nr.strict else "v >= theta"
                reset = ("v = vr" if nr.reset == "zero" else "v -= theta") + "\ncnt += 1"
                start += "\ncnt = 0"
            g = b2.NeuronGroup(nr.n, model, threshold=threshold, reset=reset, name=f"l_g{k}",
                               dt=dt)  # fmt: skip
            g.run_regularly(start, dt=t_img, when="start", name=f"l_g{k}_start")
            payload = "w * g_pre" if (k == 0 and graded) else "w"
            s = b2.Synapses(groups[-1], g, "w : 1", on_pre=f"acc_post += {payload}",
                            name=f"l_s{k}", dt=dt)  # fmt: skip
            if self._conn[k] is None:
                s.connect()
            else:
                s.connect(i=self._conn[k][0], j=self._conn[k][1])
            s.pre.when, s.pre.order = "thresholds", order
            g.run_regularly(update + "\n" + shift, when="thresholds", order=order + 1,
                            name=f"l_g{k}_update")  # fmt: skip
            if nr.spiking:
                g.thresholder["spike"].order = order + 2
                g.resetter["spike"].when, g.resetter["spike"].order = "thresholds", order + 3
            order += 4
            groups.append(g)
            syns.append(s)
            objs += [g, s]
        spiking = [g for g, nr in zip(groups, [None, *self.neurons]) if nr is None or nr.spiking]
        cnt = b2.NeuronGroup(len(spiking), "spk : 1\nev : 1", name="l_cnt", dt=dt)
        cnt.run_regularly("spk = 0\nev = 0", dt=t_img, when="start", name="l_cnt_reset")
        counters = []
        for k, g in enumerate(spiking):
            c = b2.Synapses(g, cnt, "fan : 1", on_pre="spk_post += 1\nev_post += fan",
                            name=f"l_c{k}", dt=dt)  # fmt: skip
            c.connect(i=np.arange(len(g)), j=np.full(len(g), k))
            c.fan = (self.fan_out[k] if k < len(self.fan_out) else np.zeros(len(g))).astype(float)
            counters.append(c)
        mon = dict(record=True, dt=stride * dt, when="start", order=-1)
        var = "v" if self.readout == "potential" else "cnt"
        omon = b2.StateMonitor(groups[-1], var, name="l_omon", **mon)
        cmon = b2.StateMonitor(cnt, ["spk", "ev"], name="l_cmon", **mon)
        net = b2.Network(*objs, cnt, *counters, omon, cmon)
        h = dict(net=net, x_in=x_in, inp=inp, groups=groups, syns=syns, omon=omon, cmon=cmon,
                 var=var, duration=n_images * t_img + dt)  # fmt: skip
        if values is not None:
            for var_, arrs in self._param_values().items():
                for k, a in arrs.items():
                    setattr(groups[k + 1], var_, a)
            for k, s in enumerate(syns):
                s.w[:] = values["w"][k]
        return h

    def _weights(self) -> list[np.ndarray]:
        return [w.T.reshape(-1) if c is None else w.data for (w, _), c in zip(self.layers, self._conn)]  # fmt: skip

    def _param_values(self) -> dict[str, dict[int, np.ndarray]]:
        out: dict[str, dict[int, np.ndarray]] = {v: {} for v in
                                                 ("bias", "beta", "theta", "vr", "alpha", "drive")}  # fmt: skip
        for k, ((_, b), nr) in enumerate(zip(self.layers, self.neurons)):
            out["bias"][k], out["beta"][k] = b, nr.beta
            if nr.spiking:
                out["theta"][k], out["vr"][k] = nr.threshold, nr.v_reset
            if nr.kind == "cuba":
                out["alpha"][k], out["drive"][k] = nr.alpha, nr.drive
        return out

    def _run_chunk(self, xs: np.ndarray, n: int, steps: int, stride: int, seed: int,
                   backend: str):  # fmt: skip
        values = {"x": xs, "w": self._weights()}
        if backend == "standalone":
            key = (n, steps, stride)
            if key not in self._projects:

                def construct(key=key):
                    h = self._construct(*key, None)
                    insert_seed(h["inp"])
                    h["net"].run(h["duration"])
                    return h

                self._projects[key] = StandaloneProject("lif", self._spec(*key), construct)
            proj = self._projects[key]
            h = proj._ensure()
            args: dict[Any, Any] = {h["x_in"]: xs, h["inp"].run_seed: seed}
            for k, s in enumerate(h["syns"]):
                args[s.w] = values["w"][k]
            for var, arrs in self._param_values().items():
                for k, a in arrs.items():
                    args[getattr(h["groups"][k + 1], var)] = a
            proj.run(args)
        else:
            use_runtime()
            h = self._construct(n, steps, stride, values)
            b2.seed(seed)
            h["net"].run(h["duration"], namespace={})
        out = np.asarray(getattr(h["omon"], h["var"])[:])
        spk, ev = np.asarray(h["cmon"].spk[:]), np.asarray(h["cmon"].ev[:])
        if backend == "standalone":
            self._projects[(n, steps, stride)].cleanup_run_args()
        return out, spk, ev

    def run(
        self,
        x: torch.Tensor | np.ndarray,
        steps: int,
        *,
        checkpoints: list[int] | None = None,
        seed: int = 0,
        backend: str = "standalone",
        chunk: int | None = None,
    ) -> SpikingRun:
        """Simulate ``x`` (N inputs, any shape with N first) for ``steps`` each.

        Parameters
        ----------
        x : array
            ``(N, ...)`` inputs; graded input sends them as they are, Bernoulli input needs
            them in ``[0, 1]`` (clipped).
        steps : int
            Time steps per input.
        checkpoints : list of int, optional
            Steps at which predictions and counts are read (multiples of their greatest
            common divisor; default: powers of two up to ``steps``, and ``steps``).
        seed : int
            Seed of the input spikes (Bernoulli input; chunk ``c`` uses ``seed + c``).
        backend : str
            ``"standalone"`` or ``"numpy"``.
        chunk : int, optional
            Inputs per run of the binary (default: all at once); the binary is built once
            for this size.

        Returns
        -------
        SpikingRun
            Counts per layer: input first, the output layer's spikes last when it spikes.
        """
        check_backend(backend)
        xs, cps, stride = check_run_inputs(x, self.sizes[0], steps, checkpoints)
        if self.input == "bernoulli":
            xs = np.clip(xs, 0.0, 1.0)
        per_img = steps // stride
        idx = np.asarray(cps) // stride - 1
        n_all = len(xs)
        size = min(chunk or n_all, n_all)
        preds, spk_sum, ev_sum = [], 0, 0
        for c, start in enumerate(range(0, n_all, size)):
            part = xs[start : start + size]
            m = len(part)
            if m < size:
                part = np.concatenate([part, np.zeros((size - m, xs.shape[1]))])
            out, spk, ev = self._run_chunk(part, size, steps, stride, seed + c, backend)

            def at(rec: np.ndarray, m=m, size=size) -> np.ndarray:  # (rows, m, C)
                rec = rec[:, 1 : size * per_img + 1]
                return rec.reshape(rec.shape[0], size, per_img)[:, :m][:, :, idx]

            preds.append(at(out).argmax(axis=0).T)  # (C, m)
            spk_sum = spk_sum + at(spk).sum(axis=1).T  # (C, L)
            ev_sum = ev_sum + at(ev).sum(axis=(0, 1))  # (C,)
        spk_at = np.rint(spk_sum).astype(np.int64)
        ev_at = np.rint(ev_sum).astype(np.int64)
        end = cps.index(steps)
        return SpikingRun(
            steps=np.asarray(cps),
            predictions=np.concatenate(preds, axis=1),
            spikes=[int(s) for s in spk_at[end]],
            synaptic_events=int(ev_at[end]),
            neuron_updates=int(sum(self.sizes[1:]) * steps * n_all),
            spikes_at=spk_at,
            events_at=ev_at,
        )


def from_spiking_sequential(net: Any, in_shape: tuple[int, ...]) -> LIFNetwork:
    """The Brian2 network of a :class:`snn.lif.SpikingSequential` (same equations).

    The affine runs are composed into one map each in float64
    (:func:`snn.convert.affine_maps`); every hidden layer gets the ``LIFConfig``'s neuron,
    the output an integrator (``β = 1``), input graded, readout by potential. The
    potential is ``T`` times the torch logits ``u[T] / T``: the same argmax.
    """
    lif = net.lif
    with torch.no_grad():
        maps = affine_maps(copy.deepcopy(net.model).eval(), tuple(in_shape))
    neurons = [
        Neurons("lif", w.shape[0], beta=lif.beta, threshold=lif.threshold, reset=lif.reset)
        for w, _ in maps[:-1]
    ]
    neurons.append(Neurons("integrator", maps[-1][0].shape[0], beta=1.0))
    return LIFNetwork(maps, neurons, input="graded", readout="potential", in_shape=in_shape)


def with_device_synapses(
    net: LIFNetwork, device: Any, *, age_s: float = 0.0, seed: int | None = 0
) -> LIFNetwork:
    """The same network with every weight stored in a pair of ``device`` cells.

    Per map, ``w_max = max |W|``; a weight ``w`` is written as the differential pair
    ``G± = g_min + (g_max - g_min) · max(±w, 0) / w_max`` (``device.program``: levels,
    programming noise, variation, faults), read ``age_s`` seconds later (``device.read``:
    drift, read noise) and used as ``w_max · (G+ - G-) / (g_max - g_min)``. The read is
    taken once: a frozen snapshot of the weights (no noise per synaptic event). ``seed``:
    the generator of programming and read (None: noise-free, drift still applies).
    """
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    g_min, g_max = float(device.g_min), float(device.g_max)
    layers = []
    for w, b in net.layers:
        vals = w.data if sp.issparse(w) else np.asarray(w).reshape(-1)
        w_max = float(np.abs(vals).max()) or 1.0
        u = torch.as_tensor(vals / w_max, dtype=torch.float64)
        pair = []
        for part in (u.clamp(min=0.0), (-u).clamp(min=0.0)):
            state = device.program((g_min + (g_max - g_min) * part).float(), gen)
            pair.append(device.read(state, age_s, gen).double())
        eff = (w_max * (pair[0] - pair[1]) / (g_max - g_min)).numpy()
        if sp.issparse(w):
            w2 = w.copy()
            w2.data = eff
        else:
            w2 = eff.reshape(np.asarray(w).shape)
        layers.append((w2, b))
    return LIFNetwork(layers, net.neurons, input=net.input, readout=net.readout,
                      in_shape=net.in_shape, delays=net.delays)  # fmt: skip
