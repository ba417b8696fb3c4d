"""Spiking chips' energy tables: each term against its cited figure, placement, boundary."""

from __future__ import annotations

import dataclasses
import math

import pytest

import devices
from devices.validation import ConfigError
from snn.energy import (
    HOST_LINK_J_PER_BYTE,
    LOIHI_X86_W,
    PRESETS,
    TERMS,
    Activity,
    ChipEnergy,
    barrier_s,
    crossbar_counts,
    device_chip,
    inference_time,
    mesh_routes,
    place,
    preset,
)

GROUPS = ("compute", "conversion", "movement", "static", "off_chip")


def test_loihi_terms_are_the_cited_figures():
    c = preset("loihi")
    # SANA-FE's silicon-fitted table (Boyle et al. 2025): synaptic spike, neuron access
    # (inactive) and access + update (active), spike out, message out
    assert (c.synaptic_op_J, c.neuron_update_idle_J, c.neuron_update_active_J) == (
        35.5e-12, 51.2e-12, 72.8e-12)  # fmt: skip
    assert c.neuron_update_active_J == pytest.approx(51.2e-12 + 21.6e-12)
    assert (c.spike_out_J, c.message_J) == (69.3e-12, 111e-12)
    # Davies et al. 2018, Table 2: within a tile 1.7 pJ, east-west 3.0 pJ, north-south 4.0-4.2
    assert (c.hop_in_tile_J, c.hop_ew_J, c.hop_ns_J) == (1.7e-12, 3.0e-12, 4.2e-12)
    assert c.static_W == 0.029  # Blouw et al. 2019, Loihi idle
    assert "23.6 pJ" in c.sources["synaptic_op_J"]  # the pre-silicon figure is named beside
    assert (c.neurons_per_core, c.cores_per_tile, c.mesh_width) == (1024, 4, 8)  # 128 cores


def test_host_link_is_truenorths_measured_chip_to_chip_figure():
    assert HOST_LINK_J_PER_BYTE == pytest.approx(8 * 26e-12)  # 26 pJ/bit at 1.8 V, Merolla
    for name in ("loihi", "truenorth", "seneca"):
        assert preset(name).host_io_J_per_byte == HOST_LINK_J_PER_BYTE


def test_truenorth_splits_static_from_the_dynamic_event_energy():
    c = preset("truenorth")
    # Akopyan 2015: 58 GSOPS at 400 GSOPS/W (145 mW), floor 42 mW at 0 Hz
    assert c.static_W == 42e-3
    assert c.synaptic_op_J == pytest.approx((0.145 - 0.042) / 58e9)
    assert c.synaptic_op_J == pytest.approx(1.776e-12, rel=1e-3)
    # all-in at Merolla's operating point (1M neurons x 20 Hz x 128 = 2.68 G events/s): 17.4 pJ,
    # 0.67 of the measured 26 pJ (72 mW at 0.775 V; the split's figures are at 0.70-0.75 V)
    events = 4096 * 256 * 20 * 128
    all_in = (c.static_W + c.synaptic_op_J * events) / events
    assert all_in == pytest.approx(17.42e-12, rel=1e-3)
    assert 0.5 < all_in / 26e-12 < 1.0
    assert set(c.includes) == {"conversion", "movement"}
    comp, miss = c.energy(Activity(synaptic_events=1e6, time_s=1e-3, host_bytes=100))
    assert comp == {
        "synaptic_events": ("compute", pytest.approx(1e6 * c.synaptic_op_J)),
        "static": ("static", pytest.approx(42e-6)),
        "host_io": ("off_chip", pytest.approx(100 * HOST_LINK_J_PER_BYTE)),
    }
    assert miss["conversion"].startswith("included in the truenorth per-event figure")
    assert miss["movement"].startswith("included in the truenorth per-event figure")


def test_seneca_prices_synaptic_ops_and_spikes_and_says_why_not_the_rest():
    c = preset("seneca")  # more in tests/snn/test_energy_seneca.py
    assert c.synaptic_op_J == 2.8e-12  # Tang et al. 2023, abstract and Table 3
    assert c.spike_out_J == 1.1e-12  # Tang et al. 2023, Table 8 (EVC per generated event)
    assert c.neuron_update_active_J is None and c.static_W is None
    comp, miss = c.energy(Activity(synaptic_events=1000, neuron_updates_active=10, time_s=1))
    assert set(comp) == {"synaptic_events", "spike_generation", "host_io"}
    assert comp["synaptic_events"][1] == pytest.approx(2.8e-9)
    for g in ("neuron_updates", "movement", "static"):
        assert miss[g].startswith("not modelled"), g
    assert "neuron update" in miss["neuron_updates"]


