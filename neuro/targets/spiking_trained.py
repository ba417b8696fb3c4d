"""The spiking target's ``mode="trained"``: a directly trained LIF network, run in Brian2.

The workload is trained as a spiking network for ``steps`` time steps
(:func:`neuro.workloads.snn_training.trained_snn`, cached), then simulated in Brian2 with
the same discrete LIF equations (:func:`snn.trained.from_spiking_sequential`): direct
(graded) input, membrane-potential readout. ``accuracy`` is Brian2's after ``steps``; the
curves give every power-of-two checkpoint of the same run (the network read out early),
and ``extra["torch_accuracy_same_inputs"]`` the torch forward (float64) on the same inputs,
which Brian2 must reproduce (``extra["torch_agreement"]``: fraction of equal predictions).
Energy is priced as the converted network's (:func:`neuro.targets.spiking._converted_activity`);
every neuron update of a leaky layer is active (the membrane decays every step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from neuro.result import Curve
from neuro.workloads import Workload, dataset_for
from neuro.workloads.snn_training import default_recipe, trained_snn

if TYPE_CHECKING:  # pragma: no cover
    from neuro.targets.spiking import Spiking

__all__ = ["evaluate_trained"]


def evaluate_trained(target: Spiking, workload: Workload, seed: int):
    """``(accuracy, per_inference, activity, latency_s, curves, extra)`` for the target."""
    from neuro.targets.spiking import _converted_activity
    from snn.trained import from_spiking_sequential  # imports brian2

    c = target.cfg
    steps = target.steps_for(workload)
    ts = trained_snn(workload, default_recipe(workload, steps))
    x, y = dataset_for(workload).tensors("test", limit=c.test_limit)
    net = from_spiking_sequential(ts.net, tuple(workload.input_shape))
    run = net.run(x, steps, seed=seed, backend=c.backend, chunk=min(1000, len(y)))
    n = len(y)
    accs = run.accuracy(y.numpy())
    ref = ts.net.double()
    with torch.no_grad():
        preds = torch.cat([ref.run(x[i : i + 500].double()).potentials[-1].argmax(1)
                           for i in range(0, n, 500)]).numpy()  # fmt: skip
    ts.net.float()
    device = target.device is not None
    leaky = ts.recipe.lif.beta < 1.0

    def activity(spikes, events, steps):
        # a leaky membrane changes every step: no idle update (priced and timed as active)
        return _converted_activity(target.chip, net, spikes, events, steps, c.dt_s, device,
                                   all_active=leaky, overhead_s=c.step_overhead_s)  # fmt: skip

    act = activity([s / n for s in run.spikes], run.synaptic_events / n, steps)
    energy_at = [
        target._chip_energy(activity([float(v) / n for v in spk], float(ev) / n, int(t)))
        for t, spk, ev in zip(run.steps, run.spikes_at, run.events_at)
    ]
    per_inf = {
        "synaptic_events": run.synaptic_events / n,
        "neuron_updates": run.neuron_updates / n,
        "spikes": sum(run.spikes) / n,
    }
    curves = {
        "accuracy_vs_steps": Curve(run.steps, accs, "steps", "accuracy"),
        "energy_vs_steps": Curve(run.steps, energy_at, "steps", "energy_per_inference_J"),
        "synaptic_events_vs_steps": Curve(
            run.steps, np.asarray(run.events_at) / n, "steps", "synaptic_events"
        ),
    }
    extra = {
        "torch_accuracy_same_inputs": float((preds == y.numpy()).mean()),
        "torch_agreement": float((preds == run.predictions[-1]).mean()),
        "torch_test_accuracy_full": float(ts.test_accuracy),
        "train_time_s": float(ts.train_time_s),
        "train_cpu_s": float(ts.train_cpu_s),
        "test_inputs": float(n),
        "lif_beta": float(ts.recipe.lif.beta),
        "train_epochs": float(ts.recipe.epochs),
    }
    return float(accs[-1]), per_inf, act, act.time_s, curves, extra
