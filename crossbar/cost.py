"""Energy, latency and area of a weight matrix on crossbar tiles (per matrix-vector pass).

One *pass* sends one input vector through every tile of the matrix (tiles work in
parallel). Inputs are coded as the DAC applies them: ``u = |x|/r`` quantised to ``b`` bits
(code ``x = u·(2^b − 1)``). Per pass, with ``P`` the read phases of
``CostConfig.read_phases``, ``B = b`` bit planes for bit-serial inputs (else 1), and the
input statistics ``E[u]``, ``E[u²]``, the fraction of non-zero codes and the mean fraction
of 1-bits per plane (:class:`InputStats`, measured per layer or from a scalar activity):

* ``cell_read`` (group compute): every driven cell, ``G`` the mean programmed conductance
  (or capacitance), ``V`` the read voltage.

  - PWM, conductance: a cell conducts ``x·pwm_step`` for code ``x``:
    ``E = G·V²·E[u]·(2^b − 1)·pwm_step`` (not ``t_read``).
  - bit-serial, conductance: ``t_read`` per plane per 1-bit: ``E = G·V²·t_read·b·ones``.
  - capacitive, amplitude-coded (PWM mode): ``E = C·V²·E[u²]·(1 − charge_recovery)``;
    bit-serial: ``C·V²·b·ones·(1 − recovery)``.

* ``dac`` (conversion): bit-serial, one 1-bit drive per row and plane (ISAAC); PWM, one
  drive per non-zero row plus its down-counter, ``E[u]·(2^b − 1)`` steps of
  ``pwm_step_J·b/8``; amplitude-coded (capacitive), b 1-bit drives per row.
* ``drivers`` (conversion): the word line's wire capacitance ``C_wl·V²`` per charge: once
  per non-zero PWM pulse, ``E[u²]`` for amplitudes, ``b·ones`` for bit planes.
* ``adc`` (conversion), by ``CostConfig.adc_type``: a SAR converter (``"sar"``) costs one
  :func:`adc_energy` of the resolution per conversion — one per weight column, slice,
  plane and phase (after the analog differential/offset subtraction); an integrating,
  oscillator-based converter (``"cco"``, the default: IBM's PCM chips) runs through the
  read window and its conversion, so every lane that carries a used weight column draws
  :func:`adc_power` for the pass's time.
* ``accumulation`` (compute): one digital add per output, slice, plane, phase and row tile.
* ``buffers`` (movement): inputs read and outputs written once per pass (SRAM per byte).
* ``static`` (static): every tile of the matrix draws its control, register and DAC
  leakage power (:func:`tile_static_power`: PUMA's 32 nm figures, 0.50 mW for 256×256)
  and every lane that carries a used weight column ``static_W_per_adc`` (default 0), for
  the pass's time. Idle tiles and lanes of unused columns are taken as power-gated: a
  layer's tiles are charged for that layer's passes only.

Latency per pass: ``B·P·(t_phase + columns_per_adc·t_conversion)`` with ``t_phase`` the
device's read time (bit-serial) or the PWM window ``(2^b − 1)·pwm_step_s`` (at least the
read time). Area: cells (F² or, for capacitive cells, ``C_max`` at 1 fF/µm²), ADCs, DACs
and shift-and-add units. An ideal converter (``bits=None``) is costed as 8-bit.
Constants and their sources: :class:`crossbar.config.CostConfig`.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from crossbar.config import CostConfig, CrossbarConfig
from crossbar.mapping import TileMap
from devices.base import DeviceModel

__all__ = [
    "CostReport",
    "InputStats",
    "matrix_cost",
    "cell_area_m2",
    "adc_energy",
    "adc_power",
    "tile_static_power",
    "programmed_mean",
    "COMPONENTS",
    "COMPONENT_GROUPS",
]

#: Energy components, in the order reported.
COMPONENTS = ("cell_read", "dac", "adc", "drivers", "accumulation", "buffers", "static")
#: The energy group (``neuro.result.ENERGY_GROUPS``) of each component.
COMPONENT_GROUPS = {
    "cell_read": "compute",
    "accumulation": "compute",
    "dac": "conversion",
    "drivers": "conversion",
    "adc": "conversion",
    "buffers": "movement",
    "static": "static",
}

#: Capacitance density of a memcapacitor cell: ~1 fF/µm² (Demasius, Lowa, Murmann 2025).
CAP_DENSITY_F_PER_M2 = 1e-15 / 1e-12
#: Resolutions of ``CostConfig.adc_energy_J``.
ADC_TABLE_BITS = tuple(range(4, 11))


def adc_energy(bits: int, cost: CostConfig) -> float:
    """Energy of one conversion at ``bits`` (J).

    4–10 bit: the ISAAC/Accelergy series of ``cost.adc_energy_J``. Below 4 bit: ×2 per bit
    down from 4 bit (constant Walden FoM); above 10 bit: ×4 per bit up from 10 bit
    (constant Schreier FoM) — Murmann, "ADC Performance Survey 1997–2024".
    """
    table = cost.adc_energy_J
    if bits < ADC_TABLE_BITS[0]:
        return table[0] * 2.0 ** (bits - ADC_TABLE_BITS[0])
    if bits > ADC_TABLE_BITS[-1]:
        return table[-1] * 4.0 ** (bits - ADC_TABLE_BITS[-1])
    return table[bits - ADC_TABLE_BITS[0]]


def adc_power(bits: int, cost: CostConfig) -> float:
    """Running power of one converter at ``bits`` (W): :func:`adc_energy` at the
    converter's rate ``1 / cost.adc_conversion_s`` (ISAAC: 1.67 pJ × 1.28 GS/s = 2.1 mW at
    8 bit, 32 nm; ISAAC's Table 2 gives 2.0 mW). What an integrating converter
    (``adc_type="cco"``) draws for as long as it runs."""
    return adc_energy(bits, cost) / cost.adc_conversion_s


def tile_static_power(config: CrossbarConfig) -> float:
    """Static power of one powered tile (W): control, I/O register and DAC leakage.

    ``control_W_per_tile + register_leak_W_per_line·(rows + cols) + dac_leak_W·rows``
    of :class:`crossbar.config.CostConfig` (PUMA, Ankit et al. ASPLOS 2019, 32 nm):
    0.25 + 0.15 + 0.10 = 0.50 mW for a 256×256 tile.
    """
    c = config.cost
    lines = config.tile_rows + config.tile_cols
    return (
        c.control_W_per_tile + c.register_leak_W_per_line * lines + c.dac_leak_W * config.tile_rows
    )


@dataclasses.dataclass(frozen=True)
class InputStats:
    """Statistics of the input codes as the DAC applies them (``u = |x|/r``, quantised).

    Attributes
    ----------
    mean_abs : float
        ``E[u]`` in [0, 1]: the PWM duty (conduction time / full window).
    mean_sq : float
        ``E[u²]``: the energy of amplitude-coded (capacitive) inputs.
    nonzero : float
        Fraction of inputs with a non-zero code (rows that are pulsed at all).
    ones : float
        Mean fraction of 1-bits over the ``b`` bit planes (bit-serial inputs).
    """

    mean_abs: float
    mean_sq: float
    nonzero: float
    ones: float

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, float) and 0.0 <= v <= 1.0):
                raise ValueError(f"InputStats.{f.name} must be a fraction in [0, 1]; got {v!r}")

    @classmethod
    def from_activity(cls, activity: float) -> InputStats:
        """Statistics assumed from a mean activity ``a`` alone: ``u`` uniform on
        ``[0, 2a]`` (``a ≤ 0.5``), so ``E[u²] = 4a²/3`` (at most ``a``), every row driven,
        and as many 1-bits as ``a``."""
        a = float(activity)
        return cls(a, min(4.0 * a * a / 3.0, a), 1.0 if a > 0 else 0.0, a)

    @classmethod
    def measure(cls, x: torch.Tensor, config: CrossbarConfig) -> InputStats:
        """Statistics of input vectors ``x (B, K)`` under ``config.dac``.

        The range ``r`` is taken as the DAC takes it: per vector and row tile (dynamic),
        the configured percentile of ``|x|`` over the batch (calibrated; the batch is the
        calibration sample), or ``range_value`` (fixed). An ideal DAC is counted as 8-bit.
        """
        dac = config.dac
        bits = dac.bits or 8
        x = x.detach().reshape(x.shape[0], -1).abs().double()
        b, k = x.shape
        if dac.range_mode == "dynamic":
            rows = min(config.tile_rows, k)
            tiles = math.ceil(k / rows)
            xp = x.new_zeros((b, tiles * rows))
            xp[:, :k] = x
            r = xp.view(b, tiles, rows).amax(-1, keepdim=True)
            u = xp.view(b, tiles, rows) / torch.where(r > 0, r, torch.ones_like(r))
            u = u.reshape(b, -1)[:, :k]
        elif dac.range_mode == "calibrated":
            r = torch.quantile(x.reshape(-1).float(), dac.calibration_percentile / 100.0).double()
            u = x / (r if r > 0 else 1.0)
        else:
            u = x / dac.range_value
        levels = 2**bits - 1
        code = torch.round(u.clamp(0.0, 1.0) * levels)
        uq = code / levels
        ci = code.to(torch.int64)
        ones = sum(((ci >> j) & 1).double().mean() for j in range(bits)) / bits
        return cls(
            float(uq.mean()), float((uq * uq).mean()), float((ci > 0).double().mean()),
            float(ones),
        )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CostReport:
    """Cost of ``n_vectors`` passes through one matrix.

    Attributes
    ----------
    energy_J : dict[str, float]
        Energy by component (:data:`COMPONENTS`), J.
    latency_s : float
        ``n_vectors`` passes one after the other, s.
    area_m2 : float
        Cells and periphery of every tile, m².
    area_breakdown_m2 : dict[str, float]
        ``cells``, ``adc``, ``dac``, ``accumulators``.
    tiles, cells : int
        Tiles and physical cells (whole tiles).
    adc_conversions : int
        Conversions for ``n_vectors`` passes.
    """

    energy_J: dict[str, float]
    latency_s: float
    area_m2: float
    area_breakdown_m2: dict[str, float]
    tiles: int
    cells: int
    adc_conversions: int

    @property
    def total_energy_J(self) -> float:
        """Sum of :attr:`energy_J`."""
        return float(sum(self.energy_J.values()))


def cell_area_m2(device: DeviceModel, config: CrossbarConfig) -> float:
    """Area of one cell, m² (see :class:`~crossbar.config.CostConfig.cell_area_F2`)."""
    c = config.cost
    if c.cell_area_F2 is not None:
        return c.cell_area_F2 * c.feature_size_m**2
    if device.quantity == "capacitance":
        return device.g_max / CAP_DENSITY_F_PER_M2
    f2 = 48.0 if config.cell_type == "1T1R" else 4.0  # NeuroSim 1T1R; 4F² cross-point
    return f2 * c.feature_size_m**2


def programmed_mean(weight: torch.Tensor, device: DeviceModel, config: CrossbarConfig) -> float:
    """Mean target value (S or F) of the cells that ``weight (N, K)`` programs under
    ``config`` (noise-free; differential pairs, offset columns and slices as mapped)."""
    w = weight.detach().reshape(weight.shape[0], -1).double()
    tm = TileMap.build(w.shape[0], w.shape[1], config)
    targets, _ = tm.targets(w, device.g_min, device.g_max)
    return float(targets.mean())


def matrix_cost(
    device: DeviceModel,
    config: CrossbarConfig,
    n_out: int,
    n_in: int,
    n_vectors: int = 1,
    input_activity: float | InputStats | None = None,
    *,
    mean_value: float | None = None,
) -> CostReport:
    """Energy, latency and area of ``n_vectors`` MVMs with an ``(n_out, n_in)`` matrix.

    Parameters
    ----------
    device : DeviceModel
        The cell.
    config : CrossbarConfig
        Mapping, converters and cost constants.
    n_out, n_in : int
        Matrix shape.
    n_vectors : int
        Passes (output positions of a convolution, or 1 for a linear layer).
    input_activity : float or InputStats, optional
        Measured input statistics, or a mean ``|x| / r`` (:meth:`InputStats.from_activity`);
        default ``config.cost.input_activity``.
    mean_value : float, optional
        Mean programmed conductance (S) or capacitance (F) of the cells
        (:func:`programmed_mean`); default the device's mid-range ``(g_min + g_max)/2``.
    """
    c = config.cost
    tm = TileMap.build(n_out, n_in, config)
    if input_activity is None:
        input_activity = c.input_activity
    st = (
        input_activity
        if isinstance(input_activity, InputStats)
        else InputStats.from_activity(input_activity)
    )
    bits = config.dac.bits or 8
    adc_bits = config.adc.bits or 8
    serial = config.dac.mode == "bit-serial"
    planes = bits if serial else 1
    phases = planes * c.read_phases
    levels = 2**bits - 1
    v2 = device.read_voltage_V**2
    g = 0.5 * (device.g_min + device.g_max) if mean_value is None else float(mean_value)
    rows = n_in * tm.tiles_c  # driven word-line segments
    cells = rows * tm.phys_cols
    capacitive = device.quantity == "capacitance"
    if serial:
        drive = bits * st.ones  # 1-bits per row and pass
        cell = g * v2 * (1.0 - c.charge_recovery) if capacitive else g * v2 * device.t_read_s
        e_cell = cells * drive * cell
        e_dac = rows * bits * c.dac_energy_1bit_J
        wire = drive
    elif capacitive:
        e_cell = cells * st.mean_sq * g * v2 * (1.0 - c.charge_recovery)
        e_dac = rows * bits * c.dac_energy_1bit_J
        wire = st.mean_sq
    else:
        e_cell = cells * g * v2 * st.mean_abs * levels * config.dac.pwm_step_s
        e_dac = rows * (
            st.nonzero * c.dac_energy_1bit_J + st.mean_abs * levels * c.pwm_step_J * bits / 8
        )
        wire = st.nonzero
    pitch_m = math.sqrt(cell_area_m2(device, config))
    c_wl = config.tile_cols * pitch_m * c.wire_cap_F_per_m
    conv_per_pass = tm.tiles_r * n_out * tm.n_slices * phases  # used weight columns only
    cols_per_tile = config.weight_cols_per_tile * tm.n_slices
    adcs_per_tile = math.ceil(cols_per_tile / config.adc.columns_per_adc)
    # ADC lanes that carry a used weight column (the others are taken as power-gated)
    used_cols = [min(tm.weight_cols, n_out - j * tm.weight_cols) for j in range(tm.tiles_c)]
    lanes = tm.tiles_r * sum(
        math.ceil(u * tm.n_slices / config.adc.columns_per_adc) for u in used_cols
    )
    if serial:
        t_phase = device.t_read_s
    else:
        t_phase = max(device.t_read_s, levels * config.dac.pwm_step_s)
    t_pass = phases * (t_phase + config.adc.columns_per_adc * c.adc_conversion_s)
    per_pass = {
        "cell_read": e_cell,
        "dac": e_dac,
        "adc": (
            lanes * adc_power(adc_bits, c) * t_pass
            if c.adc_type == "cco"
            else conv_per_pass * adc_energy(adc_bits, c)
        ),
        "drivers": rows * wire * c_wl * v2,
        "accumulation": n_out * tm.n_slices * phases * tm.tiles_r * c.digital_add_J,
        "buffers": (n_in + n_out) * c.activation_bytes * c.buffer_J_per_byte,
        "static": (lanes * c.static_W_per_adc + tm.n_tiles * tile_static_power(config)) * t_pass,
    }
    area = {
        "cells": tm.n_tiles * config.tile_rows * config.tile_cols * cell_area_m2(device, config),
        "adc": tm.n_tiles * adcs_per_tile * c.adc_area_8bit_m2 * 2.0 ** (adc_bits - 8),
        "dac": tm.n_tiles * config.tile_rows * c.dac_area_1bit_m2,
        "accumulators": tm.n_tiles * adcs_per_tile * c.accumulator_area_m2,
    }
    return CostReport(
        energy_J={k: float(per_pass[k] * n_vectors) for k in COMPONENTS},
        latency_s=float(n_vectors * t_pass),
        area_m2=float(sum(area.values())),
        area_breakdown_m2={k: float(v) for k, v in area.items()},
        tiles=tm.n_tiles,
        cells=tm.n_tiles * config.tile_rows * config.tile_cols,
        adc_conversions=int(conv_per_pass * n_vectors),
    )
