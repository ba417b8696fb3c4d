"""Multi-chip systems: data-parallel batch inference over ``n_chips`` AB9s (ArtBrain-S/K).

Every chip holds a full copy of the network and runs its own batches of
``config.batch_size`` inputs. The host feeds each chip over that chip's PCIe Gen3 x16 link
(128 Gbit/s, Cho 2020): the inputs go in and the outputs come back over it, overlapped
with compute, so a chip delivers a batch every ``max(t_compute, t_pcie)``. The weights are
distributed once per program, ``n_chips`` copies through one host link (``setup_s``);
steady-state throughput leaves that out.

Energy per batch per chip, by component (J):

- on the die (:data:`CHIP_COMPONENTS`): ``mac``, ``alu``, ``pe_rf``, ``sram`` from the
  chip's run, and
  ``static`` = ``static_W × batch_s``: leakage runs for the whole batch period, including the
  time a PCIe-bound chip waits for its next inputs (``batch_s − chip.time_s``);
- off the die (:data:`OFF_CHIP_COMPONENTS`): ``dram`` (LPDDR4 bytes), ``host_io`` (bytes over
  PCIe × ``host_io_J_per_B``) and ``board``: the conversion loss of the board's voltage
  regulators and the server's supply, ``E_load × (1 / (η_vr · η_psu) − 1)`` over everything
  above, plus ``board_power_W × batch_s``.

System power = ``n_chips × Σ energy / batch_s`` (W = J / s).

Published ArtBrain-K figures (ETRI 2021 achievement summary): 160 chips, 6,400 TFLOPS FP16
peak, 0.893 TFLOPS/W. The board model of the ArtBrain presets is built from cited
components (``npu/presets.py``), not from that figure, which is a held-out check
(``neuro/validate/digital.py``).
"""

from __future__ import annotations

import dataclasses

from npu.config import AB9
from npu.ops import Op
from npu.perf import NetworkPerf, simulate

__all__ = [
    "SystemPerf",
    "scale_out",
    "CHIP_COMPONENTS",
    "OFF_CHIP_COMPONENTS",
    "ARTBRAIN_K_TFLOPS",
    "ARTBRAIN_K_TFLOPS_PER_W",
]

#: ArtBrain-K, 160 AB9 (ETRI 2021 achievement summary): 6,400 TFLOPS FP16, 0.893 TFLOPS/W.
ARTBRAIN_K_TFLOPS = 6400.0
ARTBRAIN_K_TFLOPS_PER_W = 0.893
#: Energy components spent on the die, and off it.
CHIP_COMPONENTS = ("mac", "alu", "pe_rf", "sram", "static")
OFF_CHIP_COMPONENTS = ("dram", "host_io", "board")


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
    energy_J : dict[str, float]
        J per batch per chip by component (see the module docstring).
    power_W : float
        System power: ``n_chips × Σ energy_J / batch_s``.
    flops_per_W : float
        Achieved FLOP/s per W of the system.
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
    energy_J: dict[str, float]
    power_W: float
    flops_per_W: float
    setup_s: float
    pcie_bound: bool

    @property
    def chip_power_W(self) -> float:
        """Power of one die over the batch period (W): the :data:`CHIP_COMPONENTS`."""
        return sum(self.energy_J[c] for c in CHIP_COMPONENTS) / self.batch_s

    @property
    def chip_flops_per_W(self) -> float:
        """Achieved FLOP/s per W of the dies alone."""
        return self.achieved_flops / (self.n_chips * self.chip_power_W)


def scale_out(ops: list[Op], config: AB9) -> SystemPerf:
    """Steady-state batch inference of ``ops`` on the system ``config`` describes.

    Parameters
    ----------
    ops : list of Op
        The network (batch 1 shapes).
    config : AB9
        Chip and system: ``n_chips``, ``batch_size`` per chip, ``pcie_bandwidth_Bps``,
        ``host_io_J_per_B``, ``vr_efficiency``, ``psu_efficiency``, ``board_power_W``.

    Returns
    -------
    SystemPerf
        Throughput, FLOP/s, energy by component, power and efficiency of the system.
    """
    chip = simulate(ops, config)
    batch = config.batch_size
    io_B = (ops[0].in_elems + ops[-1].out_elems) * batch * config.value_B
    pcie_s = io_B / config.pcie_bandwidth_Bps
    batch_s = max(chip.time_s, pcie_s)
    throughput = config.n_chips * batch / batch_s
    flops = 2.0 * chip.macs / batch_s * config.n_chips
    e = chip.energy_J
    energy = {c: e[c] for c in ("mac", "alu", "pe_rf", "sram")}
    # Leakage over the whole batch period: the run, then any wait on PCIe.
    energy["static"] = e["static"] + config.static_W * (batch_s - chip.time_s)
    energy["dram"] = e["dram"]
    energy["host_io"] = io_B * config.host_io_J_per_B
    load_J = sum(energy.values())
    loss = 1.0 / (config.vr_efficiency * config.psu_efficiency) - 1.0
    energy["board"] = load_J * loss + config.board_power_W * batch_s
    power = config.n_chips * sum(energy.values()) / batch_s
    weight_B = sum(op.weight_elems for op in ops) * config.value_B
    setup_s = config.n_chips * weight_B / config.pcie_bandwidth_Bps
    return SystemPerf(
        chip, config.n_chips, pcie_s, batch_s, throughput, flops,
        config.n_chips * config.peak_flops, energy, power, flops / power, setup_s,
        pcie_s > chip.time_s,
    )  # fmt: skip
