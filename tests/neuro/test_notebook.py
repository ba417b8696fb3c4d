"""The shipped notebooks run top to bottom (so they cannot rot) and show their figures."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "experiments" / "notebooks"


def _execute(name: str, tmp_path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert not [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")], (
        f"{name} is committed with outputs; clear them (the test makes them)"
    )
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue")
    text = "".join(o.get("text", "") for o in outputs)
    text += "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    return text, images


@pytest.mark.slow
def test_compare_paradigms_notebook_shows_its_figures(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURO_ARCHIVE", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws
    text, images = _execute("compare_paradigms.ipynb", tmp_path)
    assert "made " in text and "0 failed" in text
    # accuracy against energy, roadmap gap, accuracy against time since programming
    assert len(images) >= 3


@pytest.mark.slow
def test_device_to_accuracy_notebook_walks_pcm_to_accuracy(tmp_path, monkeypatch):
    pytest.importorskip("xarray")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    text, images = _execute("device_to_accuracy.ipynb", tmp_path)
    assert "4 runs completed, 0 failed" in text
    # pulses, programming noise, drift, read noise, accuracy against time
    assert len(images) == 5
    # the to_xarray cell: the sweep's axes, read time last
    assert "('workload', 'target', 'crossbar.drift_compensation', 'seed', 'read_time_s')" in text
