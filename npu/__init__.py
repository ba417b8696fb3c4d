"""Digital NPU: ETRI's AB9 neural processor and the systems built from it.

Bit-true IEEE FP16 execution of a workload (so AB9 accuracy is measured), a systolic-array
performance model (GEMM lowering, output- and weight-stationary folding, SRAM and LPDDR4
traffic, roofline, energy per MAC and per access) and multi-chip scale-out (ArtBrain-S,
ArtBrain-K). Imports nothing of this project but the leaf modules ``devices.validation``
and ``devices.registry`` (one ``ConfigError``, one registry behaviour).

>>> import npu
>>> cfg = npu.presets.get("ab9")
>>> perf = npu.simulate([npu.gemm_op("fc", 1, 4096, 4096)], cfg)
"""

from npu import presets
from npu.calibration import calibrate_static_W, efficiency_check, full_load
from npu.config import AB9, EnergyModel, scale_energy
from npu.dataflow import Folding, fold
from npu.fp16 import gemm_fast, gemm_reference
from npu.functional import run_fp16, to_fp16
from npu.ops import Op, gemm_op
from npu.perf import ENERGY_COMPONENTS, LayerPerf, NetworkPerf, simulate
from npu.system import CHIP_COMPONENTS, OFF_CHIP_COMPONENTS, SystemPerf, scale_out

__all__ = [
    "AB9",
    "EnergyModel",
    "scale_energy",
    "presets",
    "Op",
    "gemm_op",
    "Folding",
    "fold",
    "gemm_reference",
    "gemm_fast",
    "to_fp16",
    "run_fp16",
    "LayerPerf",
    "NetworkPerf",
    "ENERGY_COMPONENTS",
    "simulate",
    "SystemPerf",
    "scale_out",
    "CHIP_COMPONENTS",
    "OFF_CHIP_COMPONENTS",
    "calibrate_static_W",
    "efficiency_check",
    "full_load",
]
