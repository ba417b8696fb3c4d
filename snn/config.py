"""Parameters of the Diehl & Cook (2015) network, with their sources.

Every default is the value of Diehl & Cook, "Unsupervised learning of digit recognition
using spike-timing-dependent plasticity", Front. Comput. Neurosci. 9:99 (2015) — "paper"
below — or of the authors' published Brian 1 code (``Diehl_and_Cook_spiking_MNIST.py``,
github.com/peter-u-diehl/stdp-mnist) — "code" below — where the paper leaves a value out.
Units are Brian2 quantities; ``neuro.targets.spiking`` converts from SI floats once.
"""

from __future__ import annotations

import dataclasses

from brian2 import Hz, ms, mV

from devices.validation import ConfigError
from snn._checks import check_number, check_quantity

__all__ = ["DiehlCookConfig", "STDPRule"]


def _q(value):
    """A dataclass field whose default is a Brian2 quantity (quantities are unhashable)."""
    return dataclasses.field(default_factory=lambda: value)


@dataclasses.dataclass(frozen=True)
class STDPRule:
    """Diehl & Cook's trace rule (paper eq. 3, code ``eqs_stdp_ee``).

    A presynaptic spike depresses by ``nu_pre * post1``; a postsynaptic spike potentiates
    by ``nu_post * pre * post2`` with ``post2`` read before it is reset to 1 (a triplet
    term). Traces are set to 1 at a spike and decay with their time constants.
    """

    nu_pre: float = 1e-4  # paper/code nu_ee_pre
    nu_post: float = 1e-2  # paper/code nu_ee_post
    tau_pre: object = _q(20 * ms)  # code tc_pre_ee
    tau_post1: object = _q(20 * ms)  # code tc_post_1_ee
    tau_post2: object = _q(40 * ms)  # code tc_post_2_ee
    wmax: float = 1.0  # code wmax_ee

    def __post_init__(self) -> None:
        check_number(self, "nu_pre", self.nu_pre, ge=0, le=1)
        check_number(self, "nu_post", self.nu_post, ge=0, le=1)
        for name in ("tau_pre", "tau_post1", "tau_post2"):
            check_quantity(self, name, getattr(self, name), ms, gt=0)
        check_number(self, "wmax", self.wmax, gt=0)


