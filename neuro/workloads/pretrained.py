"""Your own trained weights and data on a workload: ResNet-18 (and any other) with accuracy.

The shape-only workloads (``resnet18``, ``yolov2``) give costs only: they have no data and
no training recipe. With a state dict and a data folder, :func:`with_weights` makes an
accuracy workload of them (and of any registered workload: new data retrains it with its
recipe, new weights replace the trained ones)::

    from neuro.workloads.pretrained import with_weights
    w = with_weights("resnet18", weights="resnet18.pt", data="~/data/imagenet-val-subset")
    # then: make_target("npu:ab9").evaluate(w, seed=0), make_target("aimc:pcm")...

or from the command line ``neuro compare --workload resnet18 --weights resnet18.pt --data
~/data/imagenet-val-subset --targets reference npu:ab9 aimc:pcm``.

* **Weights** are read with ``torch.load(weights_only=True)`` (tensors only; a training
  checkpoint's ``"state_dict"`` entry is used). ResNet-18 takes its own key names (those of
  ``workloads.get("resnet18").build().state_dict()``) or torchvision's (``conv1``,
  ``layer1.0.conv1``, ``fc``: renamed by :meth:`~neuro.workloads.models.ResNet18.adapt_state_dict`);
  the number of classes is read from the classifier's weight. A state dict that does not fit
  fails in one line naming the first missing, unexpected or mis-shaped key and its shape.
* **Data** is a folder (:func:`neuro.datasets.from_path`): CIFAR-10/100 binaries (their
  native 32×32), an image folder with ``train/`` and ``test/`` (or ``val/``) of class
  folders, or class folders alone (an evaluation set). Images are resized to the
  workload's input size (``image_size`` overrides it; ResNet-18 runs at any size ≥ 32).
* **Normalisation**: a ResNet-18 with 1,000 classes or torchvision's key names is taken to
  be a torchvision ImageNet model: its inputs are normalised by ImageNet's mean and std and
  images are read as torchvision evaluates (shorter side to 256/224 of the size, centre
  crop). ``normalize`` overrides it (``"imagenet"``, ``None`` or ``(mean, std)``).
* **YOLOv2** is a detector: its accuracy is the PASCAL VOC **mAP@0.5** (all-point
  interpolation, :mod:`neuro.detection`) on a detection folder in YOLO format
  (:func:`neuro.datasets.from_detection_folder`: ``images/*.jpg`` with ``labels/*.txt`` of
  ``class cx cy w h`` lines), decoded with the anchors of Darknet's ``yolov2-voc.cfg``
  (``yolov2.cfg``'s for 80 classes; ``anchors`` overrides them). Its weights use this
  package's key names (``workloads.get("yolov2").build().state_dict()``: ``stage1.0.0.weight``
  … ``head.1.weight``); the number of classes is read from the detector conv
  ``head.1.weight`` (``A·(5 + classes)`` outputs for ``A`` anchors). ``image_size`` (a
  multiple of 32, default 416) sets the input. Every target scores the raw output tensor
  of its own numerics (FP32, the FP16 path, the crossbars) the same way.
  :func:`output_errors` measures how far the FP16 path of ``npu:ab9`` and an ideal analog
  crossbar move the raw output tensor itself from FP32.

The data source, the number of test inputs and any subset reach every result's provenance
as for the built-in datasets (``data_source``, ``test_inputs``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from devices.validation import ConfigError
from neuro.workloads import models
from neuro.workloads.base import Workload
from neuro.workloads.training import fit_state, load_state

__all__ = ["with_weights", "output_errors", "relative_error"]

#: Inputs of ResNet-18 weights taken to be torchvision's ImageNet model.
_IMAGENET = (models.IMAGENET_MEAN, models.IMAGENET_STD)
#: torchvision's evaluation crop for ImageNet: resize to 256, centre crop 224.
IMAGENET_CROP = 224 / 256
#: YOLOv2's detector conv (its output has anchors × (5 + classes) channels).
_YOLO_HEAD = "head.1.weight"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _normalisation(normalize: Any, imagenet_like: bool) -> tuple | None:
    if isinstance(normalize, str) and normalize == "auto":
        return _IMAGENET if imagenet_like else None
    if normalize is None:
        return None
    if isinstance(normalize, str) and normalize == "imagenet":
        return _IMAGENET
    ok = (
        isinstance(normalize, (list, tuple)) and len(normalize) == 2
        and all(isinstance(v, (list, tuple)) and len(v) == 3 for v in normalize)
        and all(float(s) > 0 for s in normalize[1])
    )  # fmt: skip
    if not ok:
        raise ConfigError(
            f"normalize must be 'auto', 'imagenet', None or (mean, std) of 3 channels each "
            f"(std > 0); got {normalize!r}"
        )
    return tuple(tuple(float(v) for v in part) for part in normalize)


def _resnet18(weights: Path, normalize: Any) -> tuple[Any, int, bool]:
    """(build, classes, imagenet-like) of ResNet-18 for the state dict at ``weights``."""
    state = load_state(weights, "workload 'resnet18'")
    if not isinstance(state, dict):
        raise ConfigError(
            f"workload 'resnet18': weights {str(weights)!r} hold a {type(state).__name__}, "
            "not a state dict"
        )
    torchvision = "layer1.0.conv1.weight" in state
    fc = models.ResNet18.adapt_state_dict(state).get("14.weight")
    if fc is None or getattr(fc, "ndim", 0) != 2 or fc.shape[1] != 512:
        raise ConfigError(
            f"workload 'resnet18': weights {str(weights)!r} do not load into its model with "
            "torch.load(weights_only=True): missing key "
            "'14.weight' (shape (classes, 512); torchvision's 'fc.weight')"
        )
    classes = int(fc.shape[0])
    norm = _normalisation(normalize, torchvision or classes == 1000)

    def build() -> nn.Module:
        return models.resnet18(classes, normalize=norm)

    return build, classes, norm == _IMAGENET


def _yolov2(weights: Path, anchors: Any) -> tuple[Any, int, Any]:
    """(build, classes, detection config) of YOLOv2 for the state dict at ``weights``."""
    from neuro.detection import COCO_ANCHORS, VOC_ANCHORS, DetectionConfig

    state = load_state(weights, "workload 'yolov2'")
    head = state.get(_YOLO_HEAD) if isinstance(state, dict) else None
    if head is None or getattr(head, "ndim", 0) != 4 or head.shape[1] != 1024:
        raise ConfigError(
            f"workload 'yolov2': weights {str(weights)!r} do not load into its model with "
            f"torch.load(weights_only=True): missing key {_YOLO_HEAD!r} (shape "
            "(anchors * (5 + classes), 1024, 1, 1), the detector conv)"
        )
    n_anchors = len(VOC_ANCHORS) if isinstance(anchors, str) else len(tuple(anchors))
    out = int(head.shape[0])
    if n_anchors == 0 or out % n_anchors or out // n_anchors < 6:
        raise ConfigError(
            f"workload 'yolov2': the detector conv {_YOLO_HEAD!r} of {str(weights)!r} has {out} "
            f"outputs, not {n_anchors} anchors x (5 + classes) with classes >= 1"
        )
    classes = out // n_anchors - 5
    if isinstance(anchors, str):
        if anchors != "auto":
            raise ConfigError(f"anchors must be 'auto' or (width, height) pairs; got {anchors!r}")
        anchors = COCO_ANCHORS if classes == 80 else VOC_ANCHORS
    config = DetectionConfig(anchors=tuple(anchors))

    def build() -> nn.Module:
        return models.YOLOv2(classes, n_anchors)

    return build, classes, config


def with_weights(
    name: str,
    weights: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    *,
    image_size: int | None = None,
    normalize: Any = "auto",
    anchors: Any = "auto",
    register: bool = True,
) -> Workload:
    """Workload ``name`` with the user's weights and/or data (see the module docstring).

    Parameters
    ----------
    name : str
        A registered workload (``"resnet18"``, ``"resnet-fmnist"``, a user's reference).
    weights : path, optional
        A state dict of the workload's model (``torch.save(model.state_dict(), path)``).
    data : path, optional
        A data folder (:func:`neuro.datasets.from_path`). A shape-only workload needs both.
    image_size : int, optional
        Input height and width (square) for image folders; default the workload's.
    normalize : "auto", "imagenet", None or (mean, std)
        ResNet-18's input normalisation (the module docstring says what "auto" picks).
    anchors : "auto" or sequence of (float, float)
        YOLOv2's anchor priors in grid cells: "auto" takes Darknet's VOC anchors
        (:data:`neuro.detection.VOC_ANCHORS`), or its COCO ones for 80 classes.
    register : bool
        Register the workload (and its dataset) so that it is found by its name.

    Returns
    -------
    Workload
        Named ``<name>+<weights file stem>`` and/or ``@<data folder name>``; its dataset is
        registered in :mod:`neuro.datasets` under a name that hashes the folder's path.

    Raises
    ------
    ConfigError
        Neither given; a shape-only workload (or YOLOv2) without both; weights that do
        not load or fit; ``anchors`` for a classifier; a YOLOv2 ``image_size`` that is no
        multiple of 32.
    DataError
        A folder without data (a detection folder: see
        :func:`neuro.datasets.from_detection_folder`).
    """
    from neuro import datasets, workloads

    if weights is None and data is None:
        raise ConfigError(
            f"workload {name!r}: give weights (a state dict file), data (a folder), or both"
        )
    base = workloads.get(name)
    model = base.build()
    detector = isinstance(model, models.YOLOv2)
    if detector and (weights is None or data is None):
        raise ConfigError(
            f"workload {name!r} is a detector: give both weights (a state dict) and data (a "
            "detection folder: images/ and labels/ in YOLO format) to measure its mAP@0.5"
        )
    if not detector and not (isinstance(anchors, str) and anchors == "auto"):
        raise ConfigError(f"workload {name!r}: anchors apply to a detector (yolov2) only")
    if base.shape_only and (weights is None or data is None):
        raise ConfigError(
            f"workload {name!r} is shape-only (no data, no training recipe): give both weights "
            "(a state dict) and data (a folder) to measure its accuracy"
        )
    fields: dict[str, Any] = {}
    label = name
    build, n_classes, imagenet, detection = base.build, base.n_classes, False, None
    if weights is not None:
        path = Path(weights).expanduser().resolve()
        if isinstance(model, models.ResNet18):
            build, n_classes, imagenet = _resnet18(path, normalize)
        elif detector:
            build, n_classes, detection = _yolov2(path, anchors)
        owner = f"workload {name!r}"  # checked now: a mismatch fails before data is read
        fit_state(build(), load_state(path, owner), owner, path)
        fields.update(weights=str(path), train=None)
        label += f"+{path.stem}"
    input_shape = tuple(base.input_shape)
    if data is not None:
        folder = Path(data).expanduser().resolve()
        size = int(image_size or input_shape[-1])
        if image_size is not None and not 8 <= image_size <= 4096:
            raise ConfigError(f"image_size must be an integer in [8, 4096]; got {image_size!r}")
        shape = (input_shape[0], size, size)
        key = str(folder)
        if detector:
            if size % 32:
                raise ConfigError(
                    f"workload {name!r}: image_size must be a multiple of 32 (YOLOv2's output "
                    f"stride); got {size}"
                )
            ds = datasets.from_detection_folder(folder, size=size, config=detection,
                                                name=folder.name)  # fmt: skip
            key += f"|{size}|{detection!r}"  # another size or anchors: another dataset
        else:
            crop = IMAGENET_CROP if imagenet else None
            ds = datasets.from_path(folder, shape, crop=crop, name=folder.name)
        shape = (int(ds.x_test.shape[1]) if ds.x_test.ndim == 4 else 1, *ds.image_shape[-2:])
        if shape[0] != input_shape[0]:
            raise ConfigError(
                f"workload {name!r} takes {input_shape[0]}-channel inputs; {str(folder)!r} "
                f"holds {shape[0]}-channel images"
            )
        ds_name = f"{folder.name}-{_digest(key)}"
        if register:
            datasets.register(ds_name, ds, replace=True)
        fields.update(dataset=ds_name, input_shape=shape)
        if ds.n_classes > n_classes:
            raise ConfigError(
                f"workload {name!r} has {n_classes} outputs but {str(folder)!r} has labels up "
                f"to {ds.n_classes - 1}"
            )
        label += f"@{folder.name}"
        if weights is None and base.train is not None:
            fields["train"] = base.train  # new data: trained again with the recipe
    desc = f"{base.description.split(' (shape only')[0]}, your " + " and ".join(
        part for part, given in (("weights", weights), ("data", data)) if given is not None
    )
    if detector:
        side = fields["input_shape"][-1]
        desc = (
            f"YOLOv2 ({n_classes} classes) at {side}x{side}, your weights and data; accuracy "
            f"is {detection.metric} (PASCAL VOC)"
        )
    workload = dataclasses.replace(
        base, name=label, description=desc, build=build, n_classes=n_classes, **fields
    )
    if register:
        workloads.register(workload, replace=True)
    return workload


def relative_error(y: torch.Tensor, ref: torch.Tensor) -> float:
    """``‖y − ref‖ / ‖ref‖`` over the whole tensor (Frobenius norm)."""
    return float((y.double() - ref.double()).norm() / ref.double().norm().clamp_min(1e-300))


@torch.no_grad()
def output_errors(
    model: nn.Module,
    x: torch.Tensor,
    *,
    npu_target: str = "ab9",
    converter_bits: int = 12,
) -> dict[str, float]:
    """How far the FP16 and the ideal analog paths move ``model``'s raw outputs from FP32.

    Parameters
    ----------
    model : torch.nn.Module
        The FP32 network (logits, or YOLOv2's detection tensor).
    x : torch.Tensor
        ``(N, C, H, W)`` inputs.
    npu_target : str
        The NPU preset whose FP16 accumulation and weight-stationary fold order is used
        (:func:`npu.run_fp16`, as the ``npu`` target runs it).
    converter_bits : int
        DAC and ADC resolution of the analog path (the ideal device: no programming or read
        noise, no drift, no output noise, no IR drop; the converters the only error).

    Returns
    -------
    dict
        ``{"npu:<preset>": e, "aimc:ideal": e}``: :func:`relative_error` of the outputs.
    """
    import devices
    import npu
    from crossbar import ADCConfig, CrossbarConfig, DACConfig
    from crossbar.nn import calibrate, convert

    model = model.eval()
    ref = model(x)
    cfg = npu.presets.get(npu_target)
    fold_k = cfg.array_rows if cfg.dataflow == "ws" else None
    y16 = npu.run_fp16(model, x, accumulate=cfg.accumulate, fold_k=fold_k)
    xcfg = dataclasses.replace(
        CrossbarConfig.ideal(),
        dac=DACConfig(bits=converter_bits),
        adc=ADCConfig(bits=converter_bits, out_noise=0.0),
    )
    analog = convert(model, xcfg, device_model=devices.get("ideal"))
    calibrate(analog, x)
    return {
        f"npu:{npu_target}": relative_error(y16, ref),
        "aimc:ideal": relative_error(analog(x), ref),
    }
