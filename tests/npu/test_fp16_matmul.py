"""Products of two activations (attention) on the FP16 array: bit-equal to gemm_fast."""

from __future__ import annotations

import pytest
import torch

from npu.fp16 import gemm_fast
from npu.functional import FP16MatMul, to_fp16


@pytest.mark.parametrize(("accumulate", "fold_k"), [("fp32", None), ("fp16", None), ("fp16", 4)])
def test_batched_matmul_is_one_gemm_fast_per_head(accumulate, fold_k):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 2, 5, 12, generator=g)
    b = torch.randn(3, 2, 12, 7, generator=g)
    got = FP16MatMul(accumulate, fold_k)(a, b)
    for i in range(3):
        for h in range(2):
            ref = gemm_fast(a[i, h], b[i, h], accumulate=accumulate, fold_k=fold_k)
            assert torch.equal(got[i, h], ref.to(torch.float32))


def test_to_fp16_swaps_modules_that_declare_matmul():
    from neuro.workloads import models

    fp16 = to_fp16(models.vit(), accumulate="fp16")
    assert isinstance(fp16[3].attn.scores, FP16MatMul)
    assert isinstance(fp16[3].attn.context, FP16MatMul)
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    model = models.vit().eval()
    with torch.no_grad():
        ref = model(x)
        got = to_fp16(model, accumulate="fp32")(x.half().float())
    # FP16 operands and rounding through 2 blocks: within 1 % of the logit range
    assert float((got - ref).abs().max()) <= 0.01 * float(ref.abs().max())


def test_torch_multihead_attention_runs_whole_with_its_outputs_rounded():
    from torch import nn

    from npu import run_fp16

    torch.manual_seed(0)
    mha = nn.MultiheadAttention(32, 4, batch_first=True).eval()

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = mha

        def forward(self, x):
            return self.a(x, x, x)[0]

    x = torch.randn(3, 16, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = M()(x)
    got = run_fp16(M(), x)
    assert torch.equal(got, got.half().float())  # FP16 values
    assert float((got - ref).abs().max()) <= 0.01 * float(ref.abs().max())  # FP16 inputs
