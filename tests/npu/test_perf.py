"""Performance model: roofline, traffic, power envelope, multi-chip scaling, the adapter."""

import pytest

import npu
from devices.validation import ConfigError
from neuro import workloads
from neuro.targets import make_target
from neuro.targets.npu import NPUOptions, to_ops


def test_roofline_switches_to_memory_bound_when_bandwidth_is_cut():
    # 4096x4096 FC weights (32 MiB FP16) do not fit next to YOLOv2-sized SRAM use: stream them.
    ops = [npu.gemm_op("fc", 1, 4096, 4096)]
    cfg = npu.AB9(sram_bytes=1e6)
    fast = npu.simulate(ops, cfg).layers[0]
    assert fast.dram_B == pytest.approx(4096 * 4096 * 2 + (4096 + 4096) * 2)
    # OS at batch 1: 32 col folds x (4096 + 254) cycles = 139,200 cycles = 111 µs at 1.25 GHz
    assert fast.cycles == 32 * (4096 + 127 + 127)
    assert fast.dram_s == pytest.approx(fast.dram_B / 41.6e9)
    assert fast.bound == "memory"  # 807 µs of LPDDR4 against 111 µs of compute
    resident = npu.simulate(ops, npu.AB9()).layers[0]  # 36 MB: weights stay on chip
    assert resident.bound == "compute" and resident.dram_B == pytest.approx(16384)
    slow = npu.simulate(ops, npu.AB9(dram_bandwidth_Bps=1e3)).layers[0]
    assert slow.bound == "memory" and slow.time_s == pytest.approx(16384 / 1e3)


def test_energy_breakdown_sums_and_counts_every_mac():
    perf = npu.simulate([npu.gemm_op("g", 64, 256, 128)], npu.AB9())
    e = perf.energy_J
    assert set(e) == set(npu.ENERGY_COMPONENTS)
    assert e["mac"] == pytest.approx(64 * 256 * 128 * npu.AB9().energy.mac_J)
    assert e["pe_rf"] == 0.0  # a systolic PE without register files
    assert e["static"] == pytest.approx(npu.AB9().static_W * perf.time_s)
    assert perf.energy_per_inference_J == pytest.approx(sum(e.values()))


def test_ws_spills_partial_sums_in_accumulator_precision():
    op = npu.gemm_op("g", 10, 300, 4)  # K=300 on 128 rows: 3 row folds
    f32 = npu.simulate([op], npu.AB9(dataflow="ws", accumulate="fp32")).layers[0].sram_B
    f16 = npu.simulate([op], npu.AB9(dataflow="ws", accumulate="fp16")).layers[0].sram_B
    # psums: 3 writes + 2 reads of 10x4 values, 4 B vs 2 B each
    assert f32 - f16 == pytest.approx(10 * 4 * 5 * 2)


@pytest.mark.parametrize("workload", ["resnet18", "yolov2"])
def test_power_within_published_envelope(workload):
    ops = to_ops(workloads.get(workload))
    for batch in (1, 16):
        perf = npu.simulate(ops, npu.AB9(), batch=batch)
        assert perf.power_W <= 40.0  # Cho 2020: 15-40 W
        assert perf.achieved_flops <= 40.96e12
    # Batched (as ArtBrain runs), the array is busy enough to draw at least the 15 W floor.
    assert npu.simulate(ops, npu.AB9(), batch=16).power_W >= 15.0


def test_artbrain_k_scales_160_chips():
    ops = to_ops(workloads.get("yolov2"))
    k = npu.scale_out(ops, npu.presets.get("artbrain-k"))
    s = npu.scale_out(ops, npu.presets.get("artbrain-s"))
    assert k.throughput == pytest.approx(160 * s.throughput)
    assert k.peak_flops == pytest.approx(6553.6e12)
    assert k.achieved_flops <= 6400e12  # below the published peak (ETRI 2021)
    assert not k.pcie_bound  # 16 x 1 MB inputs per batch over 16 GB/s: 1 ms < compute
    # Same chips; K adds the server supply's loss (0.92) to S's regulator loss (0.90).
    assert k.chip_power_W == pytest.approx(s.chip_power_W)
    assert k.energy_J["board"] > s.energy_J["board"] > 0
    assert k.flops_per_W < s.flops_per_W < s.chip_flops_per_W
    starved = npu.scale_out(ops, npu.presets.get("artbrain-k").replace(pcie_bandwidth_Bps=0.5e9))
    assert starved.pcie_bound and starved.throughput < k.throughput


