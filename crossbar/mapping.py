"""Weight matrix ↔ tiles of cell targets: tiling, scaling, polarity and bit slicing.

A weight matrix ``W`` of shape ``(N, K)`` (torch's ``(out, in)``) computes ``y = x Wᵀ``:
the crossbar rows carry the ``K`` inputs, the columns the ``N`` outputs. ``W`` is padded
and cut into ``Tr × Tc`` tiles of ``R`` rows and ``Kw`` weight columns. Each weight column
of a tile occupies ``S·P`` physical columns (``S`` slices, ``P = 2`` for differential
pairs), ordered ``(weight column, slice, polarity)``; an offset-mapped tile adds one
reference column at the end.

Tile tensors have shape ``(Tr, Tc, R, Cp)`` with ``Cp`` physical columns.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from crossbar.config import CrossbarConfig

__all__ = ["TileMap"]


@dataclasses.dataclass(frozen=True)
class TileMap:
    """Geometry of one weight matrix on tiles.

    Attributes
    ----------
    n_out, n_in : int
        ``W`` is ``(n_out, n_in)``.
    rows : int
        Rows per tile ``R`` (at most ``n_in``).
    weight_cols : int
        Weight columns per tile ``Kw`` (at most ``n_out``).
    n_slices, polarities : int
        ``S`` and ``P``.
    slice_bits : int or None
        Bits per slice (None: continuous).
    offset : bool
        Offset-column mapping (one reference column per tile).
    column_scaling : bool
        One scale per output column of each tile (else one per tile).
    """

    n_out: int
    n_in: int
    rows: int
    weight_cols: int
    n_slices: int
    polarities: int
    slice_bits: int | None
    offset: bool
    column_scaling: bool

    @classmethod
    def build(cls, n_out: int, n_in: int, config: CrossbarConfig) -> TileMap:
        """The map of an ``(n_out, n_in)`` matrix under ``config``."""
        # A matrix smaller than one tile uses (and simulates) only its own rows and columns;
        # the cost model still counts whole tiles.
        return cls(
            n_out, n_in, min(config.tile_rows, n_in), min(config.weight_cols_per_tile, n_out),
            config.n_slices,
            config.polarities, config.slice_bits, config.mapping == "offset",
            config.weight_scaling == "column",
        )  # fmt: skip

    @property
    def tiles_r(self) -> int:
        """Tiles along the inputs, ``Tr``."""
        return math.ceil(self.n_in / self.rows)

    @property
    def tiles_c(self) -> int:
        """Tiles along the outputs, ``Tc``."""
        return math.ceil(self.n_out / self.weight_cols)

    @property
    def phys_cols(self) -> int:
        """Physical columns used per tile, ``Cp = Kw·S·P (+1)``."""
        return self.weight_cols * self.n_slices * self.polarities + int(self.offset)

    @property
    def n_tiles(self) -> int:
        """``Tr·Tc``."""
        return self.tiles_r * self.tiles_c

    def slice_weights(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """``(S,)`` factors that recombine slice digits (normalised to ``[0, 1]``) into ``|w|``.

        With ``B = S·b`` bits in all, slice ``k`` (most significant first) has weight
        ``(2**b − 1)·2**(b(S−1−k)) / (2**B − 1)``.
        """
        if self.slice_bits is None:
            return torch.ones(1, dtype=dtype, device=device)
        b, s = self.slice_bits, self.n_slices
        k = torch.arange(s, device=device, dtype=dtype)
        return (2**b - 1) * 2.0 ** (b * (s - 1 - k)) / (2 ** (b * s) - 1)

    def tile_weights(self, weight: torch.Tensor) -> torch.Tensor:
        """``W (N, K)`` → padded tiles ``(Tr, Tc, R, Kw)`` (rows = inputs)."""
        tr, tc, r, kw = self.tiles_r, self.tiles_c, self.rows, self.weight_cols
        wt = weight.new_zeros((tr * r, tc * kw))
        wt[: self.n_in, : self.n_out] = weight.t()
        return wt.view(tr, r, tc, kw).permute(0, 2, 1, 3).contiguous()

    def scales(self, tiles: torch.Tensor) -> torch.Tensor:
        """``max|w|`` per tile column ``(Tr, Tc, 1, Kw)`` or per tile ``(Tr, Tc, 1, 1)``.

        An all-zero column or tile gets scale 1 (its cells stay at ``g_min``).
        """
        dims = (2,) if self.column_scaling else (2, 3)
        s = tiles.abs().amax(dim=dims, keepdim=True)
        return torch.where(s > 0, s, torch.ones_like(s))

    def digits(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Normalised magnitudes ``[0, 1]`` → slice digits ``(..., S)``, each in ``[0, 1]``."""
        if self.slice_bits is None:
            return magnitude.unsqueeze(-1)
        b, s = self.slice_bits, self.n_slices
        code = torch.round(magnitude * (2 ** (b * s) - 1)).to(torch.int64)
        shifts = b * (s - 1 - torch.arange(s, device=magnitude.device))
        d = (code.unsqueeze(-1) >> shifts) & (2**b - 1)
        return d.to(magnitude.dtype) / (2**b - 1)

    def targets(
        self, weight: torch.Tensor, g_min: float, g_max: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell targets for ``weight``.

        Parameters
        ----------
        weight : torch.Tensor
            ``(N, K)``.
        g_min, g_max : float
            Device range (S or F).

        Returns
        -------
        targets : torch.Tensor
            ``(Tr, Tc, R, Cp)`` in S or F.
        scale : torch.Tensor
            ``(Tr, Tc, 1, Kw)`` or ``(Tr, Tc, 1, 1)``: weight units per normalised unit.
        """
        tiles = self.tile_weights(weight)
        scale = self.scales(tiles)
        wn = (tiles / scale).clamp(-1.0, 1.0)
        dg = g_max - g_min
        if self.offset:
            cells = g_min + dg * (wn + 1.0) / 2.0
            ref = torch.full_like(cells[..., :1], g_min + dg / 2.0)
            return torch.cat([cells, ref], dim=-1), scale
        pos = self.digits(wn.clamp(min=0.0))  # (Tr, Tc, R, Kw, S)
        neg = self.digits((-wn).clamp(min=0.0))
        cells = g_min + dg * torch.stack([pos, neg], dim=-1)  # (..., Kw, S, 2)
        return cells.flatten(start_dim=3), scale

    def signed(self, phys: torch.Tensor) -> torch.Tensor:
        """Physical columns ``(..., Cp)`` → signed per weight column and slice ``(..., Kw, S)``.

        Differential: ``G+ − G−``; offset: ``G − G_ref``. Works on conductances and on
        column currents alike (the subtraction is linear).
        """
        if self.offset:
            return (phys[..., :-1] - phys[..., -1:]).unsqueeze(-1)
        v = phys.unflatten(-1, (self.weight_cols, self.n_slices, 2))
        return v[..., 0] - v[..., 1]

    def gain(self, g_min: float, g_max: float) -> float:
        """Signed cell signal per normalised weight: ``Δg`` (differential), ``Δg/2`` (offset)."""
        dg = g_max - g_min
        return dg / 2.0 if self.offset else dg
