"""Workload registry, layer shapes against published MAC counts, deterministic training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from devices.registry import DuplicateNameError, UnknownNameError
from devices.validation import ConfigError
from neuro import workloads
from neuro.workloads import TrainConfig, Workload, extract_layers, trained_model


def test_registry_lists_the_builtins():
    assert {"mlp-fmnist", "cnn-fmnist", "mlp-digits", "resnet18", "yolov2"} <= set(
        workloads.names()
    )


def test_registry_refuses_duplicates_and_lists_valid_names():
    with pytest.raises(DuplicateNameError, match="'mlp-digits' is already registered"):
        workloads.register(workloads.get("mlp-digits"))
    with pytest.raises(UnknownNameError, match="unknown workload 'nope'; valid: cnn-fmnist"):
        workloads.get("nope")


def test_mlp_fmnist_shapes():
    w = workloads.get("mlp-fmnist")
    linear = [layer for layer in w.layers if layer.kind == "linear"]
    assert [(layer.in_features, layer.out_features) for layer in linear] == [
        (784, 256),
        (256, 128),
        (128, 10),
    ]
    assert w.macs == 784 * 256 + 256 * 128 + 128 * 10
    assert w.ops_per_inference == 2 * w.macs
    assert linear[0].gemm() == (1, 784, 256)


def test_lenet_macs_by_hand():
    w = workloads.get("cnn-fmnist")
    conv = [layer for layer in w.layers if layer.kind == "conv2d"]
    assert conv[0].output_shape == (6, 28, 28) and conv[1].output_shape == (16, 10, 10)
    expected = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    assert w.macs == expected
    assert conv[1].gemm() == (100, 150, 16)


def test_resnet18_macs_match_the_published_figure():
    # He et al. 2016, Table 1: ResNet-18 is 1.8e9 FLOPs (multiply-adds) at 224x224;
    # the exact count (convolutions + fc) is 1,814,073,344 MACs.
    w = workloads.get("resnet18")
    assert w.macs == 1_814_073_344
    assert w.n_weights == 11_678_912  # 11.69 M parameters minus BN and bias terms
    assert w.layers[0].output_shape == (64, 112, 112)
    assert w.layers[-1].kind == "linear" and w.layers[-1].in_features == 512


def test_yolov2_flops_match_darknet():
    # Darknet's yolov2.cfg: 62.94 BFLOPs at 608x608, i.e. 62.94 * (416/608)^2 = 29.46 at 416.
    w = workloads.get("yolov2")
    expected = 62.94e9 * (416 / 608) ** 2
    assert abs(w.ops_per_inference - expected) / expected < 0.002
    assert w.layers[-1].output_shape == (425, 13, 13)
    reorg = [layer for layer in w.layers if layer.name.endswith("passthrough.1")]
    assert reorg and reorg[0].output_shape == (256, 13, 13)


def test_extractor_on_a_user_model_sees_strided_grouped_conv():
    model = nn.Sequential(
        nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(2)
    )
    layers = extract_layers(model, (4, 16, 16))
    conv, relu, pool = layers
    assert conv.output_shape == (8, 8, 8)
    assert conv.macs == 8 * 8 * 8 * (4 // 2) * 9
    assert conv.gemm() == (64, 18, 4)
    assert relu.kind == "elementwise" and relu.ops == 8 * 8 * 8
    assert pool.output_shape == (8, 4, 4) and pool.ops == 8 * 4 * 4 * 4
    # the model itself is untouched (still on the CPU, not meta)
    assert next(model.parameters()).device.type == "cpu"


def test_workload_validation():
    with pytest.raises(
        ConfigError,
        match=r"Workload.input_shape must be a tuple of positive integers; got \(0, 3\)",
    ):
        Workload("x", "", lambda: nn.Identity(), (0, 3))
    with pytest.raises(
        ConfigError, match="Workload.train must be set exactly when a dataset is set"
    ):
        Workload("x", "", lambda: nn.Identity(), (3,), dataset="digits")
    with pytest.raises(ConfigError, match="TrainConfig.epochs must be an integer in"):
        TrainConfig(epochs=0)


def test_training_is_deterministic_bit_for_bit():
    w = workloads.get("mlp-digits")
    a = trained_model(w, retrain=True)
    b = trained_model(w, retrain=True)
    for (k, va), (_, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(va, vb), k
    assert a.key == b.key
    assert a.test_accuracy == b.test_accuracy
    # 8x8 digits with a 64-32-10 MLP: well above 90 % (scikit-learn's MLP reaches ~97 %).
    assert a.test_accuracy > 0.93


def test_cache_hit_returns_the_same_weights(monkeypatch):
    w = workloads.get("mlp-digits")
    first = trained_model(w)

    def boom(*args, **kwargs):
        raise AssertionError("trained again instead of using the cache")

    monkeypatch.setattr(workloads.training, "_train", boom)
    second = trained_model(w)
    assert second.path == first.path
    for va, vb in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(va, vb)


def test_cache_key_changes_with_the_recipe():
    base = workloads.get("mlp-digits")
    other = Workload(
        "mlp-digits", base.description, base.build, base.input_shape, dataset="digits",
        train=TrainConfig(epochs=3, batch_size=32, lr=3e-3),
    )  # fmt: skip
    data = workloads.dataset_for(base)
    assert workloads.training._key(base, data) != workloads.training._key(other, data)


def test_shape_only_workload_has_no_dataset():
    with pytest.raises(ConfigError, match="'resnet18' is shape-only"):
        workloads.dataset_for(workloads.get("resnet18"))


def test_resnet_fmnist_has_batchnorm_skips_and_max_pooling():
    w = workloads.get("resnet-fmnist")
    kinds = [layer.kind for layer in w.layers]
    convs = [layer for layer in w.layers if layer.kind == "conv2d"]
    assert len(convs) == 10  # 1 stem + 4 blocks x 2 + 1 projection shortcut
    adds = [layer for layer in w.layers if layer.activation == "add"]
    bns = [layer for layer in w.layers if layer.activation == "batchnorm"]
    assert len(adds) == 4 and len(bns) == 10 and "pool" in kinds
    # by hand: stem 28*28*8*9, 4 convs 14*14*8*8*9, 7*7*16*8*9, 3 convs 7*7*16*16*9,
    # the 1x1 projection 7*7*16*8 and the fc 16*10
    expected = (28 * 28 * 8 * 9 + 4 * 14 * 14 * 8 * 8 * 9 + 7 * 7 * 16 * 8 * 9
                + 3 * 7 * 7 * 16 * 16 * 9 + 7 * 7 * 16 * 8 + 16 * 10)  # fmt: skip
    assert w.macs == expected == 909_600
    assert w.layers[-1].kind == "linear" and w.layers[-1].in_features == 16


def test_vit_fmnist_layers_by_hand():
    from neuro.targets.npu import to_ops

    w = workloads.get("vit-fmnist")
    # patch conv 16 tokens x 64 x 7*7; per block: qkv 16*64*192, scores and context
    # 4 heads x 16 x 16 x 16 each, proj 16*64*64, MLP 2 x 16*64*128; head 64*10
    block = 16 * 64 * 192 + 2 * 4 * 16 * 16 * 16 + 16 * 64 * 64 + 2 * 16 * 64 * 128
    assert w.macs == 16 * 64 * 49 + 2 * block + 64 * 10 == 1_164_928
    by_name = {layer.name: layer for layer in w.layers}
    scores = by_name["3.attn.scores"]
    assert scores.kind == "matmul" and scores.gemm() is None  # no weights: digital on aimc
    assert (scores.in_features, scores.out_features, scores.groups) == (16, 16, 4)
    assert scores.ops == 2 * scores.macs
    assert by_name["3.attn.softmax"].ops == 5 * 4 * 16 * 16
    assert by_name["3.norm1"].activation == "layernorm" and by_name["3.norm1"].ops == 7 * 16 * 64
    assert by_name["3.attn.qkv"].macs == 16 * 64 * 192
    ops = {op.name: op for op in to_ops(w)}
    s = ops["3.attn.scores"]  # on the NPU: one 16 x 16 x 16 GEMM per head on the array
    assert (s.kind, s.m, s.k, s.n, s.groups, s.macs) == ("linear", 16, 16, 16, 4, 16384)
    sm = ops["3.attn.softmax"]  # the softmax on the vector path
    assert sm.kind == "elementwise" and sm.alu_ops == 5120 and sm.macs == 0


def test_torch_multihead_attention_is_counted_step_by_step():
    # a torch encoder layer: MHA's projections are parameters, not module calls, so the
    # extractor lists its five steps itself
    enc = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
    layers = {layer.name: layer for layer in extract_layers(enc, (16, 32))}
    assert layers["self_attn.in_proj"].macs == 16 * 32 * 96
    assert layers["self_attn.scores"].macs == layers["self_attn.context"].macs == 4 * 16 * 16 * 8
    assert layers["self_attn.softmax"].ops == 5 * 4 * 16 * 16
    assert layers["self_attn.out_proj"].macs == 16 * 32 * 32
    assert sum(layer.macs for layer in layers.values()) == 49152 + 2 * 8192 + 16384 + 2 * 32768
