"""The ``neuro`` command (also ``python -m neuro``).

Subcommands: ``workloads``, ``devices``, ``roadmap``, ``compare``, ``validate``, ``run``,
``archive ls|show|plot|export``. Bad arguments or configs print one line naming the problem
and exit with status 2, writing nothing. A bare ``neuro`` (or ``neuro archive``) prints the
help on standard error and exits 2, as argparse does for any missing argument: no command
ran, so a script that calls ``neuro "$cmd"`` with an empty ``$cmd`` fails instead of passing.

Results (tables, summaries) go to standard output; progress, warnings and errors go through
:mod:`logging` (logger ``neuro``) to standard error: ``-q`` keeps warnings and errors only,
``-v`` adds debug messages and the traceback of an unexpected error.

Starting is cheap: the heavy libraries (torch, h5py, pandas, matplotlib, brian2) are
imported by the subcommand that uses them, not by ``--help`` or the parser.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devices.validation import ConfigError

__all__ = ["main", "build_parser", "parse_set"]

EXIT_USAGE = 2

#: ``neuro compare``'s default workload. The same as :data:`neuro.compare.DEFAULT_WORKLOAD`
#: (a test checks it): declared here so that ``--help`` need not import the targets.
DEFAULT_WORKLOAD = "mlp-fmnist"

#: Subcommands that need neither torch nor the user's plug-ins (torch threads are not set).
_LIGHT = {("roadmap", None), ("archive", "ls"), ("archive", "show"), ("archive", "export")}

log = logging.getLogger("neuro")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, ``(default: ...)``, unless the help says it.

    An option whose default is ``None`` or ``False`` (not given, a flag) says in its help
    what not giving it means, so nothing is appended to it.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or any(action.default is d for d in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit status 2, defaults in the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


class _StderrHandler(logging.Handler):
    """Log records as lines on the *current* ``sys.stderr`` (redirections included):
    ``error: ...``, ``warning: ...``, information as it is."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.levelno >= logging.WARNING:
                text = f"{record.levelname.lower()}: {text}"
            print(text, file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def _setup_logging(level: int) -> None:
    """The ``neuro`` logger at ``level`` with one stderr handler (idempotent)."""
    for handler in list(log.handlers):
        if isinstance(handler, _StderrHandler):
            log.removeHandler(handler)
    log.addHandler(_StderrHandler())
    log.setLevel(level)
    log.propagate = False


def parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    """``--set key=value`` options as a dict; values parsed as bool, int, float or string.

    ``true``/``false`` (any case) are booleans, then an integer, then a float (``1e-9``,
    ``inf`` is refused: not finite), else the text as it is. A key given twice keeps the
    last value.

    Raises
    ------
    UsageError
        An item without ``=`` or with an empty key.
    """
    import math

    out: dict[str, Any] = {}
    for item in items or ():
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"neuro compare: --set expects key=value; got {item!r}")
        raw = raw.strip()
        value: Any
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = int(raw)
            except ValueError:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
                else:
                    if not math.isfinite(value):
                        raise UsageError(
                            f"neuro compare: --set {key}: value must be finite; got {raw!r}"
                        ) from None
        out[key] = value
    return out


