"""Object detection accuracy: YOLOv2 output decoding, per-class NMS and PASCAL VOC mAP@0.5.

A detection workload's accuracy is the **mean average precision at IoU 0.5** (mAP@0.5) of
the PASCAL VOC challenge (Everingham et al., "The PASCAL Visual Object Classes (VOC)
Challenge", IJCV 88:303-338, 2010, sec. 4.2), with the **all-point** interpolation the
devkit uses from VOC2010 on (the area under the monotone precision envelope; VOC2007's
11-point interpolation is available as ``interpolation="11-point"``). The targets measure
it through their own numerics: the raw output tensor of the FP32 model (``reference``),
of the bit-true FP16 path (``npu:*``) or of the programmed crossbars (``aimc:*``) is
decoded and scored here, on the same images and ground truth.

Pipeline (each step a function of this module, usable on its own):

1. :func:`decode`: YOLOv2's detection tensor ``(N, A·(5 + C), H, W)`` to boxes (Redmon &
   Farhadi, "YOLO9000: Better, Faster, Stronger", CVPR 2017, sec. 2 "Direct location
   prediction"): ``bx = (cx + σ(tx)) / W``, ``by = (cy + σ(ty)) / H``,
   ``bw = pw·exp(tw) / W``, ``bh = ph·exp(th) / H`` with the anchor priors ``(pw, ph)`` in
   grid cells, objectness ``σ(to)`` and class probabilities ``softmax(t_c)``; the score of
   a (box, class) pair is objectness × class probability, kept above a threshold.
   Channels follow Darknet's region layer (``entry_index``: anchor-major, then the
   entries ``tx, ty, tw, th, to, c0 … c(C-1)``).
2. :func:`nms`: greedy non-maximum suppression, per class (Darknet's ``do_nms_sort``:
   a box is dropped when its IoU with a higher-scoring box of the same class exceeds
   ``nms_iou``).
3. :func:`average_precisions` / :func:`mean_average_precision`: the VOC devkit's
   ``VOCevaldet`` matching (detections of a class sorted by score over all images; each
   takes the ground-truth box it overlaps most; IoU ≥ 0.5 to a box not yet taken is a true
   positive, to a taken box a false positive (a duplicate), to a *difficult* box neither;
   difficult boxes do not count as positives) and the AP of the precision/recall curve.
   Boxes are continuous normalised coordinates (the devkit's integer pixel boxes add 1 to
   widths; here IoU is of the areas themselves).

Defaults follow Darknet's ``validate_detector`` (``examples/detector.c``: score threshold
0.005, NMS IoU 0.45) so that the mAP is the one Darknet's evaluation would report on the
same outputs; boxes are clipped to the image as Darknet clips them when it writes VOC
detections (``print_detector_detections``).

The data of a detection workload is a :class:`DetectionDataset` (read from a YOLO-format
folder by :func:`neuro.datasets.from_detection_folder`): its ``tensors("test")`` gives the
images and, as "labels", the images' indices, whose boxes :meth:`DetectionDataset.ground_truth`
returns. :func:`score` and :func:`score_model` are what the targets call: mAP@0.5 for a
detection dataset, top-1 for a classification one.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from devices.validation import ConfigError, param, require, validate
from neuro.data import Dataset

__all__ = [
    "VOC_ANCHORS",
    "COCO_ANCHORS",
    "METRIC",
    "TOP1",
    "DetectionConfig",
    "DetectionDataset",
    "decode",
    "box_iou",
    "nms",
    "per_class_nms",
    "postprocess",
    "average_precision",
    "average_precisions",
    "mean_average_precision",
    "is_detection",
    "metric_name",
    "score",
    "score_model",
]

#: YOLOv2's anchor priors (width, height) in grid cells of the 13×13 output at 416×416, for
#: PASCAL VOC: k-means (k = 5) on the VOC 2007+2012 training boxes, from Darknet's
#: ``cfg/yolov2-voc.cfg`` ``[region] anchors`` (Redmon & Farhadi 2017, sec. 2
#: "Dimension clusters").
VOC_ANCHORS: tuple[tuple[float, float], ...] = (
    (1.3221, 1.73145), (3.19275, 4.00944), (5.05587, 8.09892), (9.47112, 4.84053),
    (11.2364, 10.0071),
)  # fmt: skip
#: The same for COCO (80 classes), from Darknet's ``cfg/yolov2.cfg``.
COCO_ANCHORS: tuple[tuple[float, float], ...] = (
    (0.57273, 0.677385), (1.87446, 2.06253), (3.33843, 5.47434), (7.88282, 3.52778),
    (9.77052, 9.16828),
)  # fmt: skip
#: The accuracy metric of a detection workload, as results and reports name it.
METRIC = "mAP@0.5"
#: The accuracy metric of a classification workload.
TOP1 = "top-1"


@dataclasses.dataclass(frozen=True)
class DetectionConfig:
    """How a detector's raw outputs are decoded and scored.

    Attributes
    ----------
    anchors : tuple of (float, float)
        Anchor priors ``(pw, ph)`` in grid cells, one per anchor of the output tensor
        (default :data:`VOC_ANCHORS`).
    conf_threshold : float
        Keep a (box, class) pair when objectness × class probability exceeds it (Darknet's
        ``validate_detector``: 0.005, low so that the precision/recall curve is complete).
    nms_iou : float
        Per-class NMS drops a box whose IoU with a higher-scoring one exceeds this (0.45,
        Darknet's ``validate_detector``).
    match_iou : float
        A detection is a true positive at IoU ≥ this with an unmatched ground-truth box
        (0.5: VOC's criterion, Everingham et al. 2010, eq. 3).
    interpolation : {"all-point", "11-point"}
        AP of the precision/recall curve: VOC2010+'s area under the precision envelope, or
        VOC2007's mean of the envelope at recall 0, 0.1, …, 1.
    """

    anchors: tuple[tuple[float, float], ...] = VOC_ANCHORS
    conf_threshold: float = param(0.005, ge=0.0, lt=1.0)
    nms_iou: float = param(0.45, gt=0.0, le=1.0)
    match_iou: float = param(0.5, gt=0.0, le=1.0)
    interpolation: str = param("all-point", choices=("all-point", "11-point"))

    def __post_init__(self) -> None:
        validate(self)
        try:
            anchors = tuple((float(w), float(h)) for w, h in self.anchors)
        except (TypeError, ValueError):
            anchors = ()
        require(
            bool(anchors) and all(np.isfinite(v) and v > 0 for a in anchors for v in a),
            self, "anchors", self.anchors,
            "a non-empty sequence of (width, height) pairs > 0 in grid cells",
        )  # fmt: skip
        object.__setattr__(self, "anchors", anchors)

    @property
    def metric(self) -> str:
        """``"mAP@0.5"`` (the match IoU in the name)."""
        return f"mAP@{self.match_iou:g}"


# -- decoding --------------------------------------------------------------------------


def _numpy(a: Any) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().double().numpy()
    return np.asarray(a, dtype=np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^-x) without overflow


def decode(
    output: Any, anchors: Sequence[tuple[float, float]], conf_threshold: float = 0.005
) -> list[np.ndarray]:
    """YOLOv2's raw detection tensor as scored boxes, per image (before NMS).

    Parameters
    ----------
    output : torch.Tensor or array
        ``(N, A·(5 + C), H, W)``: for anchor ``a`` the channels ``a·(5 + C) + e`` hold
        ``tx, ty, tw, th, to`` (``e`` = 0…4) then ``C`` class logits.
    anchors : sequence of (float, float)
        ``A`` priors ``(pw, ph)`` in grid cells.
    conf_threshold : float
        Keep pairs with ``σ(to) · softmax(t_c)`` above it.

    Returns
    -------
    list of numpy.ndarray
        One ``(K, 6)`` array per image: ``class, score, x1, y1, x2, y2`` with corners in
        image fractions ``[0, 1]`` (clipped), in the order anchor, class, row, column.
    """
    out = _numpy(output)
    anchor_arr = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    n_anchors = len(anchor_arr)
    if out.ndim != 4 or out.shape[1] % n_anchors or out.shape[1] // n_anchors < 6:
        raise ConfigError(
            f"decode: YOLOv2 output must be (N, A*(5 + C), H, W) with A = {n_anchors} anchors "
            f"and C >= 1 classes; got shape {tuple(out.shape)}"
        )
    n, ch, gh, gw = out.shape
    c = ch // n_anchors - 5
    t = out.reshape(n, n_anchors, 5 + c, gh, gw)
    col = np.arange(gw, dtype=np.float64)[None, None, None, :]
    row = np.arange(gh, dtype=np.float64)[None, None, :, None]
    pw = anchor_arr[:, 0][None, :, None, None]
    ph = anchor_arr[:, 1][None, :, None, None]
    cx = (col + _sigmoid(t[:, :, 0])) / gw
    cy = (row + _sigmoid(t[:, :, 1])) / gh
    with np.errstate(over="ignore"):  # a huge tw is a box beyond the image: clipped below
        w = pw * np.exp(t[:, :, 2]) / gw
        h = ph * np.exp(t[:, :, 3]) / gh
    boxes = np.clip(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1), 0.0, 1.0)
    logits = t[:, :, 5:]
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    probs /= probs.sum(axis=2, keepdims=True)
    scores = _sigmoid(t[:, :, 4])[:, :, None] * probs  # (N, A, C, H, W)
    result = []
    for i in range(n):
        a, k, r, q = np.nonzero(scores[i] > conf_threshold)
        s = scores[i][a, k, r, q]
        result.append(np.column_stack([k.astype(np.float64), s, boxes[i][a, r, q]]))
    return result


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``a`` ``(M, 4)`` and ``b`` ``(K, 4)`` (corners
    ``x1, y1, x2, y2``), shape ``(M, K)``; 0 where the union has no area."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0.0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0.0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0.0, None).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the kept boxes, highest score first.

    A box is dropped when its IoU with a kept, higher-scoring box exceeds
    ``iou_threshold`` (ties in score keep the earlier box).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    alive = np.ones(len(order), dtype=bool)
    keep = []
    for pos, i in enumerate(order):
        if not alive[pos]:
            continue
        keep.append(i)
        alive[pos + 1 :] &= iou[i, order[pos + 1 :]] <= iou_threshold
    return np.asarray(keep, dtype=np.int64)


def per_class_nms(detections: np.ndarray, iou_threshold: float) -> np.ndarray:
    """:func:`nms` within each class of one image's ``(K, 6)`` detections (see
    :func:`decode`); the kept rows, by class then descending score."""
    dets = np.asarray(detections, dtype=np.float64).reshape(-1, 6)
    kept = []
    for k in np.unique(dets[:, 0]):
        d = dets[dets[:, 0] == k]
        kept.append(d[nms(d[:, 2:], d[:, 1], iou_threshold)])
    return np.concatenate(kept) if kept else dets


def postprocess(output: Any, config: DetectionConfig) -> list[np.ndarray]:
    """:func:`decode` then :func:`per_class_nms`, per image, with ``config``'s settings."""
    return [
        per_class_nms(d, config.nms_iou)
        for d in decode(output, config.anchors, config.conf_threshold)
    ]


# -- VOC average precision ---------------------------------------------------------------


def average_precision(
    recall: np.ndarray, precision: np.ndarray, interpolation: str = "all-point"
) -> float:
    """AP of a precision/recall curve (points in decreasing score order).

    ``"all-point"`` (VOC2010+ devkit ``VOCap``): precision made monotone from the right,
    integrated over the recall steps. ``"11-point"`` (VOC2007): the mean over
    ``r = 0, 0.1, …, 1`` of the highest precision at recall ≥ ``r`` (0 where none).
    """
    rec = np.asarray(recall, dtype=np.float64).reshape(-1)
    prec = np.asarray(precision, dtype=np.float64).reshape(-1)
    if interpolation == "11-point":
        points = [prec[rec >= t].max() if np.any(rec >= t) else 0.0 for t in np.linspace(0, 1, 11)]
        return float(np.mean(points))
    if interpolation != "all-point":
        raise ConfigError(f"interpolation must be 'all-point' or '11-point'; got {interpolation!r}")
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[0.0], prec, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    step = np.nonzero(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[step] - mrec[step - 1]) * mpre[step]))


