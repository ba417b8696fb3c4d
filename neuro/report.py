"""Terminal tables of results, with SI prefixes and the units researchers compare in."""

from __future__ import annotations

import math
from collections.abc import Sequence

from neuro.result import Result

__all__ = [
    "si",
    "format_table",
    "results_table",
    "gap_lines",
    "COLUMNS",
    "measured_inputs",
    "quiet_bars",
    "inputs_note",
    "is_subset",
    "data_lines",
    "run_lines",
    "subset_mark",
]

_PREFIXES = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
             (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a")]  # fmt: skip


def si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """``value`` with an SI prefix: ``si(2.5e-6, "J") == "2.50 µJ"``; None is ``"—"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value == 0:
        return f"0 {unit}".strip()
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale * 0.9995:
            return f"{value / scale:.{digits}g} {prefix}{unit}".strip()
    scale, prefix = _PREFIXES[-1]
    return f"{value / scale:.{digits}g} {prefix}{unit}".strip()


def format_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)
) -> str:
    """A plain aligned text table: columns in ``left`` left-aligned, the others right-aligned."""
    widths = [max([len(str(h)), *(len(str(r[i])) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        out = [
            str(c).ljust(w) if i in left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def _count(value: object) -> int | None:
    """An integer count, or None for None, NaN and pandas' NA."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def subset_mark(n: object, total: object) -> str:
    """``" (200 of 10,000 inputs)"`` after an accuracy measured on a subset of the test
    inputs (``" (200 inputs)"`` when the split's size is unknown), else ``""``."""
    n, total = _count(n), _count(total)
    if n is None or (total is not None and n >= total):
        return ""
    return f" ({n:,}" + (f" of {total:,} inputs)" if total is not None else " inputs)")


def quiet_bars() -> bool | None:
    """tqdm's ``disable``: True when the ``neuro`` logger was set quieter than INFO
    (``neuro -q``), else None (bars only on a terminal; a library user who configures no
    logging keeps them)."""
    import logging

    level = logging.getLogger("neuro").level
    return True if level > logging.INFO else None


def measured_inputs(r: Result) -> tuple[int | None, int | None]:
    """``(n, total)``: how many test inputs ``r.accuracy`` was measured on, of how many.

    ``n`` comes from what the target recorded (``extra`` or ``provenance``
    ``"test_inputs"``), else from its ``test_limit`` option capped at the total, else the
    total; ``total`` is the size of the workload's test split
    (``provenance["test_inputs_total"]``, recorded by :func:`neuro.compare.record_data`).
    Either is None where nothing says it; both are None for a result without accuracy.
    """
    if r.accuracy is None:
        return None, None
    total = _count(r.provenance.get("test_inputs_total"))
    n = _count(r.extra.get("test_inputs"))
    if n is None:
        n = _count(r.provenance.get("test_inputs"))
    if n is None:
        options = r.config.get("options") if isinstance(r.config.get("options"), dict) else {}
        limit = _count(r.config.get("test_limit", options.get("test_limit")))
        n = limit if total is None or limit is None else min(limit, total)
    if n is None:
        n = total
    return n, total


def is_subset(r: Result) -> bool:
    """True when ``r.accuracy`` comes from fewer test inputs than the test split holds (or
    from a ``test_limit`` when the split's size is not recorded)."""
    n, total = measured_inputs(r)
    return n is not None and (total is None or n < total)


def inputs_note(r: Result) -> str:
    """The test inputs behind ``r.accuracy``: ``"10,000"`` (the whole split),
    ``"200 of 10,000"`` (a subset), ``"200"`` (split size unknown) or ``"—"``."""
    n, total = measured_inputs(r)
    if n is None:
        return "—"
    if total is None or n == total:
        return f"{n:,}"
    return f"{n:,} of {total:,}"


def data_lines(results: Sequence[Result]) -> list[str]:
    """One line per data source behind the accuracies of ``results``, with the targets that
    measured a subset of its test inputs (the ``test inputs`` column gives how many)."""
    sources: dict[str, list[Result]] = {}
    for r in results:
        if r.accuracy is not None:
            sources.setdefault(str(r.provenance.get("data_source") or "not recorded"), []).append(r)
    lines = []
    for source, rs in sources.items():
        subset = [r.target for r in rs if is_subset(r)]
        note = f"; accuracy on a subset of the test inputs: {', '.join(subset)}" if subset else ""
        lines.append(f"data: {source}{note}")
    return lines


def _accuracy(r: Result) -> str:
    """``"91.20 %"`` (top-1); another metric is named after it (``"43.10 % mAP@0.5"``)."""
    if r.accuracy is None:
        return "—"
    metric = "" if r.accuracy_metric == "top-1" else f" {r.accuracy_metric}"
    if r.accuracy_std:
        return f"{100 * r.accuracy:.2f}±{100 * r.accuracy_std:.2f} %{metric}"
    return f"{100 * r.accuracy:.2f} %{metric}"


def _throughput(value: float | None) -> str:
    if value is not None and value < 1000:
        return f"{value:.3g} inf/s"
    return si(value, "inf/s")


def _tops_per_w(r: Result) -> str:
    eff = r.efficiency
    return "—" if eff is None else f"{eff / 1e12:.4g}"


def _area(r: Result) -> str:
    return "—" if r.area is None else f"{r.area * 1e6:.4g}"


def _system_tops_per_w(r: Result) -> str:
    eff = r.system_efficiency
    return "—" if eff is None else f"{eff / 1e12:.4g}"


#: The comparison columns: (header, formatter). Energy and TOPS/W at both boundaries
#: (:data:`neuro.result.BOUNDARY_NOTE`).
COLUMNS = (
    ("target", lambda r: r.target),
    ("accuracy", _accuracy),
    ("test inputs", inputs_note),
    ("chip energy/inf", lambda r: si(r.energy_per_inference, "J")),
    ("system energy/inf", lambda r: si(r.system_energy_per_inference, "J")),
    ("latency", lambda r: si(r.latency, "s")),
    ("throughput", lambda r: _throughput(r.throughput)),
    ("chip TOPS/W", _tops_per_w),
    ("system TOPS/W", _system_tops_per_w),
    ("area mm²", _area),
)


def results_table(results: Sequence[Result]) -> str:
    """The side-by-side comparison table of DESIGN.md's common metrics, chip and system."""
    header = [h for h, _ in COLUMNS]
    rows = [[fmt(r) for _, fmt in COLUMNS] for r in results]
    return format_table(header, rows)


def breakdown_table(results: Sequence[Result]) -> str:
    """Where each target's system energy goes: the share of every group of the boundary
    (``n/m`` where the target does not model a group, ``incl.`` where the group's energy is
    inside another group's figure, e.g. an all-in energy per event; the reasons follow the
    table)."""
    from neuro.result import ENERGY_GROUPS

    rows = []
    for r in results:
        if not r.energy_groups:
            continue
        groups = r.group_energy()
        total = sum(v for v in groups.values() if v is not None) or 1.0
        rows.append(
            [r.target]
            + [
                _absent(r.energy_missing.get(g, ""))
                if groups[g] is None
                else f"{100 * groups[g] / total:.1f} %"
                for g in ENERGY_GROUPS
            ]
        )
    if not rows:
        return ""
    return format_table(["target", *ENERGY_GROUPS], rows)


def _included(reason: str) -> bool:
    """Whether a missing term's energy is inside another term's figure (its reason starts
    with "included")."""
    return reason.strip().lower().removeprefix("not modelled: ").startswith("included")


def _absent(reason: str) -> str:
    """The cell of a term without its own figure: ``incl.`` or ``n/m``."""
    return "incl." if _included(reason) else "n/m"


def _why(reason: str) -> str:
    """``"included in ..."`` or ``"not modelled: ..."`` (a reason's own leading "not
    modelled: " is not repeated)."""
    text = reason.strip()
    text = text[len("not modelled: ") :] if text.lower().startswith("not modelled: ") else text
    return text if _included(text) else f"not modelled: {text}"


def missing_lines(results: Sequence[Result]) -> list[str]:
    """One line per term a target does not model or prices inside another figure, with
    its reason."""
    return [
        f"  {r.target}: {term} {_why(reason)}"
        for r in results
        for term, reason in r.energy_missing.items()
    ]


def _duration(t_s: float) -> str:
    """``86400.0`` → ``"1 day"``: a read time in the largest whole unit that fits."""
    for unit, sec in (("year", 365 * 86400.0), ("day", 86400.0), ("hour", 3600.0), ("min", 60.0)):
        if t_s >= sec and (t_s / sec) == round(t_s / sec):
            n = round(t_s / sec)
            return f"{n} {unit}" + ("s" if n != 1 and unit != "min" else "")
    return f"{t_s:g} s"


def _ir_drop_lines(r: Result) -> list[str]:
    """A line when the wires matter (``κ`` above ``crossbar.irdrop.NOTE_KAPPA``) and the
    result did not model them."""
    kappa = r.extra.get("ir_drop_criterion")
    if kappa is None or r.extra.get("ir_drop_modelled"):
        return []
    from crossbar.irdrop import NOTE_KAPPA, ideal_current_fraction  # imports torch

    if kappa <= NOTE_KAPPA:
        return []
    return [
        f"{r.target}: IR drop not modelled although r·G_max·N²/2 = {kappa:.2g} > "
        f"{NOTE_KAPPA:g} (typical column currents ~{100 * ideal_current_fraction(kappa):.0f} "
        "% of ideal; crossbar.ir_drop='exact' models it)"
    ]


#: Above this share of its chip energy in static power, a batch-1 NPU run gets a note.
STATIC_NOTE_SHARE = 0.5


def _batch_lines(r: Result) -> list[str]:
    """A line when an NPU run at batch 1 spends most of its chip energy on static power: the
    chip idles through most of one input, and a batch shares it among its inputs (the point a
    digital accelerator is run at for throughput)."""
    if not r.target.startswith("npu:") or r.batch_size != 1 or not r.energy_per_inference:
        return []
    static = r.group_energy().get("static")
    if static is None or static / r.energy_per_inference <= STATIC_NOTE_SHARE:
        return []
    return [
        f"{r.target}: batch 1: static power is {100 * static / r.energy_per_inference:.0f} % "
        "of its chip energy (the chip idles through most of one input); a batch shares "
        "it among its inputs: --set batch_size=256"
    ]


def subset_lines(results: Sequence[Result]) -> list[str]:
    """One line per result whose accuracy comes from a subset of the test inputs, with the
    FP32 accuracy on those same inputs: the fair figure to compare it with; and one per
    result whose accuracy holds at a stated read time after programming (analog cells
    drift); the IR-drop and batch-1 static-power notes of each result."""
    lines = []
    for r in results:
        t_read = r.extra.get("accuracy_read_time_s")
        if t_read is not None and r.accuracy is not None:
            lines.append(
                f"{r.target}: accuracy read {_duration(float(t_read))} after programming "
                "(curve accuracy_vs_time for the other times)"
            )
        lines += _ir_drop_lines(r)
        lines += _batch_lines(r)
        n, fp32 = r.extra.get("test_inputs"), r.extra.get("fp32_accuracy_same_inputs")
        if n is not None and fp32 is not None:
            lines.append(
                f"{r.target}: accuracy on the first {int(n):,} test inputs "
                f"(FP32 on the same inputs: {100 * fp32:.2f} %)"
            )
    return lines


def gap_lines(results: Sequence[Result]) -> list[str]:
    """One line per simulated result and roadmap target of its paradigm: the ratio, the
    published figure with what it is (kind, operating point, precision, cell type) and
    what of the result it was compared with (``Gap.basis``)."""
    from neuro.roadmap import gap

    lines = []
    for r in results:
        for g in gap(r):
            t = g.target
            if g.metric == "efficiency":
                published = f"{g.published / 1e12:.4g} TOPS/W"
            else:
                published = f"{si(g.published, 'J')} per synaptic event, {t.event_figure}"
            what = t.label  # kind, operating point, precision, cell type
            lines.append(
                f"  {r.target}: {g.ratio:.3g}x {t.name} ({published}; {what}) vs {g.basis}"
            )
    return lines


def neurobench_table(results: Sequence[Result]) -> str:
    """NeuroBench's metrics of each result (``nb_*`` in ``Result.extra``; see
    :mod:`neuro.neurobench` for the definitions)."""
    from neuro.neurobench import NB_UNITS

    def cell(r: Result, name: str) -> str:
        v = r.extra.get(f"nb_{name}")
        if v is None or v != v:
            return "—"
        if NB_UNITS[name] == "fraction":
            return f"{100 * v:.1f} %"
        return si(v, "B" if name == "footprint_B" else "")

    header = ["target", "footprint", "conn. sparsity", "act. sparsity", "SynOps dense",
              "eff. MACs", "eff. ACs", "membrane upd."]  # fmt: skip
    rows = [[r.target, *(cell(r, n) for n in NB_UNITS)] for r in results]
    return format_table(header, rows)


def _value(value: float | None, unit: str) -> str:
    """A figure with its unit: SI prefixes for SI units, % for fractions, counts plain."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "— (not modelled)"
    if unit == "fraction":
        return f"{100 * value:.2f} %"
    if unit in ("", "1", "count", "ops", "updates", "bit"):
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"
        return f"{text} {unit}".rstrip() if unit not in ("", "1") else text
    if unit == "m^2":
        return f"{value * 1e6:.4g} mm²"
    if unit == "inferences/s":
        return _throughput(value)
    if unit == "ops/s/W":
        return f"{value / 1e12:.4g} TOPS/W"
    return si(value, unit)


def run_lines(run_id: str, r: Result) -> list[str]:
    """What ``neuro archive show`` prints for one run: every figure with its unit, the
    energy breakdown by group (J per inference; nothing but energies), the other figures
    (counts and ratios, with their units), the data behind the accuracy, the curves."""
    from neuro.archive_data import unit_of
    from neuro.result import METRIC_UNITS

    lines = [f"run {run_id}: {r.workload} on {r.target}, seed {r.seed}, batch {r.batch_size}"]
    for name, value in r.metrics().items():
        lines.append(f"  {name:31s} {_value(value, METRIC_UNITS[name])}")
    if r.accuracy is not None:
        source = r.provenance.get("data_source") or "not recorded"
        lines.append(f"  {'test inputs':31s} {inputs_note(r)} (data: {source})")
        if r.accuracy_metric != "top-1":
            lines.append(f"  {'accuracy metric':31s} {r.accuracy_metric}")
    if r.energy_breakdown:
        lines.append("energy breakdown (J per inference, by group of the energy boundary):")
        for name, value in r.energy_breakdown.items():
            group = r.energy_groups.get(name, "no group")
            lines.append(f"  {name:31s} {si(value, 'J'):>10s}  {group}")
        for term, reason in r.energy_missing.items():
            lines.append(f"  {term:28s} {_absent(reason):>10s}  {_why(reason)}")
    if r.extra:
        lines.append("other figures (per inference where they count something):")
        for name, value in r.extra.items():
            lines.append(f"  {name:31s} {_value(value, unit_of(name))}")
    for name, c in r.curves.items():
        pts = ", ".join(f"({x:g}, {y:.4g})" for x, y in zip(c.x, c.y))
        lines.append(f"curve {name} [{c.x_label} → {c.y_label}]: {pts}")
    return lines
