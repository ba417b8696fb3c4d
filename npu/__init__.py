"""Digital NPU: ETRI's AB9 neural processor and the systems built from it.

Bit-true IEEE FP16 execution of a workload (so AB9 accuracy is measured), a systolic-array
performance model (GEMM lowering, output- and weight-stationary folding, SRAM and LPDDR4
traffic, roofline, energy per MAC and per access) and multi-chip scale-out (ArtBrain-S,
ArtBrain-K). Imports nothing of this project but the leaf modules ``devices.validation``
and ``devices.registry`` (one ``ConfigError``, one registry behaviour).
"""
