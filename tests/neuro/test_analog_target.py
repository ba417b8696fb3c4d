"""The aimc target: accuracy against time, costs that add up, shape-only workloads."""

from __future__ import annotations

import pytest

from crossbar import CrossbarConfig
from devices.validation import ConfigError
from neuro import workloads
from neuro.targets import FAMILIES, make_target
from neuro.targets.analog import AnalogConfig


def test_quick_evaluate_on_mlp_digits():
    fam = FAMILIES.get("aimc")
    target = make_target("aimc:pcm", **fam.quick_options)
    r = target.evaluate(workloads.get("mlp-digits"), seed=3)
    r.check()
    curve = r.curves["accuracy_vs_time"]
    assert curve.x_label == "t_s" and list(curve.x) == [1.0, 86400.0]
    # The headline accuracy is read one day after programming, and says so.
    assert r.extra["accuracy_read_time_s"] == 86400.0
    assert r.accuracy == curve.y[1] and 0.8 < r.accuracy <= 1.0
    # chip = every group but off_chip (the host link); the layers hold the chip energy
    assert sum(r.energy_breakdown.values()) == pytest.approx(r.system_energy_per_inference)
    assert r.system_energy_per_inference - r.energy_per_inference == pytest.approx(
        r.energy_breakdown["host_io"]
    )
    assert sum(row["energy_J"] for row in r.layers) == pytest.approx(r.energy_per_inference)
    assert r.latency > 0 and r.throughput > 0 and r.area > 0
    again = target.evaluate(workloads.get("mlp-digits"), seed=3)
    assert list(again.curves["accuracy_vs_time"].y) == list(curve.y)


def test_ideal_device_and_crossbar_keep_fp32_accuracy():
    r = make_target(
        "aimc:ideal", crossbar=CrossbarConfig.ideal(), repeats=1, times_s=(1.0,)
    ).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.accuracy == pytest.approx(r.extra["fp32_accuracy"], abs=1e-9)
    assert r.accuracy_std == 0.0


def test_headline_accuracy_states_its_read_time():
    from neuro.report import subset_lines

    r = make_target(
        "aimc:ideal", crossbar=CrossbarConfig.ideal(), repeats=1, times_s=(1.0, 86400.0),
        read_time_s=3600.0, test_limit=100,
    ).evaluate(workloads.get("mlp-digits"), seed=0)  # fmt: skip
    assert list(r.curves["accuracy_vs_time"].x) == [1.0, 3600.0, 86400.0]
    assert r.accuracy == r.curves["accuracy_vs_time"].y[1]
    assert r.extra["accuracy_read_time_s"] == 3600.0 and r.extra["test_inputs"] == 100.0
    assert subset_lines([r])[0] == (
        "aimc:ideal: accuracy read 1 hour after programming "
        "(curve accuracy_vs_time for the other times)"
    )
    with pytest.raises(ConfigError, match="AnalogConfig.read_time_s must be"):
        AnalogConfig(read_time_s=-1.0)


def test_a_result_says_when_ir_drop_matters_and_is_not_modelled():
    from neuro.report import subset_lines

    opts = dict(repeats=1, times_s=(0.0,), read_time_s=0.0, test_limit=50)
    on_256 = {"crossbar.ir_drop": "none", "crossbar.tile_rows": 256, "crossbar.tile_cols": 256}
    r = make_target("aimc:reram", **opts, **on_256).evaluate(workloads.get("mlp-digits"), seed=0)
    # r·G_max·N²/2 = 1 Ω · 88 µS · 256² / 2 = 2.88; the exact solver puts typical column
    # currents at 34 % of ideal there.
    assert r.extra["ir_drop_criterion"] == pytest.approx(2.883584)
    assert r.extra["ir_drop_modelled"] == 0.0
    assert any("IR drop not modelled although r·G_max·N²/2 = 2.9 > 0.1 (typical column "
               "currents ~34 % of ideal" in line for line in subset_lines([r]))  # fmt: skip
    # ir_drop="auto" models the wires exactly there (κ > 1), and the line is gone
    exact = {"crossbar.tile_rows": 256, "crossbar.tile_cols": 256}
    r = make_target("aimc:reram", **opts, **exact).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.extra["ir_drop_modelled"] == 1.0
    assert not any("IR drop not modelled" in line for line in subset_lines([r]))
    # by default the ReRAM target sizes its tiles as a designer would: 128x128 (κ = 0.72)
    r = make_target("aimc:reram", **opts).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.config["crossbar"]["tile_rows"] == 128
    assert r.extra["ir_drop_criterion"] == pytest.approx(2.883584 / 4)
    assert r.extra["ir_drop_modelled"] == 0.0
    # not for FeFET cells (κ = 0.06)
    r = make_target("aimc:fefet", **opts).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.extra["ir_drop_criterion"] < 0.1 and r.extra["ir_drop_modelled"] == 0.0
    # PCM (κ = 0.82 < AUTO_KAPPA = 1: <= 0.15 points measured) reads with ideal wires by
    # default, and says so
    r = make_target("aimc:pcm", **opts).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.extra["ir_drop_criterion"] == pytest.approx(0.8192)
    assert r.extra["ir_drop_modelled"] == 0.0
    assert any("IR drop not modelled although r·G_max·N²/2 = 0.82 > 0.1" in line
               and "crossbar.ir_drop='exact' models it" in line
               for line in subset_lines([r]))  # fmt: skip


