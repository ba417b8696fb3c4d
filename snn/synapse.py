"""Plastic synapses for Brian2: ideal weights, and weights stored in a device model.

A synapse model writes the Brian2 code of Diehl & Cook's trace STDP rule
(:class:`snn.config.STDPRule`) for a ``Synapses`` object: its ``model`` equations, its
``on_pre`` and ``on_post`` pathways and the weight normalisation run between images.

* :class:`IdealSynapse` — a continuous weight in ``[0, wmax]`` (the paper's synapse).
* :class:`DifferentialDeviceSynapse` — two cells per synapse (``w - wm``), both moved by
  potentiating pulses: the 2-PCM synapse for one-directional devices.
* :class:`DeviceSynapse` — the weight is the normalised state ``x = (g - g_min) /
  (g_max - g_min)`` of a :class:`devices.base.DeviceModel`; every STDP update becomes an
  integer number of device pulses through the closed forms of
  :class:`devices.base.PulseUpdateModel` (levels, nonlinearity of potentiation and
  depression, cycle-to-cycle noise), and the conductance drifts between presentations
  (:meth:`DeviceSynapse.drift_factors`, from ``device.read`` at the elapsed time).

Both are usable in a user's own network (see ``snn/README.md``)::

    code = DeviceSynapse(devices.get("pcm")).code(STDPRule(), transmit="v_post += {w}*mV")
    S = Synapses(G, H, model=code.model, on_pre=code.on_pre, on_post=code.on_post,
                 namespace=code.namespace)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from devices.base import DeviceModel, DeviceState, PulseUpdateModel
from devices.validation import ConfigError
from snn.config import STDPRule

__all__ = ["SynapseCode", "IdealSynapse", "DeviceSynapse", "DifferentialDeviceSynapse"]


def _draw_size(idx: Any) -> int | None:
    try:
        return len(idx)
    except TypeError:  # scalar
        return None


# Brian2's numpy runtime draws from NumPy's global generator (seeded by ``brian2.seed``),
# so these do too.
def _pulse_count_numpy(lam, _vectorisation_idx):
    size = () if (n := _draw_size(_vectorisation_idx)) is None else (n,)
    u = np.random.rand(*size)  # noqa: NPY002
    return np.where(lam > 0, np.floor(lam + u), 0.0)


def _c2c_noise_numpy(n_pulses, _vectorisation_idx):
    size = () if (n := _draw_size(_vectorisation_idx)) is None else (n,)
    z = np.random.randn(*size)  # noqa: NPY002
    return np.where(n_pulses > 0, np.sqrt(np.maximum(n_pulses, 0)) * z, 0.0)


def _pulse_factor_numpy(n_pulses, a):
    return np.where(n_pulses > 0, np.exp(-n_pulses / a), 1.0)


_DEVICE_FUNCTIONS: dict[str, Any] = {}


def device_functions() -> dict[str, Any]:
    """Brian2 functions of the device updates that skip the work of a zero-pulse event.

    Most synaptic events of a device synapse give no pulse (an expected ``|dw| / wmax *
    P`` far below 1), and one without a pulse changes nothing; Brian2's generated code has
    no branches, so the pulse count, the pulse response and the noise are functions with a
    branch (C++; numpy: ``where``):

    * ``pulse_count(lam)``: ``floor(lam + U)`` with ``U ~ U(0, 1)`` for ``lam > 0``
      (stochastic rounding), ``0`` without drawing for ``lam = 0``;
    * ``pulse_factor(n, A)``: ``exp(-n / A)`` for ``n > 0``, else 1;
    * ``c2c_noise(n)``: ``sqrt(n) * N(0, 1)`` for ``n > 0``, else 0 without drawing.

    Same distributions as the branch-free forms; fewer random numbers are drawn.
    """
    if _DEVICE_FUNCTIONS:
        return _DEVICE_FUNCTIONS
    import brian2 as b2
    from brian2.core.functions import DEFAULT_FUNCTIONS

    count = b2.Function(_pulse_count_numpy, arg_units=[1], return_unit=1, arg_types=["float"],
                        return_type="float", stateless=False, auto_vectorise=True)  # fmt: skip
    count.implementations.add_implementation(
        "cpp",
        "static inline double pulse_count(const double lam, const int _vectorisation_idx)\n"
        "{\n    return lam > 0 ? floor(lam + _rand(_vectorisation_idx)) : 0.0;\n}\n",
        dependencies={"_rand": DEFAULT_FUNCTIONS["rand"]},
    )
    noise = b2.Function(_c2c_noise_numpy, arg_units=[1], return_unit=1, arg_types=["float"],
                        return_type="float", stateless=False, auto_vectorise=True)  # fmt: skip
    noise.implementations.add_implementation(
        "cpp",
        "static inline double c2c_noise(const double n, const int _vectorisation_idx)\n"
        "{\n    return n > 0 ? sqrt(n) * _randn(_vectorisation_idx) : 0.0;\n}\n",
        dependencies={"_randn": DEFAULT_FUNCTIONS["randn"]},
    )
    factor = b2.Function(_pulse_factor_numpy, arg_units=[1, 1], return_unit=1,
                         arg_types=["float", "float"], return_type="float")  # fmt: skip
    factor.implementations.add_implementation(
        "cpp",
        "static inline double pulse_factor(const double n, const double a)\n"
        "{\n    return n > 0 ? exp(-n / a) : 1.0;\n}\n",
    )
    _DEVICE_FUNCTIONS.update(pulse_count=count, c2c_noise=noise, pulse_factor=factor)
    return _DEVICE_FUNCTIONS


@dataclasses.dataclass(frozen=True)
class SynapseCode:
    """The Brian2 code of one plastic synapse model.

    Attributes
    ----------
    model, on_pre, on_post : str
        Arguments of ``brian2.Synapses``.
    normalise : str
        Code for ``Synapses.run_regularly``: rescales each target neuron's incoming weights
        to ``norm_sum`` using the running column sum ``colsum_post`` (needs
        ``running_sum=True`` in :meth:`IdealSynapse.code`), gated by ``plastic``.
    namespace : dict
        Constants the code refers to.
    """

    model: str
    on_pre: str
    on_post: str
    normalise: str
    namespace: dict[str, Any]


def _traces(
    rule: STDPRule, post_traces: str, pre_trace: str, clock: str = "t"
) -> tuple[str, str, str, str, str]:
    """Model lines, names of pre/post1/post2, the pre-spike and post-spike trace resets."""
    if post_traces not in ("synapse", "neuron"):
        raise ConfigError(f"post_traces must be 'synapse' or 'neuron'; got {post_traces!r}")
    if pre_trace not in ("synapse", "arrival", "neuron"):
        raise ConfigError(f"pre_trace must be 'synapse', 'arrival' or 'neuron'; got {pre_trace!r}")
    if pre_trace == "synapse":
        model, pre, pre_reset = "dpre/dt = -pre / tau_pre : 1 (event-driven)\n", "pre", "pre = 1\n"
    elif pre_trace == "arrival":
        # The trace is set to 1 at each arrival and decays: exp(-(t - t_arrival) / tau_pre).
        model = "tpre : second\n"
        pre, pre_reset = f"exp((tpre - {clock}) / tau_pre)", f"tpre = {clock}\n"
    else:  # the source group defines pre and sets it to 1 on its spikes
        model, pre, pre_reset = "", "pre_pre", ""
    if post_traces == "synapse":
        model += (
            "dpost1/dt = -post1 / tau_post1 : 1 (event-driven)\n"
            "dpost2/dt = -post2 / tau_post2 : 1 (event-driven)\n"
        )
        return model, pre, "post1", "post2", pre_reset + "|post1 = 1\npost2 = 1\n"
    # the target group defines post1, post2 and resets them to 1 on its spikes
    return model, pre, "post1_post", "post2_post", pre_reset + "|"


class IdealSynapse:
    """A continuous weight clipped to ``[0, wmax]``: Diehl & Cook's synapse.

    Updates are those of the paper's code: ``w -= nu_pre * post1`` on a presynaptic spike,
    ``w += nu_post * pre * post2`` (``post2`` before its reset) on a postsynaptic one.
    """

    name = "ideal"
    #: Whether the weights drift (``drift_factors`` returns something other than ones).
    drifts = False

    def describe(self) -> dict[str, Any]:
        """Name and parameters, for configs."""
        return {"synapse": self.name}

    # -- Brian2 code ---------------------------------------------------------------
    def code(
        self,
        rule: STDPRule,
        *,
        transmit: str,
        post_traces: str = "synapse",
        pre_trace: str = "synapse",
        plastic: str = "1",
        running_sum: bool = False,
        clock: str = "t",
        norm_ratio: str = "norm_sum / (colsum_post + 1e-12)",
    ) -> SynapseCode:
        """The Brian2 code of this synapse under ``rule``.

        Parameters
        ----------
        rule : STDPRule
            Learning rates, trace time constants and ``wmax``.
        transmit : str
            The transmission statement with ``{w}`` for the effective weight, e.g.
            ``"ge_post += {w}"``.
        post_traces : {"synapse", "neuron"}
            ``"synapse"``: the post traces are event-driven synaptic variables (for a
            user's network). ``"neuron"``: the target group defines ``post1``/``post2``
            and resets them to 1 on its spikes (cheaper: one trace per neuron).
        pre_trace : {"synapse", "arrival", "neuron"}
            ``"synapse"``: an event-driven trace per synapse, updated when the (delayed)
            spike arrives. ``"arrival"``: the same trace computed from the time of the
            last arrival, ``tpre`` (one variable per synapse instead of the trace and its
            update time; equal up to rounding, since the trace is reset to 1, not
            incremented); ``tpre`` must start far in the past (e.g. ``-1e9 * second``)
            for a zero trace. ``"neuron"``: the source group defines ``pre`` and sets it
            to 1 on its spikes; identical without synaptic delays, and much cheaper.
        plastic : str
            An expression that scales learning (``"plastic_post"`` switches it off
            during testing).
        running_sum : bool
            Keep ``colsum_post`` (a target-group variable) equal to the sum of incoming
            weights by adding every weight change to it; needed by ``normalise``.
        clock : str
            The time the ``"arrival"`` trace is measured in (default Brian2's ``t``); a
            network that skips simulated time passes its physical time, e.g.
            ``"(t + toff_pre)"``.
        norm_ratio : str
            The factor ``normalise`` scales each stored weight by, ``norm_sum`` over the
            target's column sum; a network may pass a per-neuron variable that holds it
            (e.g. ``"nratio_post"``), computed once per neuron instead of once per synapse.
        """
        if "{w}" not in transmit:
            raise ConfigError(f"transmit must contain '{{w}}'; got {transmit!r}")
        model, pre, post1, post2, resets = _traces(rule, post_traces, pre_trace, clock)
        pre_reset, reset = resets.split("|")
        model += self._model_extra()
        track = "colsum_post += _dw\n" if running_sum else ""
        dep = f"nu_pre * ({plastic}) * {post1}"
        pot = f"nu_post * ({plastic}) * {pre} * {post2}"
        on_pre = transmit.format(w=self._w_eff()) + "\n" + pre_reset + self._update(dep, -1) + track
        on_post = self._update(pot, +1) + track + reset
        ns = {
            "nu_pre": rule.nu_pre,
            "nu_post": rule.nu_post,
            "tau_pre": rule.tau_pre,
            "tau_post1": rule.tau_post1,
            "tau_post2": rule.tau_post2,
            "wmax": rule.wmax,
            **self._namespace(),
        }
        return SynapseCode(model, on_pre, on_post, self._normalise(plastic, norm_ratio), ns)

    def inference_code(self, *, transmit: str) -> SynapseCode:
        """The Brian2 code of this synapse with learning off: transmission only.

        The same weight variables as :meth:`code` (so the same state can be passed in), no
        traces, no updates and no normalisation: a network for testing that does not
        spend a random draw and a device update per synaptic event on a zero change.
        """
        if "{w}" not in transmit:
            raise ConfigError(f"transmit must contain '{{w}}'; got {transmit!r}")
        return SynapseCode(self._model_extra(), transmit.format(w=self._w_eff()), "", "", {})

    def _model_extra(self) -> str:
        return "w : 1\n"

    def _w_eff(self) -> str:
        return "w"

    def _update(self, amount: str, sign: int) -> str:
        op = "-" if sign < 0 else "+"
        return f"_dw = clip(w {op} {amount}, 0, wmax) - w\nw += _dw\n"

    def _normalise(self, gate: str, ratio: str) -> str:
        return f"w = w * (1 + ({gate}) * ({ratio} - 1))\n"

    def _namespace(self) -> dict[str, Any]:
        return {}

    # -- weights -------------------------------------------------------------------
    def initial_weights(self, n: int, w_max: float, rng: np.random.Generator) -> np.ndarray:
        """``n`` initial weights, uniform in ``[0, w_max]`` (Diehl & Cook's code)."""
        return rng.uniform(0.0, w_max, size=n)

    def drift_factors(self, w: np.ndarray, age_s: np.ndarray, wmax: float) -> np.ndarray:
        """Read-out factor per synapse after ``age_s`` seconds since its last write (ones)."""
        return np.ones_like(w)

    # -- state of a population of synapses (used by snn.DiehlCook) -------------------
    #: Per-synapse variables of the code besides ``w`` that a run must carry over.
    state_names: tuple[str, ...] = ()

    def initial_state(self, n: int, w_max: float, rng: np.random.Generator) -> dict:
        """The per-synapse arrays of ``n`` fresh synapses: ``w`` from :meth:`initial_weights`."""
        return {"w": self.initial_weights(n, w_max, rng)}

    def effective_weights(self, state: dict) -> np.ndarray:
        """The weight each synapse stands for (drift aside), shape ``(n,)``."""
        return np.asarray(state["w"], dtype=float)

    def written(self, w: np.ndarray) -> dict:
        """The arrays after programming effective weights ``w`` (a normalisation)."""
        return {"w": np.asarray(w, dtype=float)}

    def drift_state(self, state: dict, age_s: np.ndarray, wmax: float) -> dict:
        """The drift variables after ``age_s`` seconds since the last writes (none)."""
        return {}


class DeviceSynapse(IdealSynapse):
    """A weight stored in a device: STDP through the device's pulse response.

    The weight ``w`` in ``[0, wmax]`` is ``wmax`` times the normalised device state ``x``
    (``x = 0`` at ``g_min``, ``x = 1`` at ``g_max``). An STDP update of expected size
    ``dw`` becomes ``n = floor(|dw| / wmax * P + u)`` pulses with ``u ~ U(0, 1)``
    (stochastic rounding: ``E[n] = |dw| / wmax * P``, ``P = n_levels - 1``), applied by
    the closed form of :class:`~devices.base.PulseUpdateModel`::

        potentiation:  1 - x' s_p = (1 - x s_p) exp(-n / A_p),   s_p = 1 - exp(-P / A_p)
        depression:    the same on 1 - x with A_d

    (``x' = x ± n / P`` for a linear device), plus Gaussian cycle-to-cycle noise of std
    ``c2c_sigma * sqrt(n)``. A device whose update model has ``depression == "reset"``
    (PCM: SET is gradual, RESET abrupt) goes to ``x = 0`` on any depressing pulse. Without noise, a weight that starts on the device's
    potentiation level grid stays on it under potentiation; asymmetric nonlinearity moves
    depressed weights between the grids, as in NeuroSim.

    Normalisation (Diehl & Cook rescale each neuron's incoming weights between images)
    re-programs the cells: the rescaled state is rounded to a level of the potentiation
    grid, stochastically by default (a write-verify to one of the two nearest levels,
    unbiased), or to the nearest level (``rounding="nearest"``: a weight whose rescaled
    value stays within half a level of its level is not rewritten).

    Write counts (for programming energy and endurance), per synapse, cumulative:
    ``pulses``, the pulses of the STDP updates (a RESET counts one), and ``rewrites``, the
    normalisation re-programmings that changed the stored level (one write-verify each).

    Drift: transmission uses ``w * drift``; :meth:`drift_factors` gives ``drift`` from
    ``device.read`` at the time since the synapse was last written (any pulse resets it).

    Parameters
    ----------
    device : DeviceModel
        The device; its :meth:`~devices.base.DeviceModel.update_model` gives the pulse
        response.
    drift : bool
        Apply the device's drift between presentations.
    seed : int
        Seeds the per-device hidden variables drawn when the cells are first programmed
        (e.g. PCM drift exponents).
    rounding : {"stochastic", "nearest"}
        How the normalisation's re-programming picks a level. Stochastic rounding is
        unbiased, but every rescaling by a factor near 1 moves some cells by a whole level
        at random, a random walk absorbed at level 0: on a coarse grid (FeFET: the first
        level above ``g_min`` is 7 % of the range) these moves outnumber the STDP pulses
        (measured for FeFET over the first 1,000 images: 308 re-programmings against 68
        STDP pulses per presentation, ``snn/README.md``). Nearest rounding keeps a weight
        on its level unless the rescaling moves it by more than half a level.
    """

    drifts = True
    state_names = ("drift", "lastwrite", "pulses", "rewrites")

    def __init__(
        self,
        device: DeviceModel,
        *,
        drift: bool = True,
        seed: int = 0,
        rounding: str = "stochastic",
    ) -> None:
        if not isinstance(device, DeviceModel):
            raise ConfigError(f"DeviceSynapse.device must be a DeviceModel; got {device!r}")
        if rounding not in ("stochastic", "nearest"):
            raise ConfigError(
                f"DeviceSynapse.rounding must be 'stochastic' or 'nearest'; got {rounding!r}"
            )
        self.rounding = rounding
        self.device = device
        self.pulse_model: PulseUpdateModel = device.update_model()
        self.name = device.name
        self.drifts = bool(drift)
        self.seed = int(seed)
        #: Per-cell hidden variables (e.g. PCM drift exponents), one set per cell role.
        self._hidden: dict[str, DeviceState] = {}
        m = self.pulse_model
        self.P = m.n_pulses
        self.A_ltp = m.a_from_nonlinearity(m.nonlinearity_ltp, self.P)
        self.A_ltd = m.a_from_nonlinearity(m.nonlinearity_ltd, self.P)

    def describe(self) -> dict[str, Any]:
        m = self.pulse_model
        return {
            "synapse": "device",
            "device": self.device.name,
            "n_levels": m.n_levels,
            "nonlinearity_ltp": m.nonlinearity_ltp,
            "nonlinearity_ltd": m.nonlinearity_ltd,
            "c2c_sigma": m.c2c_sigma,
            "drift": self.drifts,
            "rounding": self.rounding,
        }

    # -- Brian2 code ---------------------------------------------------------------
    def _model_extra(self) -> str:
        return "w : 1\ndrift : 1\nlastwrite : second\npulses : 1\nrewrites : 1\n"

    def _w_eff(self) -> str:
        return "(w * drift)"

    @staticmethod
    def _s(a: float, P: int) -> float:
        return 1.0 - math.exp(-P / a)

    def _namespace(self) -> dict[str, Any]:
        ns: dict[str, Any] = {"P_pulses": float(self.P), "c2c": self.pulse_model.c2c_sigma,
                              **device_functions()}  # fmt: skip
        for tag, a in (("ltp", self.A_ltp), ("ltd", self.A_ltd)):
            if math.isfinite(a):
                ns[f"A_{tag}"] = a
                ns[f"s_{tag}"] = self._s(a, self.P)
        return ns

    def _step(self, sign: int, cell: str = "w") -> str:
        """``_x`` (normalised state of ``cell``) after ``_n`` pulses, noise-free."""
        if sign < 0 and self.pulse_model.depression == "reset":
            return f"_x = ({cell} / wmax) * int(_n == 0)\n"  # abrupt RESET to g_min (PCM)
        a = self.A_ltp if sign > 0 else self.A_ltd
        tag = "ltp" if sign > 0 else "ltd"
        x = f"{cell} / wmax"
        if not math.isfinite(a):
            return f"_x = {x} {'+' if sign > 0 else '-'} _n / P_pulses\n"
        if sign > 0:
            return f"_x = (1 - (1 - ({x}) * s_{tag}) * pulse_factor(_n, A_{tag})) / s_{tag}\n"
        return f"_x = 1 - (1 - (1 - (1 - {x}) * s_{tag}) * pulse_factor(_n, A_{tag})) / s_{tag}\n"

    def _pulses(self, amount: str, sign: int, cell: str, drift: str, dw: str) -> str:
        """``_n`` stochastic pulses of direction ``sign`` on ``cell``; ``_dw = dw`` is the
        change of the effective weight (for the running column sum)."""
        noise = " + c2c * c2c_noise(_n)" if self.pulse_model.c2c_sigma > 0 else ""
        reset = sign < 0 and self.pulse_model.depression == "reset"  # one RESET pulse
        # no pulse, no change (``int(_n > 0)``: not even the rounding of the closed form)
        return (
            f"_n = pulse_count(({amount}) / wmax * P_pulses)\n"
            + self._step(sign, cell)
            + f"_dc = int(_n > 0) * (wmax * clip(_x{noise}, 0, 1) - {cell})\n"
            f"{cell} += _dc\n"
            + ("pulses += int(_n > 0)\n" if reset else "pulses += _n\n")
            + f"_dw = {dw}\n"
            "_wrote = int(_n > 0)\n"
            f"{drift} += _wrote * (1 - {drift})\n"
            "lastwrite += _wrote * (t - lastwrite)\n"
        )

    def _update(self, amount: str, sign: int) -> str:
        return self._pulses(amount, sign, "w", "drift", "_dc")

    def _stored(self) -> str:
        """The stored weight that normalisation rescales (drift aside)."""
        return "w"

    def _normalise(self, gate: str, ratio: str) -> str:
        x = f"clip({self._stored()} * ({ratio}) / wmax, 0, 1)"
        if math.isfinite(self.A_ltp):
            p = f"-A_ltp * log(1 - {x} * s_ltp)"
            back = "(1 - exp(-_p / A_ltp)) / s_ltp"
        else:
            p = f"{x} * P_pulses"
            back = "_p / P_pulses"
        return (
            f"_g = {gate}\n"
            f"_p = floor({p} + {'rand()' if self.rounding == 'stochastic' else '0.5'})\n"
            f"_new = wmax * clip({back}, 0, 1)\n"
            "rewrites += _g * int(abs(_new - w) > 1e-9 * wmax)\n"
            "w += _g * (_new - w)\n"
            "drift += _g * (1 - drift)\n"
            "lastwrite += _g * (t - lastwrite)\n"
        )

    # -- weights -------------------------------------------------------------------
    def levels(self) -> np.ndarray:
        """The potentiation level grid of ``x`` (``n_levels`` values from 0 to 1)."""
        p = torch.arange(self.P + 1, dtype=torch.float64)
        return self.pulse_model.step_up(torch.zeros(1, dtype=torch.float64), p).numpy()

    def quantise(self, w: np.ndarray, wmax: float) -> np.ndarray:
        """``w`` rounded to the nearest level of the potentiation grid (a programmed write)."""
        grid = self.levels() * wmax
        idx = np.clip(np.searchsorted(grid, w), 1, len(grid) - 1)
        lower, upper = grid[idx - 1], grid[idx]
        return np.where(np.abs(w - lower) <= np.abs(upper - w), lower, upper)

    def initial_weights(self, n: int, w_max: float, rng: np.random.Generator) -> np.ndarray:
        """Uniform in ``[0, w_max]`` as in the paper, programmed to the nearest levels."""
        return self.quantise(rng.uniform(0.0, w_max, size=n), 1.0)

    def _conductance(self, x: np.ndarray) -> torch.Tensor:
        m = self.pulse_model
        return torch.as_tensor(m.g_min + x * (m.g_max - m.g_min), dtype=torch.float64)

    def initial_state(self, n: int, w_max: float, rng: np.random.Generator) -> dict:
        return {"w": self.initial_weights(n, w_max, rng), "drift": np.ones(n),
                "pulses": np.zeros(n), "rewrites": np.zeros(n)}  # fmt: skip

    def drift_state(self, state: dict, age_s: np.ndarray, wmax: float) -> dict:
        return {"drift": self.drift_factors(np.asarray(state["w"]), age_s, wmax)}

    def drift_factors(
        self, w: np.ndarray, age_s: np.ndarray, wmax: float, *, cell: str = "w"
    ) -> np.ndarray:
        """``read(state, age) / state`` per synapse, by the device model (noise-free read).

        Ages are grouped in bins of 1/20 decade (the read takes one time per call); the
        per-cell hidden variables (e.g. PCM drift exponents) are drawn once per ``cell``
        role (``"w"``; ``"wm"`` for the second cell of a pair), seeded by ``seed``, when
        first needed.
        """
        if not self.drifts:
            return np.ones_like(w)
        m = self.pulse_model
        x = np.clip(w / wmax, 0.0, 1.0)
        g = self._conductance(x)
        hidden = self._hidden.get(cell)
        if hidden is None or hidden.value.shape != g.shape:
            gen = torch.Generator().manual_seed(self.seed + (0 if cell == "w" else 7919))
            hidden = self._hidden[cell] = self.device.program(g.to(torch.float32), gen)
        state = hidden.replace(value=g.to(hidden.value.dtype))
        out = np.ones_like(w)
        age = np.maximum(np.asarray(age_s, dtype=float), 0.0)
        bins = np.round(np.log10(np.maximum(age, 1e-3)) * 20).astype(int)
        for b in np.unique(bins):
            sel = bins == b
            t = float(10 ** (b / 20)) if b > -60 else 0.0  # age 0: just written (no drift)
            g_t = self.device.read(state[torch.from_numpy(sel)], t, None).double().numpy()
            x_t = np.clip((g_t - m.g_min) / (m.g_max - m.g_min), 0.0, None)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[sel] = np.where(x[sel] > 0, x_t / np.maximum(x[sel], 1e-12), 1.0)
        return out


class DifferentialDeviceSynapse(DeviceSynapse):
    """Two cells per synapse, ``w_eff = w - wm``: the 2-device synapse of PCM arrays.

    A one-directional device (PCM: gradual SET, abrupt RESET) cannot depress gradually, so
    each synapse uses two cells whose difference is the weight; potentiation pulses the
    first cell (``w``) and depression pulses the second (``wm``), both along the device's
    *potentiation* curve (SET pulses only): Suri et al., "Phase change memory as synapse
    for ultra-dense neuromorphic systems: application to complex visual pattern
    extraction", IEDM 2011; Bichler et al., "Visual pattern extraction using
    energy-efficient 2-PCM synapse neuromorphic architecture", IEEE TED 59(8):2206, 2012
    (the "2-PCM synapse"; its refresh re-programs both cells when one saturates).

    Here the refresh is the weight normalisation before every image, which re-programs
    each pair to ``w = target`` (stochastic rounding to a level of the potentiation grid,
    as :class:`DeviceSynapse`), ``wm = 0`` (a RESET). Within an image the effective weight
    may go below zero (the pair's current difference, as in the papers' circuits); in
    Diehl & Cook's conductance-based neurons that is a negative excitatory conductance
    (the measured 400-neuron run had none below 0 after 1,900 images).
    Transmission reads ``w * drift - wm * driftm``; each cell drifts with its own
    factor, both aged from the pair's last write (``lastwrite``: the cells are written
    together at every normalisation, so the ages differ by less than one image while
    training). Cycle-to-cycle noise as :class:`DeviceSynapse`.
    """

    state_names = ("wm", "drift", "driftm", "lastwrite", "pulses", "rewrites")

    def __init__(
        self,
        device: DeviceModel,
        *,
        drift: bool = True,
        seed: int = 0,
        rounding: str = "stochastic",
    ) -> None:
        super().__init__(device, drift=drift, seed=seed, rounding=rounding)
        self.name = f"{device.name}-pair"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "synapse": "device-pair"}

    def _model_extra(self) -> str:
        return (
            "w : 1\nwm : 1\ndrift : 1\ndriftm : 1\nlastwrite : second\npulses : 1\nrewrites : 1\n"
        )

    def _w_eff(self) -> str:
        return "(w * drift - wm * driftm)"

    def _update(self, amount: str, sign: int) -> str:
        # depression: SET pulses (the potentiation curve) on the second cell
        if sign > 0:
            return self._pulses(amount, +1, "w", "drift", "_dc")
        return self._pulses(amount, +1, "wm", "driftm", "-_dc")

    def _stored(self) -> str:
        return "(w - wm)"

    def _normalise(self, gate: str, ratio: str) -> str:
        reset = "rewrites += _g * int(wm > 0)\nwm -= _g * wm\n"  # RESET of the second cell
        return super()._normalise(gate, ratio) + reset + "driftm += _g * (1 - driftm)\n"

    def initial_state(self, n: int, w_max: float, rng: np.random.Generator) -> dict:
        w = self.initial_weights(n, w_max, rng)
        zeros = {k: np.zeros(n) for k in ("wm", "pulses", "rewrites")}
        return {"w": w, **zeros, "drift": np.ones(n), "driftm": np.ones(n)}

    def effective_weights(self, state: dict) -> np.ndarray:
        return np.asarray(state["w"], dtype=float) - np.asarray(state["wm"], dtype=float)

    def written(self, w: np.ndarray) -> dict:
        w = np.asarray(w, dtype=float)
        return {"w": np.maximum(w, 0.0), "wm": np.zeros_like(w)}

    def drift_state(self, state: dict, age_s: np.ndarray, wmax: float) -> dict:
        return {
            "drift": self.drift_factors(np.asarray(state["w"]), age_s, wmax),
            "driftm": self.drift_factors(np.asarray(state["wm"]), age_s, wmax, cell="wm"),
        }
