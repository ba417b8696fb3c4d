"""Rate-coded ANN-to-SNN conversion of ReLU MLPs, simulated in Brian2.

Method (Diehl et al., IJCNN 2015; Rueckauer et al., Front. Neurosci. 11:682, 2017):

* Every ReLU unit becomes an integrate-and-fire neuron with threshold 1 and reset by
  subtraction (``v -= 1``), which keeps the residual charge (Rueckauer 2017, sec. 2.2).
* Data-based threshold balancing: with ``lam_l`` the ``percentile`` (99.9 by default;
  100 = max, Diehl 2015) of layer ``l``'s ReLU activations on calibration data and
  ``lam_0`` that of the input, ``W_l <- W_l lam_{l-1} / lam_l`` and ``b_l <- b_l / lam_l``.
* Biases are constant input currents: ``b_l`` is added to ``v`` at every time step.
* Input: each pixel in ``[0, 1]`` (divided by ``lam_0``) spikes with that probability per
  step (Bernoulli/Poisson rate coding).
* Output: the last layer integrates without spiking; the prediction after ``t`` steps is
  the argmax of its potential (the accumulated input, as in Rueckauer 2017's analog
  readout), recorded at every checkpoint of ``steps`` in a single run.

Each layer adds one step of latency (a spike is delivered at the end of the step it was
emitted in). Only ``Flatten``, ``Linear`` and ``ReLU`` are converted; convolutional models
are refused with a ``ConfigError`` (see ``snn/README.md``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import brian2 as b2
import numpy as np
import torch
from brian2 import ms

from devices.validation import ConfigError
from snn.backend import StandaloneProject, check_backend, insert_seed, use_runtime

__all__ = ["ConvertedNetwork", "convert", "SpikingRun"]


@dataclasses.dataclass
class SpikingRun:
    """What a simulation of the converted network produced.

    Attributes
    ----------
    steps : numpy.ndarray
        Checkpoints (time steps).
    predictions : numpy.ndarray
        ``(len(steps), N)`` class per image at each checkpoint.
    spikes : list of int
        Spikes per layer (input first; the output layer does not spike), all images.
    synaptic_events : int
        Σ over layers of spikes × fan-out, all images.
    neuron_updates : int
        Non-input neurons × time steps, all images.
    """

    steps: np.ndarray
    predictions: np.ndarray
    spikes: list[int]
    synaptic_events: int
    neuron_updates: int

    def accuracy(self, labels: np.ndarray) -> np.ndarray:
        """Accuracy at every checkpoint."""
        return (self.predictions == np.asarray(labels)[None, :]).mean(axis=1)


def _layers(model: torch.nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    mods = list(model.children()) if isinstance(model, torch.nn.Sequential) else [model]
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for k, m in enumerate(mods):
        if isinstance(m, torch.nn.Linear):
            b = m.bias if m.bias is not None else torch.zeros(m.out_features)
            out.append((m.weight.detach().double().numpy(), b.detach().double().numpy()))
            last = k == len(mods) - 1
            if not last and not isinstance(mods[k + 1], torch.nn.ReLU):
                raise ConfigError(f"convert: Linear layer {k} must be followed by ReLU")
        elif not isinstance(m, (torch.nn.Flatten, torch.nn.ReLU)):
            raise ConfigError(
                f"convert supports Flatten, Linear and ReLU only; got {type(m).__name__}"
            )
    if not out:
        raise ConfigError("convert: the model has no Linear layer")
    return out


@torch.no_grad()
def convert(
    model: torch.nn.Module, x_calib: torch.Tensor, *, percentile: float = 99.9
) -> ConvertedNetwork:
    """Convert a ReLU MLP with data-based threshold balancing.

    Parameters
    ----------
    model : torch.nn.Module
        ``nn.Sequential`` of ``Flatten``, ``Linear`` and ``ReLU`` (the last Linear has no ReLU).
    x_calib : torch.Tensor
        Calibration inputs in ``[0, 1]`` (a few hundred training images suffice).
    percentile : float
        Percentile of the activations that is mapped to the threshold (100: the maximum).
    """
    if not 0 < percentile <= 100:
        raise ConfigError(f"convert percentile must be in (0, 100]; got {percentile!r}")
    layers = _layers(model)
    a = x_calib.reshape(len(x_calib), -1).double().numpy()
    if a.min() < 0 or a.max() > 1:
        raise ConfigError("convert: calibration inputs must lie in [0, 1]")
    lam_prev = 1.0  # inputs are spike probabilities in [0, 1]
    scaled, lams = [], []
    for k, (w, b) in enumerate(layers):
        z = a @ w.T + b
        last = k == len(layers) - 1
        a = z if last else np.maximum(z, 0)
        pos = a[a > 0]
        lam = float(np.percentile(pos, percentile)) if pos.size else 1.0
        scaled.append((w * lam_prev / lam, b / lam))
        lams.append(lam)
        lam_prev = lam
    return ConvertedNetwork(scaled, lams, percentile)


class ConvertedNetwork:
    """A converted network: balanced weights and biases, simulated in Brian2."""

    def __init__(
        self, layers: list[tuple[np.ndarray, np.ndarray]], lams: list[float], percentile: float
    ) -> None:
        self.layers, self.lams, self.percentile = layers, lams, percentile
        self.sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, _ in layers]
        self._projects: dict[tuple, StandaloneProject] = {}

    def describe(self) -> dict[str, Any]:
        """Sizes, scale factors and percentile, for configs."""
        return {"sizes": self.sizes, "lambda": self.lams, "percentile": self.percentile}

    # -- Brian2 --------------------------------------------------------------------
    def _construct(self, n_images: int, steps: int, stride: int, values: dict | None):
        dt = 1 * ms  # the simulated step; physical latency is set by the caller's dt
        t_img = steps * dt
        x_in = b2.TimedArray(
            np.zeros((n_images, self.sizes[0])) if values is None else values["x"],
            dt=t_img, name="x_in",
        )  # fmt: skip
        inp = b2.NeuronGroup(self.sizes[0], "run_seed : integer (shared)",
                             threshold="rand() < x_in(t, i)", namespace={"x_in": x_in},
                             name="c_inp", dt=dt)  # fmt: skip
        groups, syns, objs = [inp], [], [inp]
        for k, n in enumerate(self.sizes[1:]):
            last = k == len(self.sizes) - 2
            g = b2.NeuronGroup(
                n, "v : 1\nbias : 1", threshold=None if last else "v >= 1",
                reset=None if last else "v -= 1", name=f"c_l{k}", dt=dt,
            )  # fmt: skip
            g.run_regularly("v = 0", dt=t_img, when="start", name=f"c_l{k}_reset")
            g.run_regularly("v += bias", dt=dt, when="groups", name=f"c_l{k}_bias")
            s = b2.Synapses(groups[-1], g, "w : 1", on_pre="v_post += w", name=f"c_s{k}", dt=dt)
            s.connect()
            groups.append(g)
            syns.append(s)
            objs += [g, s]
        mons = [b2.SpikeMonitor(g, record=False, name=f"c_m{k}") for k, g in enumerate(groups[:-1])]
        vmon = b2.StateMonitor(groups[-1], "v", record=True, dt=stride * dt, name="c_vmon")
        net = b2.Network(*objs, *mons, vmon)
        h = dict(net=net, x_in=x_in, inp=inp, groups=groups, syns=syns, mons=mons, vmon=vmon,
                 duration=n_images * t_img)  # fmt: skip
        if values is not None:
            for k, s in enumerate(syns):
                s.w[:] = values["w"][k]
                groups[k + 1].bias[:] = values["b"][k]
        return h

    def _values(self, x: np.ndarray) -> dict[str, Any]:
        return {
            "x": x,
            "w": [w.T.reshape(-1) for w, _ in self.layers],  # synapse (i, j) = W[j, i]
            "b": [b for _, b in self.layers],
        }

    def run(
        self,
        x: torch.Tensor | np.ndarray,
        steps: int,
        *,
        checkpoints: list[int] | None = None,
        seed: int = 0,
        backend: str = "standalone",
    ) -> SpikingRun:
        """Simulate ``x`` (N inputs in ``[0, 1]``) for ``steps`` time steps each.

        ``checkpoints`` must be multiples of their greatest common divisor (default: powers
        of two up to ``steps``). The seed drives the input spikes (standalone: through
        ``run_seed``; runtime: ``brian2.seed`` right before the run).
        """
        check_backend(backend)
        xs = np.asarray(x, dtype=float).reshape(len(x), -1)
        if xs.shape[1] != self.sizes[0]:
            raise ConfigError(f"run: inputs must have {self.sizes[0]} values; got {xs.shape[1]}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"run: steps must be an integer >= 1; got {steps!r}")
        cps = checkpoints or [s for s in (2**k for k in range(20)) if s <= steps]
        if steps not in cps:
            cps = [*cps, steps]
        stride = int(np.gcd.reduce(np.asarray(cps, dtype=int)))
        n = len(xs)
        values = self._values(np.clip(xs, 0.0, 1.0))
        if backend == "standalone":
            key = (n, steps, stride)
            if key not in self._projects:
                spec = {"sizes": self.sizes, "n": n, "steps": steps, "stride": stride}

                def construct(key=key):
                    h = self._construct(*key, None)
                    insert_seed(h["inp"])
                    h["net"].run(h["duration"])
                    return h

                self._projects[key] = StandaloneProject("conv", spec, construct)
            proj = self._projects[key]
            h = proj._ensure()
            args: dict[Any, Any] = {h["x_in"]: values["x"], h["inp"].run_seed: seed}
            for k, s in enumerate(h["syns"]):
                args[s.w] = values["w"][k]
                args[h["groups"][k + 1].bias] = values["b"][k]
            proj.run(args)
        else:
            use_runtime()
            h = self._construct(n, steps, stride, values)
            b2.seed(seed)
            h["net"].run(h["duration"], namespace={})
        v = np.asarray(h["vmon"].v[:])  # (n_out, records)
        per_img = steps // stride
        v = v[:, : n * per_img].reshape(v.shape[0], n, per_img)
        idx = np.asarray(cps) // stride - 1
        preds = v[:, :, idx].argmax(axis=0).T  # (checkpoints, n)
        spikes = [int(np.sum(m.count[:])) for m in h["mons"]]
        fan_out = self.sizes[1:]
        events = int(sum(s * f for s, f in zip(spikes, fan_out)))
        if backend == "standalone":
            self._projects[(n, steps, stride)].cleanup_run_args()
        return SpikingRun(
            steps=np.asarray(cps),
            predictions=preds,
            spikes=spikes,
            synaptic_events=events,
            neuron_updates=int(sum(self.sizes[1:]) * steps * n),
        )
