"""The shared workloads: a registry of networks with their data, training and layer shapes.

>>> from neuro import workloads
>>> w = workloads.get("mlp-digits")
>>> w.ops_per_inference
4736
"""

from __future__ import annotations

from devices.registry import Registry
from neuro.workloads import models
from neuro.workloads.base import TrainConfig, Workload
from neuro.workloads.layers import LayerShape, extract_layers
from neuro.workloads.training import TrainedModel, dataset_for, evaluate_accuracy, trained_model

__all__ = [
    "Workload",
    "TrainConfig",
    "LayerShape",
    "extract_layers",
    "TrainedModel",
    "trained_model",
    "dataset_for",
    "evaluate_accuracy",
    "REGISTRY",
    "register",
    "get",
    "names",
]

REGISTRY: Registry[Workload] = Registry("workload")


def register(workload: Workload, *, replace: bool = False) -> Workload:
    """Add a workload under its name; a name used twice raises."""
    return REGISTRY.register(workload.name, workload, replace=replace)


def get(name: str) -> Workload:
    """The workload called ``name``; an unknown name lists the valid ones.

    Also the user's own (:mod:`neuro.workloads.user`): a reference ``file.py:function`` or
    ``module:function``, a preset in the user folder, a plug-in's entry point.
    """
    from neuro.workloads import user

    user.load_plugins()
    if name not in REGISTRY:
        found = user.resolve(name)
        if found is not None:
            if found.name != name and found.name not in REGISTRY:
                REGISTRY.register(found.name, found)  # results name it: found by it again
            return REGISTRY.register(name, found)
    return REGISTRY.get(name)


def names() -> list[str]:
    """Registered workload names (the user folder's presets and plug-ins' included)."""
    from neuro.workloads import user

    user.load_plugins()
    return REGISTRY.names()


register(
    Workload(
        "mlp-fmnist",
        "MLP 784-256-128-10 on Fashion-MNIST",
        lambda: models.mlp((784, 256, 128, 10)),
        (1, 28, 28),
        dataset="fashion-mnist",
        train=TrainConfig(epochs=8, batch_size=128, lr=1e-3),
    )
)
register(
    Workload(
        "cnn-fmnist",
        "LeNet-5-like CNN on Fashion-MNIST",
        lambda: models.lenet5(10),
        (1, 28, 28),
        dataset="fashion-mnist",
        train=TrainConfig(epochs=8, batch_size=128, lr=1e-3),
    )
)
register(
    Workload(
        "mlp-digits",
        "MLP 64-32-10 on scikit-learn's 8x8 digits (small, for fast tests)",
        lambda: models.mlp((64, 32, 10)),
        (1, 8, 8),
        dataset="digits",
        train=TrainConfig(epochs=40, batch_size=32, lr=3e-3),
    )
)
register(
    Workload(
        "resnet-fmnist",
        "ResNet with 10 convs (BatchNorm, identity and projection skips, max-pool) on "
        "Fashion-MNIST",
        lambda: models.resnet_fmnist(10),
        (1, 28, 28),
        dataset="fashion-mnist",
        train=TrainConfig(epochs=5, batch_size=128, lr=2e-3),
        # converted (experiments/convert_curve.py, first 250 test images, FP32 89.6 %):
        # 9.6 % at 32 steps, 49.2 % at 64, 86.8 % at 128, 87.6 % at 256; on 1,000 images
        # 87.8 % at 256 against FP32 89.0 %. Ten layers of latency need the longer window.
        spiking_steps=256,
    )
)
register(
    Workload(
        "resnet20-cifar10",
        "ResNet-20 (He et al. 2016) on CIFAR-10; needs the CIFAR-10 binary version in "
        "$NEURO_DATA (see neuro.cifar)",
        lambda: models.resnet20(10),
        (3, 32, 32),
        dataset="cifar10",
        train=TrainConfig(epochs=30, batch_size=128, lr=1e-3, weight_decay=1e-4),
        # not measured here (no CIFAR-10 on this machine): at least resnet-fmnist's 256, as
        # 19 convolutions add more latency than its 10
        spiking_steps=256,
    )
)
register(
    Workload(
        "vit-fmnist",
        "Vision transformer (7x7 patches, 16 tokens of 64, 2 blocks of 4-head attention and "
        "GELU MLP, LayerNorm) on Fashion-MNIST",
        lambda: models.vit(10),
        (1, 28, 28),
        dataset="fashion-mnist",
        train=TrainConfig(epochs=5, batch_size=128, lr=1e-3),
    )
)
register(
    Workload(
        "resnet18",
        "ResNet-18 at 224x224 (shape only: costs, no accuracy)",
        lambda: models.resnet18(1000),
        (3, 224, 224),
    )
)
register(
    Workload(
        "yolov2",
        "YOLOv2 at 416x416, COCO head: the network AB9 was evaluated on (shape only)",
        lambda: models.yolov2(80),
        (3, 416, 416),
    )
)
register(
    Workload(
        "dc-stdp-mnist",
        "Diehl & Cook 2015 unsupervised STDP, 400 excitatory neurons, on MNIST "
        "(spiking targets only; shape: the 784 x 400 input layer as its ANN equivalent)",
        lambda: models.mlp((784, 400)),
        (1, 28, 28),
        dataset="mnist",
        unsupervised=True,
    )
)
