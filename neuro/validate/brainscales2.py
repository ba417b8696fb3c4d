"""BrainScaleS-2: its one fitted constant, and why no held-out check exists yet.

BrainScaleS-2 is an analog chip that runs in continuous time, 1,000x faster than biology
(512 neurons, 131k synapses, 65 nm). ``snn:brainscales2`` prices it by the whole chip's
power over the time a network spends on it (:data:`snn.energy.BRAINSCALES2_CHIP_W`); the
per-event terms are included in that power, at the activity of the networks it was measured
on.

Fitted (a calibration, never evidence):

* ``static_W`` = 200 mW: Cramer et al., "Surrogate gradients for analog neuromorphic
  computing", PNAS 119(4):e2109194119 (2022), abstract: the trained networks (MNIST and SHD)
  "perform inference at rates of up to 85,000 frames per second, and consume less than
  200 mW". It is a bound, and it is taken as the power. The authors' lab tutorial gives the
  MNIST run (a feed-forward network, 97.6 % test accuracy) as "more than 85k images per
  second with an energy budget of only 2.4 uJ per image" (electronicvisions/brainscales2-demos,
  ``common_task_superspike.rst``): 2.4 uJ x 85,000/s = 204 mW. This is the same run
  (:func:`cramer_mnist_J_per_image` re-derives it, 0.98 of 2.4 uJ), so it is not a
  validation.

Held out: none. A check needs a measurement of the full-size chip running spiking
networks that no constant was fitted to, and a network of the published shape. The
measurements found in our sources are all unsuitable:

* Stradmann et al., IEEE OJCAS 3:252 (2022), abstract: 192 uJ for the ASIC per ECG sample,
  276 us per sample, 5.6 W for the whole mobile system. That is the chip's non-spiking
  (vector-matrix) mode: 5-bit inputs as pulse widths into the synapse array and 8-bit
  activations digitised on the chip (Weis et al., arXiv:2006.13177, 2020, abstract). The
  chip then draws 0.70 W (:data:`STRADMANN_ASIC_W`),
  3.5 times the spiking figure. ``snn:brainscales2`` does not model that mode; this is a
  mechanism, not a deviation to fit.
* Wunderlich et al., Front. Neurosci. 13:260 (2019), abstract: "the entire chip operating on a
  power budget of 57 mW". That chip is a single-chip prototype of BrainScaleS-2, not the
  full-size chip, and nothing in our sources scales one to the other.
* Göltz et al., Nature Machine Intelligence 3:823 (2021), time-to-first-spike MNIST on the
  chip (256-246-10 in their code, JulianGoeltz/fastAndDeep
  ``experiment_configs/16x16_mnist_hx.yaml``). Their energy per classification and
  throughput would make a held-out check, but they are not in the text we could read (the
  abstract has no number; the article is paywalled).

So ``neuro validate`` lists the constant under the fitted constants and runs no
BrainScaleS-2 check.
"""

from __future__ import annotations

from neuro.validate import Fitted, register_fitted
from snn.energy import BRAINSCALES2_CHIP_W, Activity, preset

#: Cramer et al. 2022, abstract: up to 85,000 frames per second (MNIST); the < 200 mW is
#: snn.energy.BRAINSCALES2_CHIP_W, fitted to it.
CRAMER_FRAMES_PER_S = 85_000.0
#: The same MNIST run in the authors' tutorial (brainscales2-demos, common_task_superspike.rst).
CRAMER_MNIST_J_PER_IMAGE = 2.4e-6
#: Stradmann et al. 2022, abstract: ASIC energy per ECG sample and classification time
#: (non-spiking mode). Not a check: see the module docstring.
STRADMANN_ASIC_J = 192e-6
STRADMANN_S = 276e-6
STRADMANN_ASIC_W = STRADMANN_ASIC_J / STRADMANN_S

FIGURE_CRAMER = "cramer2022-bss2-lt200mW"

register_fitted(
    Fitted("snn.brainscales2.static_W", BRAINSCALES2_CHIP_W, "W", FIGURE_CRAMER,
           "BrainScaleS-2 while trained spiking networks run (MNIST at up to 85,000 frames/s, "
           "SHD): 'consume less than 200 mW' (Cramer et al., PNAS 119(4):e2109194119, 2022, "
           "abstract); a bound taken as the whole chip's power, per-event energies included",
           "snn.energy.PRESETS['brainscales2'].static_W")
)  # fmt: skip


def cramer_mnist_J_per_image() -> float:
    """Chip energy of one MNIST frame on ``snn:brainscales2`` at Cramer's 85,000 frames/s (J).

    The whole chip's power over 1/85,000 s (the events are included in that power). Because
    this is the run the power was fitted to, the result only re-derives the tutorial's
    2.4 uJ per image. It is not a validation.
    """
    comp, _ = preset("brainscales2").energy(
        Activity(synaptic_events=0.0, time_s=1.0 / CRAMER_FRAMES_PER_S)
    )
    return float(sum(j for g, j in comp.values() if g != "off_chip"))
