"""Models and data named in specs, presets and the command line (issue 14, items 2 and 5)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from devices.validation import ConfigError
from neuro import datasets, workloads
from neuro.workloads import models, user

MODEL_PY = """
from torch import nn
from neuro.workloads import TrainConfig, Workload


def build():
    return Workload("{name}", "tiny MLP on digits", lambda: nn.Sequential(nn.Flatten(),
                    nn.Linear(64, 10)), (1, 8, 8), dataset="digits",
                    train=TrainConfig(epochs=1, batch_size=64, lr=3e-3))
"""


@pytest.fixture(autouse=True)
def _restore_registries(tmp_path, monkeypatch):
    """An empty user folder and weight cache; what a test registers is removed after."""
    monkeypatch.setenv("NEURO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "cache"))
    saved = dict(workloads.REGISTRY._items), dict(datasets._REGISTRY), set(user._loaded)
    yield
    workloads.REGISTRY._items.clear()
    workloads.REGISTRY._items.update(saved[0])
    datasets._REGISTRY.clear()
    datasets._REGISTRY.update(saved[1])
    user._loaded.clear()
    user._loaded.update(saved[2])


def test_spec_model_paths_are_relative_to_the_spec_file_not_the_cwd(tmp_path, monkeypatch):
    from neuro.experiments.spec import load_spec

    spec_dir, cwd = tmp_path / "lab" / "specs", tmp_path / "elsewhere"
    (spec_dir / "models").mkdir(parents=True)
    (cwd / "models").mkdir(parents=True)
    (spec_dir / "models" / "tiny.py").write_text(MODEL_PY.format(name="beside-the-spec"))
    (cwd / "models" / "tiny.py").write_text(MODEL_PY.format(name="in-the-cwd"))
    (spec_dir / "run.toml").write_text(textwrap.dedent("""
        name = "relative"
        workloads = ["models/tiny.py:build", "mlp-digits"]
        targets = ["reference"]
    """))  # fmt: skip
    monkeypatch.chdir(cwd)
    spec = load_spec(tmp_path / "lab" / "specs" / "run.toml")
    ref = f"{spec_dir.resolve() / 'models' / 'tiny.py'}:build"
    assert spec.workloads == (ref, "mlp-digits")
    assert workloads.get(spec.workloads[0]).name == "beside-the-spec"
    assert workloads.get("models/tiny.py:build").name == "in-the-cwd"  # the CLI: the cwd
    monkeypatch.chdir(spec_dir)  # a spec read from its own folder names the same file
    assert load_spec("run.toml").workloads == (ref, "mlp-digits")


def test_absolute_reference_leaves_names_modules_and_absolute_paths():
    assert user.absolute_reference("mlp-digits", "/x") == "mlp-digits"
    assert user.absolute_reference("pkg.mod:build", "/x") == "pkg.mod:build"
    assert user.absolute_reference("/abs/m.py:build", "/x") == "/abs/m.py:build"
    assert user.absolute_reference("m.py:build", "/x/y") == "/x/y/m.py:build"


def _folder(root, classes=2, per_class=3, size=36):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                root / f"c{c}" / f"{i}.png"
            )
    return root


def _resnet18_weights(path, classes=2):
    torch.manual_seed(0)
    torch.save(models.resnet18(classes).state_dict(), path)
    return path


def test_a_user_preset_gives_resnet18_its_weights_and_data(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "workloads").mkdir(parents=True)
    _resnet18_weights(home / "workloads" / "r18.pt")
    _folder(home / "workloads" / "eval")
    (home / "workloads" / "my-r18.toml").write_text(textwrap.dedent("""
        model = "resnet18"
        weights = "r18.pt"
        data = "eval"
        description = "my ResNet-18"
    """))  # fmt: skip
    w = workloads.get("my-r18")
    assert w.name == "my-r18" and w.description == "my ResNet-18" and w.n_classes == 2
    assert w.weights.endswith("r18.pt") and not w.shape_only
    assert w.input_shape == (3, 224, 224)  # the workload's size: the images are resized
    assert "6 evaluation images" in workloads.dataset_for(w).source
    (home / "workloads" / "bad.toml").write_text('model = "resnet18"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: model 'resnet18' names a workload; give "):
        user.workload_from_toml(home / "workloads" / "bad.toml")
    (home / "workloads" / "bad2.toml").write_text('model = "m.py:build"\ndata = "eval"\n')
    with pytest.raises(ConfigError, match=r"'data' goes with a workload name as model"):
        user.workload_from_toml(home / "workloads" / "bad2.toml")
    (home / "workloads" / "bad3.toml").write_text('model = "m.py:build"\nimage_size = 64\n')
    with pytest.raises(ConfigError, match=r"'image_size' goes with a workload name as model"):
        user.workload_from_toml(home / "workloads" / "bad3.toml")
    # a detector's input size and anchors reach with_weights
    (home / "workloads" / "my-yolo.toml").write_text(textwrap.dedent("""
        model = "yolov2"
        weights = "y.pt"
        data = "voc"
        image_size = 320
        anchors = [[1.0, 2.0], [3.0, 4.5]]
    """))  # fmt: skip
    import neuro.workloads.pretrained as pretrained

    seen = {}

    def fake(name, weights, data, **options):
        seen.update(name=name, data=data, **options)
        return workloads.get("mlp-digits")

    monkeypatch.setattr(pretrained, "with_weights", fake)
    user.workload_from_toml(home / "workloads" / "my-yolo.toml")
    assert seen["name"] == "yolov2" and seen["data"] == home / "workloads" / "voc"
    assert seen["image_size"] == 320 and seen["anchors"] == [(1.0, 2.0), (3.0, 4.5)]


@pytest.mark.slow
def test_compare_takes_weights_and_data_on_the_command_line(tmp_path, capsys):
    from neuro.cli import main

    weights = _resnet18_weights(tmp_path / "r18.pt")
    data = _folder(tmp_path / "eval", size=32)
    out = tmp_path / "runs.h5"
    rc = main(["compare", "--workload", "resnet18", "--weights", str(weights), "--data",
               str(data), "--targets", "npu:ab9", "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "resnet18+r18@eval" in text and "npu:ab9" in text
    assert "evaluation images" in text  # the data source beside the accuracy
    rc = main(["compare", "--workload", "resnet18", "--weights", str(weights), "--targets",
               "npu:ab9", "--out", str(out)])  # fmt: skip
    assert rc == 2
    assert "shape-only (no data, no training recipe): give both" in capsys.readouterr().err
