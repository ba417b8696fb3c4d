"""The NPU's view of a layer: a GEMM-shaped pass ``(M, K, N)`` over the systolic arrays.

``npu`` knows nothing of the project's workloads; an adapter (``neuro.targets.npu``) turns
each layer into an :class:`Op`. Every layer with arithmetic is lowered to GEMM shape:

- linear: ``M = positions`` (1 for a vector), ``K = in_features``, ``N = out_features``;
- conv2d (im2col): ``M = H_out·W_out``, ``K = C_in/groups·kh·kw``, ``N = C_out/groups``,
  repeated ``groups`` times;
- pool: ``M = H_out·W_out``, ``K = kh·kw`` (the window), ``N = C``: one channel per column,
  a compare or add per PE step (a depthwise pass: no input reuse across columns);
- elementwise (activation, batch norm, residual add): ``M = positions``,
  ``K = ops per element``, ``N = C``, also depthwise;
- data (reshape, concat, reorg): addressing only, no cycles.
"""

from __future__ import annotations

import dataclasses

from devices.validation import param, require, validate

__all__ = ["Op", "KINDS", "gemm_op"]

KINDS = ("linear", "conv2d", "pool", "elementwise", "data")


@dataclasses.dataclass(frozen=True)
class Op:
    """One layer as the NPU executes it, for one input (batch 1).

    Attributes
    ----------
    name : str
        Layer name.
    kind : str
        One of :data:`KINDS`.
    m, k, n : int
        GEMM shape per group: output positions, reduction length, output columns.
    groups : int
        Independent GEMMs of this shape (grouped convolution).
    in_elems, out_elems : int
        Input and output activation elements (FP16 values).
    weight_elems : int
        Weights (FP16 values); 0 for pool, elementwise and data.
    macs : int
        Multiply-accumulates (linear, conv2d).
    alu_ops : int
        Other arithmetic ops: compares and adds of pooling, elementwise ops.
    """

    name: str
    kind: str = param(choices=KINDS)
    m: int = param(1, integer=True, ge=0)
    k: int = param(1, integer=True, ge=0)
    n: int = param(1, integer=True, ge=0)
    groups: int = param(1, integer=True, ge=1)
    in_elems: int = param(0, integer=True, ge=0)
    out_elems: int = param(0, integer=True, ge=0)
    weight_elems: int = param(0, integer=True, ge=0)
    macs: int = param(0, integer=True, ge=0)
    alu_ops: int = param(0, integer=True, ge=0)

    def __post_init__(self) -> None:
        validate(self)
        if self.kind in ("linear", "conv2d"):
            require(
                self.macs == self.m * self.k * self.n * self.groups, self, "macs", self.macs,
                f"m·k·n·groups = {self.m * self.k * self.n * self.groups} for a {self.kind}",
            )  # fmt: skip

    @property
    def is_gemm(self) -> bool:
        """True for layers with weights (linear, conv2d)."""
        return self.kind in ("linear", "conv2d")

    @property
    def has_cycles(self) -> bool:
        """False for data layers (no arithmetic) and empty shapes."""
        return self.kind != "data" and self.m * self.k * self.n > 0


def gemm_op(name: str, m: int, k: int, n: int, *, groups: int = 1) -> Op:
    """A linear layer as an :class:`Op`: ``(m × k) @ (k × n)``, with its element counts."""
    return Op(
        name, "linear", m=m, k=k, n=n, groups=groups, in_elems=m * k * groups,
        out_elems=m * n * groups, weight_elems=k * n * groups, macs=m * k * n * groups,
    )  # fmt: skip
