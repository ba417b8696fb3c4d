"""Run a torch model as AB9 computes it: every GEMM in bit-true FP16, every tensor in FP16.

- Inputs are rounded to FP16.
- ``nn.Linear`` and ``nn.Conv2d`` (im2col, reduction index ordered ``(c_in, kh, kw)`` as
  ``torch.nn.functional.unfold`` gives it) run through :func:`npu.fp16.gemm_fast`: FP16
  products, accumulation in the chosen precision in the array's order, bias last. On the
  CPU they call its C kernel directly (:func:`npu.fp16.kernel_gemm`, and for a convolution
  :func:`npu.fp16.kernel_conv`: weights × im2col columns gathered from the input, so its
  output is NCHW with no column matrix and no transposed copies), bit-equal.
- A leaf module with the class attribute ``matmul = True`` whose forward is ``a @ b`` of two
  activations (attention scores and context) runs as FP16 GEMMs too, one per leading index
  (batch, head), bit-equal to :func:`npu.fp16.gemm_fast` on each (:class:`FP16MatMul`).
- Every other leaf module (activations, pooling, batch and layer norm, softmax, reshapes)
  runs in FP32 on the FP16 values and its output is rounded to FP16 (the vector unit: one
  rounding per output).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from devices.validation import check_choice, require
from npu import fp16
from npu.fp16 import ACCUMULATE, gemm_fast

__all__ = ["FP16Linear", "FP16Conv2d", "FP16MatMul", "to_fp16", "run_fp16"]


class FP16Linear(nn.Module):
    """``nn.Linear`` on the FP16 array (see :func:`npu.fp16.gemm_fast`)."""

    def __init__(self, layer: nn.Linear, accumulate: str, fold_k: int | None) -> None:
        super().__init__()
        self.weight_t = layer.weight.detach().t().contiguous()  # (K, N)
        self.bias = None if layer.bias is None else layer.bias.detach()
        self.accumulate, self.fold_k = accumulate, fold_k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        if _on_kernel(x, self.weight_t):
            x2 = _fp16_values(x.reshape(-1, x.shape[-1])).contiguous()
            w = _fp16_values(self.weight_t).contiguous()
            b = None if self.bias is None else _fp16_values(self.bias).contiguous()
            y = torch.empty((x2.shape[0], w.shape[1]), dtype=torch.float32)
            fp16.kernel_gemm(x2, w, b, y, accumulate=self.accumulate, fold_k=self.fold_k)
            return y.reshape(*lead, -1)
        y = gemm_fast(x.reshape(-1, x.shape[-1]), self.weight_t, self.bias,
                      accumulate=self.accumulate, fold_k=self.fold_k)  # fmt: skip
        return y.to(torch.float32).reshape(*lead, -1)


class FP16Conv2d(nn.Module):
    """``nn.Conv2d`` lowered to im2col GEMMs on the FP16 array, one per group."""

    def __init__(self, layer: nn.Conv2d, accumulate: str, fold_k: int | None) -> None:
        super().__init__()
        require(isinstance(layer.padding, tuple) and layer.padding_mode == "zeros",
                "FP16Conv2d", "padding", layer.padding, "explicit zero padding")  # fmt: skip
        self.layer = layer
        self.accumulate, self.fold_k = accumulate, fold_k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.layer
        b, _, h, w = x.shape
        kh, kw = c.kernel_size
        h_out = (h + 2 * c.padding[0] - c.dilation[0] * (kh - 1) - 1) // c.stride[0] + 1
        w_out = (w + 2 * c.padding[1] - c.dilation[1] * (kw - 1) - 1) // c.stride[1] + 1
        g = c.groups
        n = c.out_channels // g
        if _on_kernel(x, c.weight):
            # The weights (N, K) are the left operand and the im2col columns (K, L) of each
            # image the right, gathered by the kernel from x itself: the output (B, C_out, L)
            # comes out in NCHW order, with no column matrix and no transposed copies.
            xr = _fp16_values(x).contiguous()
            cg = c.in_channels // g
            wk = _fp16_values(c.weight).reshape(c.out_channels, cg * kh * kw).contiguous()
            bk = None if c.bias is None else _fp16_values(c.bias).contiguous()
            y = torch.empty((b, c.out_channels, h_out * w_out), dtype=torch.float32)
            for gi in range(g):
                rows = slice(gi * n, (gi + 1) * n)
                fp16.kernel_conv(wk[rows], xr[:, gi * cg : (gi + 1) * cg],
                                 None if bk is None else bk[rows], y[:, rows],
                                 stride=c.stride, padding=c.padding, dilation=c.dilation,
                                 kernel_size=c.kernel_size, accumulate=self.accumulate,
                                 fold_k=self.fold_k)  # fmt: skip
            return y.reshape(b, c.out_channels, h_out, w_out)
        cols = nn.functional.unfold(x, c.kernel_size, c.dilation, c.padding, c.stride)
        k = cols.shape[1] // g
        outs = []
        for gi in range(g):
            xg = cols[:, gi * k : (gi + 1) * k].transpose(1, 2).reshape(-1, k)  # (B·L, K)
            wg = c.weight.detach()[gi * n : (gi + 1) * n].reshape(n, k).t()  # (K, N)
            bg = None if c.bias is None else c.bias.detach()[gi * n : (gi + 1) * n]
            outs.append(gemm_fast(xg, wg, bg, accumulate=self.accumulate, fold_k=self.fold_k))
        y = torch.cat(outs, dim=1).to(torch.float32)  # (B·L, C_out)
        return y.reshape(b, h_out * w_out, -1).transpose(1, 2).reshape(b, -1, h_out, w_out)


class FP16MatMul(nn.Module):
    """``a @ b`` of two FP16 activations ``(..., M, K) @ (..., K, N)`` on the array.

    The arithmetic of :func:`npu.fp16.gemm_fast` (FP32 outer product per ``k``, rounded to
    FP16, added in the accumulator precision, folds of ``fold_k``), batched over the
    leading dimensions: bit-equal to one ``gemm_fast`` per leading index. On the CPU one
    batched call of the C kernel (:func:`npu.fp16.kernel_gemm`).
    """

    def __init__(self, accumulate: str, fold_k: int | None) -> None:
        super().__init__()
        self.accumulate, self.fold_k = accumulate, fold_k

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a32 = a.detach().to(torch.float16).to(torch.float32)
        b32 = b.detach().to(torch.float16).to(torch.float32)
        lead = torch.broadcast_shapes(a32.shape[:-2], b32.shape[:-2])
        a32 = a32.expand(*lead, *a32.shape[-2:])
        b32 = b32.expand(*lead, *b32.shape[-2:])
        if _on_kernel(a32, b32):  # one kernel call for all leading indices
            (m, k), n = a32.shape[-2:], b32.shape[-1]
            a3 = a32.reshape(-1, m, k).contiguous()
            b3 = b32.reshape(-1, k, n).contiguous()
            out = torch.empty((a3.shape[0], m, n), dtype=torch.float32)
            fp16.kernel_gemm(a3, b3, None, out, accumulate=self.accumulate, fold_k=self.fold_k)
            return out.reshape(*lead, m, n)
        k = a32.shape[-1]
        acc = torch.float32 if self.accumulate == "fp32" else torch.float16
        chunk = k if self.fold_k is None else self.fold_k
        total = None
        for start in range(0, k, chunk):
            s = torch.zeros((*lead, a32.shape[-2], b32.shape[-1]), dtype=acc)
            for j in range(start, min(start + chunk, k)):
                prod = a32[..., :, j : j + 1] * b32[..., j : j + 1, :]  # exact in FP32
                s.add_(prod.to(torch.float16))  # product rounded to FP16, then accumulated
            total = s if total is None else total.add_(s)
        assert total is not None
        return total.to(torch.float16).to(torch.float32)


def _on_kernel(x: torch.Tensor, w: torch.Tensor) -> bool:
    """Whether a layer runs on the C kernel of :mod:`npu.fp16` (CPU tensors, kernel built)."""
    return x.device.type == "cpu" and w.device.type == "cpu" and fp16.kernel_available()


def _fp16_values(t: torch.Tensor) -> torch.Tensor:
    """``t`` rounded to FP16, as float32 (detached)."""
    return t.detach().to(torch.float16).to(torch.float32)


def _round_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
    return output.to(torch.float16).to(torch.float32)


def _round_outputs_hook(module: nn.Module, inputs: tuple, output: tuple) -> tuple:
    return tuple(o if o is None else o.to(torch.float16).to(torch.float32) for o in output)


def to_fp16(model: nn.Module, *, accumulate: str = "fp32", fold_k: int | None = None) -> nn.Module:
    """A copy of ``model`` that computes as AB9 does (the original is untouched).

    Parameters
    ----------
    model : torch.nn.Module
        Any model built from leaf modules (``nn.Sequential`` or custom ``forward``).
    accumulate : str
        ``"fp32"`` or ``"fp16"`` accumulation.
    fold_k : int, optional
        Reduction folds of this many rows (weight-stationary order); None: one chain.

    Returns
    -------
    torch.nn.Module
        In eval mode; takes and returns FP32 tensors holding FP16 values.
    """
    check_choice("to_fp16", "accumulate", accumulate, ACCUMULATE)
    m = copy.deepcopy(model).eval().float()

    def swap(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                setattr(parent, name, FP16Linear(child, accumulate, fold_k))
            elif isinstance(child, nn.Conv2d):
                setattr(parent, name, FP16Conv2d(child, accumulate, fold_k))
            elif getattr(child, "matmul", False) is True and not list(child.children()):
                setattr(parent, name, FP16MatMul(accumulate, fold_k))
            elif isinstance(child, nn.MultiheadAttention):
                # its projections are parameters, not module calls: it runs whole (FP32 on
                # FP16 inputs), its output rounded to FP16 like the vector unit's
                child.register_forward_hook(_round_outputs_hook)
            elif list(child.children()):
                swap(child)
            else:
                child.register_forward_hook(_round_hook)

    swap(m)
    return m


@torch.no_grad()
def run_fp16(
    model: nn.Module,
    x: torch.Tensor,
    *,
    accumulate: str = "fp32",
    fold_k: int | None = None,
    batch_size: int = 2000,
) -> torch.Tensor:
    """Outputs of ``model`` on ``x`` computed as AB9 does.

    Parameters
    ----------
    model : torch.nn.Module
        FP32 model.
    x : torch.Tensor
        ``(N, ...)`` inputs (rounded to FP16 here).
    accumulate, fold_k
        As in :func:`to_fp16`.
    batch_size : int
        Inputs per pass (memory only; results do not depend on it).

    Returns
    -------
    torch.Tensor
        ``(N, ...)`` float32 holding FP16 values.
    """
    fp16_model = to_fp16(model, accumulate=accumulate, fold_k=fold_k)
    outs = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i : i + batch_size].to(torch.float16).to(torch.float32)
        outs.append(fp16_model(xb))
    return torch.cat(outs)
