"""Lazy package names (devices.lazy): every package's public names resolve, are cached,
are listed by dir(), and an unknown one is the usual AttributeError."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ("devices", "crossbar", "snn", "npu", "neuro")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_and_is_cached(package):
    mod = importlib.import_module(package)
    for name in mod.__all__:
        value = getattr(mod, name)
        assert vars(mod)[name] is value  # stored: the next access skips __getattr__
        assert name in dir(mod)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        mod.nope  # noqa: B018


def test_a_submodule_name_stands_for_the_module():
    import neuro

    assert neuro.workloads is importlib.import_module("neuro.workloads")
