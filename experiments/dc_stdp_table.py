"""Table and curve of Diehl & Cook runs (``experiments/dc_stdp_mnist.py`` JSON files).

Reads every JSON given, prints a Markdown table (synapse and any retuning, the STDP
rates, passes, accuracy at each checkpoint, final accuracy with labels from all training
images, training ms per presentation, build seconds) and plots accuracy against the number of training images
shown, one line per run, to ``--out`` (PNG).

    python -m experiments.dc_stdp_table out/dc2/dc_*_400.json --out out/dc2/dc_curve.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def label(run: dict) -> str:
    """``ideal``, ``pcm``, ``pcm (2 cells), forward Euler`` … from a run's synapse and
    integration method (exponential Euler, the default, is not named)."""
    syn = run["synapse"]
    if syn["synapse"] == "ideal":
        name = "ideal"
    else:
        name = f"{syn['device']} (2 cells)" if syn["synapse"] == "device-pair" else syn["device"]
    # runs before the default became exponential Euler have no "method": forward Euler
    name += ", forward Euler" if run.get("method", "euler") == "euler" else ""
    return name + (f", retuned: {run['retune']}" if run.get("retune") else "")


def rates(run: dict) -> str:
    """``nu_pre / nu_post`` of the run (runs before the option: the paper's)."""
    stdp = run.get("stdp") or {"nu_pre": 1e-4, "nu_post": 1e-2}
    return f"{stdp['nu_pre']:.3g} / {stdp['nu_post']:.3g}"


def table(runs: list[dict]) -> str:
    """Markdown table: one row per run."""
    shown = sorted({p["images_shown"] for r in runs for p in r["curve"]})
    head = ["synapse", "seed", "levels", "nu_pre / nu_post", "passes"]
    head += [f"{n:,}" for n in shown]
    head += ["final", "train ms/image", "train CPU ms/image", "build s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        acc = {p["images_shown"]: p["accuracy"] for p in r["curve"][:-1]}
        final = r["curve"][-1]
        cells = [label(r), str(r.get("seed", "")), str(r["synapse"].get("n_levels", "—")),
                 rates(r), str(r["passes"])]  # fmt: skip
        cells += [f"{100 * acc[n]:.1f}" if n in acc else "" for n in shown]
        cells += [
            f"{100 * final['accuracy']:.1f} ({final['images_shown']:,}, labels "
            f"{final['assign_images']:,})",
            f"{r.get('train_ms_per_image', float('nan')):.1f}",
            f"{r.get('train_cpu_ms_per_image', float('nan')):.1f}",
            f"{r.get('build_s') or 0:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(runs: list[dict], out: Path) -> Path:
    """Accuracy against training images shown, one line per run."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    for r in runs:
        xs = [p["images_shown"] for p in r["curve"]]
        ys = [100 * p["accuracy"] for p in r["curve"]]
        ax.plot(
            xs, ys, marker="o", label=f"{label(r)} ({r['synapse'].get('n_levels', '∞')} levels)"
        )
    ax.axhline(87.0, color="grey", ls=":", label="Diehl & Cook 2015, 400 neurons (full MNIST)")
    ax.set_xlabel("training images shown")
    ax.set_ylabel("test accuracy (%) on 1,000 images")
    ax.set_title(f"Diehl & Cook STDP, {runs[0]['n_exc']} excitatory neurons")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="JSON files written by dc_stdp_mnist.py")
    ap.add_argument("--out", default="out/dc_stdp_curve.png")
    args = ap.parse_args(argv)
    runs = [json.loads(Path(p).read_text()) for p in args.runs]
    runs = [r for r in runs if r.get("curve")]
    text = table(runs)
    print(text)
    print(f"curve: {plot(runs, Path(args.out))}")
    return text


if __name__ == "__main__":
    main()
