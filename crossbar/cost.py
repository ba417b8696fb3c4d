"""Energy, latency and area of a weight matrix on crossbar tiles (per matrix-vector pass).

One *pass* sends one input vector through every tile of the matrix (tiles work in
parallel). Per pass, with ``φ`` read phases (``φ = DAC bits`` for bit-serial inputs, 1
for PWM):

* ``cell_read``: active cells × ``φ`` × mean input activity × the device's read energy
  (``read_energy_J``, one cell read at mid-range); for capacitive cells
  ``C_mid·V_read²·(1 − charge_recovery)`` per switched cell (C·V²).
* ``dac``: one driver per active row per tile column; a b-bit PWM drive or b bit planes
  each cost b 1-bit DAC operations (ISAAC figure).
* ``adc``: one conversion per weight column, slice and phase (after the analog
  differential/offset subtraction); energy ``E_8bit·2**(bits−8)`` (Walden scaling).
* ``drivers``: word-line wire capacitance ``C_wl·V_read²`` per driven row and phase.
* ``accumulation``: one digital add per output, slice, phase and row tile (shift-and-add).
* ``buffers``: inputs read and outputs written once per pass (SRAM per byte).

Latency per pass: ``φ × (t_phase + columns_per_adc × t_conversion)`` with ``t_phase`` the
device's read time (bit-serial) or the PWM pulse ``(2**bits−1)·pwm_step_s`` (at least the
read time). Area: cells (F² or, for capacitive cells, ``C_max`` at 1 fF/µm²), ADCs, DACs and
shift-and-add units. An ideal converter (``bits=None``) is costed as 8-bit.
Constants and their sources: :class:`crossbar.config.CostConfig`.
"""

from __future__ import annotations

import dataclasses
import math

from crossbar.config import CrossbarConfig
from crossbar.mapping import TileMap
from devices.base import DeviceModel

__all__ = ["CostReport", "matrix_cost", "cell_area_m2", "COMPONENTS"]

#: Energy components, in the order reported.
COMPONENTS = ("cell_read", "dac", "adc", "drivers", "accumulation", "buffers")

#: Capacitance density of a memcapacitor cell: ~1 fF/µm² (Demasius, Lowa, Murmann 2025).
CAP_DENSITY_F_PER_M2 = 1e-15 / 1e-12


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


def matrix_cost(
    device: DeviceModel,
    config: CrossbarConfig,
    n_out: int,
    n_in: int,
    n_vectors: int = 1,
    input_activity: float | None = None,
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
    input_activity : float, optional
        Mean ``|x| / r``; default ``config.cost.input_activity``.
    """
    c = config.cost
    tm = TileMap.build(n_out, n_in, config)
    act = c.input_activity if input_activity is None else input_activity
    dac_bits = config.dac.bits or 8
    adc_bits = config.adc.bits or 8
    phases = dac_bits if config.dac.mode == "bit-serial" else 1
    v2 = device.read_voltage_V**2
    active_cells = n_in * tm.tiles_c * tm.phys_cols
    if device.quantity == "capacitance":
        c_mid = 0.5 * (device.g_min + device.g_max)
        e_cell = c_mid * v2 * (1.0 - c.charge_recovery)
    else:
        e_cell = device.read_energy_J
    pitch_m = math.sqrt(cell_area_m2(device, config))
    c_wl = config.tile_cols * pitch_m * c.wire_cap_F_per_m
    conv_per_phase = tm.tiles_r * n_out * tm.n_slices  # used weight columns only
    cols_per_tile = config.weight_cols_per_tile * tm.n_slices
    groups = tm.n_tiles * math.ceil(cols_per_tile / config.adc.columns_per_adc)
    per_pass = {
        "cell_read": active_cells * phases * act * e_cell,
        "dac": n_in * tm.tiles_c * dac_bits * c.dac_energy_1bit_J,
        "adc": conv_per_phase * phases * c.adc_energy_8bit_J * 2.0 ** (adc_bits - 8),
        "drivers": n_in * tm.tiles_c * phases * act * c_wl * v2,
        "accumulation": n_out * tm.n_slices * phases * tm.tiles_r * c.digital_add_J,
        "buffers": (n_in + n_out) * c.activation_bytes * c.buffer_J_per_byte,
    }
    if config.dac.mode == "pwm":
        t_phase = max(device.t_read_s, (2**dac_bits - 1) * config.dac.pwm_step_s)
    else:
        t_phase = device.t_read_s
    t_pass = phases * (t_phase + config.adc.columns_per_adc * c.adc_conversion_s)
    area = {
        "cells": tm.n_tiles * config.tile_rows * config.tile_cols * cell_area_m2(device, config),
        "adc": groups * c.adc_area_8bit_m2 * 2.0 ** (adc_bits - 8),
        "dac": tm.n_tiles * config.tile_rows * c.dac_area_1bit_m2,
        "accumulators": groups * c.accumulator_area_m2,
    }
    return CostReport(
        energy_J={k: float(per_pass[k] * n_vectors) for k in COMPONENTS},
        latency_s=float(n_vectors * t_pass),
        area_m2=float(sum(area.values())),
        area_breakdown_m2={k: float(v) for k, v in area.items()},
        tiles=tm.n_tiles,
        cells=tm.n_tiles * config.tile_rows * config.tile_cols,
        adc_conversions=int(conv_per_phase * phases * n_vectors),
    )
