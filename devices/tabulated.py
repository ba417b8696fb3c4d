"""A device built from measured data: pulse-response curves and programming statistics (CSV).

Two CSV tables, each optional (at least one is needed):

pulse response (columns ``cycle, direction, pulse`` and ``conductance_S`` or
``capacitance_F``): one row per measurement; ``direction`` is ``up`` (potentiation) or
``down`` (depression); ``pulse`` counts 0, 1, 2, … strictly increasing within each
``(cycle, direction)`` branch. The mean ``m(k)`` and std ``s(k)`` over cycles at each pulse
number ``k`` define the model: a cell on a branch at (continuous) position ``k`` with a
standardised offset ``z`` reads the data's empirical quantile at ``Φ(z)`` (so the spread,
and any clipping at the range ends, is that of the data); noise-free (``z = 0``, no
generator) it reads the mean ``m(k)``, made monotone by a running max/min. Each pulse moves ``k`` by one and renews
``z`` as an AR(1) process, ``z' = ρ z + sqrt(1 - ρ²) ξ``, which keeps the marginal
distribution of the data; ``ρ`` is the lag-1 correlation of the standardised residuals
measured in the data. Switching direction maps the mean position onto the other branch.

programming statistics (columns ``target_S, mean_S, std_S`` or the ``_F`` forms):
``program(target)`` draws from ``N(mean(target), std(target))`` interpolated in the table.
Without it, programming places the cell at the up-branch position whose mean is nearest
the target, with the spread of the data there.

levels, the common lab format (columns ``level``, ``mean``, ``std`` in a stated unit:
``mean_uS, std_uS``, ``mean (kohm)``, ``mean[fF]``, or plain ``mean, std`` under a
``# unit: uS`` comment line; conductance S/mS/uS/µS/nS, resistance ohm/kohm/Mohm (Ω too;
turned into conductance, ``σ_G = σ_R / R²``), capacitance F/pF/fF/aF): a table of N
levels is an N-level device. ``program(target)`` rounds the target to the nearest level's
mean and draws from that level's ``N(mean, std)``.

Ageing and read noise, in the programming or levels table (optional columns, per level,
interpolated between levels) or for every level in :class:`TabulatedConfig`:
``nu_mean``, ``nu_std`` (drift exponent of ``G(t) = G_p ((t + t0) / t0)^(-ν)``,
``ν = |N(nu_mean, nu_std)|`` per cell, drawn at programming; ``t0 = TabulatedConfig.t0_s``,
``t`` from the end of programming, as the PCM model) and ``read_std`` (std of the read
noise, drawn at every read, in the table's unit). Any other header is refused with a
message that lists these formats (:data:`FORMATS`).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from devices.base import DeviceModel, DeviceState, PulseUpdateModel
from devices.faults import apply_stuck, sample_stuck, wear_out
from devices.interp import interp
from devices.pulse_fit import fit_nonlinearity
from devices.sampling import normal
from devices.validation import ConfigError, param, require, validate

__all__ = [
    "TabulatedConfig",
    "Tabulated",
    "read_pulse_csv",
    "read_programming_csv",
    "read_levels_csv",
    "FORMATS",
]

#: The CSV formats :meth:`Tabulated.from_csv` reads (quoted in its errors).
FORMATS = (
    "pulse response (cycle, direction, pulse, conductance_S | capacitance_F); "
    "programming statistics (target_S, mean_S, std_S or the _F forms; optional nu_mean, "
    "nu_std, read_std_S); levels (level, mean_<unit>, std_<unit>, or mean, std under a "
    "'# unit: <unit>' line; optional nu_mean, nu_std, read_std_<unit>) with <unit> one of "
    "S, mS, uS, µS, nS, ohm, kohm, Mohm, Ω, kΩ, MΩ, F, pF, fF, aF"
)

#: Unit → (quantity, factor to S or F, or to Ω for resistances).
_UNITS = {
    "S": ("S", 1.0), "mS": ("S", 1e-3), "uS": ("S", 1e-6), "µS": ("S", 1e-6),
    "μS": ("S", 1e-6), "nS": ("S", 1e-9),
    "ohm": ("ohm", 1.0), "Ω": ("ohm", 1.0), "kohm": ("ohm", 1e3), "kΩ": ("ohm", 1e3),
    "Mohm": ("ohm", 1e6), "MΩ": ("ohm", 1e6),
    "F": ("F", 1.0), "pF": ("F", 1e-12), "fF": ("F", 1e-15), "aF": ("F", 1e-18),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TabulatedConfig:
    """Figures a CSV cannot carry (timing, energy, reliability), with neutral defaults."""

    read_voltage_V: float = param(0.2, unit="V", gt=0.0, le=10.0, doc="read voltage")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, le=1.0, doc="read time")
    t_write_s: float = param(100e-9, unit="s", gt=0.0, le=1.0, doc="write pulse time")
    write_energy_J: float = param(1e-12, unit="J", ge=0.0, le=1e-6, doc="energy per write pulse")
    endurance_cycles: float = param(1e6, ge=1.0, doc="write pulses before wear-out")
    retention_s: float = param(3.156e8, unit="s", gt=0.0, doc="retention")
    p_stuck_off: float = param(0.0, ge=0.0, le=1.0, doc="fraction stuck at g_min")
    p_stuck_on: float = param(0.0, ge=0.0, le=1.0, doc="fraction stuck at g_max")
    t0_s: float = param(1.0, unit="s", gt=0.0, doc="drift reference time (law at t + t0)")
    drift_nu: float = param(0.0, ge=0.0, le=1.0, doc="drift exponent mean (no table column)")
    drift_nu_std: float = param(0.0, ge=0.0, le=1.0, doc="drift exponent std (no table column)")
    read_noise_rel: float = param(
        0.0, ge=0.0, le=1.0, doc="read-noise std / value (no read_std column)"
    )

    def __post_init__(self) -> None:
        validate(self)
        total = self.p_stuck_off + self.p_stuck_on
        require(total <= 1.0, self, "p_stuck_on", self.p_stuck_on, "<= 1 - p_stuck_off")


#: Largest plausible value of a tabulated cell: 1 S of conductance (a device conducts
#: microsiemens to millisiemens), 1 µF of capacitance (memcapacitors hold femto- to
#: picofarads). A value beyond these is a unit mistake.
MAX_VALUE = {"S": 1.0, "F": 1e-6}
#: Largest CSV read (64 MiB): measured tables are kilobytes to megabytes.
MAX_CSV_BYTES = 64 << 20


def _read_text(path: Path) -> str:
    """The CSV's text (UTF-8), or a one-line :class:`ConfigError` naming the file."""
    if path.is_dir():
        raise ConfigError(f"Tabulated.from_csv: {str(path)!r} is a folder, not a CSV file")
    if not path.is_file():
        raise ConfigError(f"Tabulated.from_csv: file {str(path)!r} does not exist")
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ConfigError(
                f"{path.name}: {path.stat().st_size:,} bytes; a device table is at most "
                f"{MAX_CSV_BYTES:,}"
            )
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path.name}: cannot read ({exc.strerror})") from None


