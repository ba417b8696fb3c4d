"""The reference target: the workload in FP32 torch on this host.

The ideal baseline every comparison starts from: accuracy of the trained FP32 network,
latency and throughput measured on this machine (medians of repeated timings, with the
torch thread count recorded). It models no energy or area and reports None for them rather
than inventing a figure.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import torch

from devices.validation import param, validate
from neuro.detection import metric_name, score_model
from neuro.provenance import now_iso, provenance
from neuro.result import Result
from neuro.targets.base import Family, register_family
from neuro.workloads import Workload, dataset_for, trained_model

__all__ = ["ReferenceConfig", "Reference", "time_model"]


@dataclasses.dataclass(frozen=True)
class ReferenceConfig:
    """How the reference run measures.

    Attributes
    ----------
    batch_size : int
        Largest batch size for the throughput measurement; it is reduced so that one timed
        batch takes about ``max_batch_time_s`` and its activations fit ``max_batch_bytes``
        (the batch used is reported in ``Result.batch_size``).
    repeats : int
        Timed repetitions (the median is reported); fewer for slow workloads, so that the
        timing takes about ``max_timing_s``.
    test_limit : int or None
        Evaluate accuracy on the first N test images only (None: all).
    """

    batch_size: int = param(256, integer=True, ge=1, le=65536)
    repeats: int = param(7, integer=True, ge=1, le=1000)
    test_limit: int | None = param(None, integer=True, ge=1, optional=True)
    max_batch_time_s: float = param(0.5, unit="s", gt=0.0)
    max_batch_bytes: float = param(1e9, unit="B", gt=0.0)
    max_timing_s: float = param(10.0, unit="s", gt=0.0)

    def __post_init__(self) -> None:
        validate(self)


@torch.no_grad()
def time_model(
    model: torch.nn.Module, x: torch.Tensor, repeats: int, max_total_s: float = float("inf")
) -> float:
    """Median wall time (s) of ``model(x)`` after one warm-up call.

    At most ``repeats`` timed runs, fewer when the warm-up says they would take longer than
    ``max_total_s`` together (at least one).
    """
    t0 = time.perf_counter()
    model(x)
    warm_s = time.perf_counter() - t0
    if max_total_s != float("inf"):
        repeats = max(1, min(repeats, int(max_total_s / max(warm_s, 1e-9))))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _numel(shape: tuple[int, ...] | list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


class Reference:
    """FP32 torch on the host CPU."""

    name = "reference"

    def __init__(self, config: ReferenceConfig | None = None) -> None:
        self.cfg = config or ReferenceConfig()

    def config(self) -> dict:
        return {"family": "reference", **dataclasses.asdict(self.cfg)}

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        started = now_iso()
        accuracy = None
        prov = provenance()
        if workload.shape_only:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = workload.build().eval()
        else:
            tm = trained_model(workload)
            model = tm.model
            data = dataset_for(workload)
            x_test, y_test = data.tensors("test", limit=self.cfg.test_limit)
            accuracy = score_model(data, model, x_test, y_test)  # top-1, or mAP@0.5
            prov["accuracy_metric"] = metric_name(data)
            prov["data_source"] = tm.data_source
            prov["weights_key"] = tm.key
        gen = torch.Generator().manual_seed(seed)
        x1 = torch.rand((1, *workload.input_shape), generator=gen)
        latency = time_model(model, x1, self.cfg.repeats, self.cfg.max_timing_s)
        batch = self._batch_size(workload, latency)
        xb = torch.rand((batch, *workload.input_shape), generator=gen)
        batch_time = time_model(model, xb, self.cfg.repeats, self.cfg.max_timing_s)
        prov.update(
            started=started,
            finished=now_iso(),
            measured_on_host=["latency", "throughput"],
        )
        return Result(
            workload=workload.name,
            target=self.name,
            seed=seed,
            ops_per_inference=float(workload.ops_per_inference),
            accuracy=accuracy,
            accuracy_std=0.0 if accuracy is not None else None,
            latency=latency,
            throughput=batch / batch_time,
            layers=[layer.as_dict() for layer in workload.layers],
            config=self.config(),
            provenance=prov,
            batch_size=batch,
        )

    def _batch_size(self, workload: Workload, latency_s: float) -> int:
        """The throughput batch: at most ``batch_size``, about ``max_batch_time_s`` per batch,
        activations (the largest layer output, float32, ×3 for in-flight tensors) within
        ``max_batch_bytes``."""
        largest = max((_numel(layer.output_shape) for layer in workload.layers), default=1)
        by_memory = int(self.cfg.max_batch_bytes // (3 * 4 * largest))
        by_time = int(self.cfg.max_batch_time_s / max(latency_s, 1e-9))
        return max(1, min(self.cfg.batch_size, by_memory, by_time))


def _factory(variant: str | None, **options) -> Reference:
    return Reference(ReferenceConfig(**options))


register_family(
    Family(
        "reference",
        _factory,
        lambda: [],
        "FP32 torch on this host (the ideal baseline)",
        quick_options={"repeats": 2, "batch_size": 64},
    )
)
