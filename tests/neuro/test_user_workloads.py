"""The user's own models reach neuro: references, preset folders, entry points, weights."""

from __future__ import annotations

import importlib.metadata
import textwrap

import pytest
import torch

import devices
from devices.validation import ConfigError
from neuro import workloads
from neuro.cli import main
from neuro.targets.base import make_target
from neuro.workloads import user

MODEL_PY = """
from torch import nn
from neuro.workloads import TrainConfig, Workload


def build():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def build8():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


def digits():
    return Workload("my-mlp", "my MLP on digits", build8, (1, 8, 8), dataset="digits",
                    train=TrainConfig(epochs=3, batch_size=64, lr=3e-3))


def number():
    return 3
"""


@pytest.fixture(autouse=True)
def _restore_registries():
    """What these tests register (workloads, devices, target families) is removed after."""
    from neuro.targets.base import FAMILIES

    saved = [(r, dict(r._items)) for r in (workloads.REGISTRY, devices.REGISTRY, FAMILIES)]
    loaded = set(user._loaded)
    yield
    for registry, items in saved:
        registry._items.clear()
        registry._items.update(items)
    user._loaded.clear()
    user._loaded.update(loaded)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty user folder and weight cache; the model file beside them."""
    monkeypatch.setenv("NEURO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "cache"))
    (tmp_path / "mymodels.py").write_text(MODEL_PY)
    return tmp_path


def test_a_file_reference_returning_a_module_or_a_workload(home):
    ref = f"{home / 'mymodels.py'}:build"
    w = workloads.get(ref)
    # a bare module: Fashion-MNIST at 1x28x28 with the default training recipe
    assert w.name == ref and w.dataset == "fashion-mnist" and w.input_shape == (1, 28, 28)
    assert w.macs == 784 * 10 and w.train == workloads.TrainConfig()
    assert workloads.get(ref) is w  # registered under the reference


def test_module_reference_and_the_command_line(home, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(home))
    w = workloads.get("mymodels:digits")
    assert w.name == "my-mlp" and w.dataset == "digits" and w.macs == 64 * 16 + 16 * 10
    out = home / "runs.h5"
    code = main(["compare", "--workload", f"{home / 'mymodels.py'}:digits", "--targets",
                 "reference", "npu:ab9", "--quick", "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0 and "mymodels.py:digits" in text and "npu:ab9" in text
    from neuro.archive import Archive

    assert set(Archive(out).table()["workload"]) == {"my-mlp"}


def test_bad_references_fail_in_one_line(home):
    with pytest.raises(ConfigError, match=r"file '.*nope.py' not found"):
        workloads.get(f"{home / 'nope.py'}:build")
    with pytest.raises(ConfigError, match=r"has no function 'missing'"):
        workloads.get(f"{home / 'mymodels.py'}:missing")
    with pytest.raises(ConfigError, match=r"returned int; expected an nn.Module or a "):
        workloads.get(f"{home / 'mymodels.py'}:number")
    with pytest.raises(ConfigError, match=r"cannot import 'no_such_module_xyz'"):
        workloads.get("no_such_module_xyz:build")
    with pytest.raises(ConfigError, match=r"must be 'path/to/file.py:function'"):
        user.resolve("mymodels.py:")
    assert user.resolve("mlp-digits") is None


def _trained_state(home) -> dict:
    torch.manual_seed(0)
    model = workloads.get(f"{home / 'mymodels.py'}:digits")
    tm = workloads.trained_model(model)
    torch.save(tm.model.state_dict(), home / "my.pt")
    return {"acc": tm.test_accuracy}


def test_presets_in_the_user_folder(home):
    trained = _trained_state(home)
    folder = home / "home"
    (folder / "workloads").mkdir(parents=True)
    (folder / "workloads" / "mine.toml").write_text(textwrap.dedent(f'''
        model = "{home / 'mymodels.py'}:build8"
        description = "my MLP with my weights"
        input_shape = [1, 8, 8]
        dataset = "digits"
        weights = "{home / 'my.pt'}"
        spiking_steps = 128
    '''))  # fmt: skip
    (folder / "devices").mkdir()
    pcm = (devices.__path__[0] + "/presets/pcm.toml").replace("\\", "/")
    text = open(pcm).read().replace('name = "pcm"', 'name = "my-pcm"')
    (folder / "devices" / "my-pcm.toml").write_text(text)
    (folder / "targets").mkdir()
    (folder / "targets" / "pcm-6bit.toml").write_text(
        'target = "aimc:my-pcm"\n[options]\n"crossbar.adc.bits" = 6\n'
    )
    user.load_plugins(force=True)
    w = workloads.get("mine")
    assert "mine" in workloads.names() and w.train is None and w.weights.endswith("my.pt")
    assert w.spiking_steps == 128
    tm = workloads.trained_model(w)
    assert tm.test_accuracy == trained["acc"] and tm.train_time_s == 0.0  # loaded, not trained
    assert "my-pcm" in devices.names()
    target = make_target("pcm-6bit")
    assert target.name == "pcm-6bit" and target.cfg.crossbar.adc.bits == 6
    assert target.cfg.device == "my-pcm"


def test_weights_load_with_weights_only(home, monkeypatch):
    import collections

    torch.save({"weight": collections.Counter()}, home / "evil.pt")  # not a plain tensor dict
    monkeypatch.syspath_prepend(str(home))
    base = workloads.get("mymodels:digits")
    import dataclasses

    w = dataclasses.replace(base, name="evil", weights=str(home / "evil.pt"), train=None)
    with pytest.raises(ConfigError, match=r"do not load into its model with "
                       r"torch.load\(weights_only=True\)"):  # fmt: skip
        workloads.trained_model(w)
    with pytest.raises(ConfigError, match=r"weights file '.*absent.pt' not found"):
        workloads.trained_model(dataclasses.replace(w, weights=str(home / "absent.pt")))
    with pytest.raises(ConfigError, match=r"weights.*None for a shape-only workload"):
        dataclasses.replace(w, dataset=None, weights="x.pt")


def test_entry_points_of_a_plugin_package(home, monkeypatch):
    (home / "labplugin.py").write_text(MODEL_PY + textwrap.dedent('''
        from neuro.targets.base import Family, make_target

        WORKLOADS = [digits()]
        FAMILY = Family("lab", lambda variant, **o: make_target("reference", **o), lambda: [],
                        "the lab's target")
        def device(**overrides):
            import devices
            return devices.get("ideal", **overrides)
    '''))  # fmt: skip
    monkeypatch.syspath_prepend(str(home))
    eps = {
        "neuro_cosim.workloads": [("lab-workloads", "labplugin:WORKLOADS")],
        "neuro_cosim.targets": [("lab", "labplugin:FAMILY")],
        "neuro_cosim.devices": [("lab-ideal", "labplugin:device")],
    }

    def fake(group=None):
        return [importlib.metadata.EntryPoint(n, v, group) for n, v in eps.get(group, [])]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    user.load_plugins(force=True)
    assert workloads.get("my-mlp").dataset == "digits"
    assert make_target("lab").name == "reference"
    assert "lab-ideal" in devices.names()
    eps["neuro_cosim.targets"] = [("bad", "labplugin:number")]
    with pytest.raises(ConfigError, match=r"entry point 'bad' \(neuro_cosim.targets\): expected"):
        user.load_plugins(force=True)
    eps["neuro_cosim.targets"] = [("gone", "labplugin:nothing_here")]
    with pytest.raises(ConfigError, match=r"entry point 'gone' \(neuro_cosim.targets\) does not"):
        user.load_plugins(force=True)


def test_experiment_specs_name_references_and_target_presets(home):
    from neuro.experiments.spec import parse_spec

    folder = home / "home" / "targets"
    folder.mkdir(parents=True)
    (folder / "npu-fast.toml").write_text('target = "npu:ab9"\n[options]\ntest_limit = 50\n')
    user.load_plugins(force=True)
    ref = f"{home / 'mymodels.py'}:digits"
    spec = parse_spec({"name": "mine", "workloads": [ref], "targets": ["npu-fast", "reference"]})
    assert spec.workloads == (ref,) and "npu-fast" in spec.targets
    assert make_target("npu-fast").options.test_limit == 50