def _load(path: Path, required: list[list[str]]) -> tuple[dict[str, np.ndarray], str]:
    """Columns of a CSV; ``required`` lists alternatives per slot (first found wins)."""
    import csv

    text = _read_text(path)
    try:
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        rows = list(csv.DictReader(lines))
    except csv.Error as exc:
        raise ConfigError(f"{path.name}: not a CSV table ({exc})") from None
    header = list(rows[0].keys()) if rows else []
    cols: dict[str, np.ndarray] = {}
    value_unit = ""
    for options in required:
        found = next((o for o in options if o in header), None)
        if found is None:
            raise ConfigError(
                f"{path.name}: missing column {' or '.join(repr(o) for o in options)}; has {header}"
            )
        raw = [r[found] for r in rows]
        if found == "direction":
            cols[found] = np.array([v.strip().lower() for v in raw])
            continue
        try:
            arr = np.array([float(v) if v not in ("", None) else math.nan for v in raw])
        except ValueError as exc:
            raise ConfigError(f"{path.name}: column {found!r} must be numeric ({exc})") from None
        if np.isnan(arr).any():
            row = int(np.flatnonzero(np.isnan(arr))[0]) + 2
            raise ConfigError(f"{path.name}: column {found!r} has NaN/empty at line {row}")
        if not np.isfinite(arr).all():
            row = int(np.flatnonzero(~np.isfinite(arr))[0]) + 2
            raise ConfigError(f"{path.name}: column {found!r} has an infinite value at line {row}")
        key = found.rsplit("_", 1)[0] if found.endswith(("_S", "_F")) else found
        if found.endswith(("_S", "_F")):
            value_unit = found[-1]
            most = MAX_VALUE[value_unit]
            # (a negative std has its own message in read_programming_csv)
            bad = (arr > most) if key == "std" else (arr < 0) | (arr > most)
            if bad.any():
                row = int(np.flatnonzero(bad)[0]) + 2
                raise ConfigError(
                    f"{path.name}: column {found!r} must be in [0, {most:g}] {value_unit}; got "
                    f"{arr[row - 2]:g} at line {row}"
                )
        elif found in ("cycle", "pulse") and (arr < 0).any():
            row = int(np.flatnonzero(arr < 0)[0]) + 2
            raise ConfigError(
                f"{path.name}: column {found!r} must be >= 0; got a negative value at line {row}"
            )
        cols[key] = arr
    return cols, value_unit


