"""The Brian2 network of Diehl & Cook (2015) for one chunk of images.

One run presents ``n_images`` images back to back: each for ``t_present`` with Poisson
input, then ``t_rest`` without input. The input rates come from a 2-D ``TimedArray``
(time bins × input neurons); the weights, thresholds and membrane potentials are passed
in at the start of the run and read back at its end, so that the C++ standalone binary is
compiled once per shape (:class:`snn.backend.StandaloneProject`) and re-run per chunk.

Inside a run, as in the paper's code: weight normalisation before every image (while
learning) through a running per-neuron sum of the incoming weights, adaptive thresholds,
lateral inhibition and STDP. Between runs (in :mod:`snn.diehl_cook`): the intensity raise
for silent images, and the device drift.

Integration: forward Euler at ``dt`` for the neurons, as Brian 1 (the original code's
simulator) does for these non-linear conductance equations; Brian2's ``refractory`` with
``(unless refractory)`` clamps ``v`` like Brian 1's refractoriness.
"""

from __future__ import annotations

import math
from typing import Any

import brian2 as b2
import numpy as np
from brian2 import Hz, second

from snn.backend import StandaloneProject, check_backend, insert_seed, use_runtime
from snn.config import DiehlCookConfig
from snn.synapse import IdealSynapse

__all__ = ["DCNetwork", "bin_width"]

_EXC = """
dv/dt = ((v_rest_e - v) + ge * (e_exc - v) + gi * (e_inh_e - v)) / tau_e : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
dgi/dt = -gi / tau_gi : 1
dtheta/dt = -plastic * theta / tau_theta : volt
dpost1/dt = -post1 / tau_post1 : 1
dpost2/dt = -post2 / tau_post2 : 1
colsum : 1
plastic : 1 (shared)
"""
_INH = """
dv/dt = ((v_rest_i - v) + ge * (e_exc - v) + gi * (e_inh_i - v)) / tau_i : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
dgi/dt = -gi / tau_gi : 1
"""


def bin_width(cfg: DiehlCookConfig):
    """Largest time bin that divides both ``t_present`` and ``t_rest`` (50 ms by default)."""
    a = int(round(float(cfg.t_present / cfg.dt)))
    b = int(round(float(cfg.t_rest / cfg.dt)))
    return math.gcd(a, b) * cfg.dt


