"""Shared fixtures of the snn tests: Brian2 in runtime mode with the numpy target."""

from __future__ import annotations

import pytest

from snn.backend import use_runtime


@pytest.fixture(autouse=True)
def _runtime():
    use_runtime()
    yield
