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


#: Horowitz (ISSCC 2014) figures are at 45 nm and 0.9 V; CostConfig's defaults are at 32 nm
#: and 1.0 V (ISAAC's node), so they are scaled by C·V²: (32/45)·(1.0/0.9)² = 0.878.
_H45_TO_32 = (32.0 / 45.0) * (1.0 / 0.9) ** 2


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """Constants of the energy, latency and area model, each with its source.

    Switching energies are at ``feature_size_m`` and ``vdd_V``; :meth:`scaled` moves them to
    another node and supply by C·V² (``E ∝ F·V²``, constant-field scaling, Dennard 1974 — the
    same rule as :func:`npu.scale_energy`). ``feature_size_m`` and ``vdd_V`` label the
    constants (and set the cell area): changing them alone does not rescale the energies;
    use :meth:`scaled`.

    Attributes
    ----------
    feature_size_m : float
        Technology node F. 32 nm: the node of ISAAC (Shafiee et al., ISCA 2016) whose
        periphery figures are used below.
    vdd_V : float
        Supply the periphery energies refer to. ISAAC does not state one; 1.0 V, the nominal
        supply of 32 nm logic, is assumed.
    cell_area_F2 : float or None
        Cell area in F²; None: 48 F² for 1T1R (NeuroSim default, REFERENCES.md), 4 F²
        for a selector-less 0T1R cross-point (the minimum cross-point cell), and
        ``C_max / (1 fF/µm²)`` for capacitive cells (Demasius et al. 2025: ~1 fF/µm²).
    adc_energy_J : tuple of float
        SAR ADC energy per conversion at 4, 5, …, 10 bit: 0.79, 0.99, 1.20, 1.42, 1.67, 1.97,
        2.38 pJ (ISAAC's 32 nm, 1.28 GS/s SAR as encoded in Accelergy's
        ``hwcomponents-library`` ``isaac.py``; close to linear in bits). Outside 4–10 bit
        the survey laws of Murmann's "ADC Performance Survey 1997–2024" extend it: below
        4 bit a constant Walden figure of merit (E ∝ 2^b, the technology-limited regime of
        low-resolution converters), above 10 bit a constant Schreier figure of merit
        (E ∝ 4^b, the thermal-noise-limited regime). See :func:`crossbar.cost.adc_energy`.
    adc_conversion_s : float
        Time per conversion: 1 / 1.28 GS/s (ISAAC).
    adc_area_8bit_m2 : float
        0.0012 mm² per 8-bit ADC (ISAAC: 8 ADCs, 0.0096 mm² per IMA), scaled ∝ 2**bits.
    dac_energy_1bit_J : float
        One word-line drive (a 1-bit DAC operation): 4 mW for 8×128 1-bit DACs at a 100 ns
        crossbar cycle (ISAAC) = 0.39 pJ. A bit-serial input costs one per bit plane; a
        PWM input costs one drive (the pulse's rising and falling edge) plus its counter
        (``pwm_step_J``); an amplitude-coded (capacitive) b-bit input costs b of them.
    pwm_step_J : float
        One step of a row's b-bit PWM down-counter/comparator at b = 8 (scaled ∝ b/8): one
        INT8 add, 0.03 pJ (Horowitz 2014, 45 nm) scaled to 32 nm = 0.026 pJ. A row loaded
        with code x counts x steps, so a pulse costs ``x·pwm_step_J·b/8`` plus one drive.
    dac_area_1bit_m2 : float
        0.00017 mm² / 1024 1-bit DACs (ISAAC).
    wire_cap_F_per_m : float
        Interconnect capacitance 0.2 fF/µm (typical on-chip wire, the ITRS figure NeuroSim
        uses); word and bit lines charged to the read voltage cost ``C·V²``.
    digital_add_J : float
        One 32-bit integer add (shift-and-add of bit planes, slices and tile partial sums):
        0.1 pJ (Horowitz 2014, 45 nm) scaled to 32 nm = 0.088 pJ.
    digital_op_J : float
        One 8-bit digital op for non-MAC layers (ReLU, pooling): INT8 add 0.03 pJ (Horowitz
        2014) scaled to 32 nm = 0.026 pJ.
    digital_mac_J : float
        One INT8 multiply-accumulate of a weight layer kept digital (the analog target's
        ``digital_layers``): an 8-bit multiply 0.2 pJ and a 32-bit add 0.1 pJ (Horowitz
        2014) scaled to 32 nm = 0.26 pJ.
    buffer_J_per_byte : float
        SRAM buffer access: 5 pJ per 32-bit read from an 8 KB SRAM (Horowitz 2014) = 1.25
        pJ/byte, scaled to 32 nm = 1.10 pJ/byte.
    accumulator_area_m2 : float
        Shift-and-add unit area, 0.00006 mm² each (ISAAC: 4 units, 0.00024 mm²); one per
        ``columns_per_adc`` group.
    activation_bytes : int
        Bytes per activation in the buffers and over the host link (8-bit activations).
    input_activity : float
        Mean ``|x| / r`` of the inputs when no measured figure is given (0.5: uniform
        inputs); the analog target measures it per layer on the calibration batch
        (:class:`crossbar.cost.InputStats`).
    charge_recovery : float
        Fraction of the line charge recovered in capacitive arrays (Demasius 2021 assume
        ~95 % for 29,600 TOPS/W; default 0: no recovery).
    adc_type : {"cco", "sar"}
        How a column lane converts, which sets what its converter costs (a converter-type
        dependent cost):

        - ``"cco"``: an integrating, oscillator-based converter (a current- or
          voltage-controlled oscillator counted over the read window, as in IBM's HERMES
          core and 64-core chip, Khaddam-Aljameh et al. JSSC 2022: CCO > 3 GHz). It runs
          for the whole window and its conversion, so each used lane draws the running
          power of a GS/s-class converter, :func:`crossbar.cost.adc_power` =
          ``adc_energy(b) / adc_conversion_s`` (ISAAC's 8-bit ADC: 1.67 pJ × 1.28 GS/s =
          2.1 mW at 32 nm; ISAAC's own Table 2 gives 16 mW for 8 ADCs, 2.0 mW), for
          ``read_phases × (window + columns_per_adc · t_conversion)`` per pass.
        - ``"sar"``: a successive-approximation converter idle between conversions: one
          ``adc_energy(b)`` per conversion.

        The default is ``"cco"``, the converter of the measured PCM chips the model is
        validated on (:mod:`neuro.validate.analog`).
    static_W_per_adc : float
        Bias and leakage of one used column lane beyond its converter and the tile figures
        below, drawn while its tile computes. Default 0: a lane's converter leakage is part
        of its running power (PUMA's 8-bit ADC: 0.2 mW leakage of its 2.0 mW, in ``adc``
        with ``adc_type="cco"``), and no independent figure for more was found.
    control_W_per_tile : float
        Control of one powered tile: PUMA's core control unit (instruction fetch, decode
        and pipeline registers), 1.25 mW at its 0.2 activity factor = 0.25 mW (Ankit et
        al., "PUMA", ASPLOS 2019, 32 nm; the ``ccu_pow`` figure of its simulator's
        component table). One per tile, whatever its size.
    register_leak_W_per_line : float
        Leakage of a tile's input and output registers per word or bit line: PUMA's
        crossbar input and output memories leak 0.075 mW each at 256 lines (0.04 mW at 128,
        close to linear), so 0.075 mW / 256 = 0.29 µW per line, charged for
        ``tile_rows + tile_cols`` lines (same source).
    dac_leak_W : float
        Leakage of one row's 1-bit DAC: 0.39 µW (PUMA, ``dac_pow_leak``, after ISAAC's DAC).
        The three tile figures make the ``static`` group: 0.50 mW for a 256×256 tile at
        32 nm, charged for every tile of a layer over that layer's passes (idle tiles are
        taken as power-gated). None of them is fitted to a measured chip.
    read_phases : int
        Sequential read phases per MVM (1; IBM's "four-phase" mode reads the sign
        quadrants of inputs and weights in four integration windows, Le Gallo et al.,
        Nature Electronics 2023): multiplies the integration time, the conversions and
        the static time; each cell still conducts once.
    host_io_J_per_byte : float
        Host link per byte, both ends: PCIe PHY transmitter 1.93 pJ/bit (Bae et al.,
        Electronics 10(1):68, 2021) and a receiver taken as equal, 2 × 1.93 × 8 = 30.9
        pJ/B — the figure the NPU target uses (``npu.AB9.host_io_J_per_B``). Not scaled.
    """

    feature_size_m: float = param(32e-9, unit="m", gt=0.0, le=1e-6)
    vdd_V: float = param(1.0, unit="V", gt=0.0, le=5.0)
    cell_area_F2: float | None = param(None, gt=0.0, optional=True)
    adc_energy_J: tuple[float, ...] = (0.79e-12, 0.99e-12, 1.20e-12, 1.42e-12, 1.67e-12,
                                       1.97e-12, 2.38e-12)  # fmt: skip
    adc_conversion_s: float = param(1 / 1.28e9, unit="s", gt=0.0)
    adc_area_8bit_m2: float = param(0.0012e-6, unit="m^2", ge=0.0)
    dac_energy_1bit_J: float = param(0.39e-12, unit="J", ge=0.0)
    pwm_step_J: float = param(0.03e-12 * _H45_TO_32, unit="J", ge=0.0)
    dac_area_1bit_m2: float = param(0.00017e-6 / 1024, unit="m^2", ge=0.0)
    wire_cap_F_per_m: float = param(0.2e-15 / 1e-6, unit="F/m", ge=0.0)
    digital_add_J: float = param(0.1e-12 * _H45_TO_32, unit="J", ge=0.0)
    digital_op_J: float = param(0.03e-12 * _H45_TO_32, unit="J", ge=0.0)
    digital_mac_J: float = param(0.3e-12 * _H45_TO_32, unit="J", ge=0.0)
    buffer_J_per_byte: float = param(5e-12 / 4 * _H45_TO_32, unit="J", ge=0.0)
    accumulator_area_m2: float = param(0.00006e-6, unit="m^2", ge=0.0)
    activation_bytes: int = param(1, integer=True, ge=1, le=8)
    input_activity: float = param(0.5, ge=0.0, le=1.0)
    charge_recovery: float = param(0.0, ge=0.0, lt=1.0)
    adc_type: str = param("cco", choices=("cco", "sar"))
    static_W_per_adc: float = param(0.0, unit="W", ge=0.0, le=1.0)
    control_W_per_tile: float = param(1.25e-3 * 0.2, unit="W", ge=0.0, le=1.0)
    register_leak_W_per_line: float = param(0.075e-3 / 256, unit="W", ge=0.0, le=1e-3)
    dac_leak_W: float = param(0.39e-6, unit="W", ge=0.0, le=1e-3)
    read_phases: int = param(1, integer=True, ge=1, le=16)
    host_io_J_per_byte: float = param(2 * 1.93e-12 * 8, unit="J", ge=0.0)

    def __post_init__(self) -> None:
        validate(self)
        e = self.adc_energy_J
        require(
            isinstance(e, tuple) and len(e) == 7
            and all(isinstance(v, float) and v > 0 for v in e)
            and all(a <= b for a, b in zip(e, e[1:])),
            self, "adc_energy_J", e,
            "a tuple of 7 increasing energies > 0 J, for 4 to 10 bits",
        )  # fmt: skip

    def scaled(self, feature_size_m: float, vdd_V: float) -> CostConfig:
        """These constants at another node and supply.

        Switching energies and the static power (at the same clock) scale by
        ``(F'/F)·(V'/V)²``, areas by ``(F'/F)²``; times, the wire capacitance per length
        and the host link do not change.
        """
        k = (feature_size_m / self.feature_size_m) * (vdd_V / self.vdd_V) ** 2
        a = (feature_size_m / self.feature_size_m) ** 2
        return dataclasses.replace(
            self,
            feature_size_m=feature_size_m,
            vdd_V=vdd_V,
            adc_energy_J=tuple(v * k for v in self.adc_energy_J),
            adc_area_8bit_m2=self.adc_area_8bit_m2 * a,
            dac_energy_1bit_J=self.dac_energy_1bit_J * k,
            pwm_step_J=self.pwm_step_J * k,
            dac_area_1bit_m2=self.dac_area_1bit_m2 * a,
            digital_add_J=self.digital_add_J * k,
            digital_op_J=self.digital_op_J * k,
            digital_mac_J=self.digital_mac_J * k,
            buffer_J_per_byte=self.buffer_J_per_byte * k,
            accumulator_area_m2=self.accumulator_area_m2 * a,
            static_W_per_adc=self.static_W_per_adc * k,
            control_W_per_tile=self.control_W_per_tile * k,
            register_leak_W_per_line=self.register_leak_W_per_line * k,
            dac_leak_W=self.dac_leak_W * k,
        )


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
    ir_drop : {"none", "auto", "exact", "fast"}
        Wire resistance of word and bit lines. "exact": the tile's exact linear map with
        its wires (:func:`crossbar.irdrop.transfer_matrix`), computed once per read (a
        256×256 tile: ~1 s of CPU) and then applied as one matmul per MVM, as cheap as
        "none". "auto": "exact" where the wires matter, i.e. for resistive cells whose
        tile criterion ``κ = r·G_max·N²/2`` exceeds :data:`crossbar.irdrop.AUTO_KAPPA`
        (1, where column currents fall to ~60 % of ideal and the measured accuracy cost
        becomes points, not tenths), else "none" — the analog target's default
        (``neuro.targets.analog``): on 256×256 tiles at 1 Ω the ReRAM preset (κ = 2.9)
        gets it; PCM (0.82, ≤ 0.15 points measured), FeFET (0.06) and capacitive cells not. "fast":
        the batched fixed-point solver (approximate; valid for ``κ ≲ 1``). "none" (the
        default of a bare ``Crossbar``): ideal wires.
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
    ir_drop: str = param("none", choices=("none", "auto", "exact", "fast"))
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