def average_precisions(
    detections: Sequence[np.ndarray],
    ground_truths: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
    interpolation: str = "all-point",
) -> dict[int, float]:
    """VOC AP of every class that has a positive (a non-difficult ground-truth box).

    Parameters
    ----------
    detections : sequence of numpy.ndarray
        Per image, ``(K, 6)``: ``class, score, x1, y1, x2, y2``.
    ground_truths : sequence of numpy.ndarray
        Per image (the same images), ``(M, 6)``: ``class, x1, y1, x2, y2, difficult``
        (``difficult`` 0 or 1; VOC's flag for objects not to be scored).
    iou_threshold : float
        Overlap for a true positive (IoU ≥ it; VOC: 0.5).
    interpolation : {"all-point", "11-point"}
        See :func:`average_precision`.

    Returns
    -------
    dict
        ``{class: AP}`` for each class with at least one non-difficult box. A class with
        only difficult boxes, or none, has no defined AP (its recall has no denominator)
        and is left out, as the COCO and Detectron evaluators leave it out of the mean;
        its detections count nowhere.
    """
    if len(detections) != len(ground_truths):
        raise ConfigError(
            f"average_precisions: {len(detections)} detection lists for "
            f"{len(ground_truths)} images of ground truth"
        )
    dets = [np.asarray(d, dtype=np.float64).reshape(-1, 6) for d in detections]
    gts = [np.asarray(g, dtype=np.float64).reshape(-1, 6) for g in ground_truths]
    classes = sorted(
        {int(k) for g in gts for k, diff in zip(g[:, 0], g[:, 5]) if diff == 0}
    )  # fmt: skip
    out: dict[int, float] = {}
    for k in classes:
        boxes = [g[g[:, 0] == k] for g in gts]
        npos = sum(int(np.sum(b[:, 5] == 0)) for b in boxes)
        taken = [np.zeros(len(b), dtype=bool) for b in boxes]
        image = np.concatenate([np.full(int(np.sum(d[:, 0] == k)), i) for i, d in enumerate(dets)])
        mine = np.concatenate([d[d[:, 0] == k] for d in dets])
        order = np.argsort(-mine[:, 1], kind="stable")  # VOCevaldet: sort(-confidence)
        tp = np.zeros(len(order))
        fp = np.zeros(len(order))
        for pos, j in enumerate(order):
            i = int(image[j])
            gt = boxes[i]
            if len(gt) == 0:
                fp[pos] = 1
                continue
            ov = box_iou(mine[j, 2:], gt[:, 1:5])[0]
            best = int(np.argmax(ov))
            if ov[best] >= iou_threshold:
                if gt[best, 5]:
                    continue  # a difficult object: neither true nor false positive
                if not taken[i][best]:
                    tp[pos], taken[i][best] = 1, True
                else:
                    fp[pos] = 1  # a duplicate of a detected object
            else:
                fp[pos] = 1
        tp, fp = np.cumsum(tp), np.cumsum(fp)
        rec = tp / npos
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        out[k] = average_precision(rec, prec, interpolation)
    return out


