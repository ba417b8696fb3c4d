"""AB9 config, presets and the energy calibration against published figures."""

import dataclasses

import pytest

import npu
from devices.registry import DuplicateNameError, UnknownNameError
from devices.validation import ConfigError


def test_ab9_peak_is_the_published_40_96_tflops():
    cfg = npu.presets.get("ab9")
    assert cfg.n_macs == 16_384  # Cho 2020: 16,384 FP16 MACs in one 128x128 mesh (Han 2020)
    assert cfg.peak_flops == 40.96e12  # 16,384 x 2 x 1.25 GHz
    assert cfg.replace(clock_Hz=1.0e9).peak_flops == 32.768e12  # Shin 2019: 32 TFLOPS at 1 GHz


def test_every_preset_is_valid_and_cites_a_source():
    for name, preset in npu.presets.PRESETS.items():
        assert preset.config.name == name
        assert "20" in preset.source  # a year of a publication
        assert preset.role in npu.presets.ROLES
        assert dataclasses.replace(preset.config) == preset.config  # re-validates
    assert npu.presets.names("target") == ["ab9", "artbrain-k", "artbrain-s"]
    assert set(npu.presets.names("validation")) == {"tpu-v1", "eyeriss"}
    with pytest.raises(ConfigError, match="register.role must be one of 'target', 'validation'"):
        npu.presets.register(npu.AB9(name="x"), "2024", role="product")


def test_validation_presets_carry_their_published_architecture():
    tpu = npu.presets.get("tpu-v1")
    assert tpu.n_macs == 65_536 and tpu.peak_flops == pytest.approx(91.7504e12)  # "92 TOPS"
    assert (tpu.dtype, tpu.accumulate, tpu.weights_in_sram) == ("int8", "int32", False)
    assert tpu.static_W == 28.0  # its measured idle die power (Jouppi 2017, Table 2)
    eyeriss = npu.presets.get("eyeriss")
    assert eyeriss.n_macs == 168 and eyeriss.static_W == 0.0  # leakage not published


def test_artbrain_k_has_160_chips_and_published_peak():
    cfg = npu.presets.get("artbrain-k")
    assert cfg.n_chips == 160
    # 160 x 40 TFLOPS = 6,400 TFLOPS published; the model's 40.96 per chip gives 6,553.6.
    assert cfg.n_chips * cfg.peak_flops == pytest.approx(6553.6e12)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("array_rows", 0, r"AB9\.array_rows must be an integer in \[1, 4096\]; got 0"),
        ("clock_Hz", -1.0, r"AB9\.clock_Hz must be in \(0, 1e\+10\] Hz; got -1\.0"),
        ("dataflow", "is", r"AB9\.dataflow must be one of 'os', 'ws'; got 'is'"),
        ("accumulate", "bf16", r"AB9\.accumulate must be one of 'fp32', 'fp16', 'int32'"),
        ("accumulate", "int32", r"AB9\.accumulate must be one of 'fp32', 'fp16' for dtype 'fp16'"),
        ("dtype", "fp8", r"AB9\.dtype must be one of 'fp16', 'int8', 'int16'; got 'fp8'"),
        ("vr_efficiency", 0.0, r"AB9\.vr_efficiency must be in \(0, 1\]; got 0\.0"),
        ("pe_rf_accesses_per_mac", -1.0, r"AB9\.pe_rf_accesses_per_mac must be in \[0, 64\]"),
        ("name", "", r"AB9\.name must be a non-empty string"),
        ("power_min_W", 50.0, r"AB9\.power_min_W must be <= power_max_W \(40 W\); got 50\.0"),
        ("fuse_elementwise", 1.5, r"AB9\.fuse_elementwise must be one of True, False"),
    ],
)
def test_bad_config_names_the_field(field, value, message):
    with pytest.raises(ConfigError, match=message):
        npu.AB9(**{field: value})


def test_user_variant_registers_once():
    cfg = npu.presets.get("ab9").replace(name="ab9-test-4x64", n_arrays=4, array_rows=64,
                                         array_cols=64)  # fmt: skip
    npu.presets.register(cfg, "test variant (4 arrays of 64x64), 2024")
    try:
        assert npu.presets.get("ab9-test-4x64").n_macs == 16_384
        with pytest.raises(DuplicateNameError, match="already registered"):
            npu.presets.register(cfg, "again")
    finally:
        npu.presets.PRESETS.unregister("ab9-test-4x64")
    with pytest.raises(UnknownNameError, match="unknown npu preset 'ab9-test-4x64'; valid: ab9"):
        npu.presets.get("ab9-test-4x64")


