"""The spiking target's step count: its own ``steps``, else the workload's (no Brian2)."""

from __future__ import annotations

import dataclasses

import pytest

from devices.validation import ConfigError
from neuro import workloads
from neuro.targets import make_target
from neuro.targets.spiking import TRAINED_STEPS, SpikingConfig


def test_steps_come_from_the_workload_unless_set():
    shallow, deep = workloads.get("mlp-fmnist"), workloads.get("resnet-fmnist")
    assert shallow.spiking_steps == 64
    assert deep.spiking_steps == 256  # 10 convs: each layer adds latency (see the workload)
    t = make_target("snn:loihi")
    assert t.cfg.steps is None
    assert t.steps_for(shallow) == 64 and t.steps_for(deep) == 256
    assert make_target("snn:loihi", steps=32).steps_for(deep) == 32
    assert make_target("snn:loihi", mode="trained").steps_for(deep) == TRAINED_STEPS


def test_bad_step_counts_fail_in_one_line():
    w = workloads.get("mlp-digits")
    with pytest.raises(ConfigError, match=r"Workload.spiking_steps .*an integer in \[1, 100000\]"):
        dataclasses.replace(w, spiking_steps=0)
    with pytest.raises(ConfigError, match=r"Workload.spiking_steps"):
        dataclasses.replace(w, spiking_steps=True)
    with pytest.raises(ConfigError, match="SpikingConfig.steps must be at most 32"):
        SpikingConfig(mode="trained", steps=64)
    with pytest.raises(ConfigError, match=r"SpikingConfig.v_init"):
        SpikingConfig(v_init=1.0)
