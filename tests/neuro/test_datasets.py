"""The user's data: arrays, torch datasets and image folders as a workload's dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devices.validation import ConfigError
from neuro import datasets, workloads
from neuro.data import DataError, load_dataset
from neuro.workloads import TrainConfig, Workload, trained_model


def _quadrants(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8x8 images whose brightest quadrant is the class (a task an MLP learns at once)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 100, (n, 8, 8)).astype(np.uint8)
    y = rng.integers(0, 4, n)
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, 4 * r : 4 * r + 4, 4 * q : 4 * q + 4] += 150
    return x, y


def test_arrays_become_a_workload_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path))
    x, y = _quadrants(300, 0)
    ds = datasets.from_arrays(torch.from_numpy(x), y, name="quad", source="my lab's quadrants")
    assert (len(ds.y_train), len(ds.y_test)) == (240, 60) and ds.max_value == 255.0
    datasets.register("quadrants-test", ds, replace=True)
    assert load_dataset("quadrants-test") is ds
    w = Workload("quad-mlp", "MLP on the quadrants", lambda: workloads.models.mlp((64, 16, 4)),
                 (1, 8, 8), dataset="quadrants-test",
                 train=TrainConfig(epochs=30, batch_size=32, lr=3e-3))  # fmt: skip
    tm = trained_model(w)
    assert tm.data_source == "my lab's quadrants" and tm.test_accuracy >= 0.9


def test_a_torch_dataset_and_float_images():
    x, y = _quadrants(50, 1)
    xf = torch.from_numpy(x).float().unsqueeze(1) / 255.0
    train = torch.utils.data.TensorDataset(xf[:40], torch.from_numpy(y[:40]))
    test = torch.utils.data.TensorDataset(xf[40:], torch.from_numpy(y[40:]))
    ds = datasets.from_torch(train, test, name="tq")
    assert ds.x_train.shape == (40, 1, 8, 8) and ds.max_value == 1.0
    assert ds.source == "torch Dataset TensorDataset (40 train, 10 test)"
    xt, yt = ds.tensors("test")
    assert xt.shape == (10, 1, 8, 8) and torch.equal(yt, torch.from_numpy(y[40:]))
    np.testing.assert_allclose(xt.numpy(), xf[40:].numpy())


def test_an_image_folder(tmp_path):
    from PIL import Image

    x, y = _quadrants(24, 2)
    for split, sl in (("train", slice(0, 16)), ("test", slice(16, 24))):
        for i, (img, c) in enumerate(zip(x[sl], y[sl])):
            folder = tmp_path / "quads" / split / f"class{c}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"{i:03d}.png")
    ds = datasets.from_folder(tmp_path / "quads", grayscale=True)
    present = sorted(set(y[:16].tolist()))
    assert ds.name == "quads" and ds.source.startswith(str(tmp_path / "quads"))
    assert ds.x_train.shape == (16, 8, 8) and len(ds.y_test) == 8
    # labels are the class folders in sorted order; pixels survive the PNG round trip
    order = np.argsort([f"class{c}" for c in y[:16]], kind="stable")
    np.testing.assert_array_equal(ds.x_train, x[:16][order])
    assert ds.y_train.tolist() == [present.index(c) for c in y[:16][order]]
    rgb = datasets.from_folder(tmp_path / "quads", size=4)
    assert rgb.x_train.shape == (16, 3, 4, 4)


def test_bad_data_is_refused_in_one_line(tmp_path):
    x, y = _quadrants(10, 3)
    with pytest.raises(ConfigError, match=r"pixel values must lie in \[0, 1\] \(max_value\)"):
        datasets.from_arrays(x.astype(np.float32), y)
    with pytest.raises(ConfigError, match=r"train images must be \(N, H, W\) or \(N, C, H, W\)"):
        datasets.from_arrays(x, y[:5], x, y)
    with pytest.raises(ConfigError, match="labels must be integers >= 0"):
        datasets.from_arrays(x, -np.ones(10, dtype=int))
    with pytest.raises(ConfigError, match="give both x_test and y_test, or neither"):
        datasets.from_arrays(x, y, x)
    with pytest.raises(ConfigError, match=r"test_fraction must be in \(0, 1\)"):
        datasets.from_arrays(x, y, test_fraction=1.0)
    with pytest.raises(ConfigError, match=r"train images \(8, 8\) but test \(4, 4\)"):
        datasets.from_arrays(x, y, x[:, :4, :4], y)
    with pytest.raises(ConfigError, match=r"train\[0\] must be an \(image, label\) pair"):
        datasets.from_torch([torch.zeros(2)], [])
    with pytest.raises(DataError, match=r"image folder .*nowhere: no .*train"):
        datasets.from_folder(tmp_path / "nowhere")
    (tmp_path / "f" / "train" / "a").mkdir(parents=True)
    (tmp_path / "f" / "test" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match=r"train: no images"):
        datasets.from_folder(tmp_path / "f")
    ds = datasets.from_arrays(x, y)
    datasets.register("dup-test", ds, replace=True)
    with pytest.raises(ConfigError, match="'dup-test' is already registered"):
        datasets.register("dup-test", ds)
    with pytest.raises(ConfigError, match="expected a neuro.data.Dataset"):
        datasets.register("nope", x)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown user dataset 'nope'"):
        datasets.get("nope")