def read_pulse_csv(path: str | Path) -> dict[str, Any]:
    """Mean and std per pulse number of each branch, and the lag-1 residual correlation."""
    path = Path(path)
    cols, unit = _load(
        path, [["cycle"], ["direction"], ["pulse"], ["conductance_S", "capacitance_F"]]
    )
    value = cols.get("conductance", cols.get("capacitance"))
    out: dict[str, Any] = {"unit": unit}
    bad = set(np.unique(cols["direction"])) - {"up", "down"}
    if bad:
        raise ConfigError(
            f"{path.name}: column 'direction' must be 'up' or 'down'; got {sorted(bad)}"
        )
    resid_pairs = []
    for d in ("up", "down"):
        sel = cols["direction"] == d
        if not sel.any():
            raise ConfigError(f"{path.name}: column 'direction' has no {d!r} rows")
        traces = []
        for cyc in np.unique(cols["cycle"][sel]):
            m = sel & (cols["cycle"] == cyc)
            p = cols["pulse"][m]
            if np.any(np.diff(p) <= 0) or p[0] != 0 or np.any(p != np.round(p)):
                raise ConfigError(
                    f"{path.name}: column 'pulse' must count 0, 1, 2, ... increasing within "
                    f"cycle {cyc:g} {d}; got {p[:6].tolist()}..."
                )
            traces.append(value[m])
        n = min(len(t) for t in traces)
        if n < 2:
            raise ConfigError(f"{path.name}: every {d!r} cycle needs at least 2 pulses (0 and 1)")
        arr = np.stack([t[:n] for t in traces])
        mean = arr.mean(axis=0)
        std = arr.std(axis=0, ddof=1) if len(traces) > 1 else np.zeros(n)
        zs = (arr - mean) / np.where(std > 0, std, 1)
        resid_pairs.append((zs[:, :-1].ravel(), zs[:, 1:].ravel()))
        mono = np.maximum.accumulate(mean) if d == "up" else np.minimum.accumulate(mean)
        out[d] = (mono, std)
        out[d + "_quantiles"] = np.sort(arr, axis=0).T  # (pulses, cycles)
        out[d + "_raw_mean"] = mean
    out["lo"], out["hi"] = float(value.min()), float(value.max())
    a = np.concatenate([p[0] for p in resid_pairs])
    b = np.concatenate([p[1] for p in resid_pairs])
    rho = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 1.0
    out["rho"] = min(max(rho, 0.0), 1.0)
    return out


def read_programming_csv(path: str | Path) -> dict[str, Any]:
    """Target, achieved mean and std columns of a programming-statistics table."""
    path = Path(path)
    cols, unit = _load(path, [["target_S", "target_F"], ["mean_S", "mean_F"], ["std_S", "std_F"]])
    if np.any(np.diff(cols["target"]) <= 0):
        raise ConfigError(f"{path.name}: column 'target_{unit}' must be strictly increasing")
    if np.any(cols["std"] < 0):
        raise ConfigError(f"{path.name}: column 'std_{unit}' must be >= 0")
    out = {"unit": unit, **cols}
    out.update(_ageing_columns(path, unit, 1.0))
    return out


def _header(path: Path) -> tuple[list[str], str | None]:
    """The CSV header (stripped) and the unit of a ``# unit: ...`` comment line, if any."""
    unit = None
    for line in _read_text(path).splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if key.strip().lower() == "unit" and value.strip():
                unit = value.strip()
            continue
        if line.strip():
            return [c.strip() for c in line.split(",")], unit
    return [], unit


