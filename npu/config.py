"""The AB9 configuration: one frozen dataclass that decides every figure the model reports.

Figures and their sources (the defaults are ETRI AB9, see ``npu/README.md``):

- Cho et al., "AB9: A neural processor for inference acceleration", ETRI Journal 42(4),
  2020, doi:10.4218/etrij.2020-0134 ("Cho 2020"): 40 TFLOPS FP16 peak, 16,384 FP16 MACs,
  > 36 MB on-chip SRAM, LPDDR4 2 channels (332.8 Gbit/s = 41.6 GB/s), PCIe Gen3 x16
  (128 Gbit/s), 15–40 W, TSMC 28 nm, die 17 mm × 23 mm = 391 mm², quad-core CPU at 1 GHz.
- Han, Choi, Kwon, "40-TFLOPS artificial intelligence processor with function-safe
  programmable many-cores for ISO26262 ASIL-D", ETRI Journal 42(4), 2020,
  doi:10.4218/etrij.2020-0128 ("Han 2020"): the tensor engine is ONE 128 × 128 mesh of nano
  cores, 1.1 V, 28 nm, measured 1.3 TOPS/W.
- Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, slide
  "Rough energy costs for various operations" ("Horowitz 2014"), 45 nm, 0.9 V: FP16 multiply
  1.1 pJ, FP16 add 0.4 pJ, FP32 add 0.9 pJ; integer multiply 8 b 0.2 pJ, 32 b 3.1 pJ;
  integer add 8 b 0.03 pJ, 16 b 0.05 pJ, 32 b 0.1 pJ; 32-bit SRAM read (8 KB) 5 pJ;
  32-bit DRAM access 640 pJ.

A MAC is priced by what it is: the multiplier of its operand type plus the adder of its
accumulator (:data:`MULTIPLY_J_45NM`, :data:`ADD_J_45NM`), so FP16 products accumulated in
FP32 pay an FP32 add (Horowitz 0.9 pJ), not an FP16 one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from devices.validation import param, require, validate

__all__ = [
    "AB9",
    "EnergyModel",
    "scale_energy",
    "HOROWITZ_NODE_m",
    "HOROWITZ_VDD_V",
    "MULTIPLY_J_45NM",
    "ADD_J_45NM",
    "VALUE_BYTES",
    "PE_RF_ACCESS_PER_MAC_J",
    "ACCUMULATORS",
]

#: Horowitz 2014 energies are for a 45 nm process at 0.9 V (Horowitz 2014, slide "energy
#: table for 45 nm CMOS process").
HOROWITZ_NODE_m = 45e-9
HOROWITZ_VDD_V = 0.9

#: Multiplier energy by operand type at 45 nm, 0.9 V (J). Horowitz 2014: FP16 1.1 pJ,
#: INT8 0.2 pJ. INT16 is not in the table: an array multiplier's energy grows with the
#: square of the width, 0.2 pJ × (16/8)² = 0.8 pJ (the same law gives 3.2 pJ at 32 b
#: against the table's 3.1 pJ).
MULTIPLY_J_45NM: dict[str, float] = {"fp16": 1.1e-12, "int8": 0.2e-12, "int16": 0.8e-12}
#: Adder energy by accumulator type at 45 nm, 0.9 V (J): Horowitz 2014 FP16 add 0.4 pJ,
#: FP32 add 0.9 pJ, 16-bit integer add 0.05 pJ, 32-bit 0.1 pJ (8-bit: 0.03 pJ, the
#: elementwise add of INT8 data).
ADD_J_45NM: dict[str, float] = {
    "fp16": 0.4e-12,
    "fp32": 0.9e-12,
    "int8": 0.03e-12,
    "int16": 0.05e-12,
    "int32": 0.1e-12,
}
#: Energy of one access to a PE-local register file or scratchpad, relative to one MAC of
#: the same chip: 1× (Chen, Emer, Sze, "Eyeriss: a spatial architecture for energy-efficient
#: dataflow for CNNs", ISCA 2016, Table IV, normalised costs in a 65 nm process: ALU 1×,
#: RF 1×, PE to PE 2×, global buffer 6×, DRAM 200×).
PE_RF_ACCESS_PER_MAC_J = 1.0
#: Bytes per stored value of each type.
VALUE_BYTES: dict[str, int] = {"fp16": 2, "fp32": 4, "int8": 1, "int16": 2, "int32": 4}
#: The accumulators each operand type may use.
ACCUMULATORS: dict[str, tuple[str, ...]] = {
    "fp16": ("fp32", "fp16"),
    "int8": ("int32", "int16"),
    "int16": ("int32", "int16"),
}


def scale_energy(energy_45nm_J: float, node_m: float, vdd_V: float) -> float:
    """Scale a Horowitz 45 nm / 0.9 V switching energy to another node and supply.

    Switching energy is C·V²; under constant-field scaling the switched capacitance is
    proportional to the feature size (Dennard et al., IEEE JSSC 9(5), 1974), so
    ``E = E_45 · (node / 45 nm) · (V / 0.9 V)²``. For AB9 (28 nm, 1.1 V, Han 2020) the factor
    is 0.622 × 1.494 = 0.929.

    Parameters
    ----------
    energy_45nm_J : float
        Energy at 45 nm, 0.9 V (J).
    node_m : float
        Target feature size (m).
    vdd_V : float
        Target supply voltage (V).

    Returns
    -------
    float
        Energy at the target node and supply (J).
    """
    return energy_45nm_J * (node_m / HOROWITZ_NODE_m) * (vdd_V / HOROWITZ_VDD_V) ** 2


@dataclasses.dataclass(frozen=True)
class EnergyModel:
    """Energy per event, derived from the config's node and supply (J).

    Attributes
    ----------
    mac_J : float
        One multiply-accumulate: the operand type's multiply plus the accumulator's add
        (FP16 × FP16 + FP32: 1.1 + 0.9 pJ; + FP16: 1.1 + 0.4 pJ), scaled.
    alu_J : float
        One add/compare of the data type (pooling, elementwise), scaled.
    sram_J_per_B : float
        One byte read or written in on-chip SRAM: Horowitz 32-bit 8 KB SRAM read 5 pJ / 4 B,
        scaled (AB9 places its memory in small banks around and inside the mesh, Han 2020).
    dram_J_per_B : float
        One byte moved to or from LPDDR4: Horowitz 32-bit DRAM access 640 pJ / 4 B, not scaled
        (an off-chip interface; a DDR3-era upper bound for LPDDR4).
    static_W : float
        Leakage and always-on power of the chip (W), from the config.
    host_io_J_per_B : float
        One byte over the host link (PCIe), both ends (J/B), from the config.
    pe_rf_J : float
        One access to a PE-local register file (J): :data:`PE_RF_ACCESS_PER_MAC_J` × ``mac_J``.
    """

    mac_J: float
    alu_J: float
    sram_J_per_B: float
    dram_J_per_B: float
    static_W: float
    host_io_J_per_B: float = 0.0
    pe_rf_J: float = 0.0


@dataclasses.dataclass(frozen=True)
class AB9:
    """An AB9-like FP16 systolic NPU, or a system of several (ArtBrain-S/K).

    The defaults are ETRI's AB9 at its 1.25 GHz maximum clock. Use
    :func:`dataclasses.replace` or ``npu.presets.get(name).replace(...)`` for variants.

    Attributes
    ----------
    name : str
        Preset or variant name.
    n_arrays : int
        Systolic arrays (tensor cores). AB9 has one 128 × 128 mesh (Han 2020).
    array_rows, array_cols : int
        Processing elements per array (one FP16 MAC each). 128 × 128 (Han 2020).
    n_cpu_cores : int
        Control CPUs (AB9: a quad-core at 1 GHz, Cho 2020); they do not compute MACs.
    clock_Hz : float
        Array clock (Hz). 1.25 GHz maximum (Cho 2020; 1.0 GHz baseline, 1.2 GHz in Han 2020).
    sram_bytes : float
        On-chip SRAM (B). Cho 2020: "> 36 MB"; 36e6 is its lower bound.
    dram_bandwidth_Bps : float
        LPDDR4 bandwidth (B/s): 2 channels, 332.8 Gbit/s = 41.6e9 B/s (Cho 2020).
    pcie_bandwidth_Bps : float
        Host link per chip (B/s): PCIe Gen3 x16, 128 Gbit/s = 16e9 B/s (Cho 2020).
    power_min_W, power_max_W : float
        Published power envelope of one chip (W): 15–40 W (Cho 2020).
    node_m : float
        Process feature size (m): TSMC 28 nm (Cho 2020).
    vdd_V : float
        Core supply (V): 1.1 V (Han 2020).
    static_W : float
        Static power of one chip (W), drawn over the whole run including idle waits.
        AB9: fitted (``npu.calibration.calibrate_static_W``): a dense FP16 GEMM at 1.2 GHz
        and 1.1 V reaches the 1.3 TOPS/W measured by Han 2020 (registered as the fitted
        constant ``npu.ab9.static_W``). Other chips: their published idle power, or 0.
    die_area_m2 : float
        Die area (m²): 17 mm × 23 mm = 391 mm² (Cho 2020).
    dataflow : str
        ``"os"`` (output stationary) or ``"ws"`` (weight stationary).
    dtype : str
        Operand type of the MACs: ``"fp16"`` (AB9), ``"int8"`` (TPU v1), ``"int16"``
        (16-bit fixed point, Eyeriss). Sets the multiplier energy and the bytes per value.
    accumulate : str
        Accumulator type, one of :data:`ACCUMULATORS` for ``dtype`` (``"fp32"`` or
        ``"fp16"`` for FP16; ``"int32"`` or ``"int16"`` for integers). Sets the adder
        energy of each MAC and the bytes of a partial sum.
        AB9 default ``"fp16"``: the accumulator is not published, and an FP32-accumulating
        MAC priced by Horowitz (1.1 + 0.9 pJ, scaled: 1.86 pJ) alone exceeds the 1.54 pJ per
        MAC all-in that Han 2020 measured (1.3 TOPS/W), so only FP16 accumulation is
        consistent with that measurement under this energy model (``calibrate_static_W``
        returns −6.6 W for ``"fp32"``).
    pe_rf_accesses_per_mac : float
        Accesses to PE-local register files (scratchpads) per MAC: 0 for a systolic array
        whose operands pass through pipeline registers (AB9, TPU v1; those registers are
        not charged); 4 for Eyeriss's row-stationary PE, which reads a weight, an input and
        a partial sum from its scratchpads and writes the partial sum back for every MAC
        (Chen et al., JSSC 2017, §III).
    weights_in_sram : bool
        Whether weights may be held in on-chip SRAM. False for a chip whose SRAM holds only
        activations and whose weights always stream from DRAM (TPU v1's Weight FIFO,
        Jouppi et al. 2017, §2).
    batch_size : int
        Inputs per batch for throughput (and per chip of a multi-chip system).
    n_chips : int
        Chips working in data parallel (ArtBrain-S: 1, ArtBrain-K: 160).
    host_io_J_per_B : float
        Energy per byte over the host link, both ends (J/B). Default: PCIe PHY transmitter
        1.93 pJ/bit (Bae et al., "A 1.93-pJ/bit PCI Express Gen4 PHY transmitter ... in
        28 nm CMOS", Electronics 10(1):68, 2021, doi:10.3390/electronics10010068), a
        receiver taken as equal (our assumption): 2 × 1.93 pJ × 8 = 30.9 pJ/B.
    vr_efficiency : float
        Efficiency of the board's voltage regulators feeding the chip and its DRAM
        (fraction; 1 = a bare chip, no conversion loss charged).
    psu_efficiency : float
        Efficiency of the server's AC-DC power supply (fraction; 1 = not charged).
    board_power_W : float
        Further fixed power per chip outside the die (W), not counted by the components
        above. 0 unless a preset cites one.
    fuse_elementwise : bool
        Apply elementwise layers (activation, batch norm, residual add) to the producing
        layer's outputs as they leave the array (no cycles); False lowers them to
        depthwise passes over the array like pooling.
    """

    name: str = "ab9"
    n_arrays: int = param(1, integer=True, ge=1, le=4096, doc="systolic arrays")
    array_rows: int = param(128, integer=True, ge=1, le=4096, doc="PE rows per array")
    array_cols: int = param(128, integer=True, ge=1, le=4096, doc="PE columns per array")
    n_cpu_cores: int = param(4, integer=True, ge=0, le=1024, doc="control CPUs")
    clock_Hz: float = param(1.25e9, unit="Hz", gt=0.0, le=10e9)
    sram_bytes: float = param(36e6, unit="B", gt=0.0, le=1e12)
    dram_bandwidth_Bps: float = param(41.6e9, unit="B/s", gt=0.0, le=1e15)
    pcie_bandwidth_Bps: float = param(16e9, unit="B/s", gt=0.0, le=1e15)
    power_min_W: float = param(15.0, unit="W", ge=0.0, le=1e6)
    power_max_W: float = param(40.0, unit="W", gt=0.0, le=1e6)
    node_m: float = param(28e-9, unit="m", gt=1e-9, le=1e-6)
    vdd_V: float = param(1.1, unit="V", gt=0.1, le=5.0)
    static_W: float = param(1.99, unit="W", ge=0.0, le=1e4)
    die_area_m2: float = param(391e-6, unit="m^2", gt=0.0, le=1.0)
    dataflow: str = param("os", choices=("os", "ws"))
    dtype: str = param("fp16", choices=tuple(ACCUMULATORS))
    accumulate: str = param("fp16", choices=("fp32", "fp16", "int32", "int16"))
    pe_rf_accesses_per_mac: float = param(0.0, ge=0.0, le=64.0)
    weights_in_sram: bool = param(True, choices=(True, False))
    batch_size: int = param(1, integer=True, ge=1, le=1_000_000)
    n_chips: int = param(1, integer=True, ge=1, le=100_000)
    host_io_J_per_B: float = param(2 * 1.93e-12 * 8, unit="J/B", ge=0.0, le=1e-6)
    vr_efficiency: float = param(1.0, gt=0.0, le=1.0)
    psu_efficiency: float = param(1.0, gt=0.0, le=1.0)
    board_power_W: float = param(0.0, unit="W", ge=0.0, le=1e4)
    fuse_elementwise: bool = param(True, choices=(True, False))

    def __post_init__(self) -> None:
        require(isinstance(self.name, str) and bool(self.name), self, "name", self.name,
                "a non-empty string")  # fmt: skip
        validate(self)
        require(
            self.power_min_W <= self.power_max_W, self, "power_min_W", self.power_min_W,
            f"<= power_max_W ({self.power_max_W:g} W)",
        )  # fmt: skip
        allowed = ACCUMULATORS[self.dtype]
        require(
            self.accumulate in allowed, self, "accumulate", self.accumulate,
            f"one of {', '.join(repr(a) for a in allowed)} for dtype {self.dtype!r}",
        )  # fmt: skip

    @property
    def value_B(self) -> int:
        """Bytes per stored operand (activation or weight): 2 for FP16 and INT16, 1 for INT8."""
        return VALUE_BYTES[self.dtype]

    @property
    def psum_B(self) -> int:
        """Bytes per partial sum: the accumulator's width."""
        return VALUE_BYTES[self.accumulate]

    @property
    def n_macs(self) -> int:
        """MAC units on one chip (AB9: 16,384)."""
        return self.n_arrays * self.array_rows * self.array_cols

    @property
    def peak_flops(self) -> float:
        """Peak ops/s of one chip: 2 × MACs × clock (AB9 at 1.25 GHz: 40.96e12 FLOP/s)."""
        return 2.0 * self.n_macs * self.clock_Hz

    @property
    def energy(self) -> EnergyModel:
        """Energy per event at this config's node and supply (see :class:`EnergyModel`)."""
        mac_45 = MULTIPLY_J_45NM[self.dtype] + ADD_J_45NM[self.accumulate]  # Horowitz 2014
        mac_J = scale_energy(mac_45, self.node_m, self.vdd_V)
        return EnergyModel(
            mac_J=mac_J,
            alu_J=scale_energy(ADD_J_45NM[self.dtype], self.node_m, self.vdd_V),
            sram_J_per_B=scale_energy(5e-12 / 4, self.node_m, self.vdd_V),  # Horowitz 2014
            dram_J_per_B=640e-12 / 4,  # Horowitz 2014, 32-bit DRAM access
            static_W=self.static_W,
            host_io_J_per_B=self.host_io_J_per_B,
            pe_rf_J=PE_RF_ACCESS_PER_MAC_J * mac_J,
        )

    @property
    def models_board(self) -> bool:
        """Whether a board around the chip is modelled (regulator or supply losses, or a
        fixed board power); a bare chip has none."""
        return not (
            self.vr_efficiency == 1.0 and self.psu_efficiency == 1.0 and self.board_power_W == 0.0
        )

    def replace(self, **changes: Any) -> AB9:
        """A copy with ``changes`` applied (validated like any config)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-serialisable)."""
        return dataclasses.asdict(self)
