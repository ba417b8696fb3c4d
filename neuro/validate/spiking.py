"""Spiking chips: their fitted constants, and held-out measurements of real chips.

Fitted (calibrations, never evidence):

* Loihi's per-operation energies (synaptic spike, neuron update active and idle, spike
  generation, spike message) are SANA-FE's, fitted by its authors to Loihi energy-probe
  measurements of micro-benchmarks (Boyle et al., IEEE TCAD 44(8), 2025).
* TrueNorth's static power (42 mW: the chip at 0 Hz and 0 synapses, 0.70 V) and dynamic
  energy per synaptic event ((145 mW at the peak point - 42 mW) / 58 GSOPS = 1.78 pJ;
  58 GSOPS and 400 GSOPS/W at 0.75 V) are derived from Akopyan et al., IEEE TCAD 34(10),
  2015, sec. VII.

Held out (no constant was fitted to them):

* TrueNorth, Akopyan et al. 2015, Fig. 17: the whole chip at 0.8 V running complex
  recurrent networks of 128 synapses per neuron on all 4,096 cores (1,048,576 neurons,
  real time, 1 kHz tick) draws 68 mW at 11.58 Hz, 71 mW at 20.07 Hz and 94 mW at
  95.93 Hz mean firing rate. Model: the ``snn:truenorth`` table on that network. The
  all-in 26 pJ per event (Merolla et al., Science 2014) would predict 40.4, 70.0 and
  335 mW (3.6x too high at 95.93 Hz): the figure contains the chip's static power at
  20 Hz. Static power was the missing mechanism; the table now has it. The model stays
  about a third low at 0.8 V because its figures are at 0.70-0.75 V (leakage and C·V²
  grow with the supply).
* Loihi keyword spotting, Blouw et al., arXiv:1812.01739 (2019): 0.27 mJ dynamic energy
  per inference ((0.110 W running - 0.029 W idle) / 296 inferences/s). Network of the
  published shape (NengoLoihi's keyword-spotting model): 390 inputs → 256 LIF → 256 LIF
  → 29 outputs, 1 ms steps, one inference = one 10-step frame, both layers on the chip.
  The spike rates are not published, so the model takes their upper bound: every input
  spikes every step, every neuron every other step (1 ms refractory period at 1 ms
  steps). Even that bound is 0.18 of the measurement: the per-event table lacks a term
  that dominates this small network — the embedded x86 (Lakemont) cores that move
  input and output spikes between host and chip every step, and the per-step
  synchronisation. We found no published figure for it that is independent of this
  measurement, so it is not added and the check stays outside its band.
"""

from __future__ import annotations

import functools

from neuro.validate import Check, Fitted, register_check, register_fitted
from snn.energy import Activity, mesh_routes, preset

_SANAFE_ID = "boyle2025-sanafe-loihi-microbenchmarks"
_SANAFE = (
    "SANA-FE's Loihi table, fitted to Loihi energy-probe measurements of micro-benchmarks "
    "(Boyle et al., IEEE TCAD 44(8):3165, 2025)"
)
for _term, _value in (
    ("synaptic_op_J", 35.5e-12),
    ("neuron_update_active_J", 72.8e-12),
    ("neuron_update_idle_J", 51.2e-12),
    ("spike_out_J", 69.3e-12),
    ("message_J", 111e-12),
):
    register_fitted(
        Fitted(f"snn.loihi.{_term}", _value, "J", _SANAFE_ID, _SANAFE,
               f"snn.energy.PRESETS['loihi'].{_term}")
    )  # fmt: skip
register_fitted(
    Fitted("snn.truenorth.static_W", 42e-3, "W", "akopyan2015-truenorth-42mW-at-0Hz",
           "TrueNorth at 0 Hz firing and 0 synapses per neuron, 0.70 V: 42 mW (Akopyan et al., "
           "IEEE TCAD 34(10), 2015, sec. VII)", "snn.energy.PRESETS['truenorth'].static_W")
)  # fmt: skip
register_fitted(
    Fitted("snn.truenorth.synaptic_op_J", (58e9 / 400e9 - 42e-3) / 58e9, "J",
           "akopyan2015-truenorth-58GSOPS-400GSOPS/W",
           "TrueNorth's peak: 58 GSOPS at 400 GSOPS/W, 0.75 V (Akopyan et al. 2015, sec. VII), "
           "less the 42 mW floor, per event", "snn.energy.PRESETS['truenorth'].synaptic_op_J")
)  # fmt: skip