def test_spinnaker_is_all_in_and_brainscales2_prices_its_whole_chip_power():
    s = preset("spinnaker")
    assert s.synaptic_op_J == 5.9e-6  # van Albada et al. 2018, whole machine
    comp, miss = s.energy(Activity(synaptic_events=10, time_s=1.0, host_bytes=1e6))
    assert comp == {"synaptic_events": ("compute", pytest.approx(59e-6))}
    assert {"conversion", "movement", "static", "off_chip"} <= set(miss)
    # BrainScaleS-2: < 200 mW for the whole chip while trained networks run (Cramer et al.,
    # PNAS 2022), over the time on the chip; the events are in it
    comp, miss = preset("brainscales2").energy(
        Activity(synaptic_events=10, time_s=1.0, host_bytes=10)
    )
    assert comp == {"static": ("static", 0.2), "host_io": ("off_chip", pytest.approx(2080e-12))}
    assert all(miss[g].startswith("included in static_W") for g in GROUPS[:3])


def test_spinnaker2_prices_synaptic_ops_and_neuron_updates_of_its_28nm_prototype():
    c = preset("spinnaker2")
    # Hoeppner et al. 2019 (arXiv:1903.08941) via keras-spiking ModelEnergy.devices
    assert (c.synaptic_op_J, c.neuron_update_active_J) == (450e-12, 2.19e-9)
    assert c.neuron_update_idle_J == c.neuron_update_active_J  # every neuron, every tick
    assert "keras-spiking" in c.sources["synaptic_op_J"]
    assert "1903.08941" in c.sources["neuron_update_active_J"]
    a = Activity(synaptic_events=1000, neuron_updates_active=30, neuron_updates_idle=70,
                 spikes_out=5, messages=8, time_s=1e-3, host_bytes=40)  # fmt: skip
    comp, miss = c.energy(a)
    assert comp["synaptic_events"] == ("compute", pytest.approx(1000 * 450e-12))
    assert comp["neuron_updates"] == ("conversion", pytest.approx(100 * 2.19e-9))
    assert comp["host_io"] == ("off_chip", pytest.approx(40 * 208e-12))
    for g in ("movement", "static"):
        assert miss[g].startswith("not modelled"), g
    assert miss["spike_generation"].startswith("not modelled")


def test_loihi_energy_of_an_activity_by_group():
    c = preset("loihi")
    a = Activity(synaptic_events=1000, neuron_updates_active=30, neuron_updates_idle=70,
                 spikes_out=5, messages=8, messages_in_tile=2, hops_ew=6, hops_ns=4,
                 host_bytes=40, time_s=1e-3)  # fmt: skip
    comp, miss = c.energy(a)
    assert miss == {}
    assert comp["synaptic_events"] == ("compute", pytest.approx(35.5e-9))
    assert comp["neuron_updates"] == ("conversion", pytest.approx(30 * 72.8e-12 + 70 * 51.2e-12))
    assert comp["spike_generation"] == ("conversion", pytest.approx(5 * 69.3e-12))
    assert comp["spike_routing"] == (
        "movement", pytest.approx(8 * 111e-12 + 2 * 1.7e-12 + 6 * 3e-12 + 4 * 4.2e-12))  # fmt: skip
    assert comp["static"] == ("static", pytest.approx(29e-6))
    # the embedded x86 cores while a model runs: Frady et al. 2020, 2.09 W over 32 chips
    assert LOIHI_X86_W == pytest.approx(65.3e-3, rel=1e-3)
    assert comp["control"] == ("static", pytest.approx(LOIHI_X86_W * 1e-3))
    assert comp["host_io"] == ("off_chip", pytest.approx(40 * 208e-12))


def test_every_preset_names_a_source_or_reason_for_every_term():
    for name, chip in PRESETS.items():
        assert chip.name == name
        for t in TERMS:
            assert chip.sources[t].strip()
            if getattr(chip, t) is None:
                assert "not modelled" in chip.sources[t] or "included" in chip.sources[t], (name, t)
    pcm = device_chip(devices.get("pcm"))
    assert all(pcm.sources[t].strip() for t in TERMS)


