"""Fit the standard parametric pulse-update model to a measured or simulated pulse response.

Used where a model's pulse response is not of the NeuroSim form by construction (FeFET
domain switching, tabulated measurements): the nonlinearity labels are found by least
squares on the normalised mean curves, over the label grid NeuroSim tabulates (0–10).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_nonlinearity"]

_GRID = np.concatenate([[0.0], np.geomspace(0.005, 10.0, 600)])


def _curve(p: np.ndarray, n_pulses: int, nl: float) -> np.ndarray:
    if nl == 0.0:
        return p / n_pulses
    a = n_pulses / (1.1 * nl)
    return (1 - np.exp(-p / a)) / (1 - np.exp(-n_pulses / a))


def fit_nonlinearity(w: np.ndarray) -> float:
    """The nonlinearity label whose curve best fits a potentiation curve.

    Parameters
    ----------
    w : array, shape (P + 1,)
        Normalised mean weight after 0 … P pulses from the bottom of the range
        (``w[0] = 0``, ``w[P] = 1``; a depression curve is passed mirrored, ``1 - w``).

    Returns
    -------
    float
        Label in [0, 10] (``0`` linear), minimising the squared error.
    """
    w = np.asarray(w, dtype=float)
    n_pulses = len(w) - 1
    p = np.arange(n_pulses + 1, dtype=float)
    errors = [np.sum((_curve(p, n_pulses, nl) - w) ** 2) for nl in _GRID]
    return float(_GRID[int(np.argmin(errors))])
