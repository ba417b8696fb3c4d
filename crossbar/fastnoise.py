"""Fast exact Gaussian noise for the fused crossbar forward: a small C kernel built at first use.

The output noise of the fused path (:meth:`crossbar.Crossbar.matvec`) is one standard
normal per tile output and input vector (``Tr·B·N`` of them); from torch's CPU generator
that costs about as much as half the matmul. This module compiles ``_fastnoise.c`` (next to
it) with the system C compiler, loads it with :mod:`ctypes`, and draws the normals there,
fused with what follows them on the fused path: the noise is added to the column signal,
the ADC clamps and rounds, the scales and the input range are applied and the row tiles
summed, in one pass over the matmul's output.

Method (see the C file for the details): xoshiro256++ in 16 lanes (Blackman & Vigna, ACM
TOMS 47(4), 2021), seeded with SplitMix64; the Box-Muller transform (Box & Muller, Ann.
Math. Stat. 29:610, 1958) with ``U1`` on ``(0, 1]`` at 2⁻³¹ resolution (so ``|z|`` reaches
6.66; the normal has 2.7e-11 of its mass beyond), ln by its atanh series and Cephes' float
polynomials for sin and cos (~1-2 ulp). The draws are exact standard normals up to float
rounding; ``tests/crossbar/test_fastnoise.py`` checks moments, a Kolmogorov-Smirnov test
and the 4σ and 5σ tail frequencies. About 0.5 ns per normal with AVX-512 (torch's
``normal_``: 3.6 ns), 2 ns in a portable build.

Randomness stays explicit: each call seeds the kernel with one 63-bit integer drawn from
the caller's ``torch.Generator`` (:func:`draw_seed`), so the same generator state gives the
same output and the generator advances by one draw per call. Within a call each input
vector's lanes are seeded from that integer and the vector's index in the batch, so a
batch gives the same numbers in one piece or in chunks.

The library is built and cached by :class:`devices.cext.CExtension` (in
``$NEURO_CACHE/cext``, else ``~/.cache/neuro-cosim/cext``; see there). Without a C
compiler (or if the build fails, or with ``NEURO_COSIM_NO_CEXT=1`` in the environment)
:func:`available` is False and the fused path uses torch (``torch.randn`` and elementwise
ops), as it does for tensors that are not float32 on the CPU and under autograd.
"""

from __future__ import annotations

import ctypes
import math
import threading
from pathlib import Path

import torch

from devices import cext

__all__ = [
    "CHUNK_ELEMENTS",
    "ENV_DISABLE",
    "available",
    "draw_seed",
    "fused_adc",
    "normal",
    "reason",
    "scratch",
    "usable",
]

#: Environment variable that, set to a non-empty value other than ``0``, keeps the C kernels off.
ENV_DISABLE = cext.ENV_DISABLE
#: Tile outputs (``Tr·b·M`` float32) per chunk of the fused path when the kernel converts
#: them: 16 MiB. The kernel reads them once, so unlike torch's several elementwise passes
#: it gains little from chunks in cache, while each chunk's matmul packs the weights anew
#: (CPU time at 1 thread, 1024x1024 layer, batch 1024: 1.24x the ideal matmul in one piece,
#: 1.35x in 256-vector chunks, 1.63x in 64-vector chunks; 512x512: 1.29x, 1.41x, 1.73x).
CHUNK_ELEMENTS = 1 << 22


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types of the kernel's functions."""
    i64, p = ctypes.c_int64, ctypes.c_void_p
    lib.fn_normal_f32.argtypes = [ctypes.c_uint64, p, i64]
    lib.fn_normal_f32.restype = None
    lib.fn_fused_adc_f32.argtypes = [p, i64, i64, i64, i64, i64, p, p, p, i64, i64,
                                     ctypes.c_float, i64, ctypes.c_uint64, i64, p, i64]  # fmt: skip
    lib.fn_fused_adc_f32.restype = ctypes.c_int


#: The kernel (``devices.cext``: built at first use, cached, ``NEURO_COSIM_NO_CEXT``).
_EXT = cext.CExtension("fastnoise", Path(__file__).with_name("_fastnoise.c"), _declare)


def available() -> bool:
    """Whether the C kernel is in use: built (at the first call) and not disabled by
    ``NEURO_COSIM_NO_CEXT``. :func:`reason` says why not."""
    return _EXT.available()


def reason() -> str:
    """Why :func:`available` is False (empty when it is True)."""
    return _EXT.reason()