def test_mesh_routes_count_messages_and_hops():
    c = preset("loihi")
    # two populations of 2 cores each: cores 0-3, one tile; 2 messages per spike, no hops
    r = mesh_routes([2048, 2048], [(0, 1, 2048.0)], [10.0, 0.0], c)
    assert (r.messages, r.messages_in_tile, r.hops_ew, r.hops_ns, r.cores) == (20, 20, 0, 0, 4)
    # 4 cores (tile 0) to core 4 (tile 1, one hop east)
    r = mesh_routes([4096, 1024], [(0, 1, 1024.0)], [10.0, 0.0], c)
    assert (r.messages, r.messages_in_tile, r.hops_ew, r.hops_ns) == (10, 0, 10, 0)
    # 32 cores fill tile row 0 (x = 0..7); the next core sits at (0, 1): 3.5 hops east-west
    # and one north-south on average
    r = mesh_routes([32 * 1024, 1024], [(0, 1, 1.0)], [4.0, 0.0], c)
    assert (r.messages, r.hops_ew, r.hops_ns) == (4, pytest.approx(14.0), pytest.approx(4.0))
    # a sparse projection sends at most one message per target (min(cores, fan-out))
    r = mesh_routes([1024, 4096], [(0, 1, 2.0)], [10.0, 0.0], c)
    assert r.messages == 20


def test_device_chip_charges_the_crossbar_periphery():
    from crossbar.config import CrossbarConfig
    from crossbar.cost import matrix_cost

    pcm = devices.get("pcm")
    c = device_chip(pcm)
    assert c.synaptic_op_J == pytest.approx(pcm.read_energy_J)  # one cell read per cell
    cost = CrossbarConfig().cost
    assert c.row_drive_J > cost.dac_energy_1bit_J  # a 1-bit driver plus the word line's C·V²
    cfg = dataclasses.replace(CrossbarConfig(), dac=dataclasses.replace(
        CrossbarConfig().dac, bits=1, mode="bit-serial"))  # fmt: skip
    rep = matrix_cost(pcm, cfg, cfg.weight_cols_per_tile, cfg.tile_rows, 1, 1.0)
    assert c.column_sense_J == pytest.approx(rep.energy_J["adc"] / rep.adc_conversions)
    assert c.static_W == 0.029 and "power-gated" in c.sources["static_W"]  # Loihi's idle power
    assert c.sense_static_J == pytest.approx(rep.energy_J["static"] / rep.adc_conversions)
    a = Activity(synaptic_events=100, cells_per_event=2, row_drives=5, column_conversions=7,
                 neuron_updates_active=3, time_s=1e-3)  # fmt: skip
    comp, miss = c.energy(a)
    assert comp["cell_reads"] == ("compute", pytest.approx(200 * pcm.read_energy_J))
    assert comp["row_drive"] == ("conversion", pytest.approx(5 * c.row_drive_J))
    assert comp["column_sense"] == ("conversion", pytest.approx(7 * c.column_sense_J))
    assert comp["lane_static"] == ("static", pytest.approx(7 * c.sense_static_J))
    assert "synaptic_events" not in comp
    assert comp["static"] == ("static", pytest.approx(0.029e-3))
    assert miss == {}
    # without an always-on figure the lanes' static power alone is not passed off as the chip's
    bare = dataclasses.replace(c, static_W=None)
    assert bare.energy(a)[1] == {"always_on_static": c.sources["static_W"]}


def test_crossbar_counts():
    # 300 inputs: two row tiles of 256 (the cost model counts whole tiles); 10 outputs fit
    # one column tile; 100 input spikes over 10 steps: λ = 5 per row tile and step
    drives, conv, cells = crossbar_counts([(10, 300)], [100.0], 10)
    assert drives == 100
    assert conv == pytest.approx(10 * 2 * 10 * (1 - math.exp(-5)))
    assert cells == 2  # a differential pair per weight


def test_refusals():
    with pytest.raises(ConfigError, match="spiking chip must be one of loihi"):
        preset("akida")
    src = dict(preset("seneca").sources)
    del src["static_W"]
    with pytest.raises(ConfigError, match=r"ChipEnergy.sources\['static_W'\] must be a citation"):
        ChipEnergy("x", "x", sources=src)
    full = preset("seneca").sources
    with pytest.raises(ConfigError, match="ChipEnergy.includes must be groups other than"):
        ChipEnergy("x", "x", synaptic_op_J=1e-12, sources=full, includes=("compute",))
    with pytest.raises(ConfigError, match="ChipEnergy.includes must be empty when"):
        ChipEnergy("x", "x", sources=full, includes=("static",))
    with pytest.raises(ConfigError, match="ChipEnergy.neurons_per_core must be given with"):
        ChipEnergy("x", "x", sources=full, neurons_per_core=256)
    with pytest.raises(ConfigError, match="ChipEnergy.static_W must be a number >= 0 W"):
        ChipEnergy("x", "x", sources=full, static_W=-1.0)
    with pytest.raises(ConfigError, match="chip 'seneca' has no placement"):
        mesh_routes([10], [], [1.0], preset("seneca"))
    with pytest.raises(ConfigError, match="2 populations but 1 spike counts"):
        mesh_routes([10, 10], [], [1.0], preset("loihi"))


