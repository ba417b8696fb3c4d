"""Your own pretrained ResNet-18 / YOLOv2: weights, data folders, output fidelity (issue 14, item 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devices.validation import ConfigError
from neuro import workloads
from neuro.data import DataError
from neuro.workloads import models
from neuro.workloads.pretrained import output_errors, relative_error, with_weights

pytestmark = pytest.mark.usefixtures("restore_workload_registries")


def _randomise(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights (torch's init under ``seed``) and random BatchNorm statistics."""
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
                m.weight.copy_(0.5 + torch.rand(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
    return model.eval()


def _resnet18(classes: int = 10) -> torch.nn.Module:
    torch.manual_seed(0)
    return _randomise(models.resnet18(classes), 0)


# FP16 (unit roundoff 2**-11 = 4.9e-4 per rounding) through 20 weight layers with FP32
# accumulation: measured 4.4e-3 (ResNet-18, 32x32) and 5.6e-3 (YOLOv2, 64x64) relative error
# of the raw outputs; the bound is about 20 roundoffs. Ideal analog (ideal cells, no noise,
# drift or IR drop) with 12-bit DAC and ADC: measured 4.6e-4 and 4.7e-4 (8 bits: 9.2e-3,
# 10 bits: 1.8e-3, 14 bits: 1.1e-4 on ResNet-18: a factor ~4 per 2 bits, quantisation).
FP16_REL_TOL = 1e-2
ANALOG_12BIT_REL_TOL = 2e-3


def test_random_resnet18_fp16_and_ideal_analog_logits_match_fp32_within_tolerance():
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    err = output_errors(_resnet18(), x)
    assert set(err) == {"npu:ab9", "aimc:ideal"}
    assert 1e-5 < err["npu:ab9"] < FP16_REL_TOL
    assert 1e-6 < err["aimc:ideal"] < ANALOG_12BIT_REL_TOL
    coarse = output_errors(_resnet18(), x, converter_bits=8)["aimc:ideal"]
    assert coarse > 4 * err["aimc:ideal"]  # the converters are the analog error


@pytest.mark.slow
def test_random_yolov2_fp16_and_ideal_analog_detection_tensor_matches_fp32():
    torch.manual_seed(0)
    model = _randomise(models.yolov2(80), 0)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    err = output_errors(model, x)  # the raw (1, 425, 2, 2) detection tensor
    assert 1e-5 < err["npu:ab9"] < FP16_REL_TOL
    assert 1e-6 < err["aimc:ideal"] < ANALOG_12BIT_REL_TOL


def test_relative_error_is_the_norm_ratio():
    ref = torch.tensor([3.0, 4.0])
    assert relative_error(ref + torch.tensor([0.3, 0.4]), ref) == pytest.approx(0.1)


def _folder(root, classes=2, per_class=3, size=40, seed=0):
    """An evaluation image folder (<class>/*.png), RGB, random pixels."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in range(classes):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            a = rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8)
            Image.fromarray(a).save(root / f"c{c}" / f"{i}.png")
    return root


@pytest.mark.slow
def test_your_resnet18_on_an_image_folder_is_an_accuracy_workload(tmp_path):
    from neuro.compare import record_data
    from neuro.targets.base import make_target

    model = _resnet18(2)
    torch.save(model.state_dict(), tmp_path / "mine.pt")
    data = _folder(tmp_path / "eval")
    w = with_weights("resnet18", tmp_path / "mine.pt", data, image_size=32)
    assert w.name == "resnet18+mine@eval" and workloads.get(w.name) is w
    assert w.input_shape == (3, 32, 32) and w.n_classes == 2 and not w.shape_only
    tm = workloads.trained_model(w)
    x, y = workloads.dataset_for(w).tensors("test")
    assert x.shape == (6, 3, 32, 32) and y.tolist() == [0, 0, 0, 1, 1, 1]
    with torch.no_grad():
        want = (model(x).argmax(1) == y).float().mean().item()
    assert tm.test_accuracy == pytest.approx(want)
    r = record_data(w, make_target("npu:ab9").evaluate(w, seed=0))
    assert r.accuracy is not None and 0.0 <= r.accuracy <= 1.0
    assert "6 evaluation images" in r.provenance["data_source"]
    assert r.provenance["test_inputs"] == 6 and r.provenance["test_inputs_total"] == 6
    a = make_target("aimc:pcm", repeats=1, times_s=(1.0,), read_time_s=1.0,
                    calibration_size=6).evaluate(w, seed=0)  # fmt: skip
    assert a.accuracy is not None and a.extra["fp32_accuracy"] == pytest.approx(want)


def test_torchvision_key_names_are_renamed_and_imagenet_inputs_normalised(tmp_path):
    model = _resnet18(1000)
    ours = model.state_dict()
    inverse = {}
    for key, value in ours.items():
        head, _, rest = key.partition(".")
        i = int(head)
        if i in (0, 1, 14):
            inverse[f"{ {0: 'conv1', 1: 'bn1', 14: 'fc'}[i] }.{rest}"] = value
        else:
            stage, block = divmod(i - 4, 2)
            inverse[f"layer{stage + 1}.{block}.{rest.replace('shortcut.', 'downsample.')}"] = value
    assert "layer2.0.downsample.0.weight" in inverse
    renamed = models.ResNet18.adapt_state_dict(inverse)
    assert renamed.keys() == ours.keys()
    assert all(torch.equal(renamed[k], ours[k]) for k in ours)
    torch.save(inverse, tmp_path / "tv.pt")
    w = with_weights("resnet18", tmp_path / "tv.pt", _folder(tmp_path / "eval", size=48))
    built = w.build()
    assert built.normalized and torch.allclose(built.input_std.flatten(),
                                               torch.tensor(models.IMAGENET_STD))  # fmt: skip
    x, _ = workloads.dataset_for(w).tensors("test")
    assert x.shape[1:] == (3, 224, 224)  # shorter side to 256, centre crop 224


def test_a_state_dict_that_does_not_fit_names_the_first_key_and_shape(tmp_path):
    state = _resnet18(10).state_dict()
    data = _folder(tmp_path / "eval")
    cases = {
        "missing": ({k: v for k, v in state.items() if k != "14.bias"},
                    r"do not load into its model with torch\.load\(weights_only=True\): "
                    r"missing key '14\.bias' \(shape \(10,\)\)"),
        "unexpected": ({**state, "extra.weight": torch.zeros(3)},
                       r"unexpected key 'extra\.weight' \(shape \(3,\)\)"),
        "shape": ({**state, "0.weight": torch.zeros(64, 1, 7, 7)},
                  r"key '0\.weight' has shape \(64, 1, 7, 7\); the model's is \(64, 3, 7, 7\)"),
        "no classifier": ({k: v for k, v in state.items() if not k.startswith("14.")},
                          r"missing key '14\.weight'"),
    }  # fmt: skip
    for name, (bad, message) in cases.items():
        torch.save(bad, tmp_path / f"{name}.pt")
        with pytest.raises(ConfigError, match=message):
            with_weights("resnet18", tmp_path / f"{name}.pt", data, image_size=32)
    torch.save({"w": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")  # a module: code
    with pytest.raises(ConfigError, match=r"weights_only=True"):
        with_weights("resnet18", tmp_path / "module.pt", data, image_size=32)


def test_with_weights_errors(tmp_path):
    torch.save(_resnet18(2).state_dict(), tmp_path / "w.pt")
    with pytest.raises(ConfigError, match=r"give weights .*, data .*, or both"):
        with_weights("resnet18")
    with pytest.raises(ConfigError, match=r"shape-only .* give both weights"):
        with_weights("resnet18", tmp_path / "w.pt")
    with pytest.raises(ConfigError, match=r"'yolov2'.*missing key 'head\.1\.weight'"):
        with_weights("yolov2", tmp_path / "w.pt", tmp_path)  # ResNet-18 weights
    with pytest.raises(ConfigError, match=r"is a detector: give both weights .* mAP@0\.5"):
        with_weights("yolov2", tmp_path / "w.pt")  # (tests/neuro/test_detection.py: the rest)
    with pytest.raises(ConfigError, match=r"weights file .*absent\.pt' not found"):
        with_weights("resnet18", tmp_path / "absent.pt", tmp_path)
    with pytest.raises(DataError, match=r"nowhere' is not a folder; give an image folder"):
        with_weights("resnet18", tmp_path / "w.pt", tmp_path / "nowhere", image_size=32)
    data = _folder(tmp_path / "eval", classes=3)
    with pytest.raises(ConfigError, match=r"has 2 outputs but .* labels up to 2"):
        with_weights("resnet18", tmp_path / "w.pt", data, image_size=32)
    with pytest.raises(ConfigError, match=r"image_size must be an integer in \[8, 4096\]"):
        with_weights("resnet18", tmp_path / "w.pt", data, image_size=4)
    with pytest.raises(ConfigError, match=r"normalize must be 'auto', 'imagenet', None"):
        with_weights("resnet18", tmp_path / "w.pt", data, image_size=32, normalize=(1, 2))