def _cmd_workloads(args: argparse.Namespace) -> int:
    from neuro import workloads
    from neuro.report import format_table, si
    from neuro.workloads.training import cached_accuracy

    rows = []
    for name in workloads.names():
        w = workloads.get(name)
        acc = "—"
        cached = cached_accuracy(name)
        if args.train and not w.shape_only and not w.unsupervised:
            acc = f"{100 * workloads.trained_model(w).test_accuracy:.2f} %"
        elif cached is not None:
            acc = f"{100 * cached:.2f} % (cached)"
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
        event = si(t.energy_per_synaptic_event_J, "J")
        if t.energy_per_synaptic_event_J is not None and t.event_figure:
            event += f" ({t.event_figure})"
        rows.append(
            [name, ",".join(t.paradigms), str(t.year), t.figure_kind or "—",
             t.operating_point or "—", t.precision or "—", t.cell_type or "—",
             si(t.peak_ops_per_s, "OPS"), si(t.power_W, "W"), eff, event, t.source[:60]]
        )  # fmt: skip
    header = ["target", "paradigms", "year", "figure", "operating point", "precision", "cell",
              "peak", "power", "TOPS/W", "J/syn-event", "source"]  # fmt: skip
    print(format_table(header, rows, left=(0, 1, 3, 4, 5, 6, 11)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from neuro.compare import compare
    from neuro.report import (
        breakdown_table,
        data_lines,
        gap_lines,
        missing_lines,
        neurobench_table,
        results_table,
        subset_lines,
    )
    from neuro.result import BOUNDARY_NOTE

    if args.weights or args.data:  # your own weights and/or data on the workload
        from neuro.workloads.pretrained import with_weights

        args.workload = with_weights(
            args.workload, args.weights, args.data, image_size=args.image_size
        ).name
    targets = [t for group in args.targets for t in group.split(",") if t] if args.targets else None
    results, failures = compare(
        args.workload, targets, seed=args.seed, out=args.out, quick=args.quick,
        options=args.options,
    )  # fmt: skip
    print(f"workload {args.workload}, seed {args.seed}" + (", quick" if args.quick else ""))
    if results:
        print(results_table(results))
        for line in data_lines(results):  # where the accuracies' test inputs come from
            print(line)
        print(f"energy boundary: {BOUNDARY_NOTE}")
        shares = breakdown_table(results)
        if shares:
            print("share of system energy by group:")
            print(shares)
            for line in missing_lines(results):
                print(line)
        if args.iso_accuracy is not None:
            from neuro.compare import iso_compare
            from neuro.tradeoff import iso_lines

            points = iso_compare(args.workload, results, args.iso_accuracy, seed=args.seed,
                                 out=args.out, quick=args.quick,
                                 options=args.options)  # fmt: skip
            print("\n".join(iso_lines(points, args.iso_accuracy)))
        from neuro.tradeoff import break_even_lines, spiking_neurons
        from neuro.workloads import get as get_workload

        wl = get_workload(args.workload)
        lines = (
            []
            if wl.shape_only or wl.unsupervised
            else break_even_lines(results, spiking_neurons(wl))
        )
        if lines:
            print("break-even spike rate (chip energy of the spiking run = the other run's):")
            print("\n".join(lines))
        if args.metrics == "neurobench":
            print("NeuroBench metrics per inference (Yik et al., Nat. Commun. 2025):")
            print(neurobench_table(results))
        for line in subset_lines(results):
            print(line)
        from neuro.plots import plot_results

        figures = Path(args.out).with_suffix("")
        figures = figures.with_name(figures.name + "-figures")
        written = plot_results(results, figures)
        gaps = gap_lines(results)
        if gaps:
            print("gap to roadmap targets (x = simulated / target; > 1 beats the target):")
            print("\n".join(gaps))
    for name, message in failures:
        log.error(f"FAILED {name}: {message.splitlines()[0]}")
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
        log.warning(f"OUTSIDE {name}")
    return 1 if outside else 0


def _cmd_run(args: argparse.Namespace) -> int:
    from neuro.experiments import run_experiment

    spec = args.spec_obj

    def on_run(run, status: str) -> None:
        point = " ".join(f"{k}={v}" for k, v in run.point.items())
        log.info(f"{status}: {run.workload} {run.target} seed={run.seed} {point}".rstrip())

    print(f"{spec.name}: {spec.count()} runs", flush=True)  # stated before anything runs
    summary = run_experiment(
        spec, args.out, workers=args.workers, scheduler=args.scheduler, on_run=on_run,
        dashboard=args.dashboard,
    )  # fmt: skip
    print(
        f"{spec.name}: {summary.total} runs, {summary.skipped} already in {args.out}, "
        f"{summary.completed} completed, {summary.failed} failed"
    )
    return 1 if summary.failed else 0


def _cmd_archive(args: argparse.Namespace) -> int:
    from neuro.archive import Archive
    from neuro.report import format_table, si, subset_mark

    archive = Archive(args.file)
    if args.archive_cmd == "ls":
        runs = archive.summary()
        if not runs:
            print(f"{args.file}: no runs")
            return 0
        rows = []
        for r in runs:
            acc = (
                "—"
                if r["accuracy"] is None or r["accuracy"] != r["accuracy"]
                else f"{100 * r['accuracy']:.2f} %"
            )
            if acc != "—":  # a subset of the test inputs says so, and a detector its mAP
                acc += subset_mark(r.get("test_inputs"), r.get("test_inputs_total"))
                if r.get("accuracy_metric", "top-1") != "top-1":
                    acc += f" {r['accuracy_metric']}"
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
        from neuro.report import run_lines

        print("\n".join(run_lines(args.run_id, r)))
        print(f"layers: {len(r.layers)}; config: {json.dumps(r.config, sort_keys=True)}")
        return 0
    if args.archive_cmd == "plot":
        from neuro.plots import plot_archive

        out_dir = args.out_dir or str(Path(args.file).with_suffix("")) + "-figures"
        for path in plot_archive(args.file, out_dir):
            print(f"wrote {path}")
        return 0
    # export
    from neuro.archive_data import units_in_names

    table = units_in_names(archive.table(include_failed=args.include_failed))  # "name [unit]"
    if args.format == "csv":
        text = table.to_csv(index=False)
    else:
        text = table.to_json(orient="records", indent=1, date_format="iso")
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        log.info(f"wrote {len(table)} runs to {args.output}")
    return 0


def _version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neuro-cosim")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``: the version looked up when asked (importlib.metadata costs ~50 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kw):
        kw.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"neuro-cosim {_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuro`` command (imports nothing heavy)."""
    p = _Parser(prog="neuro", description="Neuromorphic and in-memory computing co-simulator")
    p.add_argument("--version", action=_VersionAction)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads, 1 to 4 x the cores (default: $NEURO_THREADS, else 1): "
        "on a loaded 2-core machine, 2 threads made a crossbar evaluation 17x slower than 1",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug messages, and the traceback of an unexpected error (accepted anywhere on "
        "the line; default: progress, warnings and errors)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="warnings and errors only on standard error, no progress (accepted anywhere on "
        "the line; default: progress too)",
    )
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)

    w = sub.add_parser("workloads", help="list the workloads")
    w.add_argument(
        "--train",
        action="store_true",
        help="train (or load) each and show its FP32 accuracy (default: cached accuracies only)",
    )
    w.set_defaults(func=_cmd_workloads)

    d = sub.add_parser("devices", help="list the device models with their key figures")
    d.set_defaults(func=_cmd_devices)

    r = sub.add_parser("roadmap", help="list the roadmap targets with their figures and sources")
    r.set_defaults(func=_cmd_roadmap)

    c = sub.add_parser("compare", help="run one workload on several targets, side by side")
    c.add_argument(
        "--workload", default=DEFAULT_WORKLOAD,
        help="workload name (neuro workloads), or your model as path/to/file.py:function or "
        "module:function",
    )  # fmt: skip
    c.add_argument(
        "--targets",
        nargs="+",
        help="target names, e.g. reference npu:ab9 aimc:pcm (default: those of reference, "
        "npu:ab9, aimc:reram, aimc:pcm, aimc:fefet, aimc:memcap, snn:loihi, snn:truenorth, "
        "snn:seneca that are registered)",
    )
    c.add_argument(
        "--set",
        dest="options",
        action="append",
        metavar="KEY=VALUE",
        help="a target option for every target named, repeatable, e.g. --set "
        "crossbar.adc.bits=6 --set repeats=3 (values: true/false, integers, floats, else "
        "text); an option a target does not take is refused (default: none)",
    )
    c.add_argument("--out", default="results/compare.h5", help="HDF5 archive to append to")
    c.add_argument("--seed", type=int, default=0, help="seed of every random draw of the runs")
    c.add_argument(
        "--weights",
        help="your state dict for the workload (torch.save(model.state_dict(), path)), loaded "
        "with torch.load(weights_only=True); with --data it makes resnet18 (top-1) or yolov2 "
        "(mAP@0.5) an accuracy workload (default: the workload's own trained weights)",
    )
    c.add_argument(
        "--data",
        help="your data folder for the workload: an image folder (<class>/*.png, or train/ and "
        "test/ of them) or the CIFAR-10/100 binary version; for yolov2 a detection folder, "
        "images/ and labels/ in YOLO format (default: the workload's dataset)",
    )
    c.add_argument(
        "--image-size",
        type=int,
        help="with --data: input height and width the images are resized to (yolov2: a "
        "multiple of 32) (default: the workload's, e.g. 224 for resnet18, 416 for yolov2)",
    )
    c.add_argument(
        "--quick",
        action="store_true",
        help="fast settings: smaller test sets, fewer repeats (default: full settings)",
    )
    c.add_argument(
        "--metrics",
        choices=("neurobench",),
        help="also print NeuroBench's metrics (footprint, sparsities, synaptic operations, "
        "membrane updates); they are archived with every run either way (default: not printed)",
    )
    c.add_argument(
        "--iso-accuracy",
        type=float,
        metavar="A",
        help="also search each target's main knob (spiking: time steps; analog: converter "
        "bits; digital: batch) for the cheapest point reaching accuracy A, a fraction "
        "(default: no search)",
    )
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
    v.add_argument("--json", help="also write the outcomes as JSON to this file (default: none)")
    v.set_defaults(func=_cmd_validate)

    run = sub.add_parser("run", help="run an experiment spec (TOML), resumable, optionally on Dask")
    run.add_argument("spec", help="experiment spec, e.g. experiments/adc_sweep.toml")
    run.add_argument("--out", required=True, help="HDF5 archive to append to (required)")
    run.add_argument(
        "--workers",
        type=int,
        help="run on a Dask LocalCluster of N workers (default: in this process, one at a time)",
    )
    run.add_argument(
        "--scheduler",
        help="run on an existing Dask cluster at this address (host:port or tcp://host:port). "
        "The cluster must be trusted: Dask sends pickles, which run code where they are loaded "
        "(default: none)",
    )
    run.add_argument(
        "--dashboard",
        metavar="HOST:PORT",
        help="with --workers: serve the Dask dashboard there, e.g. 127.0.0.1:8787 "
        "(default: no dashboard)",
    )
    run.add_argument(
        "--max-runs",
        type=int,
        help="refuse a spec that expands to more runs than this (default: 100,000)",
    )
    run.set_defaults(func=_cmd_run)

    a = sub.add_parser("archive", help="inspect an HDF5 archive")
    asub = a.add_subparsers(dest="archive_cmd", metavar="ACTION", parser_class=_Parser)
    ls = asub.add_parser("ls", help="list the runs")
    ls.add_argument("file", help="the archive (.h5)")
    show = asub.add_parser("show", help="one run in full")
    show.add_argument("file", help="the archive (.h5)")
    show.add_argument("run_id", help="the run's id, as archive ls lists it (r000001)")
    pl = asub.add_parser("plot", help="the standard figures as PNGs")
    pl.add_argument("file", help="the archive (.h5)")
    pl.add_argument("--out-dir", help="folder for the PNGs (default: <archive>-figures)")
    ex = asub.add_parser("export", help="the runs table as CSV or JSON")
    ex.add_argument("file", help="the archive (.h5)")
    ex.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    ex.add_argument("--output", "-o", help="file to write (default: standard output)")
    ex.add_argument(
        "--include-failed",
        action="store_true",
        help="also the failed runs, with their error (default: completed runs only)",
    )
    a.set_defaults(func=_cmd_archive)
    return p


def _validate(args: argparse.Namespace) -> None:
    """Check arguments that argparse cannot, before anything runs or is written."""
    if args.cmd == "compare":
        from neuro import workloads
        from neuro.compare import build_targets, check_out_path, default_targets
        from neuro.experiments.spec import check_seed
        from neuro.workloads.training import check_inputs

        args.options = parse_set(args.options)
        workload = workloads.get(args.workload)
        check_seed(args.seed, "neuro compare: --seed")
        if args.image_size is not None and not args.data:
            raise UsageError("neuro compare: --image-size goes with --data (the images it resizes)")
        if args.targets is not None:
            names = [t.strip() for g in args.targets for t in g.split(",") if t.strip()]
            if not names:
                raise UsageError(f"neuro compare: --targets names no target; got {args.targets}")
            args.targets = list(dict.fromkeys(names))  # a target named twice runs once
        if args.targets is not None or args.options:
            # every target is built once here, so a bad name or --set option is refused
            # before anything runs or is written
            build_targets(args.targets or default_targets(), options=args.options)
        check_out_path(args.out)
        figures = Path(args.out).with_suffix("")
        figures = figures.with_name(figures.name + "-figures")
        if figures.exists() and not figures.is_dir():
            raise UsageError(f"neuro compare: {figures} (for the figures) is a file, not a folder")
        check_inputs(workload)  # dataset and weight cache usable
        a = args.iso_accuracy
        if a is not None and not (0.0 < a <= 1.0):  # NaN fails too
            raise UsageError(f"neuro compare: --iso-accuracy must be a fraction in (0, 1]; got {a}")
    if args.cmd == "validate" and args.json is not None:
        from neuro.archive import check_writable

        if not Path(args.json).parent.is_dir():
            raise UsageError(f"neuro validate: --json {args.json!r}: its folder does not exist")
        check_writable(Path(args.json), what="neuro validate: --json")
    if args.cmd == "run":
        from neuro.compare import check_out_path
        from neuro.experiments import load_spec

        if args.workers is not None and args.scheduler is not None:
            raise UsageError("neuro run: give --workers or --scheduler, not both")
        most = 4 * (os.cpu_count() or 1)
        if args.workers is not None and not 1 <= args.workers <= most:
            raise UsageError(
                f"neuro run: --workers must be an integer from 1 to {most}; got {args.workers}"
            )
        if args.scheduler is not None:
            from neuro.experiments.runner import check_scheduler_address

            check_scheduler_address(args.scheduler)
        if args.dashboard is not None and args.workers is None:
            raise UsageError("neuro run: --dashboard needs --workers (a local cluster)")
        args.spec_obj = load_spec(args.spec, max_runs=args.max_runs)
        check_out_path(args.out)
        from neuro.workloads import get as get_workload
        from neuro.workloads.training import check_inputs

        for name in args.spec_obj.workloads:
            check_inputs(get_workload(name))  # datasets and weight cache usable
    if args.cmd == "archive" and args.archive_cmd == "export" and args.output not in (None, "-"):
        out = Path(args.output)
        if out.suffix.lower() != f".{args.format}":
            raise UsageError(
                f"neuro archive export: --output must end in .{args.format}; got {args.output!r}"
            )
        from neuro.archive import check_writable

        check_writable(out, what="neuro archive export: --output")
    if args.cmd == "archive" and args.archive_cmd == "plot" and args.out_dir is not None:
        from neuro.archive import check_writable

        if Path(args.out_dir).exists() and not Path(args.out_dir).is_dir():
            raise UsageError(f"neuro archive plot: --out-dir {args.out_dir!r} is not a folder")
        check_writable(Path(args.out_dir) / "figure.png", what="neuro archive plot: --out-dir")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # -v and -q anywhere on the line (before a "--"), so they can follow the subcommand's
    # arguments
    end = argv.index("--") if "--" in argv else len(argv)
    verbose = any(a in ("-v", "--verbose") for a in argv[:end])
    quiet = any(a in ("-q", "--quiet") for a in argv[:end])
    flags = ("-v", "--verbose", "-q", "--quiet")
    argv = [a for a in argv[:end] if a not in flags] + argv[end:]
    _setup_logging(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    hook = sys.excepthook  # a library imported on the way (brian2) may replace it
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.cmd is None or (args.cmd == "archive" and args.archive_cmd is None):
                # no command: the help, on stderr, exit 2 (see the module doc)
                shown = parser if args.cmd is None else _subparser(parser, "archive")
                shown.print_help(sys.stderr)
                raise UsageError(f"{shown.prog}: no command given; choose one of those above")
            threads = _threads(args.threads)
            light = (args.cmd, getattr(args, "archive_cmd", None)) in _LIGHT
            if not light or "torch" in sys.modules:  # (a light command does not import it)
                import torch

                torch.set_num_threads(threads)
            if not light:
                from neuro.workloads.user import load_plugins

                load_plugins()  # the user folder's presets and installed plug-ins' entry points
            _validate(args)
            return int(args.func(args))
    except UsageError as exc:
        log.error(str(exc))
        return EXIT_USAGE
    except OSError as exc:  # a file that cannot be read or written: the user's to fix
        where = f"{exc.filename}: " if exc.filename else ""
        log.error(f"{where}{exc.strerror or _one_line(exc)}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        log.error("interrupted; every run completed so far is in the archive")
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if isinstance(exc, _user_errors()):
            log.error(_one_line(exc))
            return EXIT_USAGE
        if verbose:
            traceback.print_exc()
        log.error(
            f"unexpected {type(exc).__name__}: {_one_line(exc)} (run with -v for the traceback)"
        )
        return 1
    finally:
        sys.excepthook = hook


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``."""
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)  # pragma: no cover


def _user_errors() -> tuple[type[BaseException], ...]:
    """The error types that are the user's to fix (exit 2, one line): :class:`ConfigError`,
    and :class:`~neuro.archive.ArchiveError` and :class:`~neuro.data.DataError` when their
    modules were imported (if not, nothing raised them; importing them here would cost
    h5py, pandas and torch on every start)."""
    types: list[type[BaseException]] = [ConfigError]
    for module, name in (("neuro.archive", "ArchiveError"), ("neuro.data", "DataError")):
        if module in sys.modules:
            types.append(getattr(sys.modules[module], name))
    return tuple(types)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning: ...`` line on standard error (through the log)."""
    log.warning(_one_line(Warning(str(message))))


def _threads(option: int | None) -> int:
    """``--threads``, else ``$NEURO_THREADS`` (read here, when used), else 1; range-checked."""
    most = 4 * (os.cpu_count() or 1)
    name, raw = ("--threads", option) if option is not None else (
        "$NEURO_THREADS", os.environ.get("NEURO_THREADS", "1"))  # fmt: skip
    try:
        n = int(str(raw).strip())
    except ValueError:
        n = None
    if n is None or not 1 <= n <= most:
        raise UsageError(f"neuro: {name} must be an integer from 1 to {most}; got {raw!r}")
    return n


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
