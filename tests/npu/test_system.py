"""Multi-chip systems: the system power formula, idle static energy, the board model."""

import pytest

import npu


def _pcie_bound_ops():
    # A 512x512 input (262,144 FP16 values) into a 2-output linear layer: a tiny network fed
    # by a large input. Batch 16 on one chip: compute 262,144 + 254 cycles (one OS fold) =
    # 210 µs at 1.25 GHz; PCIe 16 x (262,144 + 2) x 2 B / 16 GB/s = 524 µs.
    return [npu.gemm_op("fc", 1, 512 * 512, 2)]


def test_pcie_bound_run_pays_static_power_while_idle():
    cfg = npu.presets.get("ab9").replace(batch_size=16)
    s = npu.scale_out(_pcie_bound_ops(), cfg)
    assert s.pcie_bound
    assert s.chip.time_s == pytest.approx((512 * 512 + 254) / 1.25e9)
    assert s.pcie_s == pytest.approx(16 * (512 * 512 + 2) * 2 / 16e9)
    assert s.batch_s == s.pcie_s
    idle_s = s.batch_s - s.chip.time_s
    assert idle_s > s.chip.time_s  # waiting on PCIe longer than computing
    # Leakage runs for the whole batch period: J = W x s.
    assert s.energy_J["static"] == pytest.approx(cfg.static_W * s.batch_s)
    assert s.energy_J["static"] - s.chip.energy_J["static"] == pytest.approx(cfg.static_W * idle_s)
    assert s.energy_J["host_io"] == pytest.approx(16 * (512 * 512 + 2) * 2 * 30.88e-12)


def test_system_power_is_energy_over_time():
    cfg = npu.presets.get("artbrain-k").replace(batch_size=16)
    s = npu.scale_out(_pcie_bound_ops(), cfg)
    assert s.power_W == pytest.approx(160 * sum(s.energy_J.values()) / s.batch_s)
    # Dimensions: one more watt of static power per chip is one more watt per chip of
    # system power (through the regulator and supply), whatever the idle time. The old
    # formula added static_W x idle seconds (J) to watts.
    more = npu.scale_out(_pcie_bound_ops(), cfg.replace(static_W=cfg.static_W + 1.0))
    assert more.power_W - s.power_W == pytest.approx(160 * 1.0 / (0.90 * 0.92))
    assert s.chip_power_W == pytest.approx(
        sum(s.energy_J[c] for c in npu.CHIP_COMPONENTS) / s.batch_s
    )


def test_board_is_the_conversion_loss_of_regulators_and_supply():
    ops = _pcie_bound_ops()
    for name, eta in (("artbrain-s", 0.90), ("artbrain-k", 0.90 * 0.92)):
        s = npu.scale_out(ops, npu.presets.get(name))
        load = sum(v for k, v in s.energy_J.items() if k != "board")
        assert s.energy_J["board"] == pytest.approx(load * (1 / eta - 1))
    bare = npu.scale_out(ops, npu.presets.get("ab9"))
    assert bare.energy_J["board"] == 0.0
    assert not npu.presets.get("ab9").models_board
    assert npu.presets.get("artbrain-s").models_board and npu.presets.get("artbrain-k").models_board
    fixed = npu.scale_out(ops, npu.presets.get("ab9").replace(board_power_W=2.0))
    assert fixed.energy_J["board"] == pytest.approx(2.0 * fixed.batch_s)


def test_weights_stream_on_a_chip_without_weight_sram():
    # TPU v1 keeps only activations in its Unified Buffer: 4 MB of INT8 weights stream from
    # DDR3 at 34 GB/s every batch even though they would fit its 24 MiB.
    tpu = npu.presets.get("tpu-v1")
    perf = npu.simulate([npu.gemm_op("fc", 1, 2000, 2000)], tpu, batch=200)
    assert not perf.weights_resident
    layer = perf.layers[0]
    assert layer.dram_B == pytest.approx(2000 * 2000 + 200 * (2000 + 2000))  # 1 B per value
    assert layer.bound == "memory" and layer.dram_s == pytest.approx(layer.dram_B / 34e9)
    resident = npu.simulate([npu.gemm_op("fc", 1, 2000, 2000)], tpu.replace(weights_in_sram=True))
    assert resident.weights_resident