def mean_average_precision(
    detections: Sequence[np.ndarray],
    ground_truths: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
    interpolation: str = "all-point",
) -> float:
    """The mean of :func:`average_precisions` over the classes with positives.

    Raises
    ------
    ConfigError
        No image holds a non-difficult ground-truth box: the mAP is undefined.
    """
    aps = average_precisions(
        detections, ground_truths, iou_threshold=iou_threshold, interpolation=interpolation
    )
    if not aps:
        raise ConfigError(
            f"mAP is undefined: the {len(ground_truths)} evaluated images hold no "
            "(non-difficult) ground-truth box; evaluate more images (test_limit)"
        )
    return float(np.mean(list(aps.values())))


# -- the data and the score the targets use -----------------------------------------------


def _corners(boxes: np.ndarray) -> np.ndarray:
    """YOLO rows ``class, cx, cy, w, h, difficult`` to ``class, x1, y1, x2, y2, difficult``."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 6)
    half = b[:, 3:5] / 2
    return np.column_stack([b[:, 0], b[:, 1:3] - half, b[:, 1:3] + half, b[:, 5]])


@dataclasses.dataclass(frozen=True, eq=False)
class DetectionDataset(Dataset):
    """A detection dataset: images, their boxes and how a detector's outputs are scored.

    ``x_train``/``x_test`` are ``(N, 3, H, W)`` images as in :class:`neuro.data.Dataset`;
    ``y_train``/``y_test`` are the images' indices ``0 … N-1`` (so that
    ``tensors(split, limit)`` gives the indices whose boxes :meth:`ground_truth` returns).

    Attributes
    ----------
    boxes_train, boxes_test : tuple of numpy.ndarray
        Per image ``(M, 6)``: ``class, cx, cy, w, h, difficult`` (YOLO format, normalised
        to the image; ``difficult`` 0 or 1).
    class_names : tuple of str
        Names by class index (may be empty).
    config : DetectionConfig
        Decoding and scoring.
    """

    boxes_train: tuple = ()
    boxes_test: tuple = ()
    class_names: tuple[str, ...] = ()
    config: DetectionConfig = dataclasses.field(default_factory=DetectionConfig)

    @property
    def n_classes(self) -> int:
        """Highest class index in the boxes + 1 (or the number of names, if more)."""
        top = max((int(b[:, 0].max()) for b in (*self.boxes_train, *self.boxes_test) if len(b)),
                  default=-1)  # fmt: skip
        return max(top + 1, len(self.class_names))

    def ground_truth(self, split: str, index: Any) -> list[np.ndarray]:
        """The boxes of images ``index`` of ``split`` as ``(M, 6)`` rows ``class, x1, y1,
        x2, y2, difficult`` (the form :func:`average_precisions` takes)."""
        boxes = self.boxes_train if split == "train" else self.boxes_test
        idx = np.asarray(index.numpy() if isinstance(index, torch.Tensor) else index).reshape(-1)
        return [_corners(boxes[int(i)]) for i in idx]

    def fingerprint(self) -> str:
        """SHA-256 over the images, the boxes and the scoring config."""
        cached = self.__dict__.get("_fingerprint")
        if cached is not None:
            return cached
        h = hashlib.sha256(Dataset.fingerprint(self).encode())
        for b in (*self.boxes_train, *self.boxes_test):
            h.update(np.ascontiguousarray(b, dtype=np.float64).tobytes())
        h.update(repr(self.config).encode())
        self.__dict__["_fingerprint"] = h.hexdigest()[:16]
        return self.__dict__["_fingerprint"]


def is_detection(data: Dataset) -> bool:
    """True for a :class:`DetectionDataset` (its accuracy is mAP, not top-1)."""
    return isinstance(data, DetectionDataset)


def metric_name(data: Dataset) -> str:
    """The accuracy metric of a workload on ``data``: ``"mAP@0.5"`` or ``"top-1"``."""
    return data.config.metric if isinstance(data, DetectionDataset) else TOP1


def score(data: Dataset, outputs: torch.Tensor, y: torch.Tensor) -> float:
    """The accuracy of raw ``outputs`` on test inputs ``y`` (fraction).

    For a :class:`DetectionDataset`, ``y`` are test image indices and the score is the
    mAP of the decoded, NMS-filtered ``outputs`` against those images' boxes; otherwise
    ``y`` are labels and the score is top-1 (``argmax`` over dimension 1).
    """
    if not isinstance(data, DetectionDataset):
        return float((outputs.argmax(1) == y).float().mean())
    cfg = data.config
    return mean_average_precision(
        postprocess(outputs, cfg), data.ground_truth("test", y),
        iou_threshold=cfg.match_iou, interpolation=cfg.interpolation,
    )  # fmt: skip


@torch.no_grad()
def score_model(
    data: Dataset,
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None = None,
) -> float:
    """:func:`score` of ``model`` run on ``x`` in batches (default 1,000 inputs for a
    classifier, as :func:`neuro.workloads.evaluate_accuracy`; 8 images for a detector,
    whose activations are large)."""
    if not isinstance(data, DetectionDataset):
        from neuro.workloads.training import evaluate_accuracy

        return evaluate_accuracy(model, x, y, batch_size or 1000)
    model.eval()
    step = batch_size or 8
    cfg = data.config
    dets: list[np.ndarray] = []
    for i in range(0, len(y), step):
        dets += postprocess(model(x[i : i + step]), cfg)
    return mean_average_precision(
        dets, data.ground_truth("test", y),
        iou_threshold=cfg.match_iou, interpolation=cfg.interpolation,
    )  # fmt: skip
