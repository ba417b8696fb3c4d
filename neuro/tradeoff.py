"""What each paradigm spends for the same accuracy: iso-accuracy search and break-even rates.

:func:`iso_accuracy` searches each target's main operating knob for the cheapest operating
point (chip energy per inference) that reaches an accuracy:

* spiking (``snn:*``): the number of time steps. One run at the target's ``steps`` gives
  accuracy and energy after every checkpoint (powers of two up to ``steps``), so the search
  needs no further simulation;
* analog (``aimc:*``): the converter resolution (DAC and ADC bits together, 8 down to 3)
  at the target's headline read time; the result says until which read time of the
  target's ``times_s`` the accuracy still holds;
* digital (``npu:*``): the batch size (FP16 accuracy does not depend on it; the static
  energy per inference does);
* the reference reports no energy and is left out.

:func:`break_even` puts a spiking run beside a non-spiking run of the same workload: the
spiking energy is a part that grows with the spike count (synaptic events and spike
routing: groups ``compute`` and ``movement``) and a part fixed by the number of steps
(neuron updates and static power: ``conversion`` and ``static``); the break-even spike rate
is the rate at which the two runs spend the same chip energy. On a chip whose time step
ends when its busiest core is done (Loihi), static energy also shrinks with activity; it
is counted as fixed here, so the break-even rate is a lower bound for such chips.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from neuro.result import Result

__all__ = ["IsoPoint", "iso_accuracy", "BreakEven", "break_even", "ANALOG_BITS", "NPU_BATCHES"]

#: Converter resolutions searched for analog targets (DAC and ADC together), high to low.
ANALOG_BITS = (8, 7, 6, 5, 4, 3)
#: Batch sizes searched for digital targets.
NPU_BATCHES = (1, 8, 64, 256)


@dataclasses.dataclass(frozen=True)
class IsoPoint:
    """The cheapest operating point of one target that reaches ``required`` accuracy.

    Attributes
    ----------
    target : str
        Target name.
    knob : str
        The operating knob searched (``"steps"``, ``"converter_bits"``, ``"batch_size"``).
    value : float or None
        Its value at the cheapest point; None when no point reaches the accuracy.
    accuracy : float or None
        Accuracy there (fraction).
    energy_J : float or None
        Chip energy per inference there.
    default_energy_J : float or None
        Chip energy per inference at the target's default operating point.
    default_accuracy : float or None
        Accuracy at the default point.
    note : str
        What was searched, or why nothing reached the accuracy.
    results : list of Result
        Every evaluation made by the search (to archive).
    test_inputs : str
        The test inputs behind the default's accuracy (``"200 of 10,000"`` for a subset;
        :func:`neuro.report.inputs_note`).
    """

    target: str
    knob: str
    value: float | None
    accuracy: float | None
    energy_J: float | None
    default_energy_J: float | None
    default_accuracy: float | None
    note: str = ""
    results: tuple[Result, ...] = ()
    test_inputs: str = "—"


def _cheapest(points: Sequence[tuple[float, float, float]], required: float):
    """(value, accuracy, energy) with accuracy >= required and the least energy, or None."""
    ok = [p for p in points if p[1] >= required and p[2] is not None]
    return min(ok, key=lambda p: (p[2], p[0])) if ok else None


def iso_accuracy(
    target: str,
    default: Result,
    required: float,
    evaluate: Callable[[str, dict], Result],
) -> IsoPoint | None:
    """The cheapest operating point of ``target`` reaching accuracy ``required``.

    Parameters
    ----------
    target : str
        Target name (``"aimc:pcm"``).
    default : Result
        The target's result at its default operating point.
    required : float
        Accuracy to reach (fraction).
    evaluate : callable
        ``evaluate(target, options) -> Result`` runs the target with options (the caller
        seeds, archives and checks it).

    Returns
    -------
    IsoPoint or None
        None for a target without energy (the reference).
    """
    family = target.partition(":")[0]
    if default.energy_per_inference is None or default.accuracy is None:
        return None
    from neuro.report import inputs_note

    base = dict(target=target, test_inputs=inputs_note(default),
                default_energy_J=default.energy_per_inference,
                default_accuracy=default.accuracy)  # fmt: skip
    if family == "snn":
        acc, energy = default.curves.get("accuracy_vs_steps"), default.curves.get("energy_vs_steps")
        if acc is None or energy is None:
            return IsoPoint(knob="steps", value=None, accuracy=None, energy_J=None,
                            note="no accuracy/energy against steps in this run", **base)  # fmt: skip
        e_of = dict(zip(energy.x, energy.y))
        # energy_vs_steps is the synaptic and neuron-update energy; scale the chip total
        scale = default.energy_per_inference / e_of[acc.x[-1]] if e_of.get(acc.x[-1]) else 1.0
        points = [(float(t), float(a), float(e_of[t]) * scale) for t, a in zip(acc.x, acc.y)
                  if t in e_of]  # fmt: skip
        best = _cheapest(points, required)
        note = f"checkpoints {', '.join(f'{int(t)}' for t in acc.x)} steps of one run"
        if best is None:
            return IsoPoint(knob="steps", value=None, accuracy=max(p[1] for p in points),
                            energy_J=None, note="no checkpoint reaches it; " + note, **base)  # fmt: skip
        return IsoPoint(knob="steps", value=best[0], accuracy=best[1], energy_J=best[2],
                        note=note, **base)  # fmt: skip
    if family == "aimc":
        points, results = [], []
        holds = {}
        for bits in ANALOG_BITS:
            r = evaluate(target, {"crossbar.adc.bits": bits, "crossbar.dac.bits": bits})
            results.append(r)
            points.append((float(bits), float(r.accuracy), float(r.energy_per_inference)))
            curve = r.curves.get("accuracy_vs_time")
            if curve is not None:
                ok = [t for t, a in zip(curve.x, curve.y) if a >= required]
                holds[bits] = max(ok) if ok else None
            if r.accuracy < required:
                break  # fewer bits will not do better
        best = _cheapest(points, required)
        if best is None:
            return IsoPoint(knob="converter_bits", value=None, accuracy=points[0][1],
                            energy_J=None, note="8-bit converters do not reach it",
                            results=tuple(results), **base)  # fmt: skip
        t_hold = holds.get(int(best[0]))
        note = "DAC = ADC bits searched 8 down"
        if t_hold is not None:
            note += f"; holds to {t_hold:g} s after programming"
        return IsoPoint(knob="converter_bits", value=best[0], accuracy=best[1],
                        energy_J=best[2], note=note, results=tuple(results), **base)  # fmt: skip
    if family == "npu":
        points, results = [], []
        for batch in NPU_BATCHES:
            r = default if batch == default.batch_size else evaluate(target, {"batch_size": batch})
            if r is not default:
                results.append(r)
            points.append((float(batch), float(r.accuracy), float(r.energy_per_inference)))
        best = _cheapest(points, required)
        if best is None:
            return IsoPoint(knob="batch_size", value=None, accuracy=points[0][1],
                            energy_J=None, note="FP16 does not reach it",
                            results=tuple(results), **base)  # fmt: skip
        return IsoPoint(knob="batch_size", value=best[0], accuracy=best[1], energy_J=best[2],
                        note=f"batches {', '.join(map(str, NPU_BATCHES))}",
                        results=tuple(results), **base)  # fmt: skip
    return None


@dataclasses.dataclass(frozen=True)
class BreakEven:
    """The spike rate at which a spiking run spends as much chip energy as another run.

    Attributes
    ----------
    spiking, other : str
        Target names.
    rate_now : float
        The spiking run's spikes per neuron per time step.
    rate_break_even : float or None
        The rate at which both spend the same chip energy (None: the spiking run's fixed
        part alone already costs more).
    energy_per_event_J : float
        The spiking run's event-proportional energy per synaptic event.
    energy_per_mac_J : float or None
        The other run's chip energy per MAC (ops / 2).
    fixed_J, variable_J, other_J : float
        The spiking run's fixed and spike-proportional chip energy, and the other run's.
    """

    spiking: str
    other: str
    rate_now: float
    rate_break_even: float | None
    energy_per_event_J: float
    energy_per_mac_J: float | None
    fixed_J: float
    variable_J: float
    other_J: float


def break_even(spiking: Result, other: Result, neurons: int) -> BreakEven | None:
    """Break-even spike rate of ``spiking`` against ``other`` (same workload).

    ``neurons`` is the number of spiking neurons of the network (input sources excluded);
    the rate is spikes per neuron per time step. None when either run lacks what it needs.
    """
    if spiking.energy_per_inference is None or other.energy_per_inference is None:
        return None
    groups = spiking.group_energy()
    variable = (groups["compute"] or 0.0) + (groups["movement"] or 0.0)
    fixed = spiking.energy_per_inference - variable
    steps = float(spiking.config.get("steps") or 0)
    spikes = spiking.extra.get("hidden_spikes", spiking.extra.get("spikes"))
    events = spiking.extra.get("synaptic_events")
    if not steps or not spikes or not events or not neurons or variable <= 0:
        return None
    rate = spikes / (neurons * steps)
    target_J = other.energy_per_inference
    r_star = None if target_J <= fixed else rate * (target_J - fixed) / variable
    macs = other.ops_per_inference / 2.0
    return BreakEven(
        spiking.target, other.target, rate, r_star, variable / events,
        target_J / macs if macs else None, fixed, variable, target_J,
    )  # fmt: skip


def iso_lines(points: Sequence[IsoPoint], required: float) -> list[str]:
    """A table of the iso-accuracy points beside each target's default."""
    from neuro.report import format_table, si

    rows = []
    for p in points:
        value = "none" if p.value is None else f"{p.value:g}"
        ratio = (
            "—"
            if p.energy_J is None or not p.default_energy_J
            else f"{p.energy_J / p.default_energy_J:.3g}"
        )
        acc = "—" if p.accuracy is None else f"{100 * p.accuracy:.2f} %"
        rows.append([p.target, p.knob, value, acc, si(p.energy_J, "J"),
                     f"{100 * p.default_accuracy:.2f} %", si(p.default_energy_J, "J"), ratio,
                     p.test_inputs, p.note])  # fmt: skip
    header = ["target", "knob", "value", "accuracy", "chip energy", "default acc.",
              "default energy", "iso/default", "test inputs", "searched"]  # fmt: skip
    return [f"iso-accuracy at {100 * required:.2f} %:", format_table(header, rows, left=(0, 1, 9))]