def test_energy_scaling_horowitz_to_28nm():
    # FP16 x FP16 + FP16 add: 1.5 pJ (Horowitz 45 nm, 0.9 V) x 28/45 x (1.1/0.9)^2 = 1.3942 pJ
    assert npu.AB9().energy.mac_J == pytest.approx(1.5e-12 * 28 / 45 * (1.1 / 0.9) ** 2)
    assert npu.scale_energy(1e-12, 45e-9, 0.9) == pytest.approx(1e-12)


@pytest.mark.parametrize(
    ("dtype", "accumulate", "pJ_45nm"),
    [
        # Horowitz 2014 (45 nm, 0.9 V): multiply of the operand type + add of the accumulator.
        ("fp16", "fp32", 1.1 + 0.9),  # FP16 mult 1.1, FP32 add 0.9
        ("fp16", "fp16", 1.1 + 0.4),  # FP16 add 0.4
        ("int8", "int32", 0.2 + 0.1),  # INT8 mult 0.2, 32-bit add 0.1
        ("int8", "int16", 0.2 + 0.05),  # 16-bit add 0.05
        ("int16", "int16", 0.8 + 0.05),  # INT16 mult 0.2 x (16/8)^2 (derived), 16-bit add
    ],
)
def test_mac_priced_by_its_accumulator(dtype, accumulate, pJ_45nm):
    at_45 = npu.AB9(node_m=45e-9, vdd_V=0.9, dtype=dtype, accumulate=accumulate)
    assert at_45.energy.mac_J == pytest.approx(pJ_45nm * 1e-12)
    assert at_45.psum_B == {"fp32": 4, "int32": 4, "fp16": 2, "int16": 2}[accumulate]
    assert at_45.value_B == {"fp16": 2, "int16": 2, "int8": 1}[dtype]


def test_int16_multiplier_law_matches_horowitz_32_bit():
    # The square law behind the INT16 figure, from 8 b to 32 b: 0.2 x 16 = 3.2 pJ vs 3.1 pJ.
    assert npu.config.MULTIPLY_J_45NM["int8"] * (32 / 8) ** 2 == pytest.approx(3.1e-12, rel=0.04)


def test_regression_of_the_fitted_static_power():
    # Regression of a fitted constant (npu.ab9.static_W, fitted to Han 2020's 1.3 TOPS/W; the
    # held-out checks are in neuro/validate/digital.py): the preset keeps the fitted value.
    ab9 = npu.presets.get("ab9")
    assert npu.calibrate_static_W(ab9) == pytest.approx(1.9873, abs=1e-4)
    assert (
        ab9.static_W
        == npu.presets.AB9_STATIC_W
        == pytest.approx(npu.calibrate_static_W(ab9), abs=0.005)
    )
    # An FP32-accumulating MAC (1.86 pJ at 28 nm, 1.1 V) alone exceeds the measured all-in
    # 1/(0.65e12) = 1.54 pJ per MAC: no static power fits, the calibration goes negative.
    assert ab9.replace(accumulate="fp32").energy.mac_J > 1 / 0.65e12
    assert npu.calibrate_static_W(ab9.replace(accumulate="fp32")) == pytest.approx(-6.62, abs=0.01)


def test_dense_gemm_efficiency_is_bracketed_by_published_envelope():
    check = npu.efficiency_check(npu.presets.get("ab9"))
    # Cho 2020: 15-40 W; 1.0 TFLOPS/W at 40 W up to 2.6-2.7 TFLOPS/W at 15 W (0.75-2.0 pJ/MAC).
    assert 15.0 <= check["power_W"] <= 40.0
    assert 1.0e12 <= check["flops_per_W"] <= 2.7e12
    assert 0.75e-12 <= check["J_per_mac"] <= 2.0e-12
    # Han 2020 measured 1.3 TOPS/W at 1.2 GHz (static_W rounded to 0.01 W: 0.2 % tolerance);
    # at 1.25 GHz the static share is smaller and the efficiency a little higher.
    at_1_2GHz = npu.efficiency_check(npu.presets.get("ab9").replace(clock_Hz=1.2e9))["flops_per_W"]
    assert at_1_2GHz == pytest.approx(1.3e12, rel=2e-3)
    assert 1.3e12 < check["flops_per_W"] < 1.31e12
