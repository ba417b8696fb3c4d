"""The ``neuro`` command (also ``python -m neuro``).

Subcommands: ``workloads``, ``devices``, ``compare``, ``archive ls|show|export``.
Bad arguments or configs print one line naming the problem and exit with status 2,
writing nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from devices.validation import ConfigError

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _cmd_workloads(args: argparse.Namespace) -> int:
    from neuro import workloads
    from neuro.report import format_table, si
    from neuro.workloads.training import cache_dir

    rows = []
    for name in workloads.names():
        w = workloads.get(name)
        acc = "—"
        cached = sorted(
            (cache_dir() / "weights").glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime
        )
        if args.train and not w.shape_only and not w.unsupervised:
            acc = f"{100 * workloads.trained_model(w).test_accuracy:.2f} %"
        elif cached:
            acc = f"{100 * json.loads(cached[-1].read_text())['test_accuracy']:.2f} % (cached)"
        rows.append(
            [name, w.dataset or "shape only", "×".join(map(str, w.input_shape)),
             si(w.macs, "MAC"), si(w.n_weights, ""), acc, w.description]
        )  # fmt: skip
    header = ["workload", "dataset", "input", "MACs/inf", "weights", "FP32 accuracy", "description"]
    print(format_table(header, rows, left=(0, 1, 6)))
    return 0


def _cmd_devices(args: argparse.Namespace) -> int:
    import devices
    from neuro.report import format_table, si

    rows = []
    for name in devices.names():
        d = devices.get(name).describe()
        levels = "continuous" if d["n_levels"] is None else str(d["n_levels"])
        rows.append(
            [name, d["quantity"], f"{si(d['g_min'], d['unit'])} – {si(d['g_max'], d['unit'])}",
             levels, si(d["write_energy_J"], "J"), si(d["t_write_s"], "s"),
             f"{d['endurance_cycles']:.3g}", si(d["retention_s"], "s")]
        )  # fmt: skip
    header = [
        "device",
        "stores",
        "range",
        "levels",
        "write energy",
        "write time",
        "endurance",
        "retention",
    ]
    print(format_table(header, rows))
    return 0


def _cmd_roadmap(args: argparse.Namespace) -> int:
    from neuro import roadmap
    from neuro.report import format_table, si

    rows = []
    for name in roadmap.names():
        t = roadmap.get(name)
        eff = "—" if t.efficiency is None else f"{t.efficiency / 1e12:.4g}"
        rows.append(
            [name, ",".join(t.paradigms), str(t.year), si(t.peak_ops_per_s, "OPS"), si(t.power_W, "W"),
             eff, si(t.energy_per_synaptic_event_J, "J"), t.source[:70]]
        )  # fmt: skip
    header = ["target", "paradigms", "year", "peak", "power", "TOPS/W", "J/syn-event", "source"]
    print(format_table(header, rows, left=(0, 1, 7)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from neuro.compare import compare
    from neuro.report import (
        breakdown_table,
        gap_lines,
        missing_lines,
        results_table,
        subset_lines,
    )
    from neuro.result import BOUNDARY_NOTE

    targets = [t for group in args.targets for t in group.split(",") if t] if args.targets else None
    results, failures = compare(
        args.workload, targets, seed=args.seed, out=args.out, quick=args.quick
    )
    print(f"workload {args.workload}, seed {args.seed}" + (", quick" if args.quick else ""))
    if results:
        print(results_table(results))
        print(f"energy boundary: {BOUNDARY_NOTE}")
        shares = breakdown_table(results)
        if shares:
            print("share of system energy by group:")
            print(shares)
            for line in missing_lines(results):
                print(line)
        for line in subset_lines(results):
            print(line)
        source = results[0].provenance.get("data_source")
        if source:
            print(f"data: {source}")
        from neuro.plots import plot_results

        figures = Path(args.out).with_suffix("")
        figures = figures.with_name(figures.name + "-figures")
        written = plot_results(results, figures)
        gaps = gap_lines(results)
        if gaps:
            print("gap to roadmap targets (x = simulated / target; > 1 beats the target):")
            print("\n".join(gaps))
    for name, message in failures:
        print(f"FAILED {name}: {message.splitlines()[0]}", file=sys.stderr)
    print(f"archive: {args.out}")
    if results:
        print(f"figures: {', '.join(str(p) for p in written)}")
    return 1 if failures else 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from neuro import validate

    outcomes = validate.run(args.paradigm or None)
    print(validate.format_outcomes(outcomes))
    print()
    print(validate.format_fitted())
    outside = [o.check.name for o in outcomes if o.passed is False]
    if args.json:
        rows = [
            {"check": o.check.name, "paradigm": o.check.paradigm, "kind": o.check.kind,
             "quantity": o.check.quantity, "unit": o.check.unit, "model": o.model,
             "measured": o.measured, "ratio": o.ratio, "band": list(o.check.band),
             "passed": o.passed, "skipped": o.skipped, "source": o.check.source,
             "note": o.check.note}
            for o in outcomes
        ]  # fmt: skip
        Path(args.json).write_text(json.dumps(rows, indent=1))
    passed = sum(o.passed is True for o in outcomes)
    skipped = sum(o.passed is None for o in outcomes)
    print(f"\n{passed} inside their band, {len(outside)} outside, {skipped} skipped")
    for name in outside:
        print(f"OUTSIDE {name}", file=sys.stderr)
    return 1 if outside else 0


def _cmd_run(args: argparse.Namespace) -> int:
    from neuro.experiments import run_experiment

    spec = args.spec_obj

    def on_run(run, status: str) -> None:
        point = " ".join(f"{k}={v}" for k, v in run.point.items())
        print(f"{status}: {run.workload} {run.target} seed={run.seed} {point}".rstrip(), flush=True)

    summary = run_experiment(
        spec, args.out, workers=args.workers, scheduler=args.scheduler, on_run=on_run
    )
    print(
        f"{spec.name}: {summary.total} runs, {summary.skipped} already in {args.out}, "
        f"{summary.completed} completed, {summary.failed} failed"
    )
    return 1 if summary.failed else 0


def _cmd_archive(args: argparse.Namespace) -> int:
    from neuro.archive import Archive
    from neuro.report import format_table, si

    archive = Archive(args.file)
    if args.archive_cmd == "ls":
        table = archive.table(include_failed=True)
        if table.empty:
            print(f"{args.file}: no runs")
            return 0
        rows = []
        for _, r in table.iterrows():
            acc = (
                "—"
                if r["accuracy"] is None or r["accuracy"] != r["accuracy"]
                else f"{100 * r['accuracy']:.2f} %"
            )
            rows.append(
                [r["run_id"], r["workload"], r["target"], str(r["seed"]), r["status"], acc,
                 si(r["energy_per_inference"], "J"), si(r["latency"], "s"), r["finished"]]
            )  # fmt: skip
        print(
            format_table(
                [
                    "run",
                    "workload",
                    "target",
                    "seed",
                    "status",
                    "accuracy",
                    "energy/inf",
                    "latency",
                    "finished",
                ],
                rows,
            )
        )
        return 0
    if args.archive_cmd == "show":
        try:
            r = archive.get(args.run_id)
        except KeyError as exc:
            raise UsageError(f"neuro archive show: {exc.args[0]}") from None
        print(f"run {args.run_id}: {r.workload} on {r.target}, seed {r.seed}, batch {r.batch_size}")
        for name, value in r.metrics().items():
            print(f"  {name:22s} {value}")
        if r.energy_breakdown:
            print("energy breakdown (J per inference):")
            for name, value in r.energy_breakdown.items():
                print(f"  {name:22s} {si(value, 'J')}")
        for name, value in r.extra.items():
            print(f"  {name:22s} {value}")
        for name, c in r.curves.items():
            pts = ", ".join(f"({x:g}, {y:.4g})" for x, y in zip(c.x, c.y))
            print(f"curve {name} [{c.x_label} → {c.y_label}]: {pts}")
        print(f"layers: {len(r.layers)}; config: {json.dumps(r.config, sort_keys=True)}")
        return 0
    if args.archive_cmd == "plot":
        from neuro.plots import plot_archive

        out_dir = args.out_dir or str(Path(args.file).with_suffix("")) + "-figures"
        for path in plot_archive(args.file, out_dir):
            print(f"wrote {path}")
        return 0
    # export
    table = archive.table(include_failed=args.include_failed)
    if args.format == "csv":
        text = table.to_csv(index=False)
    else:
        text = table.to_json(orient="records", indent=1)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {len(table)} runs to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuro`` command."""
    from neuro.compare import DEFAULT_WORKLOAD

    p = _Parser(prog="neuro", description="Neuromorphic and in-memory computing co-simulator")
    p.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("NEURO_THREADS", "1")),
        help="torch intra-op threads (default 1, or $NEURO_THREADS): on a loaded 2-core "
        "machine, 2 threads made a crossbar evaluation 17x slower than 1",
    )
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    w = sub.add_parser("workloads", help="list the workloads")
    w.add_argument(
        "--train", action="store_true", help="train (or load) each and show its FP32 accuracy"
    )
    w.set_defaults(func=_cmd_workloads)

    d = sub.add_parser("devices", help="list the device models with their key figures")
    d.set_defaults(func=_cmd_devices)

    r = sub.add_parser("roadmap", help="list the roadmap targets with their figures and sources")
    r.set_defaults(func=_cmd_roadmap)

    c = sub.add_parser("compare", help="run one workload on several targets, side by side")
    c.add_argument(
        "--workload", default=DEFAULT_WORKLOAD, help=f"workload name (default {DEFAULT_WORKLOAD})"
    )
    c.add_argument("--targets", nargs="+", help="target names, e.g. reference npu:ab9 aimc:pcm")
    c.add_argument("--out", default="results/compare.h5", help="HDF5 archive to append to")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--quick", action="store_true", help="fast settings (smaller test sets)")
    c.set_defaults(func=_cmd_compare)

    v = sub.add_parser(
        "validate",
        help="every model against published measurements (model | measured | ratio | source); "
        "exit 1 when one falls outside its band",
    )
    v.add_argument(
        "--paradigm",
        nargs="+",
        choices=("digital", "analog", "spiking", "devices"),
        help="only these paradigms' checks (default: all)",
    )
    v.add_argument("--json", help="also write the outcomes as JSON to this file")
    v.set_defaults(func=_cmd_validate)

    run = sub.add_parser("run", help="run an experiment spec (TOML), resumable, optionally on Dask")
    run.add_argument("spec", help="experiment spec, e.g. experiments/adc_sweep.toml")
    run.add_argument("--out", required=True, help="HDF5 archive to append to")
    run.add_argument("--workers", type=int, help="run on a Dask LocalCluster of N workers")
    run.add_argument("--scheduler", help="run on an existing Dask cluster at this address")
    run.set_defaults(func=_cmd_run)

    a = sub.add_parser("archive", help="inspect an HDF5 archive")
    asub = a.add_subparsers(dest="archive_cmd", required=True, parser_class=_Parser)
    ls = asub.add_parser("ls", help="list the runs")
    ls.add_argument("file")
    show = asub.add_parser("show", help="one run in full")
    show.add_argument("file")
    show.add_argument("run_id")
    pl = asub.add_parser("plot", help="the standard figures as PNGs")
    pl.add_argument("file")
    pl.add_argument("--out-dir", help="folder for the PNGs (default: <archive>-figures)")
    ex = asub.add_parser("export", help="the runs table as CSV or JSON")
    ex.add_argument("file")
    ex.add_argument("--format", choices=("csv", "json"), default="csv")
    ex.add_argument("--output", "-o", help="file to write (default: standard output)")
    ex.add_argument("--include-failed", action="store_true")
    a.set_defaults(func=_cmd_archive)
    return p