def test_shape_only_workload_gets_costs_only():
    r = make_target("aimc:reram").evaluate(workloads.get("resnet18"), seed=0)
    r.check()
    assert r.accuracy is None and r.curves == {}
    assert r.energy_per_inference > 0 and r.efficiency > 0
    conv_rows = [row for row in r.layers if row["kind"] == "conv2d"]
    assert all(row["tiles"] > 0 for row in conv_rows)


def test_config_errors():
    with pytest.raises(ConfigError, match="AnalogConfig.device must be one of"):
        AnalogConfig(device="nope")
    with pytest.raises(
        ConfigError, match=r"AnalogConfig.times_s must be 1 to 1000 times in \[0, 3.2e\+09\] s"
    ):
        AnalogConfig(times_s=())
    for bad in ((float("inf"),), (float("nan"),), (-1.0,), "abc", (True,)):
        with pytest.raises(ConfigError, match="AnalogConfig.times_s must be 1 to 1000 times"):
            AnalogConfig(times_s=bad)
    with pytest.raises(ConfigError, match="AnalogConfig.crossbar must be a CrossbarConfig"):
        AnalogConfig(crossbar=5)
    with pytest.raises(ConfigError, match="AnalogConfig.repeats must be"):
        AnalogConfig(repeats=0)


def test_energy_fills_every_group_with_measured_activity():
    from neuro.result import ENERGY_GROUPS
    from neuro.targets.analog import STATIC_NOT_MODELLED

    r = make_target("aimc:pcm", repeats=1, times_s=(1.0,), test_limit=50).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    r.check()
    groups = r.group_energy()
    # every group filled, static by PUMA's tile control and leakage (a small share)
    assert all(groups[g] is not None and groups[g] > 0 for g in ENERGY_GROUPS)
    assert r.energy_groups["static"] == "static" and "static" not in r.energy_missing
    assert 0.005 < groups["static"] / r.energy_per_inference < 0.02  # 1.1 %
    # with every static figure set to 0 the group is missing with its reason, never 0
    off = {f"crossbar.cost.{k}": 0.0 for k in ("control_W_per_tile", "register_leak_W_per_line",
                                                "dac_leak_W")}  # fmt: skip
    r0 = make_target("aimc:pcm", repeats=1, times_s=(1.0,), test_limit=20, **off).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    assert r0.group_energy()["static"] is None and "static" not in r0.energy_breakdown
    assert r0.energy_missing["static"] == STATIC_NOT_MODELLED
    assert r.energy_groups["cell_read"] == "compute" and r.energy_groups["adc"] == "conversion"
    assert r.energy_groups["buffers"] == "movement"
    # the CCO converters' running power over the read windows dominates the chip energy
    assert r.energy_breakdown["adc"] / r.energy_per_inference > 0.9
    assert r.energy_groups["host_io"] == "off_chip"
    # 64 input bytes and 10 output bytes over the host link at 30.9 pJ/B
    assert r.energy_breakdown["host_io"] == pytest.approx(74 * 2 * 1.93e-12 * 8)
    # input activity measured per layer on the calibration batch, not the fixed 0.5
    weight_rows = [row for row in r.layers if row["tiles"]]
    acts = [row["input_activity"] for row in weight_rows]
    assert all(0.0 < a < 1.0 for a in acts) and all(abs(a - 0.5) > 0.01 for a in acts)
    assert all(0.0 < row["ones_fraction"] < 1.0 for row in weight_rows)
    shape_only = make_target("aimc:pcm").evaluate(workloads.get("resnet18"), seed=0)
    assert {row["input_activity"] for row in shape_only.layers if row["tiles"]} == {0.5}