class DCNetwork:
    """Builds and runs the Diehl & Cook network for chunks of ``n_images`` images.

    Parameters
    ----------
    cfg : DiehlCookConfig
        Parameters.
    n_input, n_exc : int
        Input pixels and excitatory (= inhibitory) neurons.
    synapse : IdealSynapse or DeviceSynapse
        The plastic input synapse.
    n_images : int
        Images per run (the chunk).
    backend : {"standalone", "numpy"}
        See :mod:`snn.backend`.
    """

    def __init__(
        self,
        cfg: DiehlCookConfig,
        n_input: int,
        n_exc: int,
        synapse: IdealSynapse,
        n_images: int,
        backend: str = "standalone",
    ) -> None:
        check_backend(backend)
        self.cfg, self.n_input, self.n_exc = cfg, n_input, n_exc
        self.synapse, self.n_images, self.backend = synapse, n_images, backend
        self.bin = bin_width(cfg)
        self.bins_per_image = int(round(float(cfg.t_image / self.bin)))
        self.bins_on = int(round(float(cfg.t_present / self.bin)))
        self.duration = n_images * cfg.t_image
        #: Without delays the presynaptic trace lives in the input neurons (exactly
        #: equivalent, one trace per input instead of per synapse) and the synapses use
        #: Brian2's homogeneous-delay fast path.
        self.fast = float(cfg.delay_max / second) == 0.0
        self.code = synapse.code(
            cfg.stdp,
            transmit="ge_post += {w}",
            post_traces="neuron",
            pre_trace="neuron" if self.fast else "synapse",
            plastic="plastic_post",
            running_sum=True,
        )
        self._project: StandaloneProject | None = None
        #: Seed of the synaptic delays (fixed per network, part of its shape).
        self.delay_seed = 12345
        if backend == "standalone":
            spec = {
                "cfg": repr(cfg),
                "n_input": n_input,
                "n_exc": n_exc,
                "n_images": n_images,
                "code": [self.code.model, self.code.on_pre, self.code.on_post,
                         self.code.normalise, repr(sorted(self.code.namespace.items()))],
                "brian2": b2.__version__,
            }  # fmt: skip
            self._project = StandaloneProject("dc", spec, self._construct_placeholder)

    # -- construction --------------------------------------------------------------
    def _namespace(self) -> dict[str, Any]:
        c = self.cfg
        ns = {name: getattr(c, name) for name in (
            "v_rest_e", "v_reset_e", "v_thresh_e", "tau_e", "theta_plus", "tau_theta",
            "theta_offset", "v_rest_i", "v_reset_i", "v_thresh_i", "tau_i", "tau_ge",
            "tau_gi", "e_exc", "e_inh_e", "e_inh_i", "w_ei", "w_ie", "norm_sum",
        )}  # fmt: skip
        ns.update(tau_post1=c.stdp.tau_post1, tau_post2=c.stdp.tau_post2)
        return ns

    def _construct(self, rate_values: np.ndarray, state: dict[str, np.ndarray] | None):
        c, ns = self.cfg, self._namespace()
        rates = b2.TimedArray(rate_values * Hz, dt=self.bin, name="rates")
        inp_eqs = "run_seed : integer (shared)\n"
        if self.fast:
            inp_eqs += "dpre/dt = -pre / tau_pre : 1\n"
        inp = b2.NeuronGroup(
            self.n_input, inp_eqs, threshold="rand() < rates(t, i) * dt",
            reset="pre = 1" if self.fast else "", method="exact",
            namespace={"rates": rates, "tau_pre": c.stdp.tau_pre}, name="inp", dt=c.dt,
        )  # fmt: skip
        exc = b2.NeuronGroup(
            self.n_exc, _EXC, threshold="v > v_thresh_e + theta - theta_offset",
            reset="v = v_reset_e\ntheta += plastic * theta_plus\npost1 = 1\npost2 = 1",
            refractory=c.refrac_e, method="euler", namespace=ns, name="exc", dt=c.dt,
        )  # fmt: skip
        inh = b2.NeuronGroup(
            self.n_exc, _INH, threshold="v > v_thresh_i", reset="v = v_reset_i",
            refractory=c.refrac_i, method="euler", namespace=ns, name="inh", dt=c.dt,
        )  # fmt: skip
        code = self.code
        syn = b2.Synapses(
            inp, exc, model=code.model, on_pre=code.on_pre, on_post=code.on_post,
            namespace={**code.namespace, "norm_sum": c.norm_sum, "delay_max": c.delay_max},
            name="syn", dt=c.dt,
        )  # fmt: skip
        syn.connect()
        # Input delays uniform in [0, delay_max] (code: delay['ee_input'] = (0, 10) ms), drawn
        # once per network from a fixed seed (Brian2's seed is global; standalone bakes
        # it into the binary before the per-run seed of insert_seed takes over).
        if not self.fast:
            b2.seed(self.delay_seed)
            syn.delay = "rand() * delay_max"
        syn.run_regularly(code.normalise, dt=c.t_image, when="start", order=0, name="norm")
        exc.run_regularly("colsum += plastic * (norm_sum - colsum)", dt=c.t_image,
                          when="start", order=1, name="colsum_reset")  # fmt: skip
        ei = b2.Synapses(exc, inh, on_pre="ge_post += w_ei", namespace=ns, name="ei", dt=c.dt)
        ei.connect(j="i")
        ie = b2.Synapses(inh, exc, on_pre="gi_post += w_ie", namespace=ns, name="ie", dt=c.dt)
        ie.connect(condition="i != j")
        mon_e = b2.SpikeMonitor(exc, name="mon_e")
        mon_in = b2.SpikeMonitor(inp, record=False, name="mon_in")
        mon_i = b2.SpikeMonitor(inh, record=False, name="mon_i")
        net = b2.Network(inp, exc, inh, syn, ei, ie, mon_e, mon_in, mon_i)
        h = dict(net=net, rates=rates, inp=inp, exc=exc, inh=inh, syn=syn, ei=ei, ie=ie,
                 mon_e=mon_e, mon_in=mon_in, mon_i=mon_i)  # fmt: skip
        if state is not None:  # runtime: set the values directly
            self._assign(h, state)
        return h

    def _construct_placeholder(self) -> dict[str, Any]:
        shape = (self.n_images * self.bins_per_image, self.n_input)
        h = self._construct(np.zeros(shape), None)
        insert_seed(h["inp"])
        h["net"].run(self.duration)
        return h

    @staticmethod
    def _state_vars(h: dict[str, Any]) -> dict[str, Any]:
        v = {
            "w": h["syn"].w, "theta": h["exc"].theta,
            "v_e": h["exc"].v, "v_i": h["inh"].v, "colsum": h["exc"].colsum,
            "plastic": h["exc"].plastic, "seed": h["inp"].run_seed,
        }  # fmt: skip
        if "drift" in h["syn"].variables:
            v.update(drift=h["syn"].drift, lastwrite=h["syn"].lastwrite)
        return v

    _UNITS = {"theta": b2.volt, "v_e": b2.volt, "v_i": b2.volt,
              "lastwrite": second}  # fmt: skip

    def _assign(self, h: dict[str, Any], state: dict[str, np.ndarray]) -> None:
        views = self._state_vars(h)
        for name, value in state.items():
            unit = self._UNITS.get(name)
            views[name][:] = value if unit is None else np.asarray(value) * unit

    # -- running -------------------------------------------------------------------
    def run(self, rate_values: np.ndarray, state: dict[str, Any], seed: int) -> dict[str, Any]:
        """Present one chunk.

        Parameters
        ----------
        rate_values : numpy.ndarray
            Input rates in Hz, shape ``(n_images * bins_per_image, n_input)``.
        state : dict
            ``w``, ``theta`` (V), ``v_e``, ``v_i`` (V), ``colsum``,
            ``plastic`` (0 or 1), and for device synapses ``drift`` and ``lastwrite`` (s);
            ``seed`` is added from ``seed``.
        seed : int
            Seeds this run's random numbers (Poisson inputs, stochastic pulses): in the
            standalone binary through the ``run_seed`` variable, in runtime mode through
            ``brian2.seed`` right before the run (Brian2's generator is global).

        Returns
        -------
        dict
            ``counts`` (n_images × n_exc spike counts), ``input_spikes``, ``inh_spikes``,
            ``exc_spikes`` (totals) and the new state (same keys as ``state``).
        """
        state = dict(state, seed=seed)
        if self.backend == "standalone":
            assert self._project is not None
            h = self._project._ensure()
            views = self._state_vars(h)
            args: dict[Any, Any] = {h["rates"]: rate_values * Hz}
            for name, value in state.items():
                unit = self._UNITS.get(name)
                args[views[name]] = value if unit is None else np.asarray(value) * unit
            self._project.run(args)
        else:
            use_runtime()
            h = self._construct(rate_values, None)
            self._assign(h, {k: v for k, v in state.items() if k != "seed"})
            b2.seed(seed)
            h["net"].run(self.duration, namespace={})
        out = self._collect(h, state)
        if self._project is not None:
            self._project.cleanup_run_args()
        return out

    def _collect(self, h: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        t_img = float(self.cfg.t_image / second)
        i = np.asarray(h["mon_e"].i[:], dtype=int)
        t = np.asarray(h["mon_e"].t[:] / second)
        img = np.minimum((t / t_img + 1e-9).astype(int), self.n_images - 1)
        counts = np.zeros((self.n_images, self.n_exc), dtype=np.int64)
        np.add.at(counts, (img, i), 1)
        new = {
            "w": np.asarray(h["syn"].w[:], dtype=float),
            "theta": np.asarray(h["exc"].theta[:] / b2.volt),
            "v_e": np.asarray(h["exc"].v[:] / b2.volt),
            "v_i": np.asarray(h["inh"].v[:] / b2.volt),
            "plastic": state["plastic"],
        }
        if "drift" in state:
            new["drift"] = np.asarray(h["syn"].drift[:], dtype=float)
            new["lastwrite"] = np.asarray(h["syn"].lastwrite[:] / second)
        return {
            "counts": counts,
            "input_spikes": int(np.sum(h["mon_in"].count[:])),
            "inh_spikes": int(np.sum(h["mon_i"].count[:])),
            "exc_spikes": int(len(i)),
            "state": new,
            "syn_i": np.asarray(h["syn"].i[:], dtype=int),
            "syn_j": np.asarray(h["syn"].j[:], dtype=int),
        }

    @property
    def build_time_s(self) -> float | None:
        """Seconds the standalone build took in this process (None before it, or runtime)."""
        return None if self._project is None else self._project.build_time_s
