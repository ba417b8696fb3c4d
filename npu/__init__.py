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

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
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

# Name -> the module that defines it, imported when the name is first used (PEP 562), so
# that ``import npu`` stays cheap (no torch) for a program that needs only a part of it.
_LAZY = {
    "presets": "npu.presets",
    "calibrate_static_W": "npu.calibration",
    "efficiency_check": "npu.calibration",
    "full_load": "npu.calibration",
    "AB9": "npu.config",
    "EnergyModel": "npu.config",
    "scale_energy": "npu.config",
    "Folding": "npu.dataflow",
    "fold": "npu.dataflow",
    "gemm_fast": "npu.fp16",
    "gemm_reference": "npu.fp16",
    "run_fp16": "npu.functional",
    "to_fp16": "npu.functional",
    "Op": "npu.ops",
    "gemm_op": "npu.ops",
    "ENERGY_COMPONENTS": "npu.perf",
    "LayerPerf": "npu.perf",
    "NetworkPerf": "npu.perf",
    "simulate": "npu.perf",
    "CHIP_COMPONENTS": "npu.system",
    "OFF_CHIP_COMPONENTS": "npu.system",
    "SystemPerf": "npu.system",
    "scale_out": "npu.system",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