def test_static_group_is_the_tiles_control_and_leakage_plus_any_lane_static():
    import dataclasses

    import devices
    from crossbar.cost import tile_static_power
    from neuro.targets.analog import workload_costs

    def cost(**changes):
        cfg = CrossbarConfig()
        return dataclasses.replace(cfg, cost=dataclasses.replace(cfg.cost, **changes))

    wl = workloads.get("mlp-digits")
    dev = devices.get("pcm")
    default, latency, _, _, rows = workload_costs(wl, dev, CrossbarConfig())
    # every layer's tiles draw PUMA's 0.50 mW (256x256) over that layer's passes
    tiles_x_time = sum(r["tiles"] * r["latency_s"] for r in rows if r.get("tiles"))
    assert default["static"] == pytest.approx(tile_static_power(CrossbarConfig()) * tiles_x_time)
    lanes, *_ = workload_costs(wl, dev, cost(static_W_per_adc=1e-4))
    assert lanes["static"] > default["static"]
    assert lanes["adc"] == pytest.approx(default["adc"])
    off = {"control_W_per_tile": 0.0, "register_leak_W_per_line": 0.0, "dac_leak_W": 0.0}
    none, *_ = workload_costs(wl, dev, cost(**off))
    assert "static" not in none  # reported as not modelled, with its reason


def test_measure_layers_records_inputs_and_cell_values():
    import torch
    from torch import nn

    import devices
    from crossbar.cost import InputStats, programmed_mean
    from neuro.targets.analog import measure_layers

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 5 * 5, 3))  # fmt: skip
    x = torch.rand(8, 1, 5, 5)
    dev, cfg = devices.get("reram"), CrossbarConfig()
    found = measure_layers(model, x, dev, cfg)
    assert set(found) == {"0", "3"}
    cols = torch.nn.functional.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 9)
    assert found["0"].inputs == InputStats.measure(cols, cfg)
    h = torch.relu(model[0](x)).flatten(1)
    assert found["3"].inputs == InputStats.measure(h, cfg)
    assert found["3"].mean_value == pytest.approx(programmed_mean(model[3].weight, dev, cfg))


def test_hardware_aware_weights_are_trained_once_and_cached():
    from neuro.workloads.training import cache_dir

    target = make_target("aimc:pcm", repeats=1, times_s=(86400.0,), test_limit=100, hwa_epochs=1)
    r = target.evaluate(workloads.get("mlp-digits"), seed=0)
    files = list((cache_dir() / "weights" / "hwa").glob("*.pt"))
    assert len(files) == 1 and r.provenance["hwa_key"] in files[0].name
    assert r.provenance["hwa_config"]["weight_noise"] == pytest.approx(1.0554 / 25, rel=0.06)
    assert 0.8 < r.extra["hwa_fp32_accuracy"] <= 1.0
    again = target.evaluate(workloads.get("mlp-digits"), seed=0)  # from the cache
    assert again.accuracy == r.accuracy


def test_default_crossbar_is_the_largest_tile_whose_wires_keep_kappa_at_most_one():
    import devices
    from crossbar.irdrop import AUTO_KAPPA, wire_drop_criterion
    from neuro.targets.analog import DEFAULT_CROSSBAR, default_crossbar

    sizes = {d: default_crossbar(d).tile_rows for d in ("pcm", "reram", "fefet", "memcap", "ideal")}
    assert sizes == {"pcm": 256, "reram": 128, "fefet": 256, "memcap": 256, "ideal": 256}
    reram = devices.get("reram")
    assert wire_drop_criterion(1.0, reram.g_max, 256) > AUTO_KAPPA
    assert wire_drop_criterion(1.0, reram.g_max, 128) <= AUTO_KAPPA
    assert default_crossbar("pcm") is DEFAULT_CROSSBAR
    assert AnalogConfig(device="reram").crossbar.tile_cols == 128
    # a user's crossbar (or a dotted option) is kept as given
    mine = AnalogConfig(device="reram", crossbar=DEFAULT_CROSSBAR)
    assert mine.crossbar.tile_rows == 256
