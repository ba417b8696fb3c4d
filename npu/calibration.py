"""Calibration of the energy model against AB9's measured efficiency, and the checks on it.

Energy per event comes from Horowitz 2014 scaled to 28 nm and 1.1 V (:func:`npu.config.
scale_energy`): 1.39 pJ per FP16 MAC, 1.16 pJ per SRAM byte. Static power is the one free
parameter: :func:`calibrate_static_W` chooses it so that a dense FP16 GEMM held on chip
(4096 × 4096 × 4096, 94 % array utilisation) at 1.2 GHz and 1.1 V reaches the
1.3 TOPS/W that Han 2020 measured on silicon (doi:10.4218/etrij.2020-0128). The result
(1.99 W, 7 % of the chip's 30 W on that kernel) is the ``static_W`` of the ``ab9`` preset.

The published envelope brackets it: 2.6–2.7 TFLOPS/W at 15 W and 1.0 TFLOPS/W at 40 W
(Cho 2020), i.e. 0.75–2.0 pJ per FP16 MAC all-in; :func:`efficiency_check` reports where the
model falls.
"""

from __future__ import annotations

from npu.config import AB9
from npu.ops import gemm_op
from npu.perf import NetworkPerf, simulate

__all__ = [
    "calibrate_static_W",
    "dense_gemm",
    "efficiency_check",
    "HAN2020_TOPS_PER_W",
    "HAN2020_CLOCK_Hz",
    "CALIBRATION_GEMM",
]

#: Han 2020 (doi:10.4218/etrij.2020-0128): measured 1.3 TOPS/W, STC at 1.2 GHz, 1.1 V.
HAN2020_TOPS_PER_W = 1.3e12
HAN2020_CLOCK_Hz = 1.2e9
#: The calibration kernel (M, K, N): large enough to keep the array 94 % busy (our choice).
CALIBRATION_GEMM = (4096, 4096, 4096)


def dense_gemm(config: AB9, mkn: tuple[int, int, int] = CALIBRATION_GEMM) -> NetworkPerf:
    """One dense GEMM on one chip at batch 1 (the calibration kernel)."""
    return simulate([gemm_op("gemm", *mkn)], config, batch=1)


def calibrate_static_W(
    config: AB9,
    ops_per_J: float = HAN2020_TOPS_PER_W,
    clock_Hz: float = HAN2020_CLOCK_Hz,
) -> float:
    """Static power (W) at which the dense GEMM, on chip, reaches ``ops_per_J``.

    On chip means MAC, SRAM and static energy; the LPDDR4 transfers of the kernel's input and
    output are left out, as a chip's TOPS/W figure leaves them out.
    """
    perf = dense_gemm(config.replace(clock_Hz=clock_Hz, static_W=0.0))
    e = perf.energy_J
    target_J = 2.0 * perf.macs / ops_per_J
    return (target_J - e["mac"] - e["sram"]) / perf.time_s


def efficiency_check(config: AB9) -> dict[str, float]:
    """The dense GEMM's on-chip figures: power (W), FLOP/s per W, pJ per MAC all-in."""
    perf = dense_gemm(config)
    e = perf.energy_J
    on_chip_J = e["mac"] + e["sram"] + e["static"] + e["alu"]
    return {
        "power_W": on_chip_J / perf.time_s,
        "flops_per_W": 2.0 * perf.macs / on_chip_J,
        "J_per_mac": on_chip_J / perf.macs,
        "achieved_flops": perf.achieved_flops,
    }
