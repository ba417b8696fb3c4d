"""Shared fixtures: a per-test seeded generator and an isolated weight cache."""

from __future__ import annotations

import hashlib
import os

import pytest
import torch

# One intra-op thread, as the `neuro` command uses: on a shared 2-core machine two threads
# made small tensor work tens of times slower. Results do not depend on it.
torch.set_num_threads(1)


def _seed_from(nodeid: str) -> int:
    return int.from_bytes(hashlib.sha256(nodeid.encode()).digest()[:4], "little")


@pytest.fixture
def generator(request: pytest.FixtureRequest) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from the test's id: reproducible, distinct per test."""
    return torch.Generator().manual_seed(_seed_from(request.node.nodeid))


@pytest.fixture
def rng(request: pytest.FixtureRequest):
    """A ``numpy.random.Generator`` seeded from the test's id."""
    import numpy as np

    return np.random.default_rng(_seed_from(request.node.nodeid))


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Trained weights go to a session-private cache, never the user's."""
    old = os.environ.get("NEURO_CACHE")
    os.environ["NEURO_CACHE"] = str(tmp_path_factory.mktemp("neuro-cache"))
    yield
    if old is None:
        os.environ.pop("NEURO_CACHE", None)
    else:
        os.environ["NEURO_CACHE"] = old


@pytest.fixture
def restore_workload_registries():
    """The workloads and datasets a test registers are removed after it."""
    from neuro import datasets, workloads

    saved = dict(workloads.REGISTRY._items), dict(datasets._REGISTRY)
    yield
    workloads.REGISTRY._items.clear()
    workloads.REGISTRY._items.update(saved[0])
    datasets._REGISTRY.clear()
    datasets._REGISTRY.update(saved[1])
