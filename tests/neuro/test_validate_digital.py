"""The digital NPU's fitted constant and its checks against measured chips."""

import pytest

import npu
from devices.validation import ConfigError
from neuro.validate import CHECKS, FITTED, Check, digital, register_check


def _check(name):
    return CHECKS.get(name)


def test_the_fitted_constant_is_listed_with_its_figure():
    f = FITTED.get("npu.ab9.static_W")
    assert f.value == npu.presets.get("ab9").static_W == 1.99
    assert f.figure_id == "han2020-ab9-1.3TOPS/W" and "1.3 TOPS/W" in f.figure
    # Its figure is only ever re-derived (a regression), never a held-out validation.
    for name, c in CHECKS.items():
        if c.figure_id == f.figure_id:
            assert c.kind == "regression", name
    with pytest.raises(ConfigError, match="the figure that 'npu.ab9.static_W' was fitted to"):
        register_check(
            Check(
                "digital.ab9.again",
                "digital",
                "TOPS/W",
                "TOPS/W",
                1.3,
                lambda: 1.3,
                "Han 2020",
                "han2020-ab9-1.3TOPS/W",
            )  # fmt: skip
        )


def test_regression_reproduces_han2020():
    c = _check("digital.ab9.tops_per_W")
    assert c.kind == "regression"
    assert c.model() == pytest.approx(1.3, rel=2e-3)  # static_W rounded to 0.01 W


# Held-out: model / measured must fall in ±50 % (the Check's band). Each line states the
# ratio this model gives, so that a change of it shows.
@pytest.mark.parametrize(
    ("name", "ratio"),
    [
        ("digital.artbrain-k.tflops_per_W", 1.048),  # 0.936 vs 0.893 TFLOPS/W
        ("digital.tpu-v1.mlp0_tops", 1.063),  # 13.1 vs 12.3 TOPS
        ("digital.tpu-v1.busy_power", 0.906),  # 36.3 vs 40 W
        ("digital.tpu-v1.dynamic_power", 0.688),  # 8.3 vs 12 W
        ("digital.eyeriss.alexnet_J_per_frame", 0.689),  # 5.5 vs 8.0 mJ
        ("digital.eyeriss.alexnet_fps", 1.341),  # 46.5 vs 34.7 frames/s
    ],
)
def test_held_out_check_within_its_band(name, ratio):
    c = _check(name)
    assert c.kind == "held-out" and c.band == (0.5, 1.5) and c.paradigm == "digital"
    got = c.model() / c.measured
    assert got == pytest.approx(ratio, abs=0.001)
    assert c.band[0] <= got <= c.band[1]


def test_eyeriss_scratchpads_are_the_mechanism_that_closes_the_gap():
    # Without the 4 scratchpad accesses per MAC the model misses Eyeriss by 5x.
    ops, cfg = digital.alexnet_conv_ops(), npu.presets.get("eyeriss")
    assert sum(op.macs for op in ops) == pytest.approx(666e6, rel=1e-3)  # Chen 2017: 666 M
    bare = npu.simulate(ops, cfg.replace(pe_rf_accesses_per_mac=0.0), batch=4)
    per_frame = sum(bare.energy_J[c] for c in npu.CHIP_COMPONENTS) / 4
    assert per_frame / (0.278 / 34.7) == pytest.approx(0.185, abs=0.001)


def test_held_out_presets_have_no_fitted_parameter():
    fitted_where = " ".join(f.where for _, f in FITTED.items() if f.name.startswith("npu."))
    for name in npu.presets.names("validation"):
        assert name not in fitted_where
    assert npu.presets.get("tpu-v1").static_W == digital.TPU_V1_IDLE_W  # measured idle