@dataclasses.dataclass(frozen=True)
class DiehlCookConfig:
    """Neuron, input and protocol parameters of Diehl & Cook (2015).

    Attributes
    ----------
    rate_per_level : Quantity
        Input rate per grey level and intensity unit: rate = pixel/8 × intensity Hz
        (paper sec. 2.5; code ``rates = data / 8 * input_intensity``).
    intensity : float
        Starting intensity, 2 (code ``start_input_intensity``): at most 255/8 × 2 = 63.75 Hz.
    min_spikes : int
        An image that makes the excitatory layer fire fewer spikes is shown again with
        intensity + 1 (paper sec. 2.5: "fewer than five spikes").
    t_present, t_rest : Quantity
        350 ms per image, then 150 ms without input (code ``single_example_time``,
        ``resting_time``).
    input_sampling : {"interval", "per_step"}
        How the Poisson input is drawn, both a Bernoulli process with probability
        ``rate * dt`` per step: ``"interval"`` (default) draws the number of steps to the
        next spike once per spike (geometric), ``"per_step"`` draws a number per
        non-zero pixel and step (the behaviour before; 150 draws per step for a digit).
        Same statistics, different random streams.
    t_rest_step : Quantity
        The part of the rest simulated step by step (40 ms); the remaining
        ``t_rest - t_rest_step`` is one analytic jump. After the last input spike arrives
        (``delay_max`` into the rest) the layer's last spikes follow within a few ms and
        the conductances decay with 1 and 2 ms; by 40 ms they are below 1e-5 of their peak,
        every equation is a linear decay (``v`` towards its resting potential, which lies
        below threshold, ``ge``, ``gi``, traces, ``theta``) and no neuron can fire, so
        ``exp(-t/tau)`` (forward Euler: ``(1 - dt/tau)**steps``) gives what stepping would.
        ``t_rest_step >= t_rest`` steps the whole rest (the behaviour before the jump).
    dt : Quantity
        0.5 ms (code ``b.defaultclock.dt``).
    theta_offset : Quantity
        The threshold is ``v_thresh_e + theta - theta_offset`` (code ``offset = 20 mV``);
        ``theta_init`` 20 mV at the start of training (code) makes the two cancel.
    method : {"exponential_euler", "euler"}
        Brian2 integration of the neurons. ``"exponential_euler"`` (default): exact for
        ``v`` given the conductances over a step, so ``v`` stays between the inhibitory
        reversal potential and the excitatory one for any conductance. ``"euler"``:
        forward Euler, as Brian 1 (the original code's simulator); kept to reproduce
        earlier runs. Its step keeps ``v`` between the reversal potentials only while
        ``dt * (1 + ge + gi) / tau`` stays below 1 and is stable only below 2: on an
        excitatory neuron one inhibitory spike adds ``w_ie`` = 17 to ``gi``, so 12
        inhibitory spikes in the same step make ``v`` overshoot below ``e_inh_e``, 24
        make it oscillate with growing amplitude, and the layer can lock into firing at
        its maximum rate. Measured with forward Euler, 400 neurons: ideal synapses, seed 1, ran away
        between 3,500 and 4,000 training images (349 excitatory spikes per test image
        instead of about 13, accuracy 70 % -> 20 %; exponential Euler on the same seed:
        20 spikes, 73 %); PCM two-cell synapses after about 1,900 images.
    """

    # input and protocol
    rate_per_level: object = _q(0.125 * Hz)
    intensity: float = 2.0
    intensity_step: float = 1.0  # code: input_intensity += 1
    min_spikes: int = 5
    max_repeats: int = 20  # safety cap on intensity raises per image (ours, not the paper's)
    t_present: object = _q(350 * ms)
    t_rest: object = _q(150 * ms)
    t_rest_step: object = _q(40 * ms)  # ours: the rest beyond it decays analytically
    input_sampling: str = "interval"  # ours: one draw per input spike
    dt: object = _q(0.5 * ms)
    # excitatory neurons (paper sec. 2.1; code v_rest_e etc.)
    v_rest_e: object = _q(-65 * mV)
    v_reset_e: object = _q(-65 * mV)
    v_thresh_e: object = _q(-52 * mV)
    tau_e: object = _q(100 * ms)
    refrac_e: object = _q(5 * ms)
    theta_plus: object = _q(0.05 * mV)  # code theta_plus_e
    tau_theta: object = _q(1e7 * ms)  # code tc_theta
    theta_offset: object = _q(20 * mV)  # code offset
    theta_init: object = _q(20 * mV)  # code: theta = 20 mV when training from scratch
    # inhibitory neurons
    v_rest_i: object = _q(-60 * mV)
    v_reset_i: object = _q(-45 * mV)
    v_thresh_i: object = _q(-40 * mV)
    tau_i: object = _q(10 * ms)
    refrac_i: object = _q(2 * ms)
    # conductances (code neuron_eqs_e/i): reversal 0 mV exc, -100 mV inh on E, -85 mV on I
    tau_ge: object = _q(1 * ms)
    tau_gi: object = _q(2 * ms)
    e_exc: object = _q(0 * mV)
    e_inh_e: object = _q(-100 * mV)
    e_inh_i: object = _q(-85 * mV)
    v_init_offset: object = _q(-40 * mV)  # code: v = v_rest - 40 mV at the start
    # connectivity
    w_ei: float = 10.4  # paper/code weight['ee_input']... E->I one-to-one
    w_ie: float = 17.0  # I->E all but self
    w_init_max: float = 0.3  # code: random initial input weights in [0, 0.3]
    delay_max: object = _q(10 * ms)  # code delay['ee_input'] = (0 ms, 10 ms), uniform
    norm_sum: float = 78.0  # paper/code weight['ee_input'] = 78: column sum per neuron
    stdp: STDPRule = dataclasses.field(default_factory=STDPRule)
    method: str = "exponential_euler"  # stable for any conductance ("euler": Brian 1's)

    def __post_init__(self) -> None:
        check_quantity(self, "rate_per_level", self.rate_per_level, Hz, gt=0)
        check_number(self, "intensity", self.intensity, gt=0)
        check_number(self, "intensity_step", self.intensity_step, ge=0)
        check_number(self, "min_spikes", self.min_spikes, ge=0, integer=True)
        check_number(self, "max_repeats", self.max_repeats, ge=0, integer=True)
        for name in ("t_present", "dt", "tau_e", "tau_i", "tau_ge", "tau_gi", "tau_theta"):
            check_quantity(self, name, getattr(self, name), ms, gt=0)
        for name in ("t_rest", "t_rest_step", "refrac_e", "refrac_i", "delay_max"):
            check_quantity(self, name, getattr(self, name), ms, ge=0)
        for name in (
            "v_rest_e", "v_reset_e", "v_thresh_e", "theta_plus", "theta_offset",
            "theta_init", "v_rest_i", "v_reset_i", "v_thresh_i", "e_exc", "e_inh_e",
            "e_inh_i", "v_init_offset",
        ):  # fmt: skip
            check_quantity(self, name, getattr(self, name), mV)
        for name in ("w_ei", "w_ie", "norm_sum"):
            check_number(self, name, getattr(self, name), ge=0)
        check_number(self, "w_init_max", self.w_init_max, ge=0, le=self.stdp.wmax)
        if self.method not in ("euler", "exponential_euler"):
            raise ConfigError(
                "DiehlCookConfig.method must be 'euler' or 'exponential_euler'; "
                f"got {self.method!r}"
            )
        if self.input_sampling not in ("interval", "per_step"):
            raise ConfigError(
                "DiehlCookConfig.input_sampling must be 'interval' or 'per_step'; "
                f"got {self.input_sampling!r}"
            )
        if self.t_rest_step < self.t_rest and self.t_rest_step <= self.delay_max:
            raise ConfigError(
                "DiehlCookConfig.t_rest_step must exceed delay_max "
                f"({self.delay_max}) when part of the rest is skipped (spikes still in "
                f"flight); got {self.t_rest_step}"
            )
        for name in ("t_present", "t_rest", "t_rest_step"):
            steps = float(getattr(self, name) / self.dt)
            if abs(steps - round(steps)) > 1e-6:
                raise ConfigError(
                    f"DiehlCookConfig.{name} must be a multiple of dt ({self.dt}); "
                    f"got {getattr(self, name)}"
                )

    @property
    def t_image(self):
        """Presentation plus rest, 500 ms."""
        return self.t_present + self.t_rest

    @property
    def t_skip(self):
        """The rest that decays analytically, ``t_rest - t_rest_step`` (>= 0): 110 ms."""
        return max(self.t_rest - self.t_rest_step, 0 * ms)

    @property
    def t_image_stepped(self):
        """Presentation plus the stepped rest: 390 ms of the 500 ms image."""
        return self.t_image - self.t_skip
