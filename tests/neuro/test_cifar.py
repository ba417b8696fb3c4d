"""CIFAR binary reader (synthetic files in the official format) and the ResNet-20 workload."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from devices.validation import ConfigError
from neuro import workloads
from neuro.cifar import load_cifar, read_cifar_bin, write_cifar_bin
from neuro.data import DataError, load_dataset
from neuro.workloads import TrainConfig, trained_model


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


@pytest.fixture
def cifar10_dir(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for i in (1, 2):
        write_cifar_bin(folder / f"data_batch_{i}.bin", *_images(12, i))
    write_cifar_bin(folder / "test_batch.bin", *_images(8, 9))
    return tmp_path


def test_a_record_is_one_label_byte_then_the_red_green_blue_planes(tmp_path):
    record = np.zeros(1 + 3072, dtype=np.uint8)
    record[0] = 7
    record[1 + 0 * 1024 + 5] = 11  # red plane, row 0, column 5
    record[1 + 1 * 1024 + 32 * 2 + 3] = 22  # green plane, row 2, column 3
    record[1 + 2 * 1024 + 32 * 31 + 31] = 33  # blue plane, last pixel
    path = tmp_path / "one.bin"
    np.concatenate([record, record]).tofile(path)
    x, y = read_cifar_bin(path, 1)
    assert x.shape == (2, 3, 32, 32) and y.tolist() == [7, 7]
    assert (x[0, 0, 0, 5], x[0, 1, 2, 3], x[0, 2, 31, 31]) == (11, 22, 33)
    assert int(x.sum()) == 2 * (11 + 22 + 33)


def test_cifar10_from_neuro_data_and_from_a_named_folder(cifar10_dir, monkeypatch):
    monkeypatch.setenv("NEURO_DATA", str(cifar10_dir))
    ds = load_dataset("cifar10")
    assert ds.source == str(cifar10_dir / "cifar-10-batches-bin") + " (2 training files)"
    x_ref, y_ref = _images(12, 1)
    np.testing.assert_array_equal(ds.x_train[:12], x_ref)
    np.testing.assert_array_equal(ds.y_train[:12], y_ref)
    assert len(ds.y_train) == 24 and len(ds.y_test) == 8
    x, y = ds.tensors("test", limit=5)
    assert x.shape == (5, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (5,)
    assert float(x.max()) <= 1.0
    monkeypatch.delenv("NEURO_DATA")
    named = load_dataset(f"cifar10:{cifar10_dir / 'cifar-10-batches-bin'}")
    np.testing.assert_array_equal(named.x_test, ds.x_test)


def test_cifar100_uses_the_fine_label(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    x, _ = _images(4, 3)
    fine, coarse = np.array([99, 0, 42, 7]), np.array([19, 0, 8, 1])
    for name in ("train.bin", "test.bin"):
        write_cifar_bin(folder / name, x, fine, coarse=coarse)
    ds = load_cifar(f"cifar100:{tmp_path}")
    assert ds.y_train.tolist() == [99, 0, 42, 7] and ds.name == "cifar100"
    np.testing.assert_array_equal(ds.x_test, x)


def test_missing_truncated_and_corrupt_files_are_named(tmp_path, cifar10_dir, monkeypatch):
    monkeypatch.setenv("NEURO_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"dataset 'cifar10' not found: looked for "
                       r"data_batch_1.bin, test_batch.bin in .*empty.*; download the binary "
                       r"version \(https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz\)"):  # fmt: skip
        load_dataset("cifar10")
    folder = cifar10_dir / "cifar-10-batches-bin"
    with open(folder / "test_batch.bin", "ab") as fh:
        fh.write(b"\x00" * 10)
    with pytest.raises(DataError, match=r"test_batch.bin: 24594 bytes is not a whole number"):
        load_cifar(f"cifar10:{cifar10_dir}")
    x, y = _images(2, 5)
    write_cifar_bin(folder / "test_batch.bin", x, np.array([3, 10]))
    with pytest.raises(DataError, match=r"test_batch.bin: label 10 out of range for cifar10"):
        load_cifar(f"cifar10:{cifar10_dir}")
    with pytest.raises(DataError, match="'imagenet' is not a CIFAR dataset"):
        load_cifar("imagenet")
    with pytest.raises(
        ConfigError, match=r"got 'cifar-10' \(CIFAR: cifar10 or cifar100, optionally ':folder'"
    ):
        load_dataset("cifar-10")


def test_resnet20_cifar10_runs_on_the_users_folder(cifar10_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("NEURO_DATA", str(cifar10_dir))
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path / "cache"))
    w = workloads.get("resnet20-cifar10")
    convs = [layer for layer in w.layers if layer.kind == "conv2d"]
    # 19 3x3 convs + 2 projection shortcuts; He et al. 2016: ResNet-20 has 0.27 M weights
    assert len(convs) == 21 and sum(c.kernel_size == (3, 3) for c in convs) == 19
    assert w.n_weights == 270_896 and w.macs == 40_813_184
    small = dataclasses.replace(w, train=TrainConfig(epochs=1, batch_size=8))
    tm = trained_model(small)
    assert tm.data_source.startswith(str(cifar10_dir))
    assert 0.0 <= tm.test_accuracy <= 1.0
    from npu import run_fp16

    x, _ = load_dataset("cifar10").tensors("test")
    with torch.no_grad():
        ref = tm.model(x)
    got = run_fp16(tm.model, x, accumulate="fp32")
    # FP16 operands (11-bit significands) through 21 convs: within 2 % of the logit range
    assert float((got - ref).abs().max()) <= 0.02 * float(ref.abs().max())
