"""The spiking target: a workload on spiking neuromorphic hardware, simulated in Brian2.

Targets ``snn:<chip>`` for every chip table of :data:`snn.energy.PRESETS` (``loihi``,
``truenorth``, ``seneca``, ``spinnaker``, ``spinnaker2``, ``brainscales2``) and
``snn:<device>`` for every registered device but ``ideal`` (device synapses on crossbar
tiles with Loihi's neurons; in ``dc-stdp-mnist`` the plastic synapses are that device).

Energy, on the one boundary of :mod:`neuro.result`: the simulation counts synaptic
events, active and idle neuron updates, spikes, and (from a placement on the chip's mesh,
:func:`snn.energy.mesh_routes`) spike messages and hops; the chip's table prices them:
synaptic events → ``compute``; neuron updates and spike generation (neuron circuits),
and for device synapses the row drives and column sensing → ``conversion``; spike routing
→ ``movement``; static power (and Loihi's embedded x86 cores' power) × the inference's time
(``latency``) × the chips the network occupies (:func:`snn.energy.chips_needed`, in
``extra["chips"]``) → ``static``; input spikes in and results out over the host link → ``off_chip``. A term the chip's sources do
not give is in ``energy_missing`` with its reason (:class:`snn.energy.ChipEnergy`).
A neuron update is active in a step when the neuron integrates a bias (converted networks
add their bias every step) or at least one synaptic event (probability ``1 - exp(-λ)``
with λ its layer's mean events per neuron and step); Diehl & Cook's conductance neurons
decay every step, so all their updates are active.

* Supervised workloads (``mlp-fmnist``, ``mlp-digits``, ``cnn-fmnist``): rate-coded
  conversion (:func:`snn.convert.convert`, 99.9th-percentile threshold balancing; the conv,
  average-pooling and linear modules between two ReLUs become one sparse or dense layer of
  synapses) simulated for ``steps`` time steps; ``accuracy`` is at ``steps``, the curve
  ``accuracy_vs_steps`` gives every checkpoint. Residual networks convert too (BatchNorm
  folded, skips added on the membrane, max pooling gated: ``resnet-fmnist``); a model
  with a layer that conversion refuses (LayerNorm, attention: ``vit-fmnist``) raises
  ConfigError naming it.
* ``dc-stdp-mnist`` (registered in :mod:`neuro.workloads`): Diehl & Cook STDP learning on MNIST.
* Shape-only workloads (``resnet18``, ``yolov2``): ConfigError — a spiking cost without a
  converted network would be a guess of the spike rates.

Latency: each chip's own step time (:func:`snn.energy.inference_time`). A chip with a
fixed real-time tick takes one tick per step (TrueNorth 1 ms, SpiNNaker 1 ms, SENECA 1 ms
assumed, BrainScaleS-2 1 µs: 1 ms biological at 1,000×); Loihi, asynchronous, ends a step
when its busiest core has done its synaptic and neuron work and the mesh-wide barrier has
completed (Davies et al. 2018, Table 2), from the counted events and the placement. So
``latency = steps × step time`` (conversion, trained), or for Diehl & Cook the presentation
time (350 ms + 150 ms rest, times the mean number of presentations) scaled by the chip's
speed (tick chips) or its steps × Loihi's step time. ``dt_s`` overrides the step time
(``dt_s=1e-3``: every chip in real time); ``step_overhead_s`` adds a deployment's software
time to every step (0 by default: the chip alone; measured Loihi figures in
:class:`SpikingConfig`). ``throughput = 1 / latency`` (one input at a
time), and static energy is charged over ``latency``. ``ops_per_inference`` is the workload's
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
from snn.energy import AER_BYTES, PRESETS, Activity, ChipEnergy, device_chip, mesh_routes, preset

__all__ = ["SpikingConfig", "Spiking", "DC_WORKLOAD"]

DC_WORKLOAD = "dc-stdp-mnist"  # registered in neuro.workloads
#: ``mode="trained"`` without ``steps``: 4, the middle one of the trained-vs-converted study's
#: step counts (experiments/trained_vs_converted.py).
TRAINED_STEPS = 4


@dataclasses.dataclass(frozen=True)
class SpikingConfig:
    """How the spiking target runs (SI floats; converted to Brian2 units inside ``snn``).

    Attributes
    ----------
    steps : int or None
        Conversion: time steps per input (the accuracy curve has every checkpoint); None:
        the workload's own ``spiking_steps`` (64 unless a deep network needs more).
        ``mode="trained"``: ``T``, the steps the network is trained and run for (at most 32;
        None: 4).
    mode : str
        Supervised workloads: ``"convert"`` (rate-coded ANN-to-SNN conversion) or
        ``"trained"`` (a LIF network trained directly with surrogate gradients for ``steps``
        time steps, cached, simulated in Brian2 with the same equations; see
        :mod:`neuro.targets.spiking_trained`).
    test_limit : int or None
        Evaluate on the first N test inputs (None: all).
    calib_images : int
        Conversion: training images for threshold balancing.
    percentile : float
        Conversion: activation percentile mapped to the threshold (100: max).
    v_init : float
        Conversion: membrane potential at the start of each input, a fraction of the
        threshold. At 0.5 a neuron's spike count after ``T`` steps is its rate rounded
        instead of floored (Bu et al., "Optimal ANN-SNN conversion for high-accuracy and
        ultra-low-latency spiking neural networks", ICLR 2022, sec. 4.2), which removes the
        systematic under-estimate of every rate at short windows (0: start at rest).
    dt_s : float or None
        Seconds per time step on the hardware, overriding the chip's own step time (None:
        the chip's model, :func:`snn.energy.inference_time`).
    step_overhead_s : float
        Seconds added to every time step for the deployment's software, which the chip
        models leave out (0: the chip alone). Loihi runs measured with NxSDK probes or by
        their authors: 8 us per step for an idle one-chip network with no host I/O
        (125,000 steps/s; 15 us, 65,000 steps/s, on several chips: nengo-loihi's
        power-measurement example, "empirically estimated"); 3.44 us of x86 management
        per step beside 57.4 us of spiking (NxTF's MNIST tutorial); 8.96 us of input-spike
        generation and injection on the embedded x86 cores per 15.5 us step (the LSNN
        sMNIST tutorial); Blouw et al. 2019's host-paced keyword spotter took 338 us per
        step in all, about 160 us more than Loihi's chip model at its spike-rate bound. The
        time, and the static and management-core energy over it, grow with it.
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

    # None: the workload's spiking_steps (neuro.workloads.Workload), 64 for the shallow ones,
    # where the converted accuracy has plateaued (experiments/convert_curve.py, first 1,000
    # test images, accuracy read after exactly T steps): mlp-fmnist 88.7 % at 16, 88.8 % at
    # 32, 89.0 % at 64, 89.0 % at 128, 89.4 % at 256 (FP32 89.3 %); cnn-fmnist 85.2 %,
    # 88.1 %, 88.8 %, 88.9 %, 89.5 % (FP32 89.2 %). Events and energy grow linearly with
    # the steps.
    steps: int | None = param(None, integer=True, ge=1, le=100000, optional=True)
    test_limit: int | None = param(1000, integer=True, ge=1, optional=True)
    calib_images: int = param(500, integer=True, ge=1)
    percentile: float = param(99.9, gt=0.0, le=100.0)
    # 0 (experiments/convert_curve.py, first 1,000 test images, v_init 0 -> 0.5): 0.5 only
    # wins short windows: mlp-fmnist 10.4 -> 75.2 % at 4 steps, 80.3 -> 87.7 % at 8, equal
    # within 0.2 point from 16 on; cnn-fmnist 11.1 -> 77.4 % at 8, but 89.0 -> 87.9 % at
    # 32, 90.0 -> 89.1 % at 64, 90.1 -> 89.6 % at 128; resnet-fmnist (250 images) 49.2 ->
    # 75.2 % at 64, 86.8 -> 86.0 % at 128, 87.6 -> 87.2 % at 256. At the workloads' default
    # step counts 0 is as good or better.
    v_init: float = param(0.0, ge=0.0, lt=1.0)
    dt_s: float | None = param(None, unit="s", gt=0.0, le=1.0, optional=True)
    step_overhead_s: float = param(0.0, unit="s", ge=0.0, le=1.0)
    backend: str = param("standalone", choices=("standalone", "numpy"))
    n_exc: int = param(400, integer=True, ge=1)
    train_images: int = param(9000, integer=True, ge=1)
    passes: int = param(1, integer=True, ge=1)
    pair: bool = param(False, choices=(True, False))
    method: str = param("exponential_euler", choices=("euler", "exponential_euler"))
    mode: str = param("convert", choices=("convert", "trained"))

    def __post_init__(self) -> None:
        validate(self)
        if self.mode == "trained" and self.steps is not None and self.steps > 32:
            raise ConfigError(
                f"SpikingConfig.steps must be at most 32 with mode='trained' (the network is "
                f"trained through every step); got {self.steps}"
            )


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
        self.chip: ChipEnergy = preset(variant) if self.device is None else device_chip(self.device)

    def steps_for(self, workload: Workload) -> int:
        """Time steps per input on ``workload``: ``steps``, else the workload's (conversion)
        or :data:`TRAINED_STEPS` (``mode="trained"``)."""
        if self.cfg.steps is not None:
            return self.cfg.steps
        return TRAINED_STEPS if self.cfg.mode == "trained" else workload.spiking_steps

    def config(self) -> dict:
        return {"family": "snn", "variant": self.variant, **dataclasses.asdict(self.cfg),
                "energy_source": self.chip.source,
                "time_source": self.chip.time_source}  # fmt: skip

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        if workload.shape_only:
            raise ConfigError(
                f"snn target: workload {workload.name!r} is shape-only; spiking costs need "
                "a converted, simulated network (use mlp-fmnist, cnn-fmnist, mlp-digits or "
                "dc-stdp-mnist)"
            )
        from neuro.detection import is_detection

        if is_detection(dataset_for(workload)):
            raise ConfigError(
                f"snn target: workload {workload.name!r} is a detector (mAP@0.5 of decoded "
                "boxes); the spiking readout here is a class decision, and box regression "
                "from spikes (Spiking-YOLO, Kim et al. AAAI 2020) is not modelled: use "
                "reference, npu:* or aimc:*"
            )
        started, t0 = now_iso(), time.perf_counter()
        if workload.unsupervised:
            acc, per_inf, activity, latency, curves, extra = self._diehl_cook(workload, seed)
        elif self.cfg.mode == "trained":
            from neuro.targets.spiking_trained import evaluate_trained

            acc, per_inf, activity, latency, curves, extra = evaluate_trained(self, workload, seed)
            latency = activity.time_s  # the chip's step model (snn.energy.inference_time)
        else:
            acc, per_inf, activity, latency, curves, extra = self._converted(workload, seed)
        prov = provenance()
        prov.update(started=started, finished=now_iso(), wall_s=time.perf_counter() - t0,
                    data_source=dataset_for(workload).source)  # fmt: skip
        r = Result(
            workload=workload.name,
            target=self.name,
            seed=seed,
            ops_per_inference=float(workload.ops_per_inference),
            accuracy=acc,
            accuracy_std=0.0,
            latency=latency,
            throughput=1.0 / latency,
            layers=[layer.as_dict() for layer in workload.layers],
            curves=curves,
            config={
                **self.config(),
                **({} if workload.unsupervised else {"steps": self.steps_for(workload)}),
            },
            provenance=prov,
            extra={**per_inf, **_activity_extra(activity), **extra},
        )
        components, missing = self.chip.energy(activity)
        r.set_energy(components, missing)
        if not components:  # the chip's sources price nothing: no energy, every reason given
            r.energy_per_inference = r.system_energy_per_inference = None
        events = per_inf["synaptic_events"]
        if events and r.energy_per_inference is not None:
            # per-event figures for the roadmap gap: all-in (chip energy) and synaptic part
            r.extra["energy_per_synaptic_event_J"] = r.energy_per_inference / events
            compute = r.group_energy()["compute"]
            if compute is not None:
                r.extra["synaptic_energy_per_event_J"] = compute / events
        return r

    def _chip_energy(self, activity: Activity) -> float:
        """Chip energy (J) of an activity, for curves."""
        comp, _ = self.chip.energy(activity)
        return float(sum(j for g, j in comp.values() if g != "off_chip"))

    def _converted(self, workload: Workload, seed: int):
        c = self.cfg
        tm = trained_model(workload)
        ds = dataset_for(workload)
        x_cal, _ = ds.tensors("train", limit=c.calib_images)  # (N, 1, H, W): the input shape
        x, y = ds.tensors("test", limit=c.test_limit)
        from snn.convert import convert  # imports brian2: only where a simulation runs

        steps = self.steps_for(workload)
        net = convert(tm.model, x_cal, percentile=c.percentile)
        run = net.run(x, steps, seed=seed, backend=c.backend, v_init=c.v_init)
        accs = run.accuracy(y.numpy())
        n = len(y)
        with torch.no_grad():
            fp32 = float((tm.model(x).argmax(1) == y).float().mean())
        per_inf = {
            "synaptic_events": run.synaptic_events / n,
            "neuron_updates": run.neuron_updates / n,
            "spikes": sum(run.spikes) / n,
            "hidden_spikes": sum(run.spikes[1:]) / n,  # input spike sources excluded
        }
        activity = _converted_activity(self.chip, net, [s / n for s in run.spikes],
                                       run.synaptic_events / n, steps, c.dt_s,
                                       self.device is not None,
                                       overhead_s=c.step_overhead_s)  # fmt: skip
        # the accuracy-energy trade-off of rate coding: chip energy per inference after T steps
        energy_at = [
            self._chip_energy(_converted_activity(
                self.chip, net, [float(v) / n for v in spk], float(ev) / n, int(t), c.dt_s,
                self.device is not None, overhead_s=c.step_overhead_s))
            for t, spk, ev in zip(run.steps, run.spikes_at, run.events_at)
        ]  # fmt: skip
        curves = {
            "accuracy_vs_steps": Curve(run.steps, accs, "steps", "accuracy"),
            "energy_vs_steps": Curve(run.steps, energy_at, "steps", "energy_per_inference_J"),
            "synaptic_events_vs_steps": Curve(
                run.steps, np.asarray(run.events_at) / n, "steps", "synaptic_events"
            ),
        }
        extra = {"best_accuracy": float(accs.max()), "best_steps": float(run.steps[accs.argmax()]),
                 "fp32_accuracy_same_inputs": fp32, "test_inputs": float(n)}  # fmt: skip
        return float(accs[-1]), per_inf, activity, activity.time_s, curves, extra

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
        biological = float(net.cfg.t_image / snn_second()) * pres / n
        steps = float(net.cfg.t_image / net.cfg.dt) * pres / n
        spikes = [(getattr(ev, k) - getattr(before, k)) / n
                  for k in ("input_spikes", "exc_spikes", "inh_spikes")]  # fmt: skip
        activity = _dc_activity(self.chip, c.n_exc, spikes, per_inf, steps, biological,
                                c.dt_s, self.device is not None,
                                overhead_s=c.step_overhead_s)  # fmt: skip
        latency = activity.time_s
        curves = {"accuracy_vs_training_images": Curve(np.asarray(xs), np.asarray(ys),
                                                       "training_images", "accuracy")}  # fmt: skip
        extra = {"presentations_per_image": pres / n, "train_images": float(len(x_tr)),
                 "passes": float(c.passes)}  # fmt: skip
        return acc, per_inf, activity, latency, curves, extra


def _activity_extra(a: Activity) -> dict[str, float]:
    keys = ("neuron_updates_active", "neuron_updates_idle", "spikes_out", "messages",
            "messages_in_tile", "hops_ew", "hops_ns", "host_bytes", "row_drives",
            "column_conversions", "step_s", "chips")  # fmt: skip
    return {k: float(getattr(a, k)) for k in keys}


def _converted_activity(
    chip: ChipEnergy,
    net,
    spikes: list[float],
    events: float,
    steps: int,
    dt_s: float | None,
    device: bool,
    all_active: bool = False,
    overhead_s: float = 0.0,
) -> Activity:
    """What one inference of a converted network did, per inference, and how long it took.

    ``spikes``: spikes per spiking layer (input first), ``events``: synaptic events. The
    events of each layer are its spikes × mean fan-out, scaled so that they add up to the
    counted total (exact for dense layers). The time is ``steps`` of the chip's step
    (:func:`snn.energy.inference_time`; ``dt_s`` overrides it). ``all_active``: every
    neuron update is active (a leaky membrane changes every step).
    """
    from snn.energy import chips_needed, crossbar_counts, inference_time

    sizes = net.sizes
    fans = [float(np.mean(f)) for f in net.fan_out]
    raw = [s * f for s, f in zip(spikes, fans)]
    scale = events / sum(raw) if sum(raw) > 0 else 0.0
    # Every projection (src, dst, mean synapses per source neuron): a converted network's
    # own list (residual skips and max-pool gates included), else the chain k -> k + 1.
    edges = list(getattr(net, "edges", None) or [(k, k + 1, fans[k]) for k in range(len(fans))])
    ev_in = [0.0] * len(sizes)  # synaptic events into each population, input first
    syn_in = [0.0] * len(sizes)  # synapses into each population (placement)
    for src, dst, fan in edges:
        ev_in[dst] += spikes[src] * fan * scale
        syn_in[dst] += sizes[src] * fan
    active = idle = 0.0
    act_in, idle_in = [0.0], [0.0]  # per population, input first
    for k, (_, b) in enumerate(net.layers):
        n_j = sizes[k + 1]
        with_bias = int(np.count_nonzero(b))
        lam = ev_in[k + 1] / (steps * n_j)
        p = 1.0 if all_active else (with_bias + (n_j - with_bias) * (1.0 - np.exp(-lam))) / n_j
        active += n_j * steps * p
        idle += n_j * steps * (1.0 - p)
        act_in.append(n_j * steps * p)
        idle_in.append(n_j * steps * (1.0 - p))
    kw = {}
    routes = None
    if chip.places:  # every projection's spikes are routed, a residual skip's too
        routes = mesh_routes(sizes, edges, [*spikes, 0.0], chip, syn_in)
        kw = dict(messages=routes.messages, messages_in_tile=routes.messages_in_tile,
                  hops_ew=routes.hops_ew, hops_ns=routes.hops_ns)  # fmt: skip
    timing = inference_time(chip, steps, routes=routes, events_in=ev_in, updates_active=act_in,
                            updates_idle=idle_in, dt_s=dt_s, overhead_s=overhead_s)  # fmt: skip
    kw["chips"] = float(chips_needed(chip, sizes, syn_in, routes))
    if device:
        # one crossbar per projection (a skip's too), driven by its source's spikes
        projections = getattr(net, "projections", None)
        if projections:
            shapes = [(int(p.w.shape[0]), int(p.w.shape[1])) for p in projections]
            drive = [spikes[p.src] for p in projections]
        else:
            shapes = [(int(w.shape[0]), int(w.shape[1])) for w, _ in net.layers]
            drive = list(spikes)
        drives, conv, cells = crossbar_counts(shapes, drive, steps)
        kw.update(row_drives=drives, column_conversions=conv, cells_per_event=cells)
    return Activity(
        synaptic_events=events, neuron_updates_active=active, neuron_updates_idle=idle,
        spikes_out=float(sum(spikes[1:])), host_bytes=AER_BYTES * (spikes[0] + sizes[-1]),
        time_s=timing.time_s, steps=float(steps), step_s=timing.step_s, **kw,
    )  # fmt: skip


def _dc_activity(
    chip: ChipEnergy,
    n_exc: int,
    spikes: list[float],
    per_inf: dict[str, float],
    steps: float,
    biological_s: float,
    dt_s: float | None,
    device: bool,
    overhead_s: float = 0.0,
) -> Activity:
    """Diehl & Cook per test image: input (784), excitatory and inhibitory populations.

    ``spikes``: input, excitatory, inhibitory spikes per image. All neuron updates are
    active (conductance neurons decay every step). With device synapses every projection
    (input → E, E → I one to one, I → E all but one) is a crossbar. Time: a tick chip runs
    the ``biological_s`` of presentation in real time, scaled by its tick against 1 ms
    (BrainScaleS-2: 1,000× faster); Loihi takes ``steps`` of its modelled step time;
    ``dt_s`` overrides both; ``overhead_s`` is added to every step.
    """
    from snn.energy import chips_needed, crossbar_counts, inference_time

    sizes = [784, n_exc, n_exc]
    proj = [(0, 1, float(n_exc)), (1, 2, 1.0), (2, 1, float(max(n_exc - 1, 1)))]
    syn_in = [0.0, 784.0 * n_exc + n_exc * max(n_exc - 1, 1), float(n_exc)]
    kw = {}
    routes = None
    if chip.places:
        routes = mesh_routes(sizes, proj, spikes, chip, syn_in)
        kw = dict(messages=routes.messages, messages_in_tile=routes.messages_in_tile,
                  hops_ew=routes.hops_ew, hops_ns=routes.hops_ns)  # fmt: skip
    if dt_s is None and chip.tick_s is not None:
        # the presentation's biological time at the chip's speed, spread over the steps
        step = biological_s * (chip.tick_s / 1e-3) / max(steps, 1e-30)
        timing = inference_time(chip, steps, dt_s=step, overhead_s=overhead_s)
    else:
        # events into E (input and inhibition) and into I (one per excitatory spike), scaled
        # to the counted total; every neuron updates every step
        raw_e = spikes[0] * n_exc + spikes[2] * max(n_exc - 1, 1)
        raw_i = spikes[1]
        k = per_inf["synaptic_events"] / (raw_e + raw_i) if raw_e + raw_i > 0 else 0.0
        timing = inference_time(chip, steps, routes=routes, events_in=[0.0, raw_e * k, raw_i * k],
                                updates_active=[0.0, n_exc * steps, n_exc * steps],
                                dt_s=dt_s, overhead_s=overhead_s)  # fmt: skip
    kw["chips"] = float(chips_needed(chip, sizes, syn_in, routes))
    if device:
        drives, conv, cells = crossbar_counts([(n_exc, 784), (n_exc, n_exc), (n_exc, n_exc)],
                                              spikes, max(int(round(steps)), 1))  # fmt: skip
        kw.update(row_drives=drives, column_conversions=conv, cells_per_event=cells)
    return Activity(
        synaptic_events=per_inf["synaptic_events"],
        neuron_updates_active=per_inf["neuron_updates"], spikes_out=spikes[1] + spikes[2],
        host_bytes=AER_BYTES * (spikes[0] + n_exc), time_s=timing.time_s, steps=float(steps),
        step_s=timing.step_s, **kw,
    )  # fmt: skip


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
