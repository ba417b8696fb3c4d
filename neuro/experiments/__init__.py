"""Experiments: TOML specs expanded into runs, run serially or on Dask, archived, resumable."""

from neuro.experiments.runner import Summary, execute, run_experiment
from neuro.experiments.spec import ExperimentSpec, RunSpec, load_spec, parse_spec

__all__ = [
    "ExperimentSpec",
    "RunSpec",
    "Summary",
    "execute",
    "load_spec",
    "parse_spec",
    "run_experiment",
]
