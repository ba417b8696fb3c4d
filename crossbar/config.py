"""Frozen, validated configuration of a crossbar: converters, mapping, non-idealities, costs.

Every non-ideality is a switch here, so that its effect can be isolated: with an ideal
device, ``CrossbarConfig.ideal()`` reproduces ``torch`` matmul within float tolerance.
"""

from __future__ import annotations

import dataclasses

from devices.validation import param, require, validate

__all__ = ["DACConfig", "ADCConfig", "CostConfig", "CrossbarConfig"]


@dataclasses.dataclass(frozen=True)
class DACConfig:
    """Input digital-to-analog conversion on the word lines.

    The input magnitude ``|x|`` is quantised to ``bits`` bits over ``[0, r]`` (step
    ``r / (2**bits - 1)``); its sign is applied as the polarity of the read voltage, so
    non-negative inputs (after ReLU) use every code. ``mode="pwm"`` encodes the code as a
    pulse width (one analog read, one ADC conversion; for capacitive cells the code is an
    amplitude); ``mode="bit-serial"`` applies one binary bit plane per read and adds the
    digitised planes with shifts (ISAAC, Shafiee et al., ISCA 2016), so the ADC quantises
    each plane.

    Attributes
    ----------
    bits : int or None
        Magnitude bits; None is an ideal (unquantised) DAC.
    mode : {"pwm", "bit-serial"}
        Input encoding.
    range_mode : {"dynamic", "calibrated", "fixed"}
        ``r`` per input vector from its own max ``|x|`` (aihwkit's "noise management"),
        from :meth:`Crossbar.calibrate`, or ``range_value``.
    range_value : float
        ``r`` for ``range_mode="fixed"`` (input units).
    calibration_percentile : float
        Percentile of ``|x|`` over the calibration sample taken as ``r`` (100: the max).
    pwm_step_s : float
        Time resolution of a PWM input: a full-scale pulse lasts ``(2**bits − 1)`` steps.
        1 ns is an assumption (a 1 GHz pulse-width counter clock), not a measured figure.
    """

    bits: int | None = param(8, integer=True, ge=1, le=16, optional=True, doc="magnitude bits")
    mode: str = param("pwm", choices=("pwm", "bit-serial"), doc="input encoding")
    range_mode: str = param("dynamic", choices=("dynamic", "calibrated", "fixed"))
    range_value: float = param(1.0, gt=0.0, doc="input range for range_mode='fixed'")
    calibration_percentile: float = param(100.0, gt=50.0, le=100.0)
    pwm_step_s: float = param(1e-9, unit="s", gt=0.0, le=1e-3)

    def __post_init__(self) -> None:
        validate(self)
        require(
            self.mode != "bit-serial" or self.bits is not None, self, "bits", self.bits,
            "an integer when mode='bit-serial' (a bit-serial DAC has bits)",
        )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ADCConfig:
    """Column analog-to-digital conversion, after the differential/offset subtraction.

    A signed uniform quantiser of ``bits`` bits over ``[-FS, FS)``, step
    ``FS / 2**(bits-1)``, clipping outside. ``FS`` is calibrated from sample inputs
    (:meth:`Crossbar.calibrate`) or fixed at ``full_scale`` times ``Δg·V_read`` (the
    current of ``full_scale`` cells at full conductance and full input; aihwkit's
    ``IOParameters.out_bound`` default is 12 in the same normalised units).

    Attributes
    ----------
    bits : int or None
        Resolution; None is an ideal ADC.
    range_mode : {"calibrated", "fixed"}
        Where ``FS`` comes from.
    scope : {"column", "tile"}
        One calibrated ``FS`` per column, or one shared by all columns of a tile.
    full_scale : float
        ``FS`` in units of ``Δg·V_read`` for ``range_mode="fixed"``.
    calibration_percentile : float
        Percentile of ``|I|`` over the calibration sample taken as ``FS``.
    columns_per_adc : int
        Columns multiplexed onto one ADC (1: one per column; NeuroSim shares one by 8):
        changes latency and area, not the arithmetic.
    out_noise : float
        Std of the Gaussian output-referred noise added to each column signal at the ADC
        input (sense amplifier, integrator, ADC thermal noise), in units of ``Δg·V_read``
        (the signal of one full-scale weight at full input), drawn anew for every
        conversion (every bit plane in bit-serial mode). 0.06: aihwkit's
        ``IOParameters.out_noise`` default, in the same normalised units as its
        ``out_bound = 12`` (0.5 % of that bound). 0 turns it off.
    """

    bits: int | None = param(8, integer=True, ge=1, le=16, optional=True, doc="resolution")
    range_mode: str = param("calibrated", choices=("calibrated", "fixed"))
    scope: str = param("column", choices=("column", "tile"))
    full_scale: float = param(12.0, gt=0.0, doc="FS / (Δg·V_read) for range_mode='fixed'")
    calibration_percentile: float = param(100.0, gt=50.0, le=100.0)
    columns_per_adc: int = param(1, integer=True, ge=1, le=4096)
    out_noise: float = param(0.06, ge=0.0, le=100.0, doc="output noise std / (Δg·V_read)")

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """Constants of the energy, latency and area model, each with its source.

    Attributes
    ----------
    feature_size_m : float
        Technology node F. 32 nm: the node of ISAAC (Shafiee et al., ISCA 2016) whose
        periphery figures are used below.
    cell_area_F2 : float or None
        Cell area in F²; None: 48 F² for 1T1R (NeuroSim default, REFERENCES.md), 4 F²
        for a selector-less 0T1R cross-point (the minimum cross-point cell), and
        ``C_max / (1 fF/µm²)`` for capacitive cells (Demasius et al. 2025: ~1 fF/µm²).
    adc_energy_8bit_J : float
        SAR ADC energy per conversion at 8 bit: 1.67 pJ (ISAAC, 32 nm, 1.28 GS/s).
        Other resolutions scale with the Walden figure of merit, E ∝ 2**bits (Murmann,
        "ADC Performance Survey 1997–2024": the Walden FoM is the figure for the
        low-resolution, technology-limited SAR converters used in crossbars).
    adc_conversion_s : float
        Time per conversion: 1 / 1.28 GS/s (ISAAC).
    adc_area_8bit_m2 : float
        0.0012 mm² per 8-bit ADC (ISAAC: 8 ADCs, 0.0096 mm² per IMA), scaled ∝ 2**bits.
    dac_energy_1bit_J : float
        Energy per 1-bit DAC (word-line driver) operation: 4 mW for 8×128 1-bit DACs at
        a 100 ns crossbar cycle (ISAAC) = 0.39 pJ. A b-bit PWM drive counts as b of them.
    dac_area_1bit_m2 : float
        0.00017 mm² / 1024 1-bit DACs (ISAAC).
    wire_cap_F_per_m : float
        Interconnect capacitance 0.2 fF/µm (typical on-chip wire, the ITRS figure NeuroSim
        uses); word and bit lines charged to the read voltage cost ``C·V²``.
    digital_add_J : float
        One 32-bit integer add, 0.1 pJ (Horowitz, ISSCC 2014, 45 nm): shift-and-add of
        bit planes, bit slices and tile partial sums.
    digital_op_J : float
        One 8-bit digital op for non-MAC layers (ReLU, pooling): 0.03 pJ (Horowitz, INT8 add).
    buffer_J_per_byte : float
        SRAM buffer access: 5 pJ per 32-bit read from an 8 KB SRAM (Horowitz) = 1.25 pJ/byte.
    accumulator_area_m2 : float
        Shift-and-add unit area, 0.00006 mm² each (ISAAC: 4 units, 0.00024 mm²); one per
        ``columns_per_adc`` group.
    activation_bytes : int
        Bytes per activation in the buffers (8-bit activations).
    input_activity : float
        Mean ``|x| / r`` of the inputs, for cell-read and DAC energy when no measured
        figure is given (0.5: uniform inputs).
    charge_recovery : float
        Fraction of the line charge recovered in capacitive arrays (Demasius 2021 assume
        ~95 % for 29,600 TOPS/W; default 0: no recovery).
    """

    feature_size_m: float = param(32e-9, unit="m", gt=0.0, le=1e-6)
    cell_area_F2: float | None = param(None, gt=0.0, optional=True)
    adc_energy_8bit_J: float = param(1.67e-12, unit="J", ge=0.0)
    adc_conversion_s: float = param(1 / 1.28e9, unit="s", gt=0.0)
    adc_area_8bit_m2: float = param(0.0012e-6, unit="m^2", ge=0.0)
    dac_energy_1bit_J: float = param(0.39e-12, unit="J", ge=0.0)
    dac_area_1bit_m2: float = param(0.00017e-6 / 1024, unit="m^2", ge=0.0)
    wire_cap_F_per_m: float = param(0.2e-15 / 1e-6, unit="F/m", ge=0.0)
    digital_add_J: float = param(0.1e-12, unit="J", ge=0.0)
    digital_op_J: float = param(0.03e-12, unit="J", ge=0.0)
    buffer_J_per_byte: float = param(5e-12 / 4, unit="J", ge=0.0)
    accumulator_area_m2: float = param(0.00006e-6, unit="m^2", ge=0.0)
    activation_bytes: int = param(1, integer=True, ge=1, le=8)
    input_activity: float = param(0.5, ge=0.0, le=1.0)
    charge_recovery: float = param(0.0, ge=0.0, lt=1.0)

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True)
class CrossbarConfig:
    """How a weight matrix is mapped onto tiles and read, and which non-idealities act.

    Attributes
    ----------
    tile_rows, tile_cols : int
        Physical cells per tile (word lines × bit lines); default 256×256.
    mapping : {"differential", "offset"}
        A signed weight as ``G+ − G−`` on two columns, or as ``G − G_ref`` against one
        reference column per tile programmed to mid-range.
    n_slices : int
        Cells per weight polarity (bit slicing, ISAAC-style): the weight magnitude is
        split into ``n_slices`` digits of ``slice_bits`` bits, most significant first,
        recombined digitally with shifts. Needs ``mapping="differential"``.
    slice_bits : int or None
        Bits per slice; None (only with one slice) keeps the weight continuous (the device's
        own levels still apply).
    weight_scaling : {"column", "tile"}
        ``max|W|`` mapped to ``g_max`` per output column of each tile, or per tile.
    dac, adc : DACConfig, ADCConfig
        Converters.
    programming_noise, read_noise, drift : bool
        Device non-idealities on/off (off: write or read with ``generator=None``; no
        drift reads at ``t = 0``). Stuck-at faults and device-to-device variation are part
        of the device's programming (set their rates in the device config).
    drift_compensation : bool
        Global drift compensation measured through the periphery, as aihwkit's
        ``GlobalDriftCompensation`` and a chip do: a fixed reference input (one-hot
        full-scale inputs on each row of a tile) goes through the DAC, the cells as read
        (with their noise), the output noise and the ADC; the mean ``|output|`` per tile is
        kept after programming (and calibration) and measured again at the read time ``t``;
        each tile's partial sums are scaled by the ratio (one factor per tile, as aihwkit
        keeps one per analog tile).
    read_noise_mode : {"per-time", "per-call"}
        "per-time" (aihwkit: drift and 1/f read noise applied to the weights once per
        ``drift_analog_weights(t)``): the cells are read once per read time and that read
        serves every MVM until the time changes or :meth:`Crossbar.redraw` is called (a
        repeat redraws it), so the spread over repeats is that of the read noise.
        "per-call": every ``matvec`` draws a fresh read.
    ir_drop : {"none", "fast", "exact"}
        Wire resistance: off, the batched torch fixed-point solver, or the exact
        scipy.sparse nodal solver (slow; a reference).
    r_wire_ohm : float
        Wire resistance per cell segment, word and bit lines (Ω). 1 Ω is the order of a
        32 nm copper line over a ~0.1–0.2 µm cell pitch (ρ ≈ 4.5e-8 Ω·m with size effects,
        32×64 nm² cross-section gives ≈ 22 Ω/µm).
    cell_type : {"1T1R", "0T1R"}
        With an access transistor (all word lines driven during a read) or selector-less
        (word lines with zero input float: sneak paths through them).
    ir_drop_iterations : int
        Fixed-point iterations of the fast IR-drop solver.
    thermal_noise : bool
        kT/C noise of the charge-sharing readout (capacitive cells).
    temperature_K : float
        For kT/C.
    cost : CostConfig
        Energy/latency/area constants.
    self_test : bool
        Run one tiny program/matvec when a ``Crossbar`` is built (errors appear there).
    """

    tile_rows: int = param(256, integer=True, ge=1, le=65536)
    tile_cols: int = param(256, integer=True, ge=2, le=65536)
    mapping: str = param("differential", choices=("differential", "offset"))
    n_slices: int = param(1, integer=True, ge=1, le=16)
    slice_bits: int | None = param(None, integer=True, ge=1, le=8, optional=True)
    weight_scaling: str = param("column", choices=("column", "tile"))
    dac: DACConfig = dataclasses.field(default_factory=DACConfig)
    adc: ADCConfig = dataclasses.field(default_factory=ADCConfig)
    programming_noise: bool = True
    read_noise: bool = True
    drift: bool = True
    drift_compensation: bool = True
    read_noise_mode: str = param("per-time", choices=("per-time", "per-call"))
    ir_drop: str = param("none", choices=("none", "fast", "exact"))
    r_wire_ohm: float = param(1.0, unit="Ω", gt=0.0, le=1e6)
    cell_type: str = param("1T1R", choices=("1T1R", "0T1R"))
    ir_drop_iterations: int = param(8, integer=True, ge=1, le=1000)
    thermal_noise: bool = True
    temperature_K: float = param(300.0, unit="K", gt=0.0, le=1000.0)
    cost: CostConfig = dataclasses.field(default_factory=CostConfig)
    self_test: bool = True

    def __post_init__(self) -> None:
        validate(self)
        require(
            self.n_slices == 1 or self.mapping == "differential", self, "mapping",
            self.mapping, "'differential' when n_slices > 1",
        )  # fmt: skip
        require(
            self.n_slices == 1 or self.slice_bits is not None, self, "slice_bits",
            self.slice_bits, "an integer when n_slices > 1",
        )  # fmt: skip
        require(
            self.weight_cols_per_tile >= 1, self, "tile_cols", self.tile_cols,
            f"at least {self.cells_per_weight + (self.mapping == 'offset')} "
            "(cells per weight column, plus a reference column for 'offset')",
        )  # fmt: skip

    @property
    def polarities(self) -> int:
        """Cells per weight and slice: 2 for differential pairs, 1 for offset columns."""
        return 2 if self.mapping == "differential" else 1

    @property
    def cells_per_weight(self) -> int:
        """Physical cells (columns) per weight: polarities × slices."""
        return self.polarities * self.n_slices

    @property
    def weight_cols_per_tile(self) -> int:
        """Weight columns per tile: physical columns / cells per weight (− a reference)."""
        usable = self.tile_cols - (1 if self.mapping == "offset" else 0)
        return usable // self.cells_per_weight

    @classmethod
    def ideal(cls, **overrides) -> CrossbarConfig:
        """Every non-ideality off: ideal converters, no noise, drift or IR drop."""
        base = dict(
            dac=DACConfig(bits=None),
            adc=ADCConfig(bits=None, out_noise=0.0),
            programming_noise=False,
            read_noise=False,
            drift=False,
            drift_compensation=False,
            ir_drop="none",
            thermal_noise=False,
        )
        base.update(overrides)
        return cls(**base)
