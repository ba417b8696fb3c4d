"""Multi-chip systems: data-parallel batch inference over ``n_chips`` AB9s (ArtBrain-S/K).

Every chip holds a full copy of the network and runs its own batches of
``config.batch_size`` inputs. The host feeds each chip over that chip's PCIe Gen3 x16 link
(128 Gbit/s, Cho 2020): the FP16 inputs go in and the outputs come back over it, overlapped
with compute, so a chip delivers a batch every ``max(t_compute, t_pcie)``. The weights are
distributed once per program, ``n_chips`` copies through one host link
(``setup_s``); steady-state throughput leaves that out. Each chip draws its die power plus
``board_power_W`` (board, LPDDR4, host share).

Published ArtBrain-K figures (ETRI 2021 achievement summary): 160 chips, 6,400 TFLOPS FP16
peak, 0.893 TFLOPS/W.
"""

from __future__ import annotations

import dataclasses

from npu.config import AB9
from npu.memory import FP16_BYTES
from npu.ops import Op
from npu.perf import NetworkPerf, simulate

__all__ = ["SystemPerf", "scale_out", "ARTBRAIN_K_TFLOPS", "ARTBRAIN_K_TFLOPS_PER_W"]

#: ArtBrain-K, 160 AB9 (ETRI 2021 achievement summary): 6,400 TFLOPS FP16, 0.893 TFLOPS/W.
ARTBRAIN_K_TFLOPS = 6400.0
ARTBRAIN_K_TFLOPS_PER_W = 0.893


@dataclasses.dataclass(frozen=True)
class SystemPerf:
    """A network on ``n_chips`` chips in data parallel, at steady state.

    Attributes
    ----------
    chip : NetworkPerf
        One chip running one batch.
    n_chips : int
        Chips.
    pcie_s : float
        PCIe time per batch per chip (inputs in, outputs out), s.
    batch_s : float
        Time per batch per chip: ``max(chip.time_s, pcie_s)``.
    throughput : float
        Inferences per second of the system.
    achieved_flops : float
        2 × MACs per second of the system.
    peak_flops : float
        ``n_chips`` × the chip's peak FLOP/s.
    power_W : float
        System power: ``n_chips`` × (chip energy per batch / batch time + board power).
    flops_per_W : float
        Achieved FLOP/s per W.
    setup_s : float
        Time to send the weights to every chip through one host link (once per program).
    pcie_bound : bool
        The PCIe link, not the chip, limits throughput.
    """

    chip: NetworkPerf
    n_chips: int
    pcie_s: float
    batch_s: float
    throughput: float
    achieved_flops: float
    peak_flops: float
    power_W: float
    flops_per_W: float
    setup_s: float
    pcie_bound: bool


def scale_out(ops: list[Op], config: AB9) -> SystemPerf:
    """Steady-state batch inference of ``ops`` on the system ``config`` describes.

    Parameters
    ----------
    ops : list of Op
        The network (batch 1 shapes).
    config : AB9
        Chip and system: ``n_chips``, ``batch_size`` per chip, ``pcie_bandwidth_Bps``,
        ``board_power_W``.

    Returns
    -------
    SystemPerf
        Throughput, FLOP/s, power and efficiency of the whole system.
    """
    chip = simulate(ops, config)
    batch = config.batch_size
    io_B = (ops[0].in_elems + ops[-1].out_elems) * batch * FP16_BYTES
    pcie_s = io_B / config.pcie_bandwidth_Bps
    batch_s = max(chip.time_s, pcie_s)
    throughput = config.n_chips * batch / batch_s
    flops = 2.0 * chip.macs / batch_s * config.n_chips
    chip_W = sum(chip.energy_J.values()) / batch_s + config.energy.static_W * (
        batch_s - chip.time_s
    )
    power = config.n_chips * (chip_W + config.board_power_W)
    weight_B = sum(op.weight_elems for op in ops) * FP16_BYTES
    setup_s = config.n_chips * weight_B / config.pcie_bandwidth_Bps
    return SystemPerf(
        chip, config.n_chips, pcie_s, batch_s, throughput, flops,
        config.n_chips * config.peak_flops, power, flops / power, setup_s, pcie_s > chip.time_s,
    )  # fmt: skip
