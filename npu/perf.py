"""Per-layer and whole-network performance of one chip: cycles, time, traffic, energy.

For each layer: fold the GEMM onto the arrays (:mod:`npu.dataflow`), count SRAM and DRAM
bytes (:mod:`npu.memory`), then take the roofline: the layer's time is the longer of its
compute time (``cycles / clock``) and its DRAM time (``bytes / bandwidth``); LPDDR4 transfers
overlap compute (double buffering). With ``fuse_elementwise`` (the default), activations,
batch norm and residual adds are applied to the outputs of the producing layer as they
drain from the array (a post-processing unit): ALU energy, no cycles. Energy is counted
per event (:class:`npu.config.EnergyModel`): ``mac`` (useful MACs only, priced by operand
and accumulator type), ``alu`` (pooling and elementwise ops), ``pe_rf`` (PE-local register
file accesses per MAC, where the PE has them), ``sram`` and ``dram`` (bytes), and
``static`` (static power × time).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from devices.validation import require
from npu.config import AB9
from npu.dataflow import Folding, fold
from npu.memory import plan_residency, sram_traffic
from npu.ops import Op

__all__ = ["LayerPerf", "NetworkPerf", "simulate", "ENERGY_COMPONENTS"]

ENERGY_COMPONENTS = ("mac", "alu", "pe_rf", "sram", "dram", "static")


@dataclasses.dataclass(frozen=True)
class LayerPerf:
    """One layer on one chip for one batch.

    Attributes
    ----------
    op : Op
        The layer.
    folding : Folding or None
        Its folding (one group, one micro-batch; None for data and fused layers).
    cycles : int
        Compute cycles (all groups).
    compute_s, dram_s, time_s : float
        Compute time, DRAM transfer time, and their maximum (s).
    bound : str
        ``"compute"``, ``"memory"`` or ``"none"`` (data layers).
    sram_B, dram_B : float
        Bytes moved in SRAM and over LPDDR4.
    energy_J : dict[str, float]
        J by component (:data:`ENERGY_COMPONENTS`).
    utilisation : float
        Useful MACs (or ALU ops) per PE-cycle over the layer's time.
    """

    op: Op
    folding: Folding | None
    cycles: int
    compute_s: float
    dram_s: float
    time_s: float
    bound: str
    sram_B: float
    dram_B: float
    energy_J: dict[str, float]
    utilisation: float

    def row(self, batch: int) -> dict[str, Any]:
        """A flat table row, per inference where it says so (SI units)."""
        f = self.folding
        return {
            "name": self.op.name,
            "kind": self.op.kind,
            "m": self.op.m,
            "k": self.op.k,
            "n": self.op.n,
            "macs": self.op.macs,
            "folds": f.folds * self.op.groups if f else 0,
            "cycles": self.cycles,
            "time_s": self.time_s,
            "bound": self.bound,
            "utilisation": self.utilisation,
            "mapping_efficiency": f.mapping_efficiency if f else 0.0,
            "sram_B_per_inference": self.sram_B / batch,
            "dram_B_per_inference": self.dram_B / batch,
            "energy_J_per_inference": sum(self.energy_J.values()) / batch,
        }


@dataclasses.dataclass(frozen=True)
class NetworkPerf:
    """A network on one chip for one batch.

    Attributes
    ----------
    config : AB9
        The chip.
    batch : int
        Inputs in the batch.
    layers : list of LayerPerf
        In execution order.
    weights_resident : bool
        Whether the weights stay in SRAM (see :func:`npu.memory.plan_residency`).
    micro_batch : int
        Inputs per pass: the batch runs in ``batch / micro_batch`` passes so that
        activations stay on chip where they can (see :meth:`npu.memory.Residency.micro_batch`);
        a layer whose weights are streamed runs over the whole batch at once instead (its
        activations spilling to DRAM) when that is faster.
    """

    config: AB9
    batch: int
    layers: list[LayerPerf]
    weights_resident: bool
    micro_batch: int = 1

    @property
    def time_s(self) -> float:
        """Time for the batch (s): layers run one after another."""
        return sum(layer.time_s for layer in self.layers)

    @property
    def cycles(self) -> int:
        """Compute cycles for the batch."""
        return sum(layer.cycles for layer in self.layers)

    @property
    def macs(self) -> int:
        """Useful MACs for the batch."""
        return sum(layer.op.macs for layer in self.layers) * self.batch

    @property
    def energy_J(self) -> dict[str, float]:
        """J for the batch, by component."""
        return {c: sum(la.energy_J[c] for la in self.layers) for c in ENERGY_COMPONENTS}

    @property
    def energy_per_inference_J(self) -> float:
        """J per input."""
        return sum(self.energy_J.values()) / self.batch

    @property
    def throughput(self) -> float:
        """Inferences per second at this batch."""
        return self.batch / self.time_s

    @property
    def achieved_flops(self) -> float:
        """2 × useful MACs per second (FLOP/s)."""
        return 2.0 * self.macs / self.time_s

    @property
    def power_W(self) -> float:
        """Mean chip power over the batch (W)."""
        return sum(self.energy_J.values()) / self.time_s

    @property
    def flops_per_W(self) -> float:
        """2 × MACs per joule (FLOP/s/W, i.e. TFLOPS/W × 1e12)."""
        return 2.0 * self.macs / sum(self.energy_J.values())

    @property
    def utilisation(self) -> float:
        """Useful MACs per PE-cycle over the whole run."""
        return self.achieved_flops / self.config.peak_flops

    @property
    def memory_bound_layers(self) -> int:
        """Layers whose DRAM time exceeds their compute time."""
        return sum(layer.bound == "memory" for layer in self.layers)


def _layer(op: Op, cfg: AB9, batch: int, dram_B: float) -> LayerPerf:
    e = cfg.energy
    dram_s = dram_B / cfg.dram_bandwidth_Bps
    fused = op.kind == "elementwise" and cfg.fuse_elementwise
    if not op.has_cycles or fused:
        energy = dict.fromkeys(ENERGY_COMPONENTS, 0.0)
        energy["dram"] = dram_B * e.dram_J_per_B
        energy["alu"] = op.alu_ops * batch * e.alu_J
        energy["static"] = e.static_W * dram_s
        bound = "memory" if dram_s > 0 else "none"
        return LayerPerf(op, None, 0, 0.0, dram_s, dram_s, bound, 0.0, dram_B, energy, 0.0)
    f = fold(batch * op.m, op.k, op.n, cfg.array_rows, cfg.array_cols, cfg.dataflow,
             cfg.n_arrays)  # fmt: skip
    cycles = f.cycles * op.groups
    compute_s = cycles / cfg.clock_Hz
    time_s = max(compute_s, dram_s)
    sram = sram_traffic(op, f, batch, cfg.psum_B, cfg.value_B).total_B
    work = (op.macs if op.is_gemm else op.m * op.k * op.n * op.groups) * batch
    energy = {
        "mac": op.macs * batch * e.mac_J,
        "alu": op.alu_ops * batch * e.alu_J,
        "pe_rf": op.macs * batch * cfg.pe_rf_accesses_per_mac * e.pe_rf_J,
        "sram": sram * e.sram_J_per_B,
        "dram": dram_B * e.dram_J_per_B,
        "static": e.static_W * time_s,
    }
    util = work / (time_s * cfg.clock_Hz * cfg.n_macs)
    bound = "memory" if dram_s > compute_s else "compute"
    return LayerPerf(op, f, cycles, compute_s, dram_s, time_s, bound, sram, dram_B, energy, util)


def simulate(ops: list[Op], config: AB9, batch: int | None = None) -> NetworkPerf:
    """Run a network's layers through the performance model of one chip.

    Parameters
    ----------
    ops : list of Op
        The network's layers in execution order (batch 1 shapes).
    config : AB9
        The chip.
    batch : int, optional
        Inputs per batch (default ``config.batch_size``); batch stacks along ``M``.

    Returns
    -------
    NetworkPerf
        Per-layer and total cycles, time, traffic and energy.
    """
    batch = config.batch_size if batch is None else batch
    require(isinstance(batch, int) and batch >= 1, "simulate", "batch", batch, "an integer >= 1")
    require(len(ops) > 0, "simulate", "ops", ops, "a non-empty list of layers")
    plan = plan_residency(ops, config.sram_bytes, config.value_B, config.weights_in_sram)
    micro = plan.micro_batch(ops, batch)
    passes = batch // micro
    layers = []
    for i, op in enumerate(ops):
        first, last = i == 0, i == len(ops) - 1
        micro_run = _repeat(_layer(op, config, micro, plan.dram_bytes(op, micro, first, last)),
                            passes)  # fmt: skip
        if passes > 1 or not plan.weights_resident:
            whole = _layer(op, config, batch, plan.dram_bytes(op, batch, first, last))
            micro_run = min(micro_run, whole, key=lambda la: la.time_s)
        layers.append(micro_run)
    return NetworkPerf(config, batch, layers, plan.weights_resident, micro)


def _repeat(layer: LayerPerf, passes: int) -> LayerPerf:
    """``layer`` run ``passes`` times in a row (micro-batches)."""
    if passes == 1:
        return layer
    return dataclasses.replace(
        layer, cycles=layer.cycles * passes, compute_s=layer.compute_s * passes,
        dram_s=layer.dram_s * passes, time_s=layer.time_s * passes,
        sram_B=layer.sram_B * passes, dram_B=layer.dram_B * passes,
        energy_J={k: v * passes for k, v in layer.energy_J.items()},
    )  # fmt: skip
