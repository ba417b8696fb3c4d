"""Bit-true IEEE FP16 GEMM as the systolic array computes it: a numpy reference and a fast path.

The arithmetic, defined once (IEEE 754-2008 binary16: 1 sign, 5 exponent, 10 fraction bits;
every rounding is round-to-nearest, ties to even):

1. Operands are FP16 values.
2. Each product ``p[m, k, n] = fl16(x[m, k] · w[k, n])`` is rounded to FP16.
3. Each output accumulates its products in a fixed order, every addition rounded to the
   accumulator precision ``a`` (FP16 or FP32): ``s ← fl_a(s + p[k])`` for ``k = 0 … K−1``,
   starting from ``s = 0``. This is the output-stationary array: one PE accumulates one
   output over the streamed reduction index.
   With ``fold_k = R`` (weight stationary on ``R`` rows) the reduction is split into folds
   of ``R`` consecutive ``k``: each fold sums from 0 down a PE column in ``k`` order, and the
   fold sums are added in fold order, ``total ← fl_a(total + fold_sum)``.
4. A bias is added last, ``s ← fl_a(s + fl16(b))``, and the output is ``fl16(s)``.

Why both paths are exact: the product of two FP16 values has at most 22 significant bits
and an exponent within FP32's normal range, so it is exact in FP32 and one rounding to FP16
gives the correctly rounded product. A sum of two FP16 (or FP32) values computed in FP32
(or exactly) and then rounded to FP16 equals the correctly rounded FP16 sum, because
FP32's 24-bit significand is at least ``2·11 + 2`` bits (double rounding is innocuous:
Figueroa, "When is double rounding innocuous?", ACM SIGNUM Newsletter 30(3), 1995).
numpy's float16 arithmetic and torch's CPU half arithmetic both compute in FP32 and round.

On the CPU :func:`gemm_fast` runs a C kernel (``_fp16gemm.c`` next to this file, compiled
at first use by :class:`devices.cext.CExtension`): each output's accumulator stays in a
register over the whole reduction and the roundings are AVX-512 or F16C conversions
(``vcvtps2ph``, round-to-nearest-even), or an exact arithmetic rounding in portable C
without them (:func:`kernel_isa`); it is
compiled with ``-ffp-contract=off`` (a fused multiply-add would skip the product's
rounding). Without a C compiler, with ``NEURO_COSIM_NO_CEXT=1`` or for tensors off the
CPU it falls back to a torch loop with the same bits (:func:`kernel_reason` says why).
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np
import torch

from devices.cext import DEFAULT_FLAGS, CExtension
from devices.validation import check_choice, require

__all__ = [
    "ACCUMULATE",
    "BACKENDS",
    "KERNEL",
    "gemm_fast",
    "gemm_reference",
    "kernel_available",
    "kernel_conv",
    "kernel_gemm",
    "kernel_isa",
    "kernel_reason",
]

ACCUMULATE = ("fp32", "fp16")
#: ``gemm_fast`` backends: the C kernel where it can run else torch, the kernel, torch.
BACKENDS = ("auto", "kernel", "torch")
#: Multiply-accumulates per thread below which the kernel runs on one thread.
_MACS_PER_THREAD = 1 << 22


def _declare(lib: ctypes.CDLL) -> None:
    i64, p = ctypes.c_int64, ctypes.c_void_p
    lib.fp16gemm_f32.argtypes = [p, i64, p, i64, p, p, i64, i64, i64, i64, i64, ctypes.c_int]
    lib.fp16gemm_f32.restype = ctypes.c_int
    lib.fp16gemm_batched.argtypes = [p, i64, i64, p, i64, i64, p, ctypes.c_int, p, i64, i64,
                                     ctypes.c_int, i64, i64, i64, i64, i64, ctypes.c_int]  # fmt: skip
    lib.fp16gemm_batched.restype = ctypes.c_int
    lib.fp16gemm_conv.argtypes = [p, i64, p, *[i64] * 13, p, p, i64, i64, ctypes.c_int, i64,
                                  i64, i64, i64, ctypes.c_int]  # fmt: skip
    lib.fp16gemm_conv.restype = ctypes.c_int
    lib.fp16gemm_isa.argtypes = []
    lib.fp16gemm_isa.restype = ctypes.c_int
    lib.fp16gemm_half_bits.argtypes = [p, p, i64]
    lib.fp16gemm_half_bits.restype = None


#: Compiler flags tried in order: the defaults (this CPU, then portable), then plain scalar C
#: for a compiler that rejects the GNU vector extensions of the portable path.
_FLAGS = (*DEFAULT_FLAGS, (*DEFAULT_FLAGS[-1], "-DFP16GEMM_SCALAR"))
#: The C kernel (built at first use; see :mod:`devices.cext`).
KERNEL = CExtension("fp16gemm", Path(__file__).with_name("_fp16gemm.c"), _declare, _FLAGS)


def kernel_available() -> bool:
    """Whether :func:`gemm_fast` uses the C kernel on CPU tensors (:func:`kernel_reason`)."""
    return KERNEL.available()


def kernel_reason() -> str:
    """Why the C kernel is not available (empty when it is)."""
    return KERNEL.reason()


def kernel_isa() -> str:
    """The kernel's rounding path: ``"avx512f"`` or ``"avx+f16c"`` (conversion instructions),
    ``"gnu-vector"`` (arithmetic rounding in GNU C vectors), ``"scalar"``, or ``"unavailable"``."""
    if not KERNEL.available():
        return "unavailable"
    isa = KERNEL.lib().fp16gemm_isa()
    return {2: "avx512f", 1: "avx+f16c", 3: "gnu-vector"}.get(isa, "scalar")


def _check(accumulate: str, fold_k: int | None, k: int, k_w: int) -> None:
    check_choice("gemm", "accumulate", accumulate, ACCUMULATE)
    require(fold_k is None or (isinstance(fold_k, int) and fold_k >= 1), "gemm", "fold_k",
            fold_k, "None or an integer >= 1")  # fmt: skip
    require(k == k_w, "gemm", "w", k_w, f"a (K, N) matrix with K = {k} (the columns of x)")


def gemm_reference(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    accumulate: str = "fp32",
    fold_k: int | None = None,
) -> np.ndarray:
    """The FP16 GEMM of the module docstring, in numpy (the definition; slow for big K).

    Parameters
    ----------
    x : numpy.ndarray
        ``(M, K)`` inputs, cast to float16.
    w : numpy.ndarray
        ``(K, N)`` weights, cast to float16.
    bias : numpy.ndarray, optional
        ``(N,)``, cast to float16.
    accumulate : str
        ``"fp32"`` or ``"fp16"``.
    fold_k : int, optional
        Fold the reduction in chunks of ``fold_k`` (weight stationary on ``fold_k`` rows).

    Returns
    -------
    numpy.ndarray
        ``(M, N)`` float16.
    """
    x16 = np.asarray(x).astype(np.float16)
    w16 = np.asarray(w).astype(np.float16)
    _check(accumulate, fold_k, x16.shape[1], w16.shape[0])
    acc_t = np.float32 if accumulate == "fp32" else np.float16
    chunk = x16.shape[1] if fold_k is None else fold_k
    total = np.zeros((x16.shape[0], w16.shape[1]), dtype=acc_t)
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE inf and NaN are defined behaviour
        return _reference_sum(x16, w16, bias, acc_t, chunk, total)


def _reference_sum(
    x16: np.ndarray, w16: np.ndarray, bias, acc_t: type, chunk: int, total: np.ndarray
) -> np.ndarray:
    (m, k), n = x16.shape, w16.shape[1]
    for start in range(0, k, chunk):
        s = np.zeros((m, n), dtype=acc_t)
        for j in range(start, min(start + chunk, k)):
            p = x16[:, j, None] * w16[None, j, :]  # float16 × float16 → float16 (RNE)
            s = (s + p.astype(acc_t)).astype(acc_t)
        total = s if start == 0 else (total + s).astype(acc_t)
    if bias is not None:
        total = (total + np.asarray(bias).astype(np.float16).astype(acc_t)).astype(acc_t)
    return total.astype(np.float16)


def gemm_fast(
    x: torch.Tensor,
    w: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    accumulate: str = "fp32",
    fold_k: int | None = None,
    block_rows: int = 1024,
    backend: str = "auto",
) -> torch.Tensor:
    """The same FP16 GEMM, fast (bit-equal to the reference).

    On CPU tensors, the C kernel (module docstring): accumulators in registers, threads
    over row ranges as many as ``torch.get_num_threads()`` (results do not depend on them).
    Otherwise a torch loop: one pass per reduction index ``k`` over all ``(M, N)`` outputs,
    an FP32 outer product (exact), a cast to FP16 (the product rounding), an in-place add
    in the accumulator precision; rows in blocks of ``block_rows`` so the buffers stay in
    cache. At 1 thread the kernel is 2-30x faster on single GEMMs and 10x on a YOLOv2 image
    (``experiments/benchmarks/bench_npu.py --fp16``; numbers in ``npu/README.md``).

    Parameters
    ----------
    x : torch.Tensor
        ``(M, K)``, any float dtype (values are rounded to FP16 first).
    w : torch.Tensor
        ``(K, N)``.
    bias : torch.Tensor, optional
        ``(N,)``.
    accumulate, fold_k
        As in :func:`gemm_reference`.
    block_rows : int
        Rows per block of the torch loop (performance only; results do not depend on it).
    backend : str
        ``"auto"`` (the kernel when it is available and the tensors are on the CPU, else
        torch), ``"kernel"`` or ``"torch"``.

    Returns
    -------
    torch.Tensor
        ``(M, N)`` float16 (on the inputs' device).

    Raises
    ------
    RuntimeError
        With ``backend="kernel"`` when the kernel is not available (the message says why).
    """
    _check(accumulate, fold_k, x.shape[1], w.shape[0])
    check_choice("gemm_fast", "backend", backend, BACKENDS)
    on_cpu = x.device.type == "cpu" and w.device.type == "cpu"
    on_cpu = on_cpu and (bias is None or bias.device.type == "cpu")
    if backend == "kernel":
        require(
            on_cpu, "gemm_fast", "backend", backend, "'auto' or 'torch' for tensors off the CPU"
        )
        if not KERNEL.available():
            raise RuntimeError(f"npu.fp16 C kernel is not available: {KERNEL.reason()}")
    if backend == "kernel" or (backend == "auto" and on_cpu and KERNEL.available()):
        return _gemm_kernel(x, w, bias, accumulate, fold_k)
    x32 = x.detach().to(torch.float16).to(torch.float32)
    w32 = w.detach().to(torch.float16).to(torch.float32)
    b16 = None if bias is None else bias.detach().to(torch.float16)
    m, k = x32.shape
    n = w32.shape[1]
    acc_dtype = torch.float32 if accumulate == "fp32" else torch.float16
    chunk = k if fold_k is None else fold_k
    out = torch.empty((m, n), dtype=torch.float16)
    for r0 in range(0, m, block_rows):
        xb = x32[r0 : r0 + block_rows]
        rows = xb.shape[0]
        prod = torch.empty((rows, n), dtype=torch.float32)
        prod16 = torch.empty((rows, n), dtype=torch.float16)
        total = torch.zeros((rows, n), dtype=acc_dtype)
        s = torch.empty((rows, n), dtype=acc_dtype)
        for start in range(0, k, chunk):
            s.zero_()
            for j in range(start, min(start + chunk, k)):
                torch.mul(xb[:, j : j + 1], w32[j], out=prod)  # exact in FP32
                prod16.copy_(prod)  # product rounded to FP16 (RNE)
                s.add_(prod16)  # one rounding to the accumulator precision
            if start == 0:
                total.copy_(s)
            else:
                total.add_(s)
        if b16 is not None:
            total.add_(b16)
        out[r0 : r0 + rows].copy_(total)
    return out


def _gemm_kernel(x, w, bias, accumulate: str, fold_k: int | None) -> torch.Tensor:
    """:func:`gemm_fast` through the C kernel (CPU tensors; arguments checked)."""
    x32 = x.detach().to(torch.float16).to(torch.float32).contiguous()
    w32 = w.detach().to(torch.float16).to(torch.float32).contiguous()
    b32 = None if bias is None else bias.detach().to(torch.float16).to(torch.float32).contiguous()
    out = torch.empty((x32.shape[0], w32.shape[1]), dtype=torch.float16)
    return kernel_gemm(x32, w32, b32, out, accumulate=accumulate, fold_k=fold_k)


def kernel_gemm(
    x: torch.Tensor,
    w: torch.Tensor,
    bias: torch.Tensor | None,
    out: torch.Tensor,
    *,
    accumulate: str,
    fold_k: int | None,
    bias_per_row: bool = False,
) -> torch.Tensor:
    """The C kernel on operands already holding FP16 values, written into ``out``.

    The arithmetic of :func:`gemm_fast` without its input roundings or copies: for the
    layers of :mod:`npu.functional`, which keep FP16 values in float32 tensors. With
    ``w`` and ``out`` batched, one GEMM per leading index sharing ``x``; with the weights
    as ``x`` and im2col columns as ``w`` that is a convolution in NCHW order (the products
    commute exactly, the order over ``k`` is unchanged).

    Parameters
    ----------
    x : torch.Tensor
        ``(M, K)``, or ``(B, M, K)`` with a batched ``w``: float32 FP16 values, unit stride
        along ``K``.
    w : torch.Tensor
        ``(K, N)`` or ``(B, K, N)`` float32 FP16 values, unit stride along ``N``.
    bias : torch.Tensor or None
        Contiguous float32 FP16 values: ``(N,)``, or ``(M,)`` with ``bias_per_row``.
    out : torch.Tensor
        ``(M, N)`` or ``(B, M, N)``, float16 or float32 (then holding FP16 values), unit
        stride along ``N``; written in place.
    accumulate, fold_k
        As in :func:`gemm_reference` (not checked here).
    bias_per_row : bool
        One bias per output row instead of per column.

    Returns
    -------
    torch.Tensor
        ``out``.
    """
    lib = KERNEL.lib()
    batched = w.dim() == 3
    w3 = w if batched else w.unsqueeze(0)
    o3 = out if batched else out.unsqueeze(0)
    nb, k, n = w3.shape
    m = x.shape[-2]
    sx = x.stride(0) if x.dim() == 3 else 0
    assert x.dim() == 2 or (batched and x.shape[0] == nb)
    assert x.dtype == w.dtype == torch.float32 and x.stride(-1) == 1 and x.shape[-1] == k
    assert w3.stride(2) == 1 and o3.stride(2) == 1 and o3.shape == (nb, m, n)
    assert out.dtype in (torch.float32, torch.float16)
    assert bias is None or (bias.dtype == torch.float32 and bias.is_contiguous())
    if m == 0 or n == 0 or nb == 0:
        return out
    size = out.element_size()
    chunk = k if fold_k is None else fold_k
    acc16 = int(accumulate == "fp16")

    def part(rows: tuple[int, int], batch: tuple[int, int]) -> None:
        (i, j), (b0, b1) = rows, batch
        rc = lib.fp16gemm_batched(
            x.data_ptr() + 4 * (i * x.stride(-2) + b0 * sx), x.stride(-2), sx,
            w3.data_ptr() + 4 * b0 * w3.stride(0), w3.stride(1), w3.stride(0),
            None if bias is None else bias.data_ptr() + (4 * i if bias_per_row else 0),
            int(bias_per_row),
            o3.data_ptr() + size * (b0 * o3.stride(0) + i * o3.stride(1)), o3.stride(1),
            o3.stride(0), int(out.dtype == torch.float32), j - i, k, n, b1 - b0, chunk, acc16,
        )  # fmt: skip
        if rc != 0:
            raise MemoryError("npu.fp16 C kernel: cannot allocate its packing buffer")

    parts = max(1, min(torch.get_num_threads(), nb * m * k * n // _MACS_PER_THREAD))
    if parts > 1 and nb >= parts:  # split the batch
        bounds = [nb * i // parts for i in range(parts + 1)]
        spans = [((0, m), (a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    elif min(parts, m) > 1:  # split the rows
        parts = min(parts, m)
        bounds = [m * i // parts for i in range(parts + 1)]
        spans = [((a, b), (0, nb)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    else:
        part((0, m), (0, nb))
        return out
    for job in [_pool().submit(part, *span) for span in spans]:
        job.result()  # ctypes releases the GIL during each call
    return out


def kernel_conv(
    weight: torch.Tensor,
    x: torch.Tensor,
    bias: torch.Tensor | None,
    out: torch.Tensor,
    *,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    kernel_size: tuple[int, int],
    accumulate: str,
    fold_k: int | None,
) -> torch.Tensor:
    """A convolution (one group) on the C kernel, its im2col columns gathered in place.

    Bit-equal to :func:`kernel_gemm` of ``weight`` and the ``unfold`` columns of ``x``
    (reduction index ``(c_in, kh, kw)``, zero padding), per image; no column matrix is
    built.

    Parameters
    ----------
    weight : torch.Tensor
        ``(C_out, C_in·kh·kw)`` float32 FP16 values, contiguous.
    x : torch.Tensor
        ``(B, C_in, H, W)`` float32 FP16 values, each image contiguous (a channel slice of
        a contiguous batch is fine).
    bias : torch.Tensor or None
        ``(C_out,)`` float32 FP16 values, contiguous.
    out : torch.Tensor
        ``(B, C_out, H_out·W_out)``, float32 or float16, unit stride along the last axis.
    stride, padding, dilation, kernel_size : tuple of int
        As in ``torch.nn.Conv2d`` (zero padding).
    accumulate, fold_k
        As in :func:`gemm_reference` (not checked here).

    Returns
    -------
    torch.Tensor
        ``out``.
    """
    lib = KERNEL.lib()
    nb, c_in, h, w = x.shape
    m, k = weight.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    assert k == c_in * kh * kw and weight.is_contiguous() and weight.dtype == torch.float32
    assert x.dtype == torch.float32 and x.stride()[1:] == (h * w, w, 1)
    assert out.shape == (nb, m, ho * wo) and out.stride(2) == 1
    assert bias is None or (bias.dtype == torch.float32 and bias.is_contiguous())
    if nb == 0 or m == 0 or ho <= 0 or wo <= 0:
        return out
    size = out.element_size()
    chunk = k if fold_k is None else fold_k

    def part(b0: int, b1: int) -> None:
        rc = lib.fp16gemm_conv(
            weight.data_ptr(), k, x.data_ptr() + 4 * b0 * x.stride(0), x.stride(0), h, w,
            kh, kw, sh, sw, ph, pw, dh, dw, ho, wo,
            None if bias is None else bias.data_ptr(),
            out.data_ptr() + size * b0 * out.stride(0), out.stride(1), out.stride(0),
            int(out.dtype == torch.float32), m, k, b1 - b0, chunk, int(accumulate == "fp16"),
        )  # fmt: skip
        if rc != 0:
            raise MemoryError("npu.fp16 C kernel: cannot allocate its packing buffer")

    parts = min(torch.get_num_threads(), nb, nb * m * k * ho * wo // _MACS_PER_THREAD)
    if parts <= 1:
        part(0, nb)
        return out
    bounds = [nb * i // parts for i in range(parts + 1)]
    jobs = [_pool().submit(part, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for job in jobs:
        job.result()
    return out


_pool_lock = threading.Lock()
_executor = None


def _pool():
    """Threads for the kernel's row ranges (created at first use, as many as CPUs)."""
    global _executor
    if _executor is None:
        with _pool_lock:
            if _executor is None:
                import os
                from concurrent.futures import ThreadPoolExecutor

                _executor = ThreadPoolExecutor(os.cpu_count() or 1, "npu-fp16gemm")
    return _executor
