"""SENECA's chip table: the figures of Tang et al. 2023 (Front. Neurosci. 17:1187252) we read.

Read: the abstract, Table 3 and Table 8 (PMC10326429), all pre-silicon (one core synthesized
in GF 22 nm). What those do not give stays None with the reason.
"""

import pytest

from snn.energy import (
    HOST_LINK_J_PER_BYTE,
    SENECA_NOC_EVENT_J,
    SENECA_RISCV_INSTR_J,
    SENECA_SPIKE_OUT_J,
    SENECA_SYNOP_J,
    TERMS,
    Activity,
    inference_time,
    preset,
)


def test_the_sourced_figures():
    c = preset("seneca")
    # abstract and Table 3: "consumes around 2.8 pJ per synaptic operation"
    assert c.synaptic_op_J == SENECA_SYNOP_J == 2.8e-12
    # Table 8, event generator: EVC "+1.1" pJ "per generated event"
    assert c.spike_out_J == SENECA_SPIKE_OUT_J == 1.1e-12
    # Table 8: NoC 2 pJ per 32-bit event transmission; RISC-V 11.6 pJ averaged per
    # instruction (5.9 core and peripheries + 5.7 instruction memory)
    assert SENECA_NOC_EVENT_J == 2e-12
    assert SENECA_RISCV_INSTR_J == pytest.approx(5.9e-12 + 5.7e-12)
    assert c.host_io_J_per_byte == HOST_LINK_J_PER_BYTE
    for t in ("synaptic_op_J", "spike_out_J"):
        assert "pre-silicon" in c.sources[t], t
    assert "Table 8" in c.sources["spike_out_J"]
    assert "Table 3" in c.sources["synaptic_op_J"]


def test_the_terms_not_given_are_none_with_the_reason():
    c = preset("seneca")
    missing = ("neuron_update_active_J", "neuron_update_idle_J", "message_J", "hop_in_tile_J",
               "hop_ew_J", "hop_ns_J", "static_W", "control_W")  # fmt: skip
    assert set(missing) | {"synaptic_op_J", "spike_out_J", "host_io_J_per_byte"} == set(TERMS)
    for t in missing:
        assert getattr(c, t) is None, t
        assert c.sources[t].startswith("not modelled: "), t
    # the reasons name what we read and what it lacks
    assert "instruction sequence of a neuron update" in c.sources["neuron_update_active_J"]
    assert "2 pJ per 32-bit event transmission" in c.sources["message_J"]
    assert "placement" in c.sources["message_J"]  # messages cannot be counted without one
    assert "not split per hop" in c.sources["hop_ew_J"]
    assert "11.6 pJ" in c.sources["control_W"] and "not as a power" in c.sources["control_W"]
    assert "leakage" in c.sources["static_W"]
    # no placement: routing is not priced (rather than priced at zero messages)
    assert not c.places
    # no clock or time per operation in what we read: the 1 ms real-time tick stays
    assert c.tick_s == 1e-3 and "assumption" in c.time_source
    assert inference_time(c, 64).time_s == pytest.approx(64e-3)


def test_an_activity_priced_by_hand():
    c = preset("seneca")
    a = Activity(synaptic_events=2.0e5, neuron_updates_active=1.2e4, neuron_updates_idle=3.0e3,
                 spikes_out=1.5e3, messages=0.0, host_bytes=4 * 800, time_s=0.064)  # fmt: skip
    comp, miss = c.energy(a)
    assert comp == {
        "synaptic_events": ("compute", pytest.approx(2.0e5 * 2.8e-12)),  # 560 nJ
        "spike_generation": ("conversion", pytest.approx(1.5e3 * 1.1e-12)),  # 1.65 nJ
        "host_io": ("off_chip", pytest.approx(3200 * 8 * 26e-12)),  # 666 nJ
    }
    # what is not priced is reported with its reason, never as 0
    assert set(miss) >= {"neuron_updates", "spike_routing", "static", "control", "movement"}
    assert "neuron update" in miss["neuron_updates"]
    assert "placement" in miss["spike_routing"]
    assert "conversion" not in miss  # spike generation is priced; the updates are named
