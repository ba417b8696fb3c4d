"""The crossbar: a weight matrix programmed onto device tiles and read as a batched MVM.

Data flow of :meth:`Crossbar.matvec` for inputs ``x (B, K)`` at time ``t``::

    x ─► DAC (per row tile: range, magnitude bits, sign as polarity; PWM or bit planes)
      ─► read the cells at t (drift, read noise: the device model)
      ─► column signals: Σ V·G (currents; IR drop optional) or Σ C·V (charge sharing, kT/C)
      ─► analog subtraction (G+ − G−, or G − G_ref)
      ─► output-referred noise, ADC (per column or per tile full scale)
      ─► digital: shift-and-add of bit planes and slices, × weight scale × input range,
         × each tile's drift compensation factor, sum of row-tile partial sums
      ─► y (B, N)

Drift compensation is measured, not assumed: one-hot full-scale reference inputs go
through the same path (cells as read at ``t``, output noise, ADC) after programming and at
``t``; each tile's factor is the ratio of the mean ``|output|`` (aihwkit's
``GlobalDriftCompensation``, one factor per tile). The cells are read once per read time
(``read_noise_mode="per-time"``, as aihwkit applies drift and read noise once per
``drift_analog_weights``) unless ``"per-call"`` is asked for.

All tiles of a matrix are one tensor ``(Tr, Tc, R, Cp)``: a read is one device call and
an MVM is one batched matmul per step, on whatever torch device the weights live on.

Fused path (conductance cells, PWM or ideal DAC, no IR drop): between reads the column
signals are a fixed linear map of the DAC codes, so :meth:`Crossbar.matvec` keeps, with
each per-time read, the signed matrix ``(G+ − G−)·V_read / (DAC levels · ADC step)`` of
every tile, and an MVM is one batched matmul (``(Tr, B, R) @ (Tr, R, Tc·Kw·S)``) plus
elementwise work on its ``(Tr, B, N)`` output: one output-noise draw, the ADC's rounding
and clipping, one scale per column and tile, the input ranges, the sum over row tiles.
The step-by-step reference (``_reference_matvec``) gives the same numbers for the same read
and draw (an ADC code may differ by one step on a rounding boundary, ~1e-5 of them in
float32); charge readout, bit-serial inputs and IR drop take it.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from crossbar import fastnoise
from crossbar.charge import charge_share
from crossbar.config import CrossbarConfig
from crossbar.converters import adc_quantize, dac_bit_planes, dac_quantize
from crossbar.cost import CostReport, cell_area_m2, matrix_cost
from crossbar.irdrop import AUTO_KAPPA, solve_fast, transfer_matrix, wire_drop_criterion
from crossbar.mapping import TileMap
from devices.base import DeviceModel, DeviceState

__all__ = ["Crossbar"]

#: Tile-output elements (``Tr·B·Tc·Kw·S``) above which the fused path works in chunks of
#: vectors: 2^20 float32 values are 4 MiB per buffer, within a CPU's last-level cache.
_FUSED_CHUNK = 1 << 20
#: ... but never fewer vectors than this per chunk: smaller matmuls lose more than the cache
#: gains (measured on a 4096x4096 layer at batch 256: 3.0x the ideal in 16-vector chunks,
#: 2.3x in one piece).
_FUSED_MIN_VECTORS = 256
#: A fused matvec with at most this many tile outputs (``Tr·B·M``) skips the chunking and
#: the C kernel: one DAC, ``torch.randn`` and elementwise ops, as the torch path does in one
#: chunk. Their fixed cost per call is the smaller there (1 thread, batch 1: a 256x256
#: linear 122 us on the torch path against 144 us with the kernel's setup; a 16-channel
#: 3x3 conv on 28x28, 12.5 k outputs, 477 against 522 us).
_SMALL_CALL = 1 << 14

_STATIC_BUFFERS = (
    "state_value", "scale", "shape_nk", "drift_ref", "c_nominal", "adc_fs", "dac_r", "target",
)  # fmt: skip


def _percentile_abs(x: torch.Tensor, q: float, dims: tuple[int, ...]) -> torch.Tensor:
    """``q``-th percentile of ``|x|`` over ``dims`` (kept as size-1 dims)."""
    a = x.abs()
    if q >= 100.0:
        return a.amax(dim=dims, keepdim=True)
    keep = [d for d in range(a.dim()) if d not in dims]
    moved = a.permute(*keep, *dims)
    flat = moved.reshape(*moved.shape[: len(keep)], -1)
    k = max(1, min(flat.shape[-1], math.ceil(q / 100.0 * flat.shape[-1])))
    vals = flat.kthvalue(k, dim=-1).values
    shape = [1 if d in dims else a.shape[d] for d in range(a.dim())]
    return vals.reshape(shape)


class Crossbar(nn.Module):
    """A weight matrix on analog crossbar tiles.

    Parameters
    ----------
    device : DeviceModel
        The cell (``devices.get("pcm")``).
    config : CrossbarConfig, optional
        Mapping, converters, non-idealities, costs (default ``CrossbarConfig()``).
    seed : int
        Seeds the internal generators used when none is passed (programming, reads).

    Notes
    -----
    ``Crossbar`` is an ``nn.Module`` whose programmed cells, scales and calibrations are
    buffers: ``state_dict``/``torch.save`` round-trip a programmed crossbar, and ``.to``
    moves it. ``xbar @ x`` is ``W @ x`` for ``x`` of shape ``(K,)`` or ``(K, B)``.
    """

    def __init__(
        self, device: DeviceModel, config: CrossbarConfig | None = None, *, seed: int = 0
    ) -> None:
        super().__init__()
        self.cell = device
        self.config = config or CrossbarConfig()
        self.seed = int(seed)
        self._gen: torch.Generator | None = None
        self._read_cache: tuple | None = None
        self._geom: tuple | None = None  # (shape_nk, config, shape, tile map)
        self._ir_cache: list[list] = []  # exact IR drop: transfer matrices of recent reads
        for name in _STATIC_BUFFERS:
            self.register_buffer(name, None)
        if self.config.self_test:
            self._self_test()

    # -- matrix-like interface ------------------------------------------------------------
    @property
    def programmed(self) -> bool:
        """Whether :meth:`program` has run."""
        return self.state_value is not None

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, K)`` of the programmed matrix."""
        return self._geometry()[0]

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the cells and the outputs."""
        self._require_programmed()
        return self.state_value.dtype

    @property
    def device(self) -> torch.device:
        """Torch device the cells live on."""
        self._require_programmed()
        return self.state_value.device

    @property
    def tile_map(self) -> TileMap:
        """Geometry of the programmed matrix on tiles."""
        return self._geometry()[1]

    def _geometry(self) -> tuple[tuple[int, int], TileMap]:
        """``(shape, tile_map)``, kept while the ``shape_nk`` buffer and the config object
        stay the same (a matvec asks for them several times; reading ``shape_nk`` is a
        device sync on a GPU)."""
        self._require_programmed()
        memo = self.__dict__.get("_geom")  # absent in a crossbar pickled before it existed
        if memo is None or memo[0] is not self.shape_nk or memo[1] is not self.config:
            shape = (int(self.shape_nk[0]), int(self.shape_nk[1]))
            memo = (self.shape_nk, self.config, shape, TileMap.build(*shape, self.config))
            self._geom = memo
        return memo[2], memo[3]

    @property
    def ir_drop_criterion(self) -> float:
        """``r·G_max·N²/2`` of this config's tile (``N`` its longer side; 0 for capacitive
        cells, which carry no DC current): how much the wires matter (see
        :func:`crossbar.irdrop.wire_drop_criterion`)."""
        if self.cell.quantity == "capacitance":
            return 0.0
        n = max(self.config.tile_rows, self.config.tile_cols)
        return wire_drop_criterion(self.config.r_wire_ohm, self.cell.g_max, n)

    @property
    def ir_drop_mode(self) -> str:
        """The wire model in use: ``"none"``, ``"exact"`` or ``"fast"``; ``ir_drop="auto"`` is
        ``"exact"`` for resistive cells whose :attr:`ir_drop_criterion` exceeds
        :data:`crossbar.irdrop.AUTO_KAPPA` (not for the wire-free ``ideal`` device)."""
        mode = self.config.ir_drop
        if mode == "auto":
            on = self.cell.name != "ideal" and self.ir_drop_criterion > AUTO_KAPPA
            return "exact" if on else "none"
        return mode

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        """``W @ x`` at ``t = 0`` for ``x`` of shape ``(K,)`` or ``(K, B)``."""
        if x.dim() == 1:
            return self.matvec(x)
        if x.dim() == 2:
            return self.matvec(x.t()).t()
        raise ValueError(f"Crossbar @ x needs x of shape (K,) or (K, B); got {tuple(x.shape)}")

    def extra_repr(self) -> str:
        shape = self.shape if self.programmed else "unprogrammed"
        return f"device={self.cell.name}, shape={shape}, mapping={self.config.mapping}"

    # -- programming ----------------------------------------------------------------------
    def program(self, weight: torch.Tensor, generator: torch.Generator | None = None) -> Crossbar:
        """Write ``weight`` ``(N, K)`` onto the tiles (on ``weight``'s torch device).

        Parameters
        ----------
        weight : torch.Tensor
            ``(N, K)`` floating matrix.
        generator : torch.Generator, optional
            For programming noise and faults (on ``weight.device``); default: one seeded
            from ``seed``.

        Returns
        -------
        Crossbar
            ``self``; ADC/DAC calibrations are cleared.
        """
        if weight.dim() != 2 or not weight.is_floating_point():
            raise ValueError(
                f"Crossbar.program needs a floating (N, K) matrix; got {weight.dtype} "
                f"{tuple(weight.shape)}"
            )
        cfg, cell = self.config, self.cell
        w = weight.detach()
        gen = generator or torch.Generator(device=w.device).manual_seed(self.seed)
        tmap = TileMap.build(w.shape[0], w.shape[1], cfg)
        targets, scale = tmap.targets(w, cell.g_min, cell.g_max)
        state = cell.program(targets, gen if cfg.programming_noise else None)
        self._set_state(state)
        self.scale = scale
        self.target = w.clone()
        self.shape_nk = torch.tensor(list(w.shape), dtype=torch.int64, device=w.device)
        self.c_nominal = None
        if cell.quantity == "capacitance":
            self.c_nominal = targets.sum(-2, keepdim=True) + self._c_bitline_F()
        self.adc_fs = None
        self.dac_r = None
        self.drift_ref = None  # measured at the first read (after calibration)
        self._gen = None
        self._read_cache = None
        return self

    def reprogram(self, generator: torch.Generator | None = None) -> Crossbar:
        """Write the same target matrix again: fresh programming noise, drift from ``t = 0``.

        Calibrations are cleared, as by :meth:`program`.
        """
        self._require_programmed()
        return self.program(self.target, generator)

    def _set_state(self, state: DeviceState) -> None:
        for name in [n for n in self._buffers if n.startswith("state_h_")]:
            del self._buffers[name]
        self.state_value = state.value
        for key, value in state.hidden.items():
            self.register_buffer(f"state_h_{key}", value)

    def _state(self) -> DeviceState:
        hidden = {n[8:]: b for n, b in self._buffers.items() if n.startswith("state_h_")}
        return DeviceState(self.state_value, hidden)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, *args):
        for key, value in state_dict.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if "." in name:
                continue
            if name in _STATIC_BUFFERS or name.startswith("state_h_"):
                self._buffers[name] = value.detach().clone()
        self._read_cache = None
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, *args)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_gen"] = None  # a torch.Generator is rebuilt from the seed on first use
        state["_read_cache"] = None
        state["_ir_cache"] = []
        return state

    def _require_programmed(self) -> None:
        if self.state_value is None:
            raise RuntimeError("Crossbar is not programmed; call program(W) first")

    def _c_bitline_F(self) -> float:
        """Bit-line wire capacitance of one column: rows × cell pitch × C per length."""
        pitch_m = math.sqrt(cell_area_m2(self.cell, self.config))
        return self.config.tile_rows * pitch_m * self.config.cost.wire_cap_F_per_m

    # -- reading --------------------------------------------------------------------------
    def _generator(self, dev: torch.device) -> torch.Generator:
        if self._gen is None or self._gen.device != dev:
            self._gen = torch.Generator(device=dev).manual_seed(self.seed + 1)
        return self._gen

    def reseed(self, seed: int) -> None:
        """Restart the internal read-noise generator from ``seed`` (and redraw the read)."""
        self.seed = int(seed)
        self._gen = None
        self._read_cache = None

    def redraw(self) -> None:
        """Forget the read drawn for the current time: the next MVM reads the cells anew.

        With ``read_noise_mode="per-time"`` the cells are read once per read time (their
        drift and 1/f read noise at ``t``, and the drift compensation measured on that
        read) and the read serves every MVM at ``t``; call this to start a new evaluation
        at the same time. ``crossbar.nn.set_time`` calls it.
        """
        self._read_cache = None

    def _read(self, t: float, generator: torch.Generator | None) -> torch.Tensor:
        cfg = self.config
        t_eff = float(t) if cfg.drift else 0.0
        return self.cell.read(self._state(), t_eff, generator if cfg.read_noise else None)

    def _dac(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs ``(B, K)`` → applied voltages per tile ``(Tr, B, R)`` (units of V_read), range."""
        tm, dac = self.tile_map, self.config.dac
        xp = x.new_zeros((x.shape[0], tm.tiles_r * tm.rows))
        xp[:, : tm.n_in] = x
        xt = xp.view(x.shape[0], tm.tiles_r, tm.rows).transpose(0, 1)
        r = self._dac_range(xt)
        return dac_quantize(xt, r.masked_fill(r == 0, 1.0), dac.bits), r

    def _dac_range(self, xv: torch.Tensor) -> torch.Tensor:
        """The DAC range for inputs laid out by row tile (``(..., R)``): max |x| per vector
        and row tile (``DACConfig.range_mode="dynamic"``), the calibrated range, or the
        fixed one. An all-zero vector gets range 0: it is not converted and reads 0 (not
        the output noise rescaled by a made-up full scale; aihwkit's abs-max noise
        management gives 0 too); callers divide by 1 there (its codes are all 0)."""
        dac = self.config.dac
        if dac.range_mode == "dynamic":  # max(amax, -amin): abs().amax() is 20x slower on CPU
            return torch.maximum(xv.amax(-1, keepdim=True), -xv.amin(-1, keepdim=True))
        if dac.range_mode == "calibrated":
            if self.dac_r is None:
                raise RuntimeError(
                    "Crossbar DAC range is not calibrated (DACConfig.range_mode='calibrated'); "
                    "call calibrate(x) first"
                )
            return self.dac_r
        return torch.tensor(dac.range_value, dtype=xv.dtype, device=xv.device)

    def _analog(
        self, u: torch.Tensor, g: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Applied voltages ``(Tr, B, R)`` and cells ``(Tr, Tc, R, Cp)`` → ``(Tr, B, Tc, Kw, S)``.

        Signed column signals after the analog subtraction: A (currents) or C (charges).
        """
        cfg, tm = self.config, self.tile_map
        tr, tc, rows, cp = g.shape
        v = u * self.cell.read_voltage_V
        if self.cell.quantity == "capacitance":
            gm = g.permute(0, 2, 1, 3).reshape(tr, rows, tc * cp)
            q = (v @ gm).view(tr, -1, tc, cp)
            c_total = (g.sum(-2, keepdim=True) + self._c_bitline_F()).transpose(1, 2)
            c_nom = self.c_nominal.transpose(1, 2)
            temp = cfg.temperature_K if cfg.thermal_noise else None
            return tm.signed(charge_share(q, c_total, c_nom, temp, generator))
        mode = self.ir_drop_mode
        if mode == "none":
            gs = tm.signed(g)  # (Tr, Tc, R, Kw, S)
            gm = gs.permute(0, 2, 1, 3, 4).reshape(tr, rows, -1)
            return (v @ gm).view(tr, -1, tc, tm.weight_cols, tm.n_slices)
        if mode == "exact" and cfg.cell_type == "1T1R":
            # Linear cells and wires: one matmul with the read's exact transfer matrix.
            gm = self._ir_transfer(g)
            return (v @ gm).view(tr, -1, tc, tm.weight_cols, tm.n_slices)
        b = v.shape[1]
        if mode == "exact":  # 0T1R: linear for each pattern of floating rows
            return tm.signed(self._ir_floating(v, g))
        vt = v.unsqueeze(1).expand(tr, tc, b, rows).reshape(tr * tc, b, rows)
        gt = g.reshape(tr * tc, rows, cp)
        r = cfg.r_wire_ohm
        i = solve_fast(gt, vt, r, r, cfg.cell_type, cfg.ir_drop_iterations)
        return tm.signed(i.view(tr, tc, b, cp).transpose(1, 2))

    def _ir_entry(self, g: torch.Tensor) -> list:
        """The exact-IR-drop cache entry of the cells ``g`` (a read): ``[g, version, M, {}]``.

        Transfer matrices depend only on the conductances, so they are kept for the last
        few reads (the read serving MVMs at ``t``, the drift reference, the calibration
        read) and found again by identity or by equal content; a new read (program,
        reprogram, redraw, reseed, another time) has other cells and misses.
        """
        for k, entry in enumerate(self._ir_cache):
            e = entry[0]
            same = e is g and entry[1] == g._version
            if not same and e._version == entry[1] and e.shape == g.shape:
                same = e.dtype == g.dtype and e.device == g.device and torch.equal(e, g)
            if same:
                self._ir_cache.insert(0, self._ir_cache.pop(k))
                return entry
        entry = [g, g._version, None, {}, None]
        self._ir_cache = [entry, *self._ir_cache[:2]]
        return entry

    def _wire_map(self, g: torch.Tensor) -> torch.Tensor:
        """What the columns draw per volt on each row, ``(Tr, Tc, R, Cp)`` S: the cells ``g``
        themselves, or with exact IR drop in a 1T1R array the read's transfer matrices
        (:func:`crossbar.irdrop.transfer_matrix`, computed once per read and kept)."""
        if self.ir_drop_mode != "exact" or self.config.cell_type != "1T1R":
            return g
        entry = self._ir_entry(g)
        if entry[2] is None:
            r = self.config.r_wire_ohm
            entry[2] = transfer_matrix(g.to(torch.float64), r, r).to(g.dtype)
        return entry[2]

    def _ir_transfer(self, g: torch.Tensor) -> torch.Tensor:
        """Signed exact transfer matrices of 1T1R tiles ``g (Tr, Tc, R, Cp)`` → ``(Tr, R, Tc·Kw·S)``.

        ``v @`` the result gives the signed column currents with wire resistance.
        """
        entry = self._ir_entry(g)
        if entry[4] is None:
            tr, tc, rows, _ = g.shape
            ms = self.tile_map.signed(self._wire_map(g))  # the subtraction is linear
            entry[4] = ms.permute(0, 2, 1, 3, 4).reshape(tr, rows, -1)
        return entry[4]

    def _ir_floating(self, v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Exact column currents ``(Tr, B, Tc, Cp)`` of 0T1R tiles for voltages ``v (Tr, B, R)``.

        Rows with input 0 float; for each pattern of floating rows the tile is linear, and
        its transfer matrix is computed once per read and pattern (up to 64 kept).
        """
        entry = self._ir_entry(g)
        tr, tc, rows, cp = g.shape
        r = self.config.r_wire_ohm
        out = v.new_zeros((tr, v.shape[1], tc, cp))
        for t in range(tr):
            pats, inv = torch.unique(v[t] != 0, dim=0, return_inverse=True)
            for k in range(pats.shape[0]):
                key = (t, pats[k].cpu().numpy().tobytes())
                m = entry[3].get(key)
                if m is None:
                    m = transfer_matrix(g[t].to(torch.float64), r, r, pats[k]).to(g.dtype)
                    if len(entry[3]) >= 64:
                        entry[3].pop(next(iter(entry[3])))
                    entry[3][key] = m  # (Tc, R, Cp)
                idx = (inv == k).nonzero().squeeze(1)
                out[t, idx] = torch.einsum("br,crp->bcp", v[t, idx], m)
        return out

    def _phases(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """PWM: ``u`` as is; bit-serial: planes stacked on the batch axis, and their weights."""
        dac = self.config.dac
        if dac.mode != "bit-serial":
            return u, None
        planes, w = dac_bit_planes(u, dac.bits)  # (bits, Tr, B, R)
        nb, tr, b, rows = planes.shape
        return planes.permute(1, 0, 2, 3).reshape(tr, nb * b, rows), w

    def _full_scale(self, lenient: bool = False) -> torch.Tensor | None:
        """ADC full scale; None for an ideal ADC (or, ``lenient``, one not yet calibrated)."""
        adc, tm = self.config.adc, self.tile_map
        if adc.bits is None:
            return None
        if adc.range_mode == "fixed":
            gain = tm.gain(self.cell.g_min, self.cell.g_max)
            return torch.tensor(
                adc.full_scale * gain * self.cell.read_voltage_V,
                dtype=self.dtype,
                device=self.device,
            )
        if self.adc_fs is None:
            if lenient:
                return None
            raise RuntimeError(
                "Crossbar ADC range is not calibrated (ADCConfig.range_mode='calibrated'); "
                "call calibrate(x) first"
            )
        return self.adc_fs

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor) -> Crossbar:
        """Set calibrated DAC and ADC ranges from sample inputs ``x (B, K)``.

        The DAC range is the configured percentile of ``|x|``; the ADC full scale the
        percentile of the column signals, per column or per tile, computed on a
        noise-free read at programming time (``t = 0``). The drift compensation reference
        is measured again (through the new ranges) on the next read.
        """
        self._require_programmed()
        x = x.reshape(-1, self.shape[1]).to(device=self.device, dtype=self.dtype)
        dac, adc = self.config.dac, self.config.adc
        if dac.range_mode == "calibrated":
            r = _percentile_abs(x.reshape(-1), dac.calibration_percentile, (0,)).reshape(())
            self.dac_r = torch.where(r > 0, r, torch.ones_like(r))
        if adc.bits is not None and adc.range_mode == "calibrated":
            u, _ = self._dac(x)
            up, _ = self._phases(u)
            sig = self._analog(up, self._read(0.0, None), None)  # (Tr, B, Tc, Kw, S)
            dims = (1,) if adc.scope == "column" else (1, 3, 4)
            fs = _percentile_abs(sig, adc.calibration_percentile, dims)
            floor = self.tile_map.gain(self.cell.g_min, self.cell.g_max) * self.cell.read_voltage_V
            self.adc_fs = torch.where(fs > 0, fs, torch.full_like(fs, floor))
        self.drift_ref = None  # the reference is measured through the calibrated periphery
        self._read_cache = None
        return self

    def _out_noise(self, sig: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Add the output-referred noise (``ADCConfig.out_noise`` × ``Δg·V_read``) per conversion."""
        sigma = self.config.adc.out_noise
        if generator is None or sigma == 0:
            return sig
        unit = self.tile_map.gain(self.cell.g_min, self.cell.g_max) * self.cell.read_voltage_V
        noise = torch.randn(sig.shape, generator=generator, dtype=sig.dtype, device=sig.device)
        return sig + noise * (sigma * unit)

    def _signal(
        self,
        u: torch.Tensor,
        g: torch.Tensor,
        generator: torch.Generator | None,
        lenient: bool = False,
        analog: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Applied inputs ``(Tr, B, R)`` → digitised signals per weight column ``(Tr, B, Tc, Kw)``.

        The analog read, output noise, ADC, and the shift-and-add of bit planes and slices;
        in signal units (A, or C for charge readout), before the weight scales. ``analog``:
        the column signals ``(Tr, B, Tc, Kw, S)`` of ``u`` when the caller has them.
        """
        tm = self.tile_map
        up, plane_w = self._phases(u)
        if analog is None:
            analog = self._analog(up, g, generator)
        sig = self._out_noise(analog, generator)
        fs = self._full_scale(lenient)
        if fs is not None:
            sig = adc_quantize(sig, fs, self.config.adc.bits)
        if plane_w is not None:
            sig = sig.view(tm.tiles_r, -1, u.shape[1], *sig.shape[2:])
            sig = torch.tensordot(plane_w, sig, dims=([0], [1]))
        if tm.n_slices == 1:
            return sig.squeeze(-1)
        return sig @ tm.slice_weights(sig.dtype, sig.device)

    def _readout(self, g: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Mean ``|output|`` per tile ``(Tr, Tc)`` for one-hot full-scale inputs on every row.

        The reference input of drift compensation (aihwkit ``GlobalDriftCompensation``:
        ``eye(in_size)``, mean of ``|y|``), through the periphery as modelled; only the
        rows and weight columns that hold the matrix count.
        """
        tm = self.tile_map
        eye = torch.eye(tm.rows, dtype=g.dtype, device=g.device)
        # Before calibration (effective_weights of a fresh layer) the ADC is left out; the
        # reference is measured again once the ADC is calibrated.
        analog = None
        if self._fast_ok:  # a one-hot input on row i reads row i's signed cells: no matmul
            analog = (tm.signed(self._wire_map(g)) * self.cell.read_voltage_V).transpose(1, 2)
        u = eye.expand(tm.tiles_r, tm.rows, tm.rows)
        y = self._signal(u, g, generator, True, analog).abs()
        row_ok = torch.arange(tm.tiles_r * tm.rows, device=g.device) < tm.n_in
        col_ok = torch.arange(tm.tiles_c * tm.weight_cols, device=g.device) < tm.n_out
        mask = row_ok.view(tm.tiles_r, tm.rows, 1, 1) & col_ok.view(1, 1, tm.tiles_c, -1)
        y = y * mask
        return y.sum((1, 3)) / mask.sum((1, 3)).clamp(min=1)

    def drift_factor(
        self, g: torch.Tensor, generator: torch.Generator | None, *, keep: bool = True
    ) -> torch.Tensor:
        """Drift compensation factors per tile ``(Tr, Tc)`` for the cells ``g`` as read now.

        ``reference / measured`` of :meth:`_readout`; the reference is measured on a read
        at ``t = 0`` the first time it is needed after programming or calibration (and kept
        unless ``keep=False``). Ones if
        compensation is off (or a tile reads nothing, e.g. all-zero weights without noise).
        """
        tm = self.tile_map
        ones = torch.ones((tm.tiles_r, tm.tiles_c), dtype=g.dtype, device=g.device)
        if not self.config.drift_compensation:
            return ones
        ref = self.drift_ref
        if ref is None or ref.shape != ones.shape:
            ref = self._readout(self._read(0.0, generator), generator)
            if keep:
                self.drift_ref = ref
        measured = self._readout(g, generator)
        ok = (measured > 0) & (ref > 0)
        return torch.where(ok, ref / torch.where(ok, measured, ones), ones)

    def _read_at(
        self, t: float, generator: torch.Generator, explicit: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The cells read at ``t`` and their drift compensation factors (cached per time).

        The cache ``(key, g, alpha, config, fast operands)`` holds for one read time,
        torch device, dtype and config object; :meth:`program`, :meth:`reprogram`,
        :meth:`calibrate`, :meth:`redraw`, :meth:`reseed` and ``load_state_dict`` clear it.
        """
        per_time = self.config.read_noise_mode == "per-time" and not explicit
        key = (float(t), self.state_value.device, self.state_value.dtype)
        if per_time and self._cached_read(key) is not None:
            return self._read_cache[1], self._read_cache[2]
        g = self._read(t, generator)
        alpha = self.drift_factor(g, generator)
        if per_time:
            self._read_cache = (key, g, alpha, self.config, None)
        return g, alpha

    def _cached_read(self, key: tuple) -> tuple | None:
        """The per-time read cache if it holds for ``key`` and the current config."""
        c = self._read_cache
        if c is not None and c[0] == key and c[3] is self.config:
            return c
        return None

    # -- fast path: one matmul per read, elementwise conversions --------------------------
    @property
    def _fast_ok(self) -> bool:
        """Whether :meth:`matvec` may take the fused path (:meth:`_fast_matvec`).

        Conductance cells read by currents without IR drop, a PWM (or ideal) DAC: the
        column signals are then one linear map of the applied inputs, fixed between reads.
        Exact IR drop in a 1T1R array is linear too (the read's transfer matrix,
        :meth:`_wire_map`, in place of the cells). Charge readout (kT/C per read),
        bit-serial inputs and the other IR-drop models take the reference path.
        """
        cfg = self.config
        wires = self.ir_drop_mode
        return (
            self.cell.quantity != "capacitance"
            and (wires == "none" or (wires == "exact" and cfg.cell_type == "1T1R"))
            and (cfg.dac.mode == "pwm" or cfg.dac.bits is None)
        )

    def _fast_operands(self, g: torch.Tensor, alpha: torch.Tensor) -> tuple:
        """Per-read operands of :meth:`_fast_matvec`, from the cells ``g`` and factors ``alpha``.

        Returns
        -------
        w : torch.Tensor
            ``(Tr, R, Tc·Kw·S)``: the signed cell values (``G+ − G−`` or ``G − G_ref``) ×
            ``V_read`` / DAC levels, in ADC steps per DAC code (per column's step for a
            quantising ADC; in A per code for an ideal one).
        noise : torch.Tensor or None
            ``(Tr, 1, Tc·Kw·S)``: the output-noise std in the same units (None: no noise).
        post : torch.Tensor
            ``(Tr, 1, Tc·Kw·S)``: back to weight × input-range units: ADC step × slice
            weight × weight scale / (gain·V_read) × the tile's drift compensation factor.
        half : int or None
            ``2**(bits-1)`` of the ADC (None: ideal ADC).
        """
        cfg, tm, cell = self.config, self.tile_map, self.cell
        tr, tc = tm.tiles_r, tm.tiles_c
        kw, s = tm.weight_cols, tm.n_slices
        levels = 2**cfg.dac.bits - 1 if cfg.dac.bits is not None else 1
        fs = self._full_scale()
        if fs is None:
            step = torch.ones((), dtype=g.dtype, device=g.device)
            half = None
        else:
            step = fs / 2 ** (cfg.adc.bits - 1)
            half = 2 ** (cfg.adc.bits - 1)
        # (Tr, 1, Tc, Kw, S) views of the per-column factors
        step5 = step.reshape(step.shape[0], 1, *step.shape[2:]) if step.dim() == 5 else step
        gs = tm.signed(self._wire_map(g)).permute(0, 2, 1, 3, 4)  # (Tr, R, Tc, Kw, S)
        w = (gs * (cell.read_voltage_V / levels) / step5).reshape(tr, tm.rows, tc * kw * s)
        sigma = cfg.adc.out_noise
        noise = None
        if sigma > 0:
            unit = tm.gain(cell.g_min, cell.g_max) * cell.read_voltage_V
            noise = (sigma * unit / step5).expand(tr, 1, tc, kw, s).reshape(tr, 1, -1)
        scale = self.scale.transpose(1, 2).unsqueeze(-1)  # (Tr, 1, Tc, Kw|1, 1)
        post = step5 * scale * (1.0 / (tm.gain(cell.g_min, cell.g_max) * cell.read_voltage_V))
        if s > 1:
            post = post * tm.slice_weights(g.dtype, g.device)
        if cfg.drift_compensation:
            post = post * alpha[:, None, :, None, None]
        post = post.expand(tr, 1, tc, kw, s).reshape(tr, 1, -1)
        return w.contiguous(), noise, post.contiguous(), half

    def _fast_dac(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs ``(B, K)`` → DAC codes ``(B, Tr, R)`` (integers for a quantising DAC; in
        units of the range for an ideal one) and the range, ``(B, Tr, 1)`` or ``()``.

        The same arithmetic as :meth:`_dac` (so the same codes) in the inputs' own layout.
        """
        tm, dac = self.tile_map, self.config.dac
        b, k = x.shape
        if k != tm.tiles_r * tm.rows:  # pad only the last row tile's missing rows
            x = torch.nn.functional.pad(x, (0, tm.tiles_r * tm.rows - k))
        xv = x.view(b, tm.tiles_r, tm.rows)
        r = self._dac_range(xv)
        u = xv / r.masked_fill(r == 0, 1.0)  # out of place: autograd
        if dac.range_mode != "dynamic":  # a range of max|x| leaves |u| <= 1: nothing to clip
            u.clamp_(-1.0, 1.0)
        if dac.bits is not None:
            u.mul_(2**dac.bits - 1).round_()
        return u, r

    def _fast_matvec(
        self,
        xb: torch.Tensor,
        g: torch.Tensor,
        alpha: torch.Tensor,
        generator: torch.Generator,
        ops: tuple | None = None,
        unit: int = 1,
    ) -> torch.Tensor:
        """:meth:`matvec` on the fused path: ``(B, K)`` → ``(B, Tc·Kw)`` (before the crop).

        One batched matmul of the DAC codes with the per-read matrix of
        :meth:`_fast_operands` gives every tile's column signals in ADC steps; the output
        noise (drawn as on the reference path: one ``randn`` of shape ``(Tr, B, Tc, Kw,
        S)``), the ADC's rounding and clipping, the scales, slices, drift factors and input
        ranges are elementwise, and the row tiles are summed. Equal to the reference path
        up to float rounding (an ADC code can differ by one step where a signal sits on a
        rounding boundary to within ~1e-7 relative).

        A batch whose inputs or tile outputs exceed :data:`_FUSED_CHUNK` elements is done in
        chunks of vectors, DAC included, so that the elementwise passes run on data in cache
        (the noise is still drawn in one piece, in the reference path's order). ``xb`` may
        also be a pair ``(B, rows)`` (:meth:`matvec_rows`): ``rows(i, j)`` makes vectors
        ``i..j`` when their chunk comes, and chunks hold whole multiples of ``unit`` vectors.

        On float32 CPU tensors without autograd, when :mod:`crossbar.fastnoise` could build
        its C kernel, the conversion after the matmul is one pass of that kernel per chunk:
        exact standard normals of its own generator (Box-Muller on xoshiro256++, seeded by
        one int64 drawn from ``generator``) instead of ``torch.randn``, so the draw differs
        from the reference path's but has the same distribution; ``NEURO_COSIM_NO_CEXT=1``
        keeps torch's. A call of at most :data:`_SMALL_CALL` tile outputs (batch 1) takes
        the torch path in one piece: there its fixed cost per call is the smaller.
        """
        w, noise, post, half = ops if ops is not None else self._fast_operands(g, alpha)
        tm = self.tile_map
        b, rows = xb if isinstance(xb, tuple) else (xb.shape[0], None)
        # A small call (batch 1) is one chunk on torch's path: the least fixed cost.
        small = tm.tiles_r * b * w.shape[-1] <= _SMALL_CALL
        # Chunks by the larger of a vector's inputs and its tile outputs (a conv's im2col
        # rows are often longer than its outputs), in whole units. The C kernel reads the
        # tile outputs once (no elementwise passes to keep in cache) while each chunk's
        # matmul packs the weights anew: bigger chunks for it, on a matrix of inputs.
        limit = _FUSED_CHUNK
        if not small and rows is None and fastnoise.usable(xb, w, post):
            limit = fastnoise.CHUNK_ELEMENTS
        step = limit // (tm.tiles_r * max(w.shape[-1], tm.rows))
        step = max(b, 1) if small else max(unit, max(_FUSED_MIN_VECTORS, step) // unit * unit)
        chunks = [slice(b0, min(b0 + step, b)) for b0 in range(0, b, step)] or [slice(0, 0)]

        def codes(k: int) -> tuple:  # the DAC of chunk k: inputs, codes (Tr, b, R), ranges
            sl = chunks[k]
            xc = xb[sl] if rows is None else rows(sl.start, sl.stop).to(w.dtype)
            u, r = self._fast_dac(xc)
            return xc, u.transpose(0, 1), r

        first = codes(0)
        if not small and fastnoise.usable(first[0], w, post, first[2]):
            y = w.new_empty((b, w.shape[-1] // tm.n_slices))
            convert = fastnoise.fused_adc(noise, post, half, tm.n_slices, generator)
            for k, sl in enumerate(chunks):
                _, ut, r = codes(k) if k else first
                sig = fastnoise.scratch((tm.tiles_r, ut.shape[1], w.shape[-1]))
                convert(self._codes_matmul(ut, w, sig), r, y[sl])
            return y
        eps = None
        if noise is not None:
            shape = (tm.tiles_r, b, w.shape[-1])
            eps = torch.randn(shape, generator=generator, dtype=w.dtype, device=w.device)
        if len(chunks) == 1:
            return self._fused_chunk(first[1], first[2], w, eps, noise, post, half)
        y = w.new_empty((b, w.shape[-1] // tm.n_slices))
        for k, sl in enumerate(chunks):
            _, ut, r = codes(k) if k else first
            e = eps[:, sl] if eps is not None else None
            y[sl] = self._fused_chunk(ut, r, w, e, noise, post, half)
        return y

    def _codes_matmul(
        self, ut: torch.Tensor, w: torch.Tensor, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``ut (Tr, b, R) @ w (Tr, R, M)`` without the zero rows that pad a last row tile
        the matrix fills only in part (a 288-input conv on 256-row tiles: 512 rows, 288 used).

        The same numbers as the padded product (its extra terms are exact zeros; checked
        bitwise on MKL); ``out=``, so not under autograd. ``out``: where to write it (a
        ``(Tr, b, M)`` buffer; default a new one).
        """
        tm = self.tile_map
        last = tm.n_in - (tm.tiles_r - 1) * tm.rows
        if last == tm.rows:
            return torch.matmul(ut, w, out=out)
        if out is None:
            out = ut.new_empty((tm.tiles_r, ut.shape[1], w.shape[-1]))
        torch.matmul(ut[:-1], w[:-1], out=out[:-1])
        torch.matmul(ut[-1, :, :last], w[-1, :last], out=out[-1])
        return out

    def _fused_chunk(self, ut, r, w, eps, noise, post, half) -> torch.Tensor:
        """One chunk of :meth:`_fast_matvec`: codes ``(Tr, b, R)`` → ``(b, Tc·Kw)``."""
        tm = self.tile_map
        sig = torch.matmul(ut, w)  # (Tr, b, Tc·Kw·S)
        if eps is not None:
            sig.addcmul_(eps, noise)
        if half is not None:
            sig.round_().clamp_(-half, half - 1)
        if r.dim():  # a range per input vector and row tile
            sig.mul_(post).mul_(r.transpose(0, 1))
        else:
            sig.mul_(post * r)
        y = sig.sum(0) if tm.tiles_r > 1 else sig[0]
        if tm.n_slices > 1:
            y = y.view(y.shape[0], -1, tm.n_slices).sum(-1)
        return y

    def effective_weights(self, t: float = 0.0, generator: torch.Generator | None = None):
        """The ``(N, K)`` matrix the cells stand for at ``t`` (aihwkit's ``get_weights``).

        Signed cell values at ``t`` (drift, and read noise when ``generator`` is given or
        the per-time read is cached) × scales, × the tiles' drift compensation factors;
        without the converters. Noise-free with ``generator=None`` and no cached read.
        """
        self._require_programmed()
        n, k = self.shape
        tm, cell = self.tile_map, self.cell
        cached = self._read_cache
        if (
            generator is None
            and cached is not None
            and cached[0][0] == float(t)
            and cached[3] is self.config
        ):
            g, alpha = cached[1], cached[2]
        else:
            g = self._read(t, generator)
            alpha = self.drift_factor(g, generator, keep=False)
        w = tm.signed(g)  # (Tr, Tc, R, Kw, S)
        w = w.squeeze(-1) if tm.n_slices == 1 else w @ tm.slice_weights(w.dtype, w.device)
        w = w * self.scale / tm.gain(cell.g_min, cell.g_max) * alpha[:, :, None, None]
        w = w.permute(0, 2, 1, 3).reshape(tm.tiles_r * tm.rows, tm.tiles_c * tm.weight_cols)
        return w[:k, :n].t().contiguous()

    def matvec(
        self, x: torch.Tensor, t: float = 0.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Analog ``y = x Wᵀ`` read ``t`` seconds after programming.

        Parameters
        ----------
        x : torch.Tensor
            ``(..., K)`` inputs.
        t : float
            Seconds since programming (drift, time-dependent read noise).
        generator : torch.Generator, optional
            For read, output and kT/C noise (on the crossbar's device); default: the
            internal one. An explicit generator reads the cells anew on this call.

        Returns
        -------
        torch.Tensor
            ``(..., N)`` outputs in weight × input units.
        """
        self._require_programmed()
        n, k = self.shape
        if x.shape[-1] != k:
            raise ValueError(f"Crossbar.matvec: x must end in K={k}; got shape {tuple(x.shape)}")
        lead = x.shape[:-1]
        xb = x.reshape(-1, k).to(dtype=self.dtype)
        y = self._matvec(xb, xb.device, t, generator)
        return y[:, :n].reshape(*lead, n)

    def matvec_rows(
        self,
        rows,
        n_vectors: int,
        t: float = 0.0,
        *,
        unit: int = 1,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """:meth:`matvec` of ``n_vectors`` inputs made on demand, chunk by chunk.

        Parameters
        ----------
        rows : callable
            ``rows(i, j)`` returns input vectors ``i`` to ``j − 1``, ``(j − i, K)``.
        n_vectors : int
            ``B``, the number of input vectors.
        t : float
            Seconds since programming, as in :meth:`matvec`.
        unit : int
            Chunks hold whole multiples of ``unit`` vectors (a conv's output pixels of one
            image, so that ``rows`` unfolds whole images).
        generator : torch.Generator, optional
            As in :meth:`matvec`.

        Returns
        -------
        torch.Tensor
            ``(B, N)``, equal to ``matvec(rows(0, B), t)`` (the same read and draws).

        Notes
        -----
        On the fused path ``rows`` is called once per chunk of vectors, so a conv's im2col
        never exists whole and every buffer stays a few MiB: in cache, and without the page
        faults of fresh memory (one 3×3 conv of ResNet-20 on 256 CIFAR images has 150 MB of
        patches). Other paths call ``rows(0, B)`` once.
        """
        self._require_programmed()
        if not self._fast_ok:
            return self.matvec(rows(0, n_vectors), t, generator)
        y = self._matvec((n_vectors, rows), self.device, t, generator, unit)
        return y[:, : self.shape[0]]

    def _matvec(
        self, xb, dev: torch.device, t: float, generator: torch.Generator | None, unit: int = 1
    ) -> torch.Tensor:
        """Read at ``t`` and multiply: ``xb (B, K)`` (or a :meth:`matvec_rows` pair) →
        ``(B, Tc·Kw)`` before the crop."""
        gen = generator or self._generator(dev)
        g, alpha = self._read_at(t, gen, generator is not None)
        if self._fast_ok:
            ops = None
            cached = self._read_cache
            if cached is not None and cached[1] is g:  # a per-time read: keep its operands
                ops = cached[4]
                if ops is None:
                    ops = self._fast_operands(g, alpha)
                    self._read_cache = (*cached[:4], ops)
            return self._fast_matvec(xb, g, alpha, gen, ops, unit)
        return self._reference_matvec(xb, g, alpha, gen)

    def _reference_matvec(
        self, xb: torch.Tensor, g: torch.Tensor, alpha: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """:meth:`matvec` step by step (every path): ``(B, K)`` → ``(B, Tc·Kw)``."""
        tm, cell = self.tile_map, self.cell
        b = xb.shape[0]
        u, r = self._dac(xb)
        y = self._signal(u, g, generator)  # (Tr, B, Tc, Kw)
        scale = self.scale.transpose(1, 2)  # (Tr, 1, Tc, Kw|1)
        y = y * (scale * (1.0 / (tm.gain(cell.g_min, cell.g_max) * cell.read_voltage_V)))
        if self.config.drift_compensation:
            y = y * alpha[:, None, :, None]
        if r.dim():
            y = y * r.unsqueeze(-1)
            y = y.sum(0)
        else:
            y = y.sum(0) * r
        return y.reshape(b, -1)

    forward = matvec

    # -- costs ----------------------------------------------------------------------------
    def cost(self, n_vectors: int = 1, input_activity: float | None = None) -> CostReport:
        """Energy by component, latency and area of ``n_vectors`` MVMs (see :mod:`crossbar.cost`)."""
        n, k = self.shape
        return matrix_cost(self.cell, self.config, n, k, n_vectors, input_activity)

    # -- construction check ---------------------------------------------------------------
    def _self_test(self) -> None:
        """Program and read a tiny matrix so that device or config errors appear now."""
        cfg = self.config
        small = dataclasses.replace(
            cfg, self_test=False, tile_rows=min(cfg.tile_rows, 2),
            tile_cols=min(cfg.tile_cols, 2 * cfg.cells_per_weight + (cfg.mapping == "offset")),
        )  # fmt: skip
        probe = Crossbar(self.cell, small, seed=0)
        w = torch.tensor([[0.5, -1.0], [0.25, 0.75], [-0.5, 0.0]])
        gen = torch.Generator().manual_seed(0)
        probe.program(w, gen)
        x = torch.tensor([[1.0, 0.5], [0.25, -1.0]])
        probe.calibrate(x)
        y = probe.matvec(x, t=1.0, generator=gen)
        if y.shape != (2, 3) or not bool(torch.isfinite(y).all()):
            raise ValueError(
                f"Crossbar self-test with device {self.cell.name!r} gave a non-finite or "
                f"misshapen output: {y.tolist()}"
            )