def _ageing_columns(path: Path, unit: str, factor: float) -> dict[str, np.ndarray]:
    """Optional ``nu_mean``, ``nu_std`` and ``read_std[_<unit>]`` (× ``factor``) columns."""
    header, _ = _header(path)
    out = {}
    for name in ("nu_mean", "nu_std", f"read_std_{unit}", "read_std"):
        if name in header:
            values = _load(path, [[name]])[0]
            arr = next(iter(values.values()))
            if np.any(arr < 0) or (name.startswith("nu") and np.any(arr > 1)):
                allowed = "in [0, 1]" if name.startswith("nu") else ">= 0"
                raise ConfigError(f"{path.name}: column {name!r} must be {allowed}")
            out["read_std" if name.startswith("read_std") else name] = arr * (
                1.0 if name.startswith("nu") else factor
            )
    return out


def _unit_of(path: Path, column: str, stated: str | None) -> tuple[str, str]:
    """``(base name, unit)`` of a levels column like ``mean_uS``, ``mean (kohm)``, ``mean``."""
    import re

    m = re.fullmatch(r"(mean|std)\s*(?:_|\[|\(|\s)\s*([^\])\s]+)\s*[\])]?", column)
    if m:
        return m.group(1), m.group(2)
    if column in ("mean", "std"):
        if stated is None:
            raise ConfigError(
                f"{path.name}: column {column!r} has no unit; name it like 'mean_uS' or state "
                f"'# unit: uS' above the header. Accepted formats: {FORMATS}"
            )
        return column, stated
    return column, ""


def read_levels_csv(path: str | Path) -> dict[str, Any]:
    """A levels table (``level``, ``mean``, ``std`` in a stated unit) as programming statistics.

    Returns the :func:`read_programming_csv` dictionary in SI units (S or F; resistances
    turned into conductances), sorted by mean, with ``levels`` = the number of rows.
    """
    path = Path(path)
    header, stated = _header(path)
    cols = {}
    for c in header:
        base, unit = _unit_of(path, c, stated)
        if base in ("mean", "std"):
            if unit not in _UNITS:
                raise ConfigError(
                    f"{path.name}: column {c!r}: unit {unit!r} unknown; accepted units: "
                    f"{', '.join(_UNITS)}"
                )
            cols[base] = (c, unit)
    missing = [b for b in ("level", "mean", "std") if b not in cols and b not in header]
    if missing:
        raise ConfigError(
            f"{path.name}: levels table lacks {', '.join(missing)} (header {header}). "
            f"Accepted formats: {FORMATS}"
        )
    if cols["mean"][1] != cols["std"][1]:
        raise ConfigError(
            f"{path.name}: mean and std must share a unit; got {cols['mean'][1]!r} and "
            f"{cols['std'][1]!r}"
        )
    unit = cols["mean"][1]
    quantity, factor = _UNITS[unit]
    data, _ = _load(path, [[cols["mean"][0]], [cols["std"][0]], ["level"]])
    mean, std = data[cols["mean"][0]] * factor, data[cols["std"][0]] * factor
    if np.any(std < 0):
        raise ConfigError(f"{path.name}: column {cols['std'][0]!r} must be >= 0")
    extra = _ageing_columns(path, unit, factor)
    if quantity == "ohm":
        if np.any(mean <= 0):
            raise ConfigError(f"{path.name}: column {cols['mean'][0]!r} must be > 0 (a resistance)")
        r = mean
        mean, std = 1.0 / r, std / r**2  # G = 1/R, σ_G = σ_R / R² (first order)
        if "read_std" in extra:
            extra["read_std"] = extra["read_std"] / r**2
        quantity = "S"
    if np.any(mean < 0) or np.any(mean > MAX_VALUE[quantity]):
        raise ConfigError(
            f"{path.name}: level means must be in [0, {MAX_VALUE[quantity]:g}] {quantity} "
            f"after conversion from {unit!r}; got {mean.min():g} to {mean.max():g}"
        )
    order = np.argsort(mean)
    mean, std = mean[order], std[order]
    extra = {k: v[order] for k, v in extra.items()}
    if np.any(np.diff(mean) <= 0):
        raise ConfigError(f"{path.name}: the levels' means must differ (two levels coincide)")
    return {"unit": quantity, "target": mean, "mean": mean, "std": std,
            "levels": len(mean), **extra}  # fmt: skip


