"""Ferroelectric FET (HfO2/HZO): multi-domain polarisation switching sets the channel conductance.

Physics (Mulaosmanovic et al., "Switching kinetics in nanoscale hafnium oxide based
ferroelectric field-effect transistors", ACS AMI 2017; nucleation-limited switching,
Tagantsev et al., PRB 66, 214109, 2002). The gate stack holds many domains; each switches
after a nucleation time ``τ`` that is log-normally distributed over the domains (NLS), with
a median that follows Merz's law in the pulse amplitude ``V``::

    τ_m(V) = τ_m(V_ref) exp(v_act (1/|V| - 1/|V_ref|))

so higher pulses switch more domains per pulse (the Preisach picture: a pulse switches the
domains whose coercive voltage, at that pulse width, it exceeds). After ``k`` identical
pulses of width ``t_w`` the switched fraction is ``s(k) = 1 - E_τ[exp(-k t_w / τ)]``.
The threshold voltage moves with ``s`` and the read conductance (linear regime) follows it:
``G = G_off + (G_on - G_off) (w - ΔV_t / MW)`` with ``w`` the switched fraction
normalised to the window reached by ``P = pulse_levels - 1`` pulses (Jerry's protocol) and
``ΔV_t`` a per-device threshold shift (``vt_sigma_V``, default 0: no agreed figure).

Figures: Jerry et al., IEDM 2017: 32 levels, G_on/G_off 45 (R_on 559 kΩ), 75 ns pulses at
3.65 V / -2.95 V. The median times ``tau_set_s``/``tau_reset_s`` are calibrated so that the
fitted update model gives Jerry's nonlinearity labels 1.75/1.46 (MLP+NeuroSim V3.0 manual,
Table II) with a log-normal spread of 0.3 decades (assumed). Retention: depolarisation
pulls ``w`` toward 1/2 by ``depol_per_decade`` per decade of time after ``t0``
(an assumption consistent with 10-year retention at 85 °C, Ni et al. 2018).
Energies: ~10 fJ per write (CEA-Leti table, FeRAM HfO2); 0.5 V reads (NeuroSim V2.1).
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np
import torch

from devices.base import DeviceState, PulseUpdateModel
from devices.cell import YEAR_S, CellConfig, CellModel
from devices.interp import interp
from devices.pulse_fit import fit_nonlinearity
from devices.sampling import normal
from devices.validation import param

__all__ = ["FeFETConfig", "FeFET"]

G_ON_S = 1.0 / 559e3  # R_on 559 kΩ, Jerry IEDM 2017 (NeuroSim Table II)


@dataclasses.dataclass(frozen=True)
class FeFETConfig(CellConfig):
    """HZO FeFET cell; defaults from Jerry et al., IEDM 2017 (see the module docstring)."""

    g_min: float = param(G_ON_S / 45, unit="S", ge=0.0, le=1.0, doc="G_on / 45 (Jerry 2017)")
    g_max: float = param(G_ON_S, unit="S", gt=0.0, le=1.0, doc="1 / 559 kΩ (Jerry 2017)")
    n_levels: int | None = param(32, integer=True, ge=2, optional=True, doc="5 bit (Jerry)")
    read_voltage_V: float = param(0.5, unit="V", gt=0.0, le=10.0, doc="NeuroSim V2.1")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, le=1.0, doc="read time (assumed)")
    t_write_s: float = param(75e-9, unit="s", gt=0.0, le=1.0, doc="Jerry 2017 pulses")
    write_energy_J: float = param(10e-15, unit="J", ge=0.0, le=1e-6, doc="CEA-Leti (FeRAM)")
    endurance_cycles: float = param(5e6, ge=1.0, doc="Ni et al. 2018")
    retention_s: float = param(10 * YEAR_S, unit="s", gt=0.0, doc="10 y at 85 °C (Ni 2018)")
    pulse_levels: int = param(32, integer=True, ge=2, doc="Jerry 2017")
    c2c_sigma: float = param(0.005, ge=0.0, le=1.0, doc="< 0.5 % (Jerry 2017)")
    prog_sigma: float = param(0.005, ge=0.0, le=1.0, doc="write-verify std (fraction), = c2c")
    v_set_V: float = param(3.65, unit="V", gt=0.0, le=20.0, doc="potentiating amplitude")
    v_reset_V: float = param(-2.95, unit="V", ge=-20.0, lt=0.0, doc="depressing amplitude")
    v_ref_set_V: float = param(3.65, unit="V", gt=0.0, le=20.0, doc="amplitude of tau_set_s")
    v_ref_reset_V: float = param(-2.95, unit="V", ge=-20.0, lt=0.0, doc="of tau_reset_s")
    tau_set_s: float = param(1.64e-6, unit="s", gt=0.0, doc="median NLS time (calibrated)")
    tau_reset_s: float = param(2.06e-6, unit="s", gt=0.0, doc="median NLS time (calibrated)")
    sigma_log10_tau: float = param(0.3, ge=0.0, le=3.0, doc="NLS spread, decades (assumed)")
    v_act_V: float = param(20.0, unit="V", ge=0.0, le=1000.0, doc="Merz activation (assumed)")
    memory_window_V: float = param(1.0, unit="V", gt=0.0, le=10.0, doc="~1 V (Tan 2021)")
    vt_sigma_V: float = param(0.0, unit="V", ge=0.0, le=1.0, doc="d2d threshold spread")
    depol_per_decade: float = param(0.01, ge=0.0, lt=0.1, doc="retention loss (assumed)")
    t0_s: float = param(1.0, unit="s", gt=0.0, doc="retention reference time")


@lru_cache(maxsize=32)
def _branch_table(t_w: float, tau_m: float, sigma: float, n_pulses: int) -> tuple:
    """``(k, w)`` grid of the normalised NLS switching curve for one polarity (NumPy)."""
    z, wz = np.polynomial.hermite_e.hermegauss(41)
    wz = wz / wz.sum()
    tau = tau_m * 10.0 ** (sigma * z)
    k = np.linspace(0.0, 8.0 * n_pulses, 8 * 64 * n_pulses + 1)
    s = 1.0 - (wz[None, :] * np.exp(-np.outer(k, t_w / tau))).sum(axis=1)
    s_p = 1.0 - float((wz * np.exp(-n_pulses * t_w / tau)).sum())
    w = np.minimum(s / s_p, np.maximum.accumulate(s / s_p))
    return k, w


class FeFET(CellModel):
    """HZO FeFET cell; ``hidden["dvt"]`` is each device's threshold shift (V)."""

    name = "fefet"
    quantity = "conductance"
    config_class = FeFETConfig
    config: FeFETConfig

    def reference_time_s(self) -> float:
        return self.config.t0_s

    def _tau_m(self, v: float, v_ref: float, tau_ref: float) -> float:
        return tau_ref * math.exp(self.config.v_act_V * (1.0 / abs(v) - 1.0 / abs(v_ref)))

    def branch(self, up: bool) -> tuple[np.ndarray, np.ndarray]:
        """Expected normalised weight against pulse count from the bottom (up) or top (down).

        Returns ``(k, w)`` with ``w`` the switched fraction normalised to ``w(P) = 1`` at the
        reference amplitude; a depression curve is returned as the switched-back fraction.
        """
        c = self.config
        if up:
            tau = self._tau_m(c.v_set_V, c.v_ref_set_V, c.tau_set_s)
            tau_ref = c.tau_set_s
        else:
            tau = self._tau_m(c.v_reset_V, c.v_ref_reset_V, c.tau_reset_s)
            tau_ref = c.tau_reset_s
        n_p = c.pulse_levels - 1
        k, w = _branch_table(c.t_write_s, tau, c.sigma_log10_tau, n_p)
        if tau != tau_ref:  # normalise to the window of the reference amplitude
            _, w_ref = _branch_table(c.t_write_s, tau_ref, c.sigma_log10_tau, n_p)
            s_ref = float(np.interp(n_p, k, w_ref))
            w = w / s_ref if s_ref > 0 else w
        return k, np.minimum(w, 1.0)

    def _g(self, w: torch.Tensor, dvt: torch.Tensor | None) -> torch.Tensor:
        if dvt is not None:
            w = w - dvt / self.config.memory_window_V
        return self.denormalise(w).clamp(self.g_min, self.g_max)

    def _w_of(self, state: DeviceState) -> torch.Tensor:
        w = state.hidden.get("w")
        return self.normalise(state.value).clamp(0, 1) if w is None else w

    def _program(self, x, generator):
        c = self.config
        w = (self.normalise(x) + c.prog_sigma * normal(x, generator)).clamp(0, 1)
        dvt = c.vt_sigma_V * normal(x, generator)
        return self._g(w, dvt), {"w": w, "dvt": dvt}

    def _read(self, state: DeviceState, t: float, generator) -> torch.Tensor:
        c = self.config
        if t <= c.t0_s or c.depol_per_decade == 0:
            return state.value
        w = self._w_of(state)
        keep = max(1.0 - c.depol_per_decade * math.log10(t / c.t0_s), 0.0)
        w_t = 0.5 + (w - 0.5) * keep
        gain = state.hidden.get("gain")
        g = self._g(w_t, state.hidden.get("dvt"))
        return g if gain is None else (g * gain).clamp(self.g_min, self.g_max)

    def _pulse(self, state, n, generator):
        w = self._w_of(state)
        k_up, w_up = (torch.as_tensor(a, dtype=w.dtype, device=w.device) for a in self.branch(True))
        k_dn, w_dn = (
            torch.as_tensor(a, dtype=w.dtype, device=w.device) for a in self.branch(False)
        )
        up = interp(interp(w, w_up, k_up) + n.clamp(min=0), k_up, w_up)
        down = 1 - interp(interp(1 - w, w_dn, k_dn) + (-n).clamp(min=0), k_dn, w_dn)
        w_new = torch.where(n >= 0, up, down)
        c2c = self.config.c2c_sigma
        if c2c > 0:
            w_new = w_new + c2c * n.abs().sqrt() * normal(w_new, generator)
        w_new = w_new.clamp(0, 1)
        gain = state.hidden.get("gain")
        g = self._g(w_new, state.hidden.get("dvt"))
        return (g if gain is None else g * gain), {"w": w_new}

    def update_model(self) -> PulseUpdateModel:
        """The standard update model fitted to the expected domain-switching curves."""
        c = self.config
        n_p = c.pulse_levels - 1
        p = np.arange(n_p + 1, dtype=float)
        nl = [fit_nonlinearity(np.interp(p, *self.branch(up))) for up in (True, False)]
        return PulseUpdateModel(
            n_levels=c.pulse_levels,
            nonlinearity_ltp=nl[0],
            nonlinearity_ltd=nl[1],
            c2c_sigma=c.c2c_sigma,
            g_min=c.g_min,
            g_max=c.g_max,
        )
