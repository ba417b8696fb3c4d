"""Checks against reference tools and device statistics (registered on import).

* Cycles: the NPU folding model (:func:`npu.fold`) against SCALE-Sim 3 (Samajdar et al.,
  ISPASS 2020) on every conv and linear layer of ``mlp-fmnist`` and ``cnn-fmnist``, on a
  32 × 32 array, output and weight stationary. Exact: the model counts SCALE-Sim's
  ``Total Cycles`` + 1 per layer (SCALE-Sim reports the index of the last cycle).
  Skipped when ``scalesim`` is not installed.
* PCM statistics: the mean drift of cells programmed to ``g_max`` at 1 hour, 1 day and
  1 year against the factors of the published model (Joshi et al., Nature Communications
  11, 2473, 2020; the constants of IBM aihwkit's PCM inference model: 0.78, 0.66, 0.50 of
  the value at t0 = 20 s), and the programming noise at half range against its polynomial.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import torch

from neuro.validate import Check, Skip, register_check

_CYCLE_WORKLOADS = ("mlp-fmnist", "cnn-fmnist")


def _gemm_layers(workload: str) -> list[tuple[str, int, int, int]]:
    from neuro import workloads
    from neuro.targets.npu import to_ops

    return [(op.name, op.m, op.k, op.n) for op in to_ops(workloads.get(workload)) if op.is_gemm]


@functools.cache
def _scalesim_total(dataflow: str, size: int = 32) -> float:
    from npu.scalesim_ref import available, scalesim_cycles

    if not available():
        raise Skip("scalesim is not installed (pip install --no-deps scalesim)")
    total = 0
    with tempfile.TemporaryDirectory(prefix="neuro-scalesim-") as tmp:
        for w in _CYCLE_WORKLOADS:
            cycles, _ = scalesim_cycles(_gemm_layers(w), size, size, dataflow, Path(tmp) / w)
            total += sum(c + 1 for c in cycles)
    return float(total)


def _model_total(dataflow: str, size: int = 32) -> float:
    import npu

    return float(
        sum(
            npu.fold(m, k, n, size, size, dataflow).cycles
            for w in _CYCLE_WORKLOADS
            for _, m, k, n in _gemm_layers(w)
        )
    )


for _df, _name in (("os", "output"), ("ws", "weight")):
    register_check(
        Check(
            name=f"digital.scalesim.cycles-{_df}",
            paradigm="digital",
            quantity=f"compute cycles, {_name} stationary 32x32, mlp-fmnist + cnn-fmnist layers",
            unit="cycles",
            measured=functools.partial(_scalesim_total, _df),
            model=functools.partial(_model_total, _df),
            source="SCALE-Sim 3.0 (Samajdar et al., ISPASS 2020), Total Cycles + 1 per layer",
            figure_id=f"scalesim-cycles-{_df}",
            kind="exact",
            band=(1 - 1e-12, 1 + 1e-12),
        )
    )

#: Joshi 2020 / aihwkit PCM model: G(t)/G(t0) at g_max with the mean drift exponent 0.049.
_PCM_DRIFT = {"1 hour": (3600.0, 0.78), "1 day": (86400.0, 0.66), "1 year": (3.15576e7, 0.50)}


def _pcm_drift(t_s: float) -> float:
    import devices

    pcm = devices.get("pcm")
    gen = torch.Generator().manual_seed(0)
    n = 20_000
    state = pcm.program(torch.full((n,), pcm.g_max, dtype=torch.float64), gen)
    return float(pcm.read(state, t_s, gen).mean() / pcm.g_max)


for _label, (_t, _factor) in _PCM_DRIFT.items():
    register_check(
        Check(
            name=f"devices.pcm.drift-{_label.replace(' ', '')}",
            paradigm="devices",
            quantity=f"PCM mean G/G(t0) at g_max, {_label} after programming",
            unit="",
            measured=_factor,
            model=functools.partial(_pcm_drift, _t),
            source="Joshi et al., Nat. Commun. 11:2473 (2020); aihwkit PCM inference model",
            figure_id=f"joshi2020-pcm-drift-{_label}",
            kind="statistics",
            band=(0.97, 1.03),
            note="20,000 cells, programming and 1/f read noise on; the published factors "
            "are rounded to two digits",
        )
    )


def _pcm_prog_sigma_uS(x: float = 0.5) -> float:
    import devices

    pcm = devices.get("pcm")
    gen = torch.Generator().manual_seed(1)
    n = 20_000
    state = pcm.program(torch.full((n,), x * pcm.g_max, dtype=torch.float64), gen)
    return float(state.value.std() * 1e6)


register_check(
    Check(
        name="devices.pcm.programming-noise",
        paradigm="devices",
        quantity="PCM programming noise std at g = g_max/2",
        unit="µS",
        measured=0.26348 + 1.9650 * 0.5 - 1.1731 * 0.25,
        model=_pcm_prog_sigma_uS,
        source="Nandakumar et al. 2018 / Joshi et al. 2020 polynomial (aihwkit PCM model)",
        figure_id="joshi2020-pcm-prog-noise",
        kind="statistics",
        band=(0.95, 1.05),
        note="20,000 cells; the std's standard error is 0.5 %",
    )
)