def break_even_lines(results: Sequence[Result], neurons: int) -> list[str]:
    """One line per (spiking, non-spiking) pair of ``results``."""
    from neuro.report import si

    spiking = [r for r in results if r.target.startswith("snn:")]
    others = [r for r in results if r.target.partition(":")[0] in ("npu", "aimc")]
    lines = []
    for s in spiking:
        for o in others:
            b = break_even(s, o, neurons)
            if b is None:
                continue
            if b.rate_break_even is None:
                verdict = (f"never: its fixed part alone ({si(b.fixed_J, 'J')}) exceeds "
                           f"{si(b.other_J, 'J')}")  # fmt: skip
            else:
                verdict = f"at {b.rate_break_even:.3g} spikes/neuron/step"
            per_mac = "—" if b.energy_per_mac_J is None else si(b.energy_per_mac_J, "J")
            lines.append(
                f"  {s.target} vs {o.target}: now {b.rate_now:.3g} spikes/neuron/step, "
                f"break-even {verdict} ({si(b.energy_per_event_J, 'J')} per synaptic event, "
                f"{per_mac} per MAC of {o.target})"
            )
    return lines


def spiking_neurons(workload) -> int:
    """Spiking neurons of a converted workload: its activation outputs (inputs excluded)."""
    return int(
        sum(
            math.prod(layer.output_shape)
            for layer in workload.layers
            if layer.activation not in (None, "batchnorm", "add")
        )
    )
