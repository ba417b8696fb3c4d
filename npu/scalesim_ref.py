"""SCALE-Sim as the cycle-level reference of the folding model (optional dependency).

:func:`scalesim_cycles` runs SCALE-Sim 3 (PyPI ``scalesim``, Samajdar et al., ISPASS 2020)
in GEMM mode on topology and config files it writes to ``folder``, with SRAM large enough
and its bandwidth in ``CALC`` mode so that it reports no stalls: compute cycles only. Used
by ``neuro validate`` and ``experiments/validate_scalesim.py``. Install it with
``pip install --no-deps scalesim`` (it needs only numpy, pandas and tqdm at run time).
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

__all__ = ["scalesim_cycles", "available", "CONFIG"]

CONFIG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 65536
FilterSramSzkB: 65536
OfmapSramSzkB: 65536
IfmapOffset: 0
FilterOffset: 100000000
OfmapOffset: 200000000
Dataflow: {dataflow}
Bandwidth: 10
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def available() -> bool:
    """Whether SCALE-Sim is installed."""
    try:
        import scalesim  # noqa: F401
    except ImportError:
        return False
    return True


def scalesim_cycles(
    layers: list[tuple[str, int, int, int]], rows: int, cols: int, dataflow: str, folder: Path
) -> tuple[list[int], float]:
    """SCALE-Sim ``Total Cycles`` per GEMM layer ``(name, M, K, N)`` and its wall time (s).

    Raises
    ------
    ImportError
        SCALE-Sim is not installed.
    RuntimeError
        SCALE-Sim reported stalls (the reference would then include memory time).
    """
    from scalesim.scale_sim import scalesim

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "scale.cfg"
    cfg.write_text(CONFIG.format(name="run", rows=rows, cols=cols, dataflow=dataflow))
    topo = folder / "topology.csv"
    topo.write_text(
        "Layer, M, N, K,\n" + "".join(f"{n.replace(',', '_')}, {m}, {nn}, {k},\n"
                                      for n, m, k, nn in layers)
    )  # fmt: skip
    layout = folder / "layout.csv"
    layout.write_text("Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                      "Channels, Num Filter, Strides,\n")  # fmt: skip
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                       layout=str(layout), input_type_gemm=True)  # fmt: skip
        sim.run_scale(top_path=str(folder / "out"))
    wall = time.perf_counter() - t0
    report = folder / "out" / "run" / "COMPUTE_REPORT.csv"
    rows_out = report.read_text().strip().splitlines()[1:]
    cycles = [int(float(r.split(",")[2])) for r in rows_out]
    stalls = [int(float(r.split(",")[3])) for r in rows_out]
    if any(stalls):
        raise RuntimeError(f"SCALE-Sim reported stalls: {stalls}")
    return cycles, wall