#: TrueNorth: 4,096 cores x 256 neurons; Akopyan 2015 Fig. 17 networks: 128 synapses each.
TRUENORTH_NEURONS = 4096 * 256
TRUENORTH_SYNAPSES_PER_NEURON = 128
#: Akopyan 2015 Fig. 17 (0.8 V): mean firing rate (Hz) -> measured chip power (W).
TRUENORTH_FIG17 = {11.58: 68e-3, 20.07: 71e-3, 95.93: 94e-3}


def truenorth_power_W(rate_hz: float) -> float:
    """Chip power of the ``snn:truenorth`` table on the Fig. 17 networks at ``rate_hz``."""
    chip = preset("truenorth")
    events = TRUENORTH_NEURONS * rate_hz * TRUENORTH_SYNAPSES_PER_NEURON  # per second
    comp, _ = chip.energy(Activity(synaptic_events=events, time_s=1.0))
    return float(sum(j for g, j in comp.values() if g != "off_chip"))


for _rate, _power in TRUENORTH_FIG17.items():
    register_check(
        Check(
            name=f"spiking.truenorth.power-{_rate:g}Hz",
            paradigm="spiking",
            quantity=f"chip power, recurrent net on 4,096 cores, 128 synapses/neuron, "
            f"{_rate:g} Hz, 0.8 V, real time",
            unit="W",
            measured=_power,
            model=functools.partial(truenorth_power_W, _rate),
            source="Akopyan et al., IEEE TCAD 34(10):1537 (2015), Fig. 17",
            figure_id=f"akopyan2015-truenorth-fig17-{_rate:g}Hz",
            note="model figures at 0.70-0.75 V against a 0.8 V measurement; the all-in "
            "26 pJ/event would be 3.6x high at 95.93 Hz (static power, now modelled)",
        )
    )

#: Blouw et al. 2019's keyword spotter (NengoLoihi keyword-spotting model).
KWS_SIZES = (390, 256, 256, 29)
KWS_STEPS_PER_INFERENCE = 10
KWS_DYNAMIC_J = 0.27e-3


def loihi_kws_dynamic_J() -> float:
    """Upper bound of Loihi's dynamic energy per keyword-spotting inference (J).

    Every input spikes every step and every neuron every other step (the most a LIF
    neuron with a 1 ms refractory period fires at 1 ms steps); the 29 outputs integrate.
    Dynamic: compute, conversion and movement (no static, no host link: Blouw's figure is
    running minus idle chip power).
    """
    chip = preset("loihi")
    n_in, h1, h2, n_out = KWS_SIZES
    t = KWS_STEPS_PER_INFERENCE
    spikes = [n_in * t * 1.0, h1 * t * 0.5, h2 * t * 0.5, 0.0]
    fans = [h1, h2, n_out]
    events = sum(s * f for s, f in zip(spikes, fans))
    routes = mesh_routes(KWS_SIZES, [(0, 1, h1), (1, 2, h2), (2, 3, n_out)], spikes, chip)
    a = Activity(
        synaptic_events=events, neuron_updates_active=(h1 + h2 + n_out) * t,
        spikes_out=spikes[1] + spikes[2], messages=routes.messages,
        messages_in_tile=routes.messages_in_tile, hops_ew=routes.hops_ew, hops_ns=routes.hops_ns,
        time_s=0.0,
    )  # fmt: skip
    comp, _ = chip.energy(a)
    return float(sum(j for g, j in comp.values() if g in ("compute", "conversion", "movement")))


register_check(
    Check(
        name="spiking.loihi.kws-dynamic-energy",
        paradigm="spiking",
        quantity="dynamic energy per keyword-spotting inference, 390-256-256-29, 10 steps "
        "(model: upper bound of the spike rates)",
        unit="J",
        measured=KWS_DYNAMIC_J,
        model=loihi_kws_dynamic_J,
        source="Blouw et al., arXiv:1812.01739 (2019), Table 1: (0.110 - 0.029) W / 296 "
        "inferences/s",
        figure_id="blouw2019-loihi-kws-0.27mJ",
        note="missing mechanism: host-chip spike I/O by the embedded x86 cores and per-step "
        "synchronisation (no independent figure found; not added)",
    )
)