def test_loihi_step_times_are_davies_table_2():
    c = preset("loihi")
    assert c.tick_s is None  # asynchronous: no tick
    assert (c.synaptic_op_s, c.neuron_update_active_s, c.neuron_update_idle_s) == (
        3.5e-9, 8.4e-9, 5.3e-9)  # fmt: skip
    assert (c.hop_in_tile_s, c.hop_ew_s, c.hop_ns_s) == (2.1e-9, 4.1e-9, 6.5e-9)
    assert (c.barrier_one_tile_s, c.barrier_full_chip_s) == (113e-9, 465e-9)
    assert c.synapses_per_core == 128 * 1024 * 8 // 16  # 128 KB of 16-bit synapses
    assert "Table 2" in c.time_source
    # the fixed ticks: TrueNorth 1 kHz, SpiNNaker 1 ms, BrainScaleS-2 1 ms / 1,000
    assert preset("truenorth").tick_s == 1e-3 and preset("spinnaker").tick_s == 1e-3
    assert preset("brainscales2").tick_s == 1e-6
    assert "assumption" in preset("seneca").time_source


def test_barrier_grows_with_the_used_mesh():
    c = preset("loihi")  # 8 x 4 tiles of 4 cores
    assert barrier_s(c, 1) == pytest.approx(113e-9)
    assert barrier_s(c, 4) == pytest.approx(113e-9)  # one tile
    assert barrier_s(c, 128) == pytest.approx(465e-9)  # the whole chip: diameter 7 + 3
    assert barrier_s(c, 32) == pytest.approx(113e-9 + 352e-9 * 7 / 10)  # one row of 8 tiles
    assert barrier_s(c, 256) > 465e-9  # a second chip continues the mesh


def test_placement_respects_synaptic_memory():
    c = preset("loihi")
    # 784 x 256 = 200,704 synapses need 4 cores of 65,536 though 256 neurons fit one
    assert place([784, 256, 10], c, [0, 784 * 256, 2560]) == (1, 4, 1)
    assert place([784, 256, 10], c) == (1, 1, 1)
    r = mesh_routes([784, 256], [(0, 1, 256.0)], [100.0, 0.0], c, [0, 784 * 256])
    assert r.population_cores == (1, 4) and r.cores == 5
    assert r.messages == 400  # one message per destination core
    assert r.route_s == pytest.approx(4.1e-9)  # the fifth core is one tile east


def test_inference_time_is_the_busiest_core_plus_route_and_barrier():
    c = preset("loihi")
    r = mesh_routes([784, 256], [(0, 1, 256.0)], [1000.0, 0.0], c, [0, 784 * 256])
    t = inference_time(c, 10, routes=r, events_in=[0, 256e3], updates_active=[0, 2000],
                       updates_idle=[0, 560])  # fmt: skip
    core = (256e3 * 3.5e-9 + 2000 * 8.4e-9 + 560 * 5.3e-9) / 10 / 4
    assert t.core_s == pytest.approx(core) and t.critical == 1
    assert t.barrier_s == pytest.approx(113e-9 + 352e-9 / 10)  # 5 cores: 2 tiles
    assert t.step_s == pytest.approx(core + 4.1e-9 + t.barrier_s)
    assert t.time_s == pytest.approx(10 * t.step_s)
    # a tick chip takes its tick; dt_s overrides every chip
    assert inference_time(preset("truenorth"), 64).time_s == pytest.approx(64e-3)
    assert inference_time(preset("brainscales2"), 64).time_s == pytest.approx(64e-6)
    assert inference_time(c, 64, routes=r, dt_s=1e-3).time_s == pytest.approx(64e-3)


def test_device_chip_reads_a_crossbar_per_step():
    c = device_chip(devices.get("pcm"))
    assert c.synaptic_op_s == 0.0 and c.array_read_s > 0
    r = mesh_routes([64, 64], [(0, 1, 64.0)], [10.0, 0.0], c, [0, 4096])
    t = inference_time(c, 10, routes=r, events_in=[0, 640], updates_active=[0, 640])
    assert t.core_s == pytest.approx(64 * 8.4e-9 + c.array_read_s)


