"""The spiking target: a workload on spiking neuromorphic hardware, simulated in Brian2.

Targets ``snn:loihi``, ``snn:truenorth``, ``snn:seneca`` (per-event energies of those chips)
and ``snn:<device>`` for every registered device but ``ideal`` (one device read per
synaptic event; in ``dc-stdp-mnist`` the plastic synapses are that device).

* Supervised workloads (``mlp-fmnist``, ``mlp-digits``, ``cnn-fmnist``): rate-coded
  conversion (:func:`snn.convert.convert`, 99.9th-percentile threshold balancing; the conv,
  average-pooling and linear modules between two ReLUs become one sparse or dense layer of
  synapses) simulated for ``steps`` time steps; ``accuracy`` is at ``steps``, the curve
  ``accuracy_vs_steps`` gives every checkpoint. A model with a module that conversion
  refuses (max pooling, residual blocks) raises ConfigError.
* ``dc-stdp-mnist`` (registered in :mod:`neuro.workloads`): Diehl & Cook STDP learning on MNIST.
* Shape-only workloads (``resnet18``, ``yolov2``): ConfigError — a spiking cost without a
  converted network would be a guess of the spike rates.

Latency assumption: one time step per ``dt_s`` (1 ms: TrueNorth's global 1 kHz tick,
Merolla et al. 2014), so ``latency = steps × dt_s`` (conversion) or the presentation time
(Diehl & Cook: 350 ms + 150 ms rest, times the mean number of presentations);
``throughput = 1 / latency`` (one input at a time). ``ops_per_inference`` is the workload's
ANN-equivalent 2 × MACs, so TOPS/W compares with the other paradigms.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

import devices
import snn
from devices.validation import ConfigError, param, validate
from neuro.provenance import now_iso, provenance
from neuro.result import Curve, Result
from neuro.targets.base import Family, register_family
from neuro.workloads import Workload, dataset_for, trained_model
from snn.energy import PRESETS, EnergyPreset, device_preset, preset

__all__ = ["SpikingConfig", "Spiking", "DC_WORKLOAD"]

DC_WORKLOAD = "dc-stdp-mnist"  # registered in neuro.workloads


@dataclasses.dataclass(frozen=True)
class SpikingConfig:
    """How the spiking target runs (SI floats; converted to Brian2 units inside ``snn``).

    Attributes
    ----------
    steps : int
        Conversion: time steps per input (the accuracy curve has every checkpoint).
    test_limit : int or None
        Evaluate on the first N test inputs (None: all).
    calib_images : int
        Conversion: training images for threshold balancing.
    percentile : float
        Conversion: activation percentile mapped to the threshold (100: max).
    dt_s : float
        Seconds per time step on the hardware (latency), 1 ms.
    backend : str
        ``"standalone"`` (C++) or ``"numpy"`` (Brian2 runtime).
    n_exc, train_images, passes : int
        Diehl & Cook: excitatory neurons, training images, passes.
    pair : bool
        Diehl & Cook with a device: two cells per synapse
        (:class:`snn.synapse.DifferentialDeviceSynapse`, the 2-PCM synapse) instead of one.
    method : str
        Diehl & Cook neuron integration, ``"euler"`` (the original code's) or
        ``"exponential_euler"`` (stable when many neurons fire at once; see
        :class:`snn.config.DiehlCookConfig`).
    """

    # 64 steps: where the converted accuracy has plateaued (experiments/convert_curve.py, first
    # 1,000 test images, accuracy read after exactly T steps): mlp-fmnist 88.7 % at 16,
    # 88.8 % at 32, 89.0 % at 64, 89.0 % at 128, 89.4 % at 256 (FP32 89.3 %); cnn-fmnist
    # 85.2 %, 88.1 %, 88.8 %, 88.9 %, 89.5 % (FP32 89.2 %). Events and energy grow linearly
    # with the steps.
    steps: int = param(64, integer=True, ge=1, le=100000)
    test_limit: int | None = param(1000, integer=True, ge=1, optional=True)
    calib_images: int = param(500, integer=True, ge=1)
    percentile: float = param(99.9, gt=0.0, le=100.0)
    dt_s: float = param(1e-3, unit="s", gt=0.0, le=1.0)
    backend: str = param("standalone", choices=("standalone", "numpy"))
    n_exc: int = param(400, integer=True, ge=1)
    train_images: int = param(9000, integer=True, ge=1)
    passes: int = param(1, integer=True, ge=1)
    pair: bool = param(False, choices=(True, False))
    method: str = param("euler", choices=("euler", "exponential_euler"))

    def __post_init__(self) -> None:
        validate(self)


def _variants() -> list[str]:
    return [*PRESETS, *(d for d in devices.names() if d != "ideal")]


class Spiking:
    """Brian2 spiking simulation with per-event energies from a preset or a device."""

    def __init__(self, variant: str, config: SpikingConfig | None = None) -> None:
        if variant not in _variants():
            raise ConfigError(
                f"snn variant must be one of {', '.join(_variants())}; got {variant!r}"
            )
        self.variant = variant
        self.cfg = config or SpikingConfig()
        self.name = f"snn:{variant}"
        self.device = None if variant in PRESETS else devices.get(variant)
        self.energy: EnergyPreset = (
            preset(variant) if self.device is None else device_preset(self.device)
        )

    def config(self) -> dict:
        return {"family": "snn", "variant": self.variant, **dataclasses.asdict(self.cfg),
                "energy_source": self.energy.source}  # fmt: skip

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        if workload.shape_only:
            raise ConfigError(
                f"snn target: workload {workload.name!r} is shape-only; spiking costs need "
                "a converted, simulated network (use mlp-fmnist, cnn-fmnist, mlp-digits or "
                "dc-stdp-mnist)"
            )
        started, t0 = now_iso(), time.perf_counter()
        if workload.unsupervised:
            acc, per_inf, latency, curves, extra = self._diehl_cook(workload, seed)
        else:
            acc, per_inf, latency, curves, extra = self._converted(workload, seed)
        breakdown = self.energy.energy(per_inf["synaptic_events"], per_inf["neuron_updates"])
        prov = provenance()
        prov.update(started=started, finished=now_iso(), wall_s=time.perf_counter() - t0,
                    data_source=dataset_for(workload).source)  # fmt: skip
        return Result(
            workload=workload.name,
            target=self.name,
            seed=seed,
            ops_per_inference=float(workload.ops_per_inference),
            accuracy=acc,
            accuracy_std=0.0,
            energy_per_inference=sum(breakdown.values()),
            latency=latency,
            throughput=1.0 / latency,
            energy_breakdown=breakdown,
            layers=[layer.as_dict() for layer in workload.layers],
            curves=curves,
            config=self.config(),
            provenance=prov,
            extra={
                **per_inf,
                **extra,
                # all-in energy per synaptic event, for the per-event roadmap gap
                "energy_per_synaptic_event_J": sum(breakdown.values()) / per_inf["synaptic_events"]
                if per_inf["synaptic_events"]
                else 0.0,
            },
        )

    def _converted(self, workload: Workload, seed: int):
        c = self.cfg
        tm = trained_model(workload)
        ds = dataset_for(workload)
        x_cal, _ = ds.tensors("train", limit=c.calib_images)  # (N, 1, H, W): the input shape
        x, y = ds.tensors("test", limit=c.test_limit)
        from snn.convert import convert  # imports brian2: only where a simulation runs

        net = convert(tm.model, x_cal, percentile=c.percentile)
        run = net.run(x, c.steps, seed=seed, backend=c.backend)
        accs = run.accuracy(y.numpy())
        n = len(y)
        with torch.no_grad():
            fp32 = float((tm.model(x).argmax(1) == y).float().mean())
        per_inf = {
            "synaptic_events": run.synaptic_events / n,
            "neuron_updates": run.neuron_updates / n,
            "spikes": sum(run.spikes) / n,
        }
        # the accuracy-energy trade-off of rate coding: energy per inference after T steps
        updates_at = run.neuron_updates / n / c.steps * run.steps
        energy_at = [sum(self.energy.energy(e / n, u).values())
                     for e, u in zip(run.events_at, updates_at)]  # fmt: skip
        curves = {
            "accuracy_vs_steps": Curve(run.steps, accs, "steps", "accuracy"),
            "energy_vs_steps": Curve(run.steps, energy_at, "steps", "energy_per_inference_J"),
            "synaptic_events_vs_steps": Curve(
                run.steps, np.asarray(run.events_at) / n, "steps", "synaptic_events"
            ),
        }
        extra = {"best_accuracy": float(accs.max()), "best_steps": float(run.steps[accs.argmax()]),
                 "fp32_accuracy_same_inputs": fp32, "test_inputs": float(n)}  # fmt: skip
        return float(accs[-1]), per_inf, c.steps * c.dt_s, curves, extra

    def _diehl_cook(self, workload: Workload, seed: int):
        c = self.cfg
        ds = dataset_for(workload)
        x_tr = ds.x_train[: c.train_images].reshape(-1, 784).astype(float)
        y_tr = ds.y_train[: c.train_images]
        lim = c.test_limit or len(ds.x_test)
        x_te, y_te = ds.x_test[:lim].reshape(-1, 784).astype(float), ds.y_test[:lim]
        if self.device is None:
            synapse = snn.IdealSynapse()
        elif c.pair:
            synapse = snn.DifferentialDeviceSynapse(self.device, seed=seed)
        else:
            synapse = snn.DeviceSynapse(self.device, seed=seed)
        net = snn.DiehlCook(c.n_exc, synapse, backend=c.backend, seed=seed,
                            config=snn.DiehlCookConfig(method=c.method),
                            chunk=min(100, len(x_tr)))  # fmt: skip
        shown, xs, ys = 0, [], []
        for _ in range(c.passes):
            net.train(x_tr)
            shown += len(x_tr)
        net.assign_labels(x_tr, y_tr)
        before = dataclasses.replace(net.test_events)
        acc = net.evaluate(x_te, y_te)
        xs.append(shown)
        ys.append(acc)
        ev = net.test_events
        n = ev.images - before.images
        pres = ev.presentations - before.presentations
        per_inf = {
            "synaptic_events": (ev.synaptic_events - before.synaptic_events) / n,
            "neuron_updates": (ev.neuron_updates - before.neuron_updates) / n,
            "spikes": (ev.input_spikes + ev.exc_spikes + ev.inh_spikes - before.input_spikes
                       - before.exc_spikes - before.inh_spikes) / n,
        }  # fmt: skip
        latency = float(net.cfg.t_image / snn_second()) * pres / n
        curves = {"accuracy_vs_training_images": Curve(np.asarray(xs), np.asarray(ys),
                                                       "training_images", "accuracy")}  # fmt: skip
        extra = {"presentations_per_image": pres / n, "train_images": float(len(x_tr)),
                 "passes": float(c.passes)}  # fmt: skip
        return acc, per_inf, latency, curves, extra


def snn_second():
    """Brian2's second (kept here so the adapter converts units in one place)."""
    from brian2 import second

    return second


def _factory(variant: str | None, **options) -> Spiking:
    return Spiking(variant or "loihi", SpikingConfig(**options))


register_family(
    Family(
        "snn",
        _factory,
        _variants,
        "Brian2 spiking networks: ANN-to-SNN conversion and Diehl & Cook STDP",
        quick_options={
            "steps": 32,
            "test_limit": 100,
            "calib_images": 100,
            "backend": "numpy",
            "train_images": 20,
            "n_exc": 10,
        },  # fmt: skip
    )
)
