"""SRAM and DRAM traffic of a layer, and the plan of what stays on chip.

SRAM traffic follows the operand movement of each dataflow (as SCALE-Sim counts its SRAM
reads and writes): per fold, the array reads its tile of inputs and weights from SRAM at its
edges and writes its outputs back.

- os: inputs ``M·K`` per column fold, weights ``K·N`` per row fold, outputs ``M·N`` once.
- ws: weights ``K·N`` once, inputs ``M·K`` per column fold, partial sums ``M·N`` written
  per row fold and read back for every row fold after the first (in the accumulator's
  precision), final outputs ``M·N`` in FP16.
- depthwise passes (pool, elementwise): each column streams its own channel, ``M·K·N``
  inputs, ``M·N`` outputs.

DRAM traffic follows a network-level plan (:func:`plan_residency`): if the weights of the
whole network fit in SRAM next to the largest layer's activations for one input, they are
loaded once when the network is programmed and stay (resident); otherwise (or on a chip
whose SRAM holds no weights, such as TPU v1) each layer's weights are streamed from DRAM
once per batch. The network's input is read from DRAM and its
output written back. A layer whose batch of activations does not fit in the SRAM the
weights leave free (all weights if resident, the layer's own if streamed) spills: its input
is read from, and its output written to, DRAM.
"""

from __future__ import annotations

import dataclasses

from npu.dataflow import Folding
from npu.ops import Op

__all__ = ["FP16_BYTES", "SramTraffic", "sram_traffic", "Residency", "plan_residency"]

#: IEEE binary16: 2 bytes per value (IEEE 754-2008, 1 sign, 5 exponent, 10 fraction bits).
FP16_BYTES = 2


@dataclasses.dataclass(frozen=True)
class SramTraffic:
    """On-chip SRAM bytes moved by one layer (all groups, the whole batch)."""

    input_B: float
    weight_B: float
    output_B: float

    @property
    def total_B(self) -> float:
        """Bytes read and written."""
        return self.input_B + self.weight_B + self.output_B


def sram_traffic(
    op: Op, f: Folding, batch: int, psum_bytes: int, value_bytes: int = FP16_BYTES
) -> SramTraffic:
    """SRAM traffic of ``op`` folded as ``f`` for ``batch`` inputs.

    Parameters
    ----------
    op : Op
        The layer; ``f`` folds one of its ``op.groups`` GEMMs with ``M = batch·op.m``.
    f : Folding
        Its folding.
    batch : int
        Inputs in the batch.
    psum_bytes : int
        Bytes of a partial sum (4 for FP32 accumulation, 2 for FP16).
    value_bytes : int
        Bytes of an input, weight or output value (2 for FP16, 1 for INT8).

    Returns
    -------
    SramTraffic
        Bytes (input, weight, output) for the whole layer.
    """
    m, k, n, g = batch * op.m, op.k, op.n, op.groups
    b = value_bytes
    if not op.is_gemm:
        return SramTraffic(g * m * k * n * b, 0.0, g * m * n * b)
    if f.dataflow == "os":
        return SramTraffic(g * m * k * f.col_folds * b, g * k * n * f.row_folds * b, g * m * n * b)
    psums = m * n * (f.row_folds * psum_bytes + (f.row_folds - 1) * psum_bytes)
    out = g * (psums + m * n * b) if f.row_folds > 1 else g * m * n * b
    return SramTraffic(g * m * k * f.col_folds * b, g * k * n * b, out)


@dataclasses.dataclass(frozen=True)
class Residency:
    """What stays in SRAM for a network at a batch size.

    Attributes
    ----------
    weights_resident : bool
        All weights fit alongside the largest layer's activations: loaded once, never per
        inference.
    weight_B : int
        Bytes of all weights.
    peak_activation_B : int
        Largest input + output of one layer for one input (B).
    sram_B : float
        SRAM capacity (B).
    value_B : int
        Bytes per value (2 for FP16).
    weights_in_sram : bool
        Whether the SRAM holds weights at all (False: they stream through a FIFO).
    """

    weights_resident: bool
    weight_B: int
    peak_activation_B: int
    sram_B: float
    value_B: int = FP16_BYTES
    weights_in_sram: bool = True

    def free_B(self, op: Op) -> float:
        """SRAM left for ``op``'s activations: all weights held if resident, else its own
        (none on a chip whose SRAM holds no weights)."""
        if not self.weights_in_sram:
            return self.sram_B
        own = op.weight_elems * self.value_B
        return self.sram_B - (self.weight_B if self.weights_resident else own)

    def micro_batch(self, ops: list[Op], batch: int) -> int:
        """Largest divisor of ``batch`` whose activations fit every layer's free SRAM (>= 1).

        A batch runs as ``batch / micro_batch`` passes, so no layer spills when avoidable.
        """
        for b in range(batch, 0, -1):
            if batch % b == 0 and all(
                (op.in_elems + op.out_elems) * b * self.value_B <= self.free_B(op) for op in ops
            ):
                return b
        return 1

    def dram_bytes(self, op: Op, batch: int, first: bool, last: bool) -> float:
        """LPDDR4 bytes moved by ``op`` for one batch of ``batch`` inputs.

        The network input (``first``) is read and its output (``last``) written once; the
        weights are read per batch unless resident; activations spill when the layer's
        working set does not fit.
        """
        b = self.value_B
        dram = 0.0
        act_in, act_out = op.in_elems * batch * b, op.out_elems * batch * b
        w = op.weight_elems * b
        if first:
            dram += act_in
        if last:
            dram += act_out
        if not self.weights_resident:
            dram += w
        if act_in + act_out > self.free_B(op):
            dram += (0 if first else act_in) + (0 if last else act_out)
        return dram


def plan_residency(
    ops: list[Op], sram_B: float, value_B: int = FP16_BYTES, weights_in_sram: bool = True
) -> Residency:
    """Decide whether a network's weights stay in SRAM (see the module docstring)."""
    weight_B = sum(op.weight_elems for op in ops) * value_B
    peak = max((op.in_elems + op.out_elems) * value_B for op in ops) if ops else 0
    resident = weights_in_sram and weight_B + peak <= sram_B
    return Residency(resident, weight_B, peak, sram_B, value_B, weights_in_sram)
