"""The NPU target: a workload on ETRI's AB9 (``npu:ab9``) or its systems (``npu:artbrain-s``,
``npu:artbrain-k``).

Accuracy is measured: the trained network runs on the test split in bit-true FP16
(:func:`npu.run_fp16`, the config's accumulator and dataflow order). Costs come from the
performance model (:func:`npu.simulate`, :func:`npu.scale_out`): latency is one input at
batch 1 on one chip; throughput, energy per inference and its breakdown are at the
config's batch size (steady state).

Energy boundary (:data:`neuro.result.ENERGY_GROUPS`, :data:`ENERGY_GROUP_OF`): ``mac`` and
``alu`` are ``compute``; ``sram`` (and ``pe_rf``, PE register files) is ``movement``; ``static`` (leakage over the whole batch
period, including any wait on PCIe) is ``static``; ``dram``, ``host_io`` (PCIe) and
``board`` (regulator and supply losses, ArtBrain presets) are ``off_chip``. A digital chip
has no ``conversion``: it is reported missing with that reason, never as a silent 0.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import npu
from devices.validation import ConfigError, param, require, validate
from neuro.detection import is_detection, metric_name, score
from neuro.provenance import now_iso, provenance
from neuro.result import Result
from neuro.targets.base import Family, register_family
from neuro.workloads import LayerShape, Workload, dataset_for, trained_model

__all__ = ["NPU", "NPUOptions", "to_ops", "ENERGY_GROUP_OF", "MISSING"]

#: The energy group of each component the NPU model charges.
ENERGY_GROUP_OF: dict[str, str] = {
    "mac": "compute",
    "alu": "compute",
    "pe_rf": "movement",
    "sram": "movement",
    "static": "static",
    "dram": "off_chip",
    "host_io": "off_chip",
    "board": "off_chip",
}
#: What the NPU model does not charge, and why.
MISSING: dict[str, str] = {
    "conversion": "digital: no DAC/ADC; inputs, weights and outputs stay digital end to end",
}


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape) if shape else 0


def _op(layer: LayerShape) -> npu.Op:
    """One workload layer as the NPU executes it (see :mod:`npu.ops`)."""
    in_e, out_e = _numel(layer.input_shape), _numel(layer.output_shape)
    common = {"in_elems": in_e, "out_elems": out_e}
    if layer.kind in ("linear", "conv2d"):
        m, k, n = layer.gemm()  # type: ignore[misc]
        g = int(layer.groups or 1)
        if layer.kind == "linear":
            m = layer.macs // (k * n)  # positions: 1 for a vector input
        return npu.Op(layer.name, layer.kind, m=m, k=k, n=n, groups=g,
                      weight_elems=layer.n_weights, macs=layer.macs, **common)  # fmt: skip
    if layer.kind == "matmul":  # two activations (attention): one GEMM per head on the array
        k, n, g = int(layer.in_features or 1), int(layer.out_features or 1), int(layer.groups or 1)
        # the second operand (keys, values) is held in the array like a weight (resident)
        return npu.Op(layer.name, "linear", m=layer.macs // (k * n * g), k=k, n=n, groups=g,
                      weight_elems=g * k * n, macs=layer.macs, **common)  # fmt: skip
    if layer.kind in ("pool", "elementwise"):
        c = layer.output_shape[0] if len(layer.output_shape) == 3 else out_e
        positions = max(out_e // max(c, 1), 1)
        # pool: the window (the input size when adaptive); elementwise: ops per element
        k = max(layer.ops // max(out_e, 1), 1)
        return npu.Op(layer.name, layer.kind, m=positions, k=k, n=c, alu_ops=layer.ops, **common)
    return npu.Op(layer.name, "data", m=0, k=0, n=0, **common)


def to_ops(workload: Workload) -> list[npu.Op]:
    """The workload's layers as NPU ops, in execution order."""
    return [_op(layer) for layer in workload.layers]


@dataclasses.dataclass(frozen=True)
class NPUOptions:
    """How the NPU target measures accuracy.

    Attributes
    ----------
    test_limit : int or None
        Evaluate accuracy on the first N test inputs only (None: the whole split).
    """

    test_limit: int | None = param(None, integer=True, ge=1, optional=True)

    def __post_init__(self) -> None:
        validate(self)


