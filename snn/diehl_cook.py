"""Diehl & Cook (2015): unsupervised digit recognition with STDP, in Brian2.

>>> net = DiehlCook(400)                                   # doctest: +SKIP
>>> net.train(x_train, passes=1)                           # doctest: +SKIP
>>> net.assign_labels(x_train, y_train)                    # doctest: +SKIP
>>> net.evaluate(x_test, y_test)                           # doctest: +SKIP

Images are grey levels in ``[0, 255]``, shape ``(N, n_input)`` (or ``(N, 28, 28)``).

Protocol (paper sec. 2.5 and the original code), and where this implementation differs:

* Each image is shown for 350 ms as Poisson spike trains at ``pixel / 8 × intensity`` Hz,
  then 150 ms of rest; intensity starts at 2.
* Weight normalisation to a column sum of 78 before every image while learning: inside
  the run (a running per-neuron weight sum, rescaled at each image start), as in the code.
* Intensity raise: an image to which the excitatory layer answers with fewer than 5
  spikes (over its 500 ms presentation and rest) is shown again at once with intensity
  + 1, as in the paper and its code, inside the same run of the binary (a controller
  group in the network; :mod:`snn.dc_network`), at most ``max_repeats`` times. Weights
  are normalised before every presentation, re-shows included (code). Only the final
  presentation's spike counts are used for labels and predictions.
* Between chunks (every ``chunk`` images) the state is carried exactly (weights,
  thresholds, membrane potentials); synaptic and post traces and conductances restart
  from zero, which the 150 ms rest makes a negligible change (``exp(-150/20) < 1e-3``).
* Labels: each neuron is assigned the class for which its mean response was highest
  (code ``get_new_assignments``); prediction: the class whose neurons have the highest
  mean spike count (code ``get_recognized_number_ranking``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from brian2 import Hz, volt

from devices.validation import ConfigError
from snn.backend import check_backend
from snn.config import DiehlCookConfig
from snn.dc_network import DCNetwork
from snn.synapse import IdealSynapse

__all__ = ["DiehlCook", "EventCounts"]


@dataclasses.dataclass
class EventCounts:
    """Events of a set of presentations (repeats for the intensity raise included).

    Attributes
    ----------
    images : int
        Images (each counted once).
    presentations : int
        Presentations, repeats included.
    input_spikes, exc_spikes, inh_spikes : int
        Spikes of the input, excitatory and inhibitory layers.
    synaptic_events : int
        Spikes × fan-out: input × n_exc + exc × 1 (E→I) + inh × (n_exc − 1) (I→E).
    neuron_updates : int
        Time steps × (excitatory + inhibitory neurons): a clock-driven chip updates every
        neuron every step (the Poisson inputs are spike sources, not neurons).
    """

    images: int = 0
    presentations: int = 0
    input_spikes: int = 0
    exc_spikes: int = 0
    inh_spikes: int = 0
    synaptic_events: int = 0
    neuron_updates: int = 0

    def per_image(self) -> dict[str, float]:
        """Every count divided by the number of images."""
        n = max(self.images, 1)
        return {k: v / n for k, v in dataclasses.asdict(self).items() if k != "images"}


class DiehlCook:
    """The network of Diehl & Cook (2015) with a choice of input synapse.

    Parameters
    ----------
    n_exc : int
        Excitatory neurons (as many inhibitory ones).
    synapse : IdealSynapse or DeviceSynapse, optional
        The plastic input synapse (default: ideal, as in the paper).
    config : DiehlCookConfig, optional
        Parameters (default: the paper's).
    n_input : int
        Input pixels (784 for MNIST).
    chunk : int
        Images per run of the network (the compiled binary is re-run per chunk).
    backend : {"standalone", "numpy"}
        C++ standalone (built once per shape under ``.cache/brian2``) or the numpy runtime.
    seed : int
        Seeds the initial weights and, with a run counter, every run's random numbers.
    """

    def __init__(
        self,
        n_exc: int = 400,
        synapse: IdealSynapse | None = None,
        *,
        config: DiehlCookConfig | None = None,
        n_input: int = 784,
        chunk: int = 100,
        backend: str = "standalone",
        seed: int = 0,
    ) -> None:
        for name, value in (("n_exc", n_exc), ("n_input", n_input), ("chunk", chunk)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"DiehlCook.{name} must be an integer >= 1; got {value!r}")
        check_backend(backend)
        self.n_exc, self.n_input, self.chunk = n_exc, n_input, chunk
        self.cfg = config or DiehlCookConfig()
        self.synapse = synapse or IdealSynapse()
        self.backend, self.seed = backend, int(seed)
        #: The learning network (training) and, built on first use, the inference network
        #: (label assignment and testing: transmission only, see ``DCNetwork(learning=)``).
        self.net = DCNetwork(self.cfg, n_input, n_exc, self.synapse, chunk, backend)
        self._test_net: DCNetwork | None = None
        rng = np.random.default_rng(self.seed)
        syn_state = self.synapse.initial_state(n_input * n_exc, self.cfg.w_init_max, rng)
        c = self.cfg
        self.state: dict[str, np.ndarray | float] = {
            **syn_state,
            "theta": np.full(n_exc, float(c.theta_init / volt)),
            "v_e": np.full(n_exc, float((c.v_rest_e + c.v_init_offset) / volt)),
            "v_i": np.full(n_exc, float((c.v_rest_i + c.v_init_offset) / volt)),
        }
        #: Seconds since each synapse was last written (device synapses).
        self.age_s = np.zeros(n_input * n_exc)
        self._runs = 0
        self.assignments: np.ndarray | None = None
        self.train_events = EventCounts()
        self.test_events = EventCounts()

    # -- state ---------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Input weights, shape ``(n_input, n_exc)`` (synapse ``k = i * n_exc + j``); for
        a pair of cells their difference (drift aside)."""
        return self.synapse.effective_weights(self.state).reshape(self.n_input, self.n_exc)

    @property
    def build_time_s(self) -> float | None:
        """Standalone build time of the learning network in this process (None if not
        built, or runtime)."""
        return self.net.build_time_s

    @property
    def test_build_time_s(self) -> float | None:
        """Standalone build time of the inference network in this process (None if not
        built, or runtime)."""
        return None if self._test_net is None else self._test_net.build_time_s

    def _network(self, plastic: bool) -> DCNetwork:
        if plastic:
            return self.net
        if self._test_net is None:
            self._test_net = DCNetwork(
                self.cfg, self.n_input, self.n_exc, self.synapse, self.chunk, self.backend,
                learning=False,
            )  # fmt: skip
        return self._test_net

    def normalise(self) -> None:
        """Rescale each neuron's incoming weights to a sum of ``norm_sum`` (78), now."""
        w = self.weights
        col = w.sum(axis=0)
        scale = np.where(col > 0, self.cfg.norm_sum / np.maximum(col, 1e-12), 1.0)
        self.state.update(self.synapse.written((w * scale).reshape(-1)))

    def write_counts(self) -> dict[str, float]:
        """Device writes of the learning so far (empty for ideal synapses).

        Returns
        -------
        dict
            ``stdp_pulses`` and ``rewrites`` (totals over all synapses; see
            :class:`snn.synapse.DeviceSynapse`), the same per training presentation,
            ``max_writes_per_synapse`` (pulses + rewrites of the most written synapse; both
            cells of a pair together) against the device's ``endurance_cycles``, and
            ``write_energy_per_presentation_J``: writes × the device's energy per write
            pulse, a lower bound (a write-verify re-programming counted as one pulse).
        """
        if "pulses" not in self.state:
            return {}
        pulses = np.asarray(self.state["pulses"], dtype=float)
        rewrites = np.asarray(self.state["rewrites"], dtype=float)
        pres = max(self.train_events.presentations, 1)
        device = self.synapse.device
        return {
            "stdp_pulses": float(pulses.sum()),
            "rewrites": float(rewrites.sum()),
            "stdp_pulses_per_presentation": float(pulses.sum() / pres),
            "rewrites_per_presentation": float(rewrites.sum() / pres),
            "max_writes_per_synapse": float((pulses + rewrites).max()),
            "endurance_cycles": float(device.endurance_cycles),
            "write_energy_per_presentation_J": float(
                (pulses.sum() + rewrites.sum()) * device.write_energy_J / pres
            ),
        }

    def _images(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=float).reshape(len(images), -1)
        if x.shape[1] != self.n_input:
            raise ConfigError(f"DiehlCook images must have {self.n_input} pixels; got {x.shape[1]}")
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ConfigError(
                "DiehlCook images must be grey levels in [0, 255]; "
                f"got values in [{x.min():g}, {x.max():g}]"
            )
        return x

    def _run_seed(self) -> int:
        self._runs += 1
        return int(np.random.SeedSequence([self.seed, self._runs]).generate_state(1)[0] >> 1)

    # -- presentation --------------------------------------------------------------
    def _present(
        self,
        x: np.ndarray,
        plastic: bool,
        events: EventCounts,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Show every image (with intensity raises); spike counts of the final showing."""
        c, net = self.cfg, self._network(plastic)
        counts = np.zeros((len(x), self.n_exc), dtype=np.int64)
        rate_per_level = float(c.rate_per_level / Hz)
        steps_per_image = int(round(float(c.t_image / c.dt)))
        events.images += len(x)
        for start in range(0, len(x), self.chunk):
            batch = x[start : start + self.chunk]
            rates = np.zeros((self.chunk, self.n_input))
            rates[: len(batch)] = batch * rate_per_level
            state = dict(self.state, plastic=1.0 if plastic else 0.0)
            state["colsum"] = self.weights.sum(axis=0)
            if "lastwrite" in self.synapse.state_names:
                state["lastwrite"] = np.full(self.n_input * self.n_exc, -1.0)
            out = net.run(rates, state, self._run_seed(), n_img=len(batch))
            new = out["state"]
            for key in ("w", "theta", "v_e", "v_i", *self.synapse.state_names):
                if key in new and key != "lastwrite":
                    self.state[key] = new[key]
            if "lastwrite" in new:
                self._update_drift(new, out["run_s"])
            counts[start : start + len(batch)] = out["counts"]
            events.presentations += out["presentations"]
            events.input_spikes += out["input_spikes"]
            events.exc_spikes += out["exc_spikes"]
            events.inh_spikes += out["inh_spikes"]
            events.synaptic_events += (
                out["input_spikes"] * self.n_exc
                + out["exc_spikes"]
                + out["inh_spikes"] * (self.n_exc - 1)
            )
            events.neuron_updates += out["presentations"] * steps_per_image * 2 * self.n_exc
            if progress is not None:
                progress(start + len(batch), len(x))
        return counts

    def _update_drift(self, new: dict, run_s: float) -> None:
        wrote = new["lastwrite"] >= 0
        self.age_s = np.where(wrote, run_s - new["lastwrite"], self.age_s + run_s)
        self.state.update(self.synapse.drift_state(self.state, self.age_s, self.cfg.stdp.wmax))

    def age(self, seconds: float) -> None:
        """Let ``seconds`` pass without activity (device drift; no effect on ideal weights)."""
        self.age_s = self.age_s + float(seconds)
        self.state.update(self.synapse.drift_state(self.state, self.age_s, self.cfg.stdp.wmax))

    # -- public protocol -----------------------------------------------------------
    def train(
        self,
        images: np.ndarray,
        *,
        passes: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> EventCounts:
        """Learn from ``images`` (no labels) for ``passes`` passes; returns the events."""
        if isinstance(passes, bool) or not isinstance(passes, int) or passes < 1:
            raise ConfigError(f"DiehlCook.train passes must be an integer >= 1; got {passes!r}")
        x = self._images(images)
        for _ in range(passes):
            self._present(x, True, self.train_events, progress)
        return self.train_events

    def responses(self, images: np.ndarray) -> np.ndarray:
        """Spike counts ``(N, n_exc)`` with learning off (thresholds frozen)."""
        return self._present(self._images(images), False, self.test_events)

    def assign_labels(self, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Assign each neuron the class it responds to most (−1: never fires)."""
        counts = self.responses(images)
        self.assignments = assign(counts, np.asarray(labels), 10)
        return self.assignments

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class per image from the assigned neurons' mean spike counts."""
        if self.assignments is None:
            raise ConfigError("DiehlCook.predict needs assign_labels() first")
        return predict(self.responses(images), self.assignments, 10)

    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of ``images`` classified as ``labels``."""
        return float(np.mean(self.predict(images) == np.asarray(labels)))


def assign(counts: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per neuron, the class with the highest mean count (code ``get_new_assignments``)."""
    out = np.full(counts.shape[1], -1, dtype=int)
    best = np.zeros(counts.shape[1])
    for c in range(n_classes):
        sel = labels == c
        if not sel.any():
            continue
        rate = counts[sel].mean(axis=0)
        better = rate > best
        out[better], best[better] = c, rate[better]
    return out


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Class with the highest mean count over its neurons (code ``get_recognized_number_ranking``)."""
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            scores[:, c] = counts[:, sel].sum(axis=1) / sel.sum()
    return scores.argmax(axis=1)
