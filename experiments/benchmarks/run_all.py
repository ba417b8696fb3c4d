"""Run every benchmark in this folder; each prints its figures and writes its JSON to out/.

Usage: ``python -m experiments.benchmarks.run_all [--only NAME ...]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", nargs="*", help="benchmark names (bench_devices ...)")
    p.add_argument("--out-dir", default="out/benchmarks")
    args = p.parse_args(argv)
    names = sorted(f.stem for f in HERE.glob("bench_*.py"))
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            print(
                f"error: unknown benchmark {unknown[0]!r}; valid: {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        names = [n for n in names if n in args.only]
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        cmd = [
            sys.executable,
            "-m",
            f"experiments.benchmarks.{name}",
            "--out",
            str(out_dir / f"{name}.json"),
        ]
        code = subprocess.call(cmd)
        print(f"== {name}: exit {code} in {time.perf_counter() - t0:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