class NPU:
    """A workload on an AB9 config (a chip or a multi-chip system).

    Parameters
    ----------
    config : npu.AB9
        The chip and system.
    options : NPUOptions, optional
        Accuracy measurement.
    """

    def __init__(self, config: npu.AB9, options: NPUOptions | None = None) -> None:
        require(config.dtype == "fp16", "NPU", "dtype", config.dtype,
                "'fp16' (the target runs bit-true FP16 only)")  # fmt: skip
        self.cfg = config
        self.options = options or NPUOptions()
        self.name = f"npu:{config.name}"

    def config(self) -> dict[str, Any]:
        return {"family": "npu", **self.cfg.as_dict(), **dataclasses.asdict(self.options)}

    def _accuracy(self, workload: Workload, prov: dict) -> float | None:
        if workload.shape_only or workload.unsupervised:
            return None
        tm = trained_model(workload)
        data = dataset_for(workload)
        x, y = data.tensors("test", limit=self.options.test_limit)
        fold_k = self.cfg.array_rows if self.cfg.dataflow == "ws" else None
        batch = 8 if is_detection(data) else 2000  # a detector's activations are large
        logits = npu.run_fp16(tm.model, x, accumulate=self.cfg.accumulate, fold_k=fold_k,
                              batch_size=batch)  # fmt: skip
        prov.update(data_source=tm.data_source, weights_key=tm.key, fp32_accuracy=tm.test_accuracy,
                    accuracy_metric=metric_name(data))  # fmt: skip
        return score(data, logits, y)  # top-1, or mAP@0.5 of the decoded FP16 outputs

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        """Accuracy in FP16 and costs from the performance model (deterministic: ``seed``
        is recorded, nothing is random)."""
        started = now_iso()
        prov = provenance()
        accuracy = self._accuracy(workload, prov)
        ops = to_ops(workload)
        single = npu.simulate(ops, self.cfg, batch=1)
        system = npu.scale_out(ops, self.cfg)
        chip, batch = system.chip, self.cfg.batch_size
        missing = dict(MISSING)
        components = {}
        for name, joules in system.energy_J.items():
            if name == "board" and not self.cfg.models_board:
                missing["board"] = (
                    f"bare chip (npu:{self.cfg.name}): no board or supply modelled; "
                    "npu:artbrain-s and npu:artbrain-k charge their regulator and supply losses"
                )
                continue
            if name == "pe_rf" and self.cfg.pe_rf_accesses_per_mac == 0.0:
                continue  # a systolic PE without register files: nothing to charge
            components[name] = (ENERGY_GROUP_OF[name], joules / batch)
        if self.cfg.n_chips > 1 or self.cfg.psu_efficiency < 1.0:
            missing["host"] = "host CPUs, fans and cooling of the server are not modelled"
        prov.update(started=started, finished=now_iso())
        extra = {
            "peak_flops": system.peak_flops,
            "achieved_flops": system.achieved_flops,
            "flops_per_W": system.flops_per_W,
            "power_W": system.power_W,
            "chip_power_W": system.chip_power_W,
            "idle_s_per_batch": system.batch_s - chip.time_s,
            "utilisation": chip.utilisation,
            "memory_bound_layers": float(chip.memory_bound_layers),
            "weights_resident": float(chip.weights_resident),
            "pcie_bound": float(system.pcie_bound),
            "setup_s": system.setup_s,
            "latency_energy_J": single.energy_per_inference_J,
        }
        result = Result(
            workload=workload.name,
            target=self.name,
            seed=seed,
            ops_per_inference=float(workload.ops_per_inference),
            accuracy=accuracy,
            accuracy_std=0.0 if accuracy is not None else None,
            latency=single.time_s,
            throughput=system.throughput,
            area=self.cfg.die_area_m2 * self.cfg.n_chips,
            layers=[layer.row(batch) for layer in chip.layers],
            config=self.config(),
            provenance=prov,
            batch_size=batch,
            extra=extra,
        )
        return result.set_energy(components, missing)


def _factory(variant: str | None, **options: Any) -> NPU:
    name = variant or "ab9"
    if name not in npu.presets.names("target"):
        valid = ", ".join(npu.presets.names("target"))
        raise ConfigError(f"unknown target 'npu:{name}'; valid npu variants: {valid}")
    cfg = npu.presets.get(name)
    npu_fields = {f.name for f in dataclasses.fields(npu.AB9)}
    changes = {k: v for k, v in options.items() if k in npu_fields}
    rest = {k: v for k, v in options.items() if k not in npu_fields}
    return NPU(cfg.replace(**changes) if changes else cfg, NPUOptions(**rest))


register_family(
    Family(
        "npu",
        _factory,
        lambda: npu.presets.names("target"),
        "ETRI AB9 digital NPU: bit-true FP16, systolic cycle, memory and energy model",
        quick_options={"test_limit": 200},
    )
)