def _read_any(path: Path) -> tuple[str, dict[str, Any]]:
    """``("pulses" | "programming", table)`` by the CSV's header; an error lists FORMATS."""
    header, _ = _header(path)
    if "level" in header:
        return "programming", read_levels_csv(path)
    if any(c.startswith("target_") for c in header):
        return "programming", read_programming_csv(path)
    if {"cycle", "pulse", "direction"} & set(header):
        return "pulses", read_pulse_csv(path)
    raise ConfigError(
        f"{path.name}: header {header} matches no accepted CSV format. Accepted formats: {FORMATS}"
    )


class Tabulated(DeviceModel):
    """A device interpolated from measured tables; build it with :meth:`from_csv`."""

    name = "tabulated"

    def __init__(
        self,
        pulses: dict[str, Any] | None,
        programming: dict[str, Any] | None,
        config: TabulatedConfig | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if pulses is None and programming is None:
            raise ConfigError("Tabulated needs a pulse-response table, a programming table or both")
        self.config = config or TabulatedConfig()
        if name is not None:
            self.name = name
        self.pulses, self.programming = pulses, programming
        units = {t["unit"] for t in (pulses, programming) if t is not None}
        if len(units) > 1:
            raise ConfigError(f"Tabulated tables disagree on the unit: {sorted(units)}")
        self.quantity = "capacitance" if units == {"F"} else "conductance"
        lows, highs = [], []
        if pulses is not None:
            lows.append(pulses["lo"])
            highs.append(pulses["hi"])
        if programming is not None:
            lows.append(programming["mean"].min())
            highs.append(programming["mean"].max())
        self.g_min, self.g_max = float(min(lows)), float(max(highs))
        if not self.g_max > self.g_min:
            raise ConfigError(f"Tabulated data span no range: [{self.g_min:g}, {self.g_max:g}]")
        self.n_levels = len(pulses["up"][0]) if pulses is not None else None
        self.levels = None
        if programming is not None and programming.get("levels"):
            self.levels = programming["target"]
            self.n_levels = int(programming["levels"])
        c = self.config
        self.read_voltage_V, self.t_read_s, self.t_write_s = (
            c.read_voltage_V,
            c.t_read_s,
            c.t_write_s,
        )
        self.write_energy_J = c.write_energy_J
        self.endurance_cycles, self.retention_s = c.endurance_cycles, c.retention_s
        self.read_energy_J = c.read_voltage_V**2 * 0.5 * (self.g_min + self.g_max) * c.t_read_s

    @classmethod
    def from_csv(
        cls,
        path: str | Path | None,
        programming: str | Path | None = None,
        *,
        name: str | None = None,
        **config: Any,
    ) -> Tabulated:
        """Build from a pulse-response CSV and/or a programming-statistics CSV.

        Parameters
        ----------
        path : path or None
            Pulse-response CSV (or a programming CSV, recognised by its ``target_*``
            column, when ``programming`` is not given).
        programming : path, optional
            Programming-statistics CSV.
        name : str, optional
            Registry name of the device.
        **config
            Fields of :class:`TabulatedConfig`.
        """
        pulses = prog = None
        if path is not None:
            kind, table = _read_any(Path(path))
            if kind == "pulses":
                pulses = table
            elif programming is None:
                prog = table
            else:
                raise ConfigError(
                    f"Tabulated.from_csv: {Path(path).name} is a programming table; pass the "
                    "pulse-response CSV first and the programming (or levels) CSV second"
                )
        if programming is not None:
            kind, table = _read_any(Path(programming))
            if kind != "programming":
                raise ConfigError(
                    f"Tabulated.from_csv: programming={Path(programming).name} is a "
                    f"pulse-response table. Accepted formats: {FORMATS}"
                )
            prog = table
        return cls(pulses, prog, TabulatedConfig(**config), name=name)

    def program_bounds(self) -> tuple[float, float]:
        """``(g_min, inf)`` with a programming table: its spread is not clipped at the largest
        mean (the top level's cells land above it as often as below); ``(g_min, g_max)``
        for pulse-response devices (the data's quantiles carry their own range)."""
        return (self.g_min, math.inf if self.programming is not None else self.g_max)

    # -- helpers ----------------------------------------------------------------------
    def _branch(self, d: str, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mean, std = self.pulses[d]
        k = torch.arange(len(mean), dtype=like.dtype, device=like.device)
        return (
            k,
            torch.as_tensor(mean, dtype=like.dtype).to(like.device),
            torch.as_tensor(std, dtype=like.dtype).to(like.device),
        )

    def _quantile(self, d: str, k: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Empirical quantile of branch ``d`` at continuous pulse ``k`` and level ``Φ(z)``."""
        q = torch.as_tensor(self.pulses[d + "_quantiles"], dtype=k.dtype).to(k.device)
        n_k, n_c = q.shape
        kc = k.clamp(0, n_k - 1)
        k0 = kc.floor().long().clamp(max=n_k - 2) if n_k > 1 else kc.floor().long()
        fk = kc - k0
        qi = (torch.special.ndtr(z) * n_c - 0.5).clamp(0, n_c - 1)
        i0 = qi.floor().long().clamp(max=max(n_c - 2, 0))
        fi = qi - i0
        i1 = (i0 + 1).clamp(max=n_c - 1)
        k1 = (k0 + 1).clamp(max=n_k - 1)

        def at(kk):
            return q[kk, i0] * (1 - fi) + q[kk, i1] * fi

        return at(k0) * (1 - fk) + at(k1) * fk

    def _value(self, d: str, k: torch.Tensor, z: torch.Tensor, noisy: bool) -> torch.Tensor:
        kk, m, _ = self._branch(d, k)
        if not noisy:
            return interp(k, kk, m)
        return self._quantile(d, k, z)

    def _k_of(self, d: str, g: torch.Tensor) -> torch.Tensor:
        k, m, _ = self._branch(d, g)
        if d == "up":
            return interp(g, m, k)
        return interp(-g, -m, k)

    # -- the contract -----------------------------------------------------------------
    def program(self, target: torch.Tensor, generator: torch.Generator | None) -> DeviceState:
        x = target.detach().clamp(self.g_min, self.g_max)
        hidden: dict[str, torch.Tensor] = {}
        if self.levels is not None:  # an N-level device: the nearest level's target
            lv = torch.as_tensor(self.levels, dtype=x.dtype).to(x.device)
            x = lv[(x.unsqueeze(-1) - lv).abs().argmin(-1)]
        hidden["nu"] = self._draw_nu(x, generator)
        if self.programming is not None:
            p = self.programming
            t_ = torch.as_tensor(p["target"], dtype=x.dtype).to(x.device)
            mean = interp(x, t_, torch.as_tensor(p["mean"], dtype=x.dtype).to(x.device))
            std = interp(x, t_, torch.as_tensor(p["std"], dtype=x.dtype).to(x.device))
            value = (mean + std * normal(x, generator)).clamp(*self.program_bounds())
            if self.pulses is not None:
                hidden.update(k=self._k_of("up", value), z=torch.zeros_like(x))
        else:
            pos = torch.round(self._k_of("up", x))
            z = normal(x, generator)
            value = self._value("up", pos, z, generator is not None)
            hidden.update(k=pos, z=z)
        if self.pulses is not None:
            hidden["branch"] = torch.ones_like(x)
        c = self.config
        stuck = sample_stuck(value, c.p_stuck_off, c.p_stuck_on, generator)
        hidden.update(stuck=stuck, cycles=torch.ones_like(value))
        return DeviceState(apply_stuck(value, stuck, self.g_min, self.g_max), hidden)

    def _per_level(self, key: str, x: torch.Tensor, default: float) -> torch.Tensor:
        """Table column ``key`` interpolated at ``x`` (by target), or the config's ``default``."""
        p = self.programming
        if p is None or key not in p:
            return torch.full_like(x, default)
        t_ = torch.as_tensor(p["target"], dtype=x.dtype).to(x.device)
        return interp(x, t_, torch.as_tensor(p[key], dtype=x.dtype).to(x.device))

    def _draw_nu(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        c = self.config
        mu = self._per_level("nu_mean", x, c.drift_nu)
        sd = self._per_level("nu_std", x, c.drift_nu_std)
        return (mu + sd * normal(x, generator)).abs()

    @property
    def ages(self) -> bool:
        """Whether reads drift or carry read noise (a table column or a config figure)."""
        c, p = self.config, self.programming or {}
        return bool(
            c.drift_nu or c.drift_nu_std or c.read_noise_rel
            or np.any(p.get("nu_mean", 0)) or np.any(p.get("nu_std", 0))
            or np.any(p.get("read_std", 0))
        )  # fmt: skip

    def read(self, state: DeviceState, t: float, generator: torch.Generator | None) -> torch.Tensor:
        """Drift ``((t + t0) / t0)^(-ν)`` and read noise from the tables or the config.

        ``t = 0`` without a generator reads the programmed value.
        """
        require(math.isfinite(t) and t >= 0, "Tabulated", "read.t", t, ">= 0 s")
        g = state.value
        if not self.ages:
            return g
        c = self.config
        nu = state.hidden.get("nu")
        if nu is not None and t > 0:
            g = g * ((t + c.t0_s) / c.t0_s) ** (-nu)
        if generator is not None:
            if "read_std" in (self.programming or {}):
                std = self._per_level("read_std", state.value, 0.0)
            else:
                std = c.read_noise_rel * g.abs()
            g = (g + std * normal(g, generator)).clamp(min=0.0)
        stuck = state.hidden.get("stuck")
        return g if stuck is None else apply_stuck(g, stuck, self.g_min, self.g_max)

    def pulse(
        self, state: DeviceState, n: torch.Tensor | float, generator: torch.Generator | None
    ) -> DeviceState:
        if self.pulses is None:
            raise ConfigError(f"Tabulated device {self.name!r} has no pulse-response table")
        g = state.value
        n = torch.broadcast_to(torch.as_tensor(n, dtype=g.dtype, device=g.device), g.shape)
        h = state.hidden
        k = h.get("k")
        branch = h.get("branch", torch.ones_like(g))
        z = h.get("z", torch.zeros_like(g))
        if k is None:
            k = self._k_of("up", g)
        want = torch.where(n < 0, -torch.ones_like(g), torch.ones_like(g))
        switch = (want != branch) & (n != 0)
        # Map the mean position onto the other branch when the direction changes.
        ku, mu, _ = self._branch("up", g)
        kd, md, _ = self._branch("down", g)
        mean_now = torch.where(branch > 0, interp(k, ku, mu), interp(k, kd, md))
        k_other = torch.where(want > 0, self._k_of("up", mean_now), self._k_of("down", mean_now))
        k = torch.where(switch, k_other, k)
        branch = torch.where(n != 0, want, branch)
        k_new = k + n.abs()
        rho = self.pulses["rho"]
        if generator is not None and rho < 1.0:
            decay = rho ** n.abs()
            z = decay * z + torch.sqrt(1 - decay**2) * normal(g, generator)
        noisy = generator is not None
        up_val = self._value("up", k_new, z, noisy)
        dn_val = self._value("down", k_new, z, noisy)
        value = torch.where(branch > 0, up_val, dn_val).clamp(self.g_min, self.g_max)
        if not noisy:  # the expected response never moves against the pulse direction
            value = torch.where(n > 0, torch.maximum(value, g), torch.minimum(value, g))
        value = torch.where(n == 0, g, value)
        k_new = torch.where(n == 0, k, k_new)
        stuck = h.get("stuck", torch.zeros(g.shape, dtype=torch.int8, device=g.device))
        value = torch.where(stuck == 0, value, g)
        cycles = h.get("cycles", torch.zeros_like(g)) + n.abs()
        stuck = wear_out(value, stuck, cycles, self.endurance_cycles, self.g_min, self.g_max)
        value = apply_stuck(value, stuck, self.g_min, self.g_max)
        return state.replace(value, k=k_new, z=z, branch=branch, stuck=stuck, cycles=cycles)

    def update_model(self) -> PulseUpdateModel:
        """The standard model fitted to the mean branches; c2c from the per-pulse spread."""
        if self.pulses is None:
            raise ConfigError(f"Tabulated device {self.name!r} has no pulse-response table")
        span = self.g_max - self.g_min
        up, down = self.pulses["up"][0], self.pulses["down"][0]
        w_up = (up - up[0]) / max(up[-1] - up[0], 1e-30)
        w_dn = (down[0] - down) / max(down[0] - down[-1], 1e-30)
        s_mean = float(np.mean(np.concatenate([self.pulses["up"][1], self.pulses["down"][1]])))
        c2c = min(s_mean / span * math.sqrt(max(1.0 - self.pulses["rho"] ** 2, 0.0)), 1.0)
        return PulseUpdateModel(
            n_levels=len(up),
            nonlinearity_ltp=fit_nonlinearity(w_up),
            nonlinearity_ltd=fit_nonlinearity(w_dn),
            c2c_sigma=c2c,
            g_min=self.g_min,
            g_max=self.g_max,
        )