def _validate(args: argparse.Namespace) -> None:
    """Check arguments that argparse cannot, before anything runs or is written."""
    if args.cmd == "compare":
        from neuro import workloads
        from neuro.compare import build_targets, check_out_path

        workloads.get(args.workload)
        if args.targets:
            build_targets([t for g in args.targets for t in g.split(",") if t])
        check_out_path(args.out)
    if args.cmd == "run":
        from neuro.compare import check_out_path
        from neuro.experiments import load_spec

        if args.workers is not None and args.scheduler is not None:
            raise UsageError("neuro run: give --workers or --scheduler, not both")
        if args.workers is not None and args.workers < 1:
            raise UsageError(f"neuro run: --workers must be an integer >= 1; got {args.workers}")
        args.spec_obj = load_spec(args.spec)
        check_out_path(args.out)
    if args.cmd == "archive" and args.archive_cmd == "export" and args.output not in (None, "-"):
        out = Path(args.output)
        if out.suffix.lower() != f".{args.format}":
            raise UsageError(
                f"neuro archive export: --output must end in .{args.format}; got {args.output!r}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    from neuro.archive import ArchiveError
    from neuro.data import DataError

    try:
        args = build_parser().parse_args(argv)
        if args.threads < 1:
            raise UsageError(f"neuro: --threads must be an integer >= 1; got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
        _validate(args)
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, ArchiveError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; every run completed so far is in the archive", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
