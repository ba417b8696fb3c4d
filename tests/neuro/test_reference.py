"""The reference target's timing helper."""

from __future__ import annotations

import time

import torch

from neuro.targets.reference import time_model


class _Slow(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        time.sleep(0.05)
        return x


def test_time_model_caps_repeats_by_the_warm_up_time():
    m = _Slow()
    t = time_model(m, torch.zeros(1), repeats=100, max_total_s=0.1)
    # one warm-up; each call sleeps >= 50 ms, so at most 2 timed runs fit in 0.1 s
    assert 2 <= m.calls <= 3
    assert t >= 0.05
    m2 = _Slow()
    time_model(m2, torch.zeros(1), repeats=3)
    assert m2.calls == 4