def test_timing_refusals():
    full = preset("seneca").sources
    with pytest.raises(ConfigError, match="ChipEnergy.tick_s must be a number unless"):
        ChipEnergy("x", "x", sources=full, tick_s=None)
    with pytest.raises(ConfigError, match="ChipEnergy.time_source must be a citation"):
        ChipEnergy("x", "x", sources=full, time_source=" ")
    with pytest.raises(ConfigError, match="chip 'loihi' models its step time from a placement"):
        inference_time(preset("loihi"), 10)
    with pytest.raises(ConfigError, match="place: 2 populations but 1 synapse counts"):
        place([10, 10], preset("loihi"), [0.0])


def test_chips_needed_counts_neuron_circuits_and_fan_in_merges_on_brainscales2():
    from snn.energy import chips_needed

    bss2 = preset("brainscales2")
    # 784 -> 256 -> 10: a hidden neuron of fan-in 784 merges ceil(784 / 256) = 4 circuits,
    # an output of fan-in 256 one: 256 x 4 + 10 = 1,034 circuits over 512 per chip -> 3 chips
    assert chips_needed(bss2, [784, 256, 10], [0.0, 784 * 256, 256 * 10]) == 3
    # fan-in exactly 256 (a float mean) is one circuit: 512 neurons fill one chip
    assert chips_needed(bss2, [100, 512], [0.0, 512 * 256.0000001]) == 1
    # TrueNorth: 4,096 x 256 neurons per chip, 256 axons per core: fan-in 784 takes 4
    tn = preset("truenorth")
    assert chips_needed(tn, [784, 2_000_000], [0.0, 2_000_000 * 784.0]) == 8
    assert chips_needed(tn, [100, 2_000_000], [0.0, 2_000_000 * 100.0]) == 2
    # no capacity figure (SENECA): one chip
    assert chips_needed(preset("seneca"), [784, 10**7], [0.0, 1e9]) == 1


def test_chips_needed_from_the_placement_on_loihi():
    from snn.energy import chips_needed

    loihi = preset("loihi")
    sizes = [784, 300_000]  # 300,000 neurons: 293 cores of 1,024 + the input's 1
    syn = [0.0, 300_000 * 10.0]
    routes = mesh_routes(sizes, [(0, 1, 10.0)], [100.0, 0.0], loihi, syn)
    assert routes.cores == 1 + math.ceil(300_000 / 1024)
    assert chips_needed(loihi, sizes, syn, routes) == math.ceil(routes.cores / 128) == 3
    with pytest.raises(ConfigError, match=r"chips_needed: 2 populations but 1 synapse counts"):
        chips_needed(loihi, sizes, [0.0], routes)


def test_static_and_control_power_are_drawn_by_every_chip():
    loihi = preset("loihi")
    comp, _ = loihi.energy(Activity(synaptic_events=0.0, time_s=1e-3, chips=3.0))
    assert comp["static"][1] == pytest.approx(0.029 * 3 * 1e-3)
    assert comp["control"][1] == pytest.approx(2.09 / 32 * 3 * 1e-3)
    bss2 = preset("brainscales2")
    comp, _ = bss2.energy(Activity(synaptic_events=0.0, time_s=64e-6, chips=3.0))
    assert comp["static"][1] == pytest.approx(0.2 * 3 * 64e-6)
    with pytest.raises(ConfigError, match=r"Activity.chips must be at least 1"):
        Activity(synaptic_events=0.0, chips=0.5)


def test_inference_time_adds_the_software_overhead_to_every_step():
    loihi = preset("loihi")
    routes = mesh_routes([10, 10], [(0, 1, 10.0)], [5.0, 0.0], loihi, [0.0, 100.0])
    kw = dict(routes=routes, events_in=[0.0, 50.0], updates_active=[0.0, 100.0])
    base = inference_time(loihi, 10, **kw)
    t = inference_time(loihi, 10, **kw, overhead_s=8e-6)
    assert t.step_s == pytest.approx(base.step_s + 8e-6)
    assert t.time_s == pytest.approx(10 * (base.step_s + 8e-6))
    assert (t.core_s, t.barrier_s, t.overhead_s) == (base.core_s, base.barrier_s, 8e-6)
    tick = inference_time(preset("truenorth"), 64, overhead_s=1e-4)
    assert tick.time_s == pytest.approx(64 * (1e-3 + 1e-4))
    assert inference_time(loihi, 10, dt_s=1e-3, overhead_s=1e-3).time_s == pytest.approx(2e-2)
    with pytest.raises(ConfigError, match=r"inference_time: overhead_s must be >= 0 s"):
        inference_time(loihi, 10, **kw, overhead_s=-1.0)