def usable(*tensors: torch.Tensor) -> bool:
    """Whether the kernel can stand in for torch on these tensors: all float32 on the CPU,
    none needing a gradient, and the kernel :func:`available`."""
    grad = torch.is_grad_enabled()
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.float32 or (grad and t.requires_grad):
            return False
    return available()


def draw_seed(generator: torch.Generator) -> int:
    """One 63-bit seed from ``generator`` (a CPU generator advances by one int64 draw)."""
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator))


def normal(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` float32 standard normals from the C kernel, seeded by one draw from ``generator``.

    Raises
    ------
    RuntimeError
        If the kernel is not :func:`available` (the message says why).
    """
    if not available():
        raise RuntimeError(f"crossbar.fastnoise is not available: {reason()}")
    out = torch.empty(int(n), dtype=torch.float32)
    _EXT.lib().fn_normal_f32(draw_seed(generator), out.data_ptr(), out.numel())
    return out


class FusedADC:
    """The fused conversion of one matvec, chunk by chunk (see :func:`fused_adc`)."""

    def __init__(self, noise, post, half, slices, generator):
        self.noise = noise.contiguous() if noise is not None else None
        self.post = post.contiguous()
        self.half = 0.0 if half is None else float(half)
        self.slices = int(slices)
        self.seed = draw_seed(generator) if noise is not None else 0
        self.first = 0  # batch index of the next chunk's first vector

    def __call__(self, sig: torch.Tensor, r: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Column signals ``sig (Tr, b, M)`` in ADC steps, input ranges ``r`` (``(b, Tr, 1)``
        or ``()``) → ``out (b, M / slices)`` (written in place, its rows contiguous)."""
        tr, b, m = sig.shape
        if sig.stride(2) != 1:
            sig = sig.contiguous()
        assert out.shape == (b, m // self.slices) and out.stride(1) == 1
        assert r.dtype == torch.float32 and out.dtype == torch.float32
        first, self.first = self.first, self.first + b
        r_bs, r_ts = (r.stride(0), r.stride(1)) if r.dim() else (0, 0)
        rc = _EXT.lib().fn_fused_adc_f32(
            sig.data_ptr(), tr, b, m, sig.stride(0), sig.stride(1),
            self.noise.data_ptr() if self.noise is not None else None,
            self.post.data_ptr(), r.data_ptr(), r_bs, r_ts, self.half, self.slices,
            self.seed, first, out.data_ptr(), out.stride(0),
        )  # fmt: skip
        if rc != 0:
            raise MemoryError("crossbar.fastnoise: cannot allocate the kernel's scratch buffer")
        return out


_local = threading.local()


def scratch(shape: tuple[int, ...]) -> torch.Tensor:
    """A float32 CPU tensor of ``shape`` in memory this thread reuses from call to call,
    for the fused path's matmul output (the tile signals ``(Tr, b, M)``).

    That output is read once by the kernel and then dead; fresh memory for it
    costs a page fault per 4 KiB whenever the allocator has handed the last one back to
    the system (measured in ``bench_crossbar.py``, interleaved with aihwkit: 1,024 faults
    and ~1.5 ms per 512x512 forward, a quarter of the matmul). Up to
    ``2 * CHUNK_ELEMENTS`` elements (32 MiB) are kept; a larger buffer is fresh each time.
    """
    n = math.prod(shape)
    buf = getattr(_local, "buf", None)
    if buf is None or buf.numel() < n:
        buf = torch.empty(n, dtype=torch.float32)
        if n <= 2 * CHUNK_ELEMENTS:
            _local.buf = buf
    return buf[:n].view(shape)


def fused_adc(
    noise: torch.Tensor | None,
    post: torch.Tensor,
    half: int | None,
    slices: int,
    generator: torch.Generator,
) -> FusedADC:
    """The fused path's conversion for one matvec, to apply to its chunks in order.

    Parameters
    ----------
    noise : torch.Tensor or None
        ``(Tr, 1, M)`` output-noise std in ADC steps (None: no output noise, no draw).
    post : torch.Tensor
        ``(Tr, 1, M)`` factor back to weight × input-range units.
    half : int or None
        ``2**(bits-1)`` of the ADC (codes clamped to ``[-half, half-1]``); None: no ADC.
    slices : int
        Bit slices ``S`` per weight column (``M = Tc·Kw·S``): adjacent groups summed.
    generator : torch.Generator
        Gives the call's seed (one draw, only with ``noise``).

    Returns
    -------
    FusedADC
        ``f(sig, r, out)`` for each chunk of vectors, in order: chunks draw the normals one
        batch would draw in one piece.
    """
    return FusedADC(noise, post, half, slices, generator)
