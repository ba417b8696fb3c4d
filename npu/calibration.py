"""The one fitted constant of the AB9 model, and the full-load figures checked against silicon.

Energy per event comes from Horowitz 2014 scaled to 28 nm and 1.1 V (:func:`npu.config.
scale_energy`); a MAC is priced by its operand and accumulator types. Static power is the
one free parameter: :func:`calibrate_static_W` chooses it so that a dense FP16 GEMM held on
chip (4096 × 4096 × 4096, 94 % array utilisation) at 1.2 GHz and 1.1 V reaches the
1.3 TOPS/W that Han 2020 measured on silicon (doi:10.4218/etrij.2020-0128). With FP16
accumulation (1.39 pJ per MAC) that is 1.987 W, the ``static_W`` of the ``ab9`` preset
(registered as the fitted constant ``npu.ab9.static_W``; the 1.3 TOPS/W is therefore a
*regression* check, never a validation). With FP32 accumulation (1.86 pJ per MAC) the MAC
alone exceeds the measured 1.54 pJ per MAC all-in and the fit is negative (−6.6 W): no
FP32-accumulating AB9 is consistent with Han 2020 under these energies.

:func:`full_load` gives a config's figures on that kernel at its own clock, on the die and
for the system around it (DRAM, voltage-regulator and supply losses), which the held-out
check of ArtBrain-K's 0.893 TFLOPS/W uses (``neuro/validate/digital.py``).
"""

from __future__ import annotations

from npu.config import AB9
from npu.ops import gemm_op
from npu.perf import NetworkPerf, simulate

__all__ = [
    "calibrate_static_W",
    "dense_gemm",
    "efficiency_check",
    "full_load",
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
    output are left out, as a chip's TOPS/W figure leaves them out. A negative result means
    the dynamic energy alone already exceeds the target: no static power can fit it.
    """
    perf = dense_gemm(config.replace(clock_Hz=clock_Hz, static_W=0.0))
    e = perf.energy_J
    target_J = 2.0 * perf.macs / ops_per_J
    return (target_J - e["mac"] - e["pe_rf"] - e["sram"]) / perf.time_s


def efficiency_check(config: AB9) -> dict[str, float]:
    """The dense GEMM's on-chip figures: power (W), FLOP/s per W, J per MAC all-in."""
    perf = dense_gemm(config)
    e = perf.energy_J
    on_chip_J = e["mac"] + e["pe_rf"] + e["sram"] + e["static"] + e["alu"]
    return {
        "power_W": on_chip_J / perf.time_s,
        "flops_per_W": 2.0 * perf.macs / on_chip_J,
        "J_per_mac": on_chip_J / perf.macs,
        "achieved_flops": perf.achieved_flops,
    }


def full_load(config: AB9, mkn: tuple[int, int, int] = CALIBRATION_GEMM) -> dict[str, float]:
    """A chip and its share of the system running the dense GEMM at the config's clock.

    Returns
    -------
    dict
        ``chip_W`` (die: MAC, ALU, PE register files, SRAM, static), ``dram_W`` (its LPDDR4 traffic),
        ``system_W`` per chip (``(chip_W + dram_W) / (η_vr · η_psu) + board_power_W``),
        ``achieved_flops`` per chip, ``chip_flops_per_W`` and ``system_flops_per_W``.
    """
    perf = dense_gemm(config, mkn)
    e = perf.energy_J
    chip_W = (e["mac"] + e["alu"] + e["pe_rf"] + e["sram"] + e["static"]) / perf.time_s
    dram_W = e["dram"] / perf.time_s
    system_W = (chip_W + dram_W) / (config.vr_efficiency * config.psu_efficiency)
    system_W += config.board_power_W
    return {
        "chip_W": chip_W,
        "dram_W": dram_W,
        "system_W": system_W,
        "achieved_flops": perf.achieved_flops,
        "chip_flops_per_W": perf.achieved_flops / chip_W,
        "system_flops_per_W": perf.achieved_flops / system_W,
    }
