"""The field's algorithm metrics, as NeuroBench defines them, for every target.

Definitions (Yik et al., "The NeuroBench framework for benchmarking neuromorphic computing
algorithms and systems", Nature Communications 16, 1545, 2025; the ``neurobench`` package,
``neurobench/metrics``):

* **footprint** (B): memory of the model's parameters and buffers, in the bytes of their
  stored type. Here: the workload's network at FP32 (4 B per value), the same for every
  target, like ``ops_per_inference`` (an algorithm figure, not the chip's weight memory).
* **connection sparsity**: zero weights / all weights of the connection layers (Linear,
  Conv).
* **activation sparsity**: zero activations / all activations of the neuron layers over
  every time step and input (ReLU outputs of an ANN; spikes of an SNN's neurons, input
  spike sources excluded).
* **synaptic operations** per inference: *dense*, every weight × input of the connection
  layers at every time step (bias excluded), zero or not; *effective MACs*, the non-zero
  weight × non-zero input products where the input is not binary; *effective ACs*, the
  same where the input is binary (spikes): accumulates.
* **membrane updates** per inference: updates of spiking neurons' membrane potentials
  (NeuroBench counts an update where the potential changed); None for an ANN.

For the reference, NPU and analog targets the counts come from the workload's FP32 network
and its activations on the target's test inputs (the same network every one of them
runs); for the spiking target from the simulation's own counts (synaptic events are the
effective ACs; the clock-driven simulation updates every neuron every step, an upper
bound of NeuroBench's count of changed potentials).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

from neuro.result import Result
from neuro.workloads import Workload

__all__ = ["NB_UNITS", "model_metrics", "result_metrics", "add_to_result"]

#: The metrics, their units, and their keys in ``Result.extra`` (prefix ``nb_``).
NB_UNITS: dict[str, str] = {
    "footprint_B": "B",
    "connection_sparsity": "fraction",
    "activation_sparsity": "fraction",
    "synaptic_ops_dense": "ops",
    "synaptic_ops_effective_macs": "ops",
    "synaptic_ops_effective_acs": "ops",
    "membrane_updates": "updates",
}
_CONNECTIONS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh)
#: Inputs on which the ANN metrics are measured (the first N test inputs).
DEFAULT_INPUTS = 1000


def footprint_B(model: nn.Module, bytes_per_value: int = 4) -> float:
    """Parameters and buffers × ``bytes_per_value`` (NeuroBench's footprint at FP32)."""
    values = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    return float(values * bytes_per_value)


def connection_sparsity(model: nn.Module) -> float:
    """Zero weights over all weights of the connection layers."""
    zeros = total = 0
    for m in model.modules():
        if isinstance(m, _CONNECTIONS):
            zeros += int((m.weight == 0).sum())
            total += m.weight.numel()
    return zeros / total if total else 0.0


def _ops(layer: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> float:
    """Σ over outputs of the layer applied to ``x`` with ``weight``, no bias: operations."""
    if isinstance(layer, nn.Linear):
        return float(torch.nn.functional.linear(x, weight).sum())
    conv = {nn.Conv1d: torch.nn.functional.conv1d, nn.Conv2d: torch.nn.functional.conv2d,
            nn.Conv3d: torch.nn.functional.conv3d}[type(layer)]  # fmt: skip
    return float(
        conv(x, weight, None, layer.stride, layer.padding, layer.dilation, layer.groups).sum()
    )


def model_metrics(model: nn.Module, x: torch.Tensor) -> dict[str, float | None]:
    """NeuroBench's metrics of an ANN on inputs ``x`` (per inference).

    Parameters
    ----------
    model : nn.Module
        The network (evaluated in eval mode, FP32).
    x : torch.Tensor
        Inputs, batch first.

    Returns
    -------
    dict
        The keys of :data:`NB_UNITS`; ``membrane_updates`` is None (no spiking neurons).
    """
    dense = eff_mac = eff_ac = 0.0
    zeros = total = 0

    def on_connection(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal dense, eff_mac, eff_ac
        xin = inputs[0].detach()
        ones_w = torch.ones_like(layer.weight)
        dense += _ops(layer, torch.ones_like(xin), ones_w)
        nz = _ops(layer, (xin != 0).to(xin.dtype), (layer.weight != 0).to(xin.dtype))
        binary = bool(((xin == 0) | (xin == 1)).all())
        if binary:
            eff_ac += nz
        else:
            eff_mac += nz

    def on_activation(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal zeros, total
        zeros += int((output == 0).sum())
        total += output.numel()

    hooks = []
    for m in model.modules():
        if isinstance(m, _CONNECTIONS):
            hooks.append(m.register_forward_hook(on_connection))
        elif isinstance(m, _ACTIVATIONS):
            hooks.append(m.register_forward_hook(on_activation))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(x), 256):
                model(x[start : start + 256])
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    n = max(len(x), 1)
    return {
        "footprint_B": footprint_B(model),
        "connection_sparsity": connection_sparsity(model),
        "activation_sparsity": zeros / total if total else 0.0,
        "synaptic_ops_dense": dense / n,
        "synaptic_ops_effective_macs": eff_mac / n,
        "synaptic_ops_effective_acs": eff_ac / n,
        "membrane_updates": None,
    }


@functools.lru_cache(maxsize=8)
def _ann_metrics(workload_name: str, weights_key: str, n: int) -> tuple:
    from neuro.workloads import dataset_for, get, trained_model

    workload = get(workload_name)
    tm = trained_model(workload)
    x, _ = dataset_for(workload).tensors("test", limit=n)
    return tuple(model_metrics(tm.model, x).items())


def _spiking_metrics(workload: Workload, result: Result) -> dict[str, float | None]:
    from neuro.workloads import trained_model

    steps = float(result.config.get("steps", 0) or 0)
    model = trained_model(workload).model
    neurons = sum(
        math.prod(layer.output_shape)
        for layer in workload.layers
        if layer.activation not in (None, "batchnorm", "add")
    )
    hidden_spikes = result.extra.get("hidden_spikes")
    activation_sparsity = None
    if hidden_spikes is not None and neurons and steps:
        activation_sparsity = 1.0 - hidden_spikes / (neurons * steps)
    return {
        "footprint_B": footprint_B(model),
        "connection_sparsity": connection_sparsity(model),
        "activation_sparsity": activation_sparsity,
        "synaptic_ops_dense": float(workload.macs) * steps,
        "synaptic_ops_effective_macs": 0.0,  # Bernoulli input spikes: every input is binary
        "synaptic_ops_effective_acs": result.extra.get("synaptic_events"),
        "membrane_updates": result.extra.get("neuron_updates"),
    }


def result_metrics(workload: Workload, result: Result) -> dict[str, float | None]:
    """NeuroBench's metrics of ``result`` (see the module docstring for each family)."""
    family = result.target.partition(":")[0]
    if workload.shape_only or workload.unsupervised:
        model = workload.build()
        out: dict[str, float | None] = dict.fromkeys(NB_UNITS)
        out.update(footprint_B=footprint_B(model), synaptic_ops_dense=float(workload.macs))
        return out
    if family == "snn":
        return _spiking_metrics(workload, result)
    from neuro.workloads import trained_model

    n = int(result.extra.get("test_inputs") or DEFAULT_INPUTS)
    return dict(_ann_metrics(workload.name, trained_model(workload).key, min(n, DEFAULT_INPUTS)))


def add_to_result(workload: Workload, result: Result) -> Result:
    """Put :func:`result_metrics` into ``result.extra`` as ``nb_<name>`` (NaN where None)."""
    for name, value in result_metrics(workload, result).items():
        result.extra[f"nb_{name}"] = float("nan") if value is None else float(value)
    return result