def test_simulate_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="simulate.batch must be an integer >= 1; got 0"):
        npu.simulate([npu.gemm_op("g", 1, 1, 1)], npu.AB9(), batch=0)
    with pytest.raises(ConfigError, match="simulate.ops must be a non-empty list of layers"):
        npu.simulate([], npu.AB9())


def test_adapter_on_mlp_digits():
    target = make_target("npu:ab9", **make_target.__globals__["FAMILIES"].get("npu").quick_options)
    r = target.evaluate(workloads.get("mlp-digits"), seed=0)
    r.check()
    assert r.target == "npu:ab9"
    # FP16 inference of a small MLP matches FP32 closely (200 test digits).
    ref = make_target("reference", test_limit=200, repeats=1, batch_size=8)
    fp32 = ref.evaluate(workloads.get("mlp-digits"), seed=0).accuracy
    assert abs(r.accuracy - fp32) <= 0.01
    assert r.area == pytest.approx(391e-6)
    assert r.ops_per_inference == 2 * 64 * 32 + 2 * 32 * 10
    # One energy boundary: chip = compute + movement + static; system adds off-chip.
    groups = r.group_energy()
    assert groups["conversion"] is None and r.energy_missing["conversion"].startswith("digital")
    assert groups["compute"] == pytest.approx(r.energy_breakdown["mac"] + r.energy_breakdown["alu"])
    assert groups["movement"] == pytest.approx(r.energy_breakdown["sram"])
    chip = groups["compute"] + groups["movement"] + groups["static"]
    assert r.energy_per_inference == pytest.approx(chip)
    off = r.energy_breakdown["dram"] + r.energy_breakdown["host_io"]
    assert r.system_energy_per_inference == pytest.approx(chip + off)
    assert "board" in r.energy_missing and "board" not in r.energy_breakdown  # bare chip
    assert r.efficiency > r.system_efficiency
    assert [row["kind"] for row in r.layers] == ["data", "linear", "elementwise", "linear"]


def test_adapter_shape_only_and_options():
    r = make_target("npu:artbrain-k", dataflow="ws").evaluate(workloads.get("resnet18"), seed=1)
    r.check()
    assert r.accuracy is None and r.config["dataflow"] == "ws" and r.config["n_chips"] == 160
    assert r.group_energy()["off_chip"] >= r.energy_breakdown["board"] > 0
    assert "host" in r.energy_missing
    with pytest.raises(ConfigError, match="NPUOptions.test_limit must be an integer >= 1"):
        NPUOptions(test_limit=0)
    with pytest.raises(ConfigError, match=r"NPU\.dtype must be 'fp16' \(the target runs"):
        make_target("npu:ab9", dtype="int8", accumulate="int32")
    # Validation presets (other vendors' chips) are no targets.
    with pytest.raises(ConfigError, match="unknown target 'npu:tpu-v1'"):
        make_target("npu:tpu-v1")


def test_fp16_conv_matches_fp32_closely(generator):
    import torch

    conv = torch.nn.Conv2d(3, 5, 3, padding=1)
    x = torch.rand((2, 3, 6, 6), generator=generator)
    y = npu.run_fp16(torch.nn.Sequential(conv, torch.nn.ReLU()), x)
    ref = torch.relu(conv(x.half().float()))
    assert torch.allclose(y, ref, atol=1e-2)  # FP16 outputs: about 3 significant digits
    with pytest.raises(ConfigError, match="to_fp16.accumulate must be one of"):
        npu.to_fp16(conv, accumulate="int8")
