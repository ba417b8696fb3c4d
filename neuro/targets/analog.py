"""The analog in-memory computing target: a workload on crossbars of one device (``aimc:pcm``).

Accuracy: the workload's trained network is converted with :func:`crossbar.nn.convert`
(every linear and conv layer on crossbars), its DAC/ADC ranges calibrated on training
images, and the test split evaluated at each time after programming in ``times_s`` and at
``read_time_s``. This is repeated ``repeats`` times, each a fresh programming with a
generator seeded from the run seed and the repeat index (the cells are read once per time
and repeat, so ``accuracy_std`` is the spread of programming and read noise); ``accuracy``
is the mean at ``read_time_s`` (default one day after programming, stated in
``extra["accuracy_read_time_s"]``), and the curve ``accuracy_vs_time`` holds every time
(mean and std over repeats).

Costs: :func:`crossbar.matrix_cost` for every linear/conv layer of the workload's layer
table (a conv is ``H_out·W_out`` passes per group), plus digital ops for the other layers.
Every layer has its own tiles (weight stationary); ``latency`` is the sum over layers for
one input and ``throughput`` is one input per slowest-layer time (layers pipelined). The
input activity (``E[|x|/r]``, ``E[u²]``, 1-bits per plane) and the mean programmed cell
value of every layer are measured on the calibration batch (:func:`measure_layers`, on the
trained FP32 network); shape-only workloads get costs at ``CostConfig.input_activity`` and
the device's mid-range value, and no accuracy. Energy fills the one boundary
(:data:`neuro.result.ENERGY_GROUPS`): cell reads, shift-and-add and the digital non-MAC
layers are ``compute``; DAC/PWM drive, word-line drivers and ADCs ``conversion``; SRAM
buffers ``movement``; every tile's control, register and DAC leakage power over its layer's
time ``static`` (:func:`crossbar.cost.tile_static_power`, PUMA's 32 nm figures; a user who
sets them to 0 gets the group reported as not modelled, with the reason in
:data:`STATIC_NOT_MODELLED` — the time-proportional power of the default integrating CCO
converters is in ``adc``); inputs and outputs over the host link ``off_chip``
(:data:`ENERGY_GROUP_OF`).
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
from collections.abc import Collection

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import devices
from crossbar import COMPONENTS, CrossbarConfig, matrix_cost
from crossbar.cost import COMPONENT_GROUPS, InputStats, programmed_mean, tile_static_power
from crossbar.irdrop import AUTO_KAPPA, wire_drop_criterion
from crossbar.nn import calibrate, convert, set_time
from devices.validation import ConfigError, param, require, validate
from neuro.detection import is_detection, metric_name, score_model
from neuro.provenance import now_iso, provenance
from neuro.result import Curve, Result
from neuro.targets.base import Family, register_family, with_options
from neuro.workloads import Workload, dataset_for, trained_model

__all__ = [
    "AnalogConfig",
    "Analog",
    "workload_costs",
    "measure_layers",
    "LayerMeasure",
    "digital_layer_names",
]

#: Modules that :func:`crossbar.nn.convert` puts on crossbars (a ``digital_layers`` entry
#: must name one of them).
_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.LSTM, nn.GRU,
                  nn.MultiheadAttention)  # fmt: skip

#: 1 s, 1 hour, 1 day, 1 year (365 days) after programming.
DEFAULT_TIMES_S = (1.0, 3600.0, 86400.0, 365 * 86400.0)

#: Read time of the headline accuracy: one day after programming. A chip is programmed
#: once and then serves inference for days or longer, so the figure a researcher compares
#: is not the one 1 s after programming, before PCM drift has started (t << t0 = 20 s).
#: One day is the horizon Joshi et al. (Nat. Commun. 11, 2473, 2020) report their on-chip
#: PCM accuracy over (ResNet-32/CIFAR-10 above 93.5 % for a day) and one of aihwkit's
#: standard inference times (1 h, 1 day, 1 year).
DEFAULT_READ_TIME_S = 86400.0


#: Latest read time after programming (s): 100 years, far beyond any device's retention.
MAX_TIME_S = 3.2e9

#: The crossbars of the analog target: IR drop modelled where it matters. ``ir_drop="auto"``
#: is the exact wire model (:func:`crossbar.irdrop.transfer_matrix`, once per read, then one
#: matmul per MVM) wherever the tile's criterion ``κ = r·G_max·N²/2`` exceeds
#: :data:`crossbar.irdrop.AUTO_KAPPA` = 1: on 256×256 tiles at 1 Ω the ReRAM preset
#: (κ = 2.9, 14 points on mlp-fmnist), not PCM (0.82: ≤ 0.15 points measured), FeFET (0.06)
#: or capacitive cells (``crossbar/README.md``, "IR drop: where it matters").
DEFAULT_CROSSBAR = CrossbarConfig(ir_drop="auto")
#: Square tile sizes of the analog target's default crossbars, largest first.
TILE_SIZES = (256, 128, 64)


def default_crossbar(device: str) -> CrossbarConfig:
    """The analog target's crossbars for ``device``: :data:`DEFAULT_CROSSBAR` on the largest
    square tile of :data:`TILE_SIZES` whose wire criterion ``κ = r·G_max·N²/2`` stays at or
    below :data:`crossbar.irdrop.AUTO_KAPPA`, as a designer sizes tiles (nobody tapes out
    a tile whose columns keep a third of their current): 256×256 for PCM (κ = 0.82), FeFET,
    capacitive cells and the wire-free ``ideal`` device, 128×128 for the ReRAM preset (κ = 2.9 at 256, 0.72 at 128;
    measured on mlp-fmnist with exact wires: 74.5 % at 256, 87.8 % at 128, FP32 88.4 %).
    Smaller tiles cost more converters and partial sums, which the cost model counts."""
    dev = devices.get(device)
    cfg = DEFAULT_CROSSBAR
    if dev.quantity == "capacitance" or dev.name == "ideal":  # no DC current / no wires
        return cfg
    for n in TILE_SIZES:
        if wire_drop_criterion(cfg.r_wire_ohm, dev.g_max, n) <= AUTO_KAPPA:
            break
    return (
        cfg
        if n == cfg.tile_rows == cfg.tile_cols
        else dataclasses.replace(cfg, tile_rows=n, tile_cols=n)
    )


@dataclasses.dataclass(frozen=True)
class AnalogConfig:
    """An analog run: which device, how the crossbars work, what is measured.

    Attributes
    ----------
    device : str
        Registered device name (``devices.names()``).
    crossbar : CrossbarConfig
        Tiles, mapping, converters, non-idealities, cost constants. Default (None):
        :func:`default_crossbar` of the device — the ``CrossbarConfig`` defaults with
        ``ir_drop="auto"`` (:data:`DEFAULT_CROSSBAR`, the wires modelled exactly wherever
        they matter) on the largest tile whose wires keep ``κ ≤ 1`` (ReRAM: 128×128).
    times_s : tuple of float
        Read times after programming of the ``accuracy_vs_time`` curve, s.
    read_time_s : float
        Read time of the headline ``accuracy`` (added to the curve's times), s; default one
        day (:data:`DEFAULT_READ_TIME_S`).
    hwa_epochs : int
        0: the FP32-trained weights are programmed. N > 0: they are first fine-tuned for N
        epochs with noise injection for this device (:func:`crossbar.hwa.hwa_train`,
        weight noise = the device's programming noise, output noise, clipping), cached on
        disk beside the FP32 weights.
    repeats : int
        Fresh programmings (accuracy mean ± std over them).
    test_limit : int or None
        Evaluate on the first N test images (None: all).
    calibration_size : int
        Training images used to calibrate the DAC/ADC ranges.
    batch_size : int
        Batch the energy and throughput refer to (the analog costs are per input).
    digital_layers : tuple of str
        Weight layers kept in digital logic instead of crossbars: ``"first"`` and ``"last"``
        (the first and last conv/linear layer in module order) and layer names or
        ``fnmatch`` patterns of the workload (``"0"``, ``"4.*"``); a string
        ``"first,last"`` is split at the commas. A first conv of few input rows (9 for a
        3×3 kernel on one channel) gives a column signal of a few cells against an output
        noise fixed per conversion, which digital BatchNorm then amplifies: on
        ``resnet-fmnist`` that layer alone costs about 20 points on PCM. Such a layer is
        exact in FP32 in the accuracy and costed as digital INT8 MACs
        (``CostConfig.digital_mac_J``) plus its weights and activations through the SRAM buffers
        (:func:`workload_costs`); the conversion report in the provenance lists it.
    """

    device: str = "pcm"
    crossbar: CrossbarConfig | None = None
    times_s: tuple[float, ...] = DEFAULT_TIMES_S
    repeats: int = param(3, integer=True, ge=1, le=1000)
    test_limit: int | None = param(None, integer=True, ge=1, optional=True)
    calibration_size: int = param(256, integer=True, ge=1)
    read_time_s: float = param(DEFAULT_READ_TIME_S, unit="s", ge=0.0, le=3.2e9)
    hwa_epochs: int = param(0, integer=True, ge=0, le=100)
    batch_size: int = param(1, integer=True, ge=1)
    digital_layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate(self)
        layers = self.digital_layers
        if isinstance(layers, str):
            layers = tuple(part.strip() for part in layers.split(","))
        require(
            isinstance(layers, (list, tuple)) and len(layers) <= 1000
            and all(isinstance(n, str) and n.strip() for n in layers),
            self, "digital_layers", self.digital_layers,
            "layer names or patterns of the workload, 'first' or 'last' (e.g. 'first,last')",
        )  # fmt: skip
        object.__setattr__(self, "digital_layers", tuple(dict.fromkeys(layers)))
        require(
            self.device in devices.names(), self, "device", self.device,
            f"one of {', '.join(devices.names())}",
        )  # fmt: skip
        if self.crossbar is None:
            object.__setattr__(self, "crossbar", default_crossbar(self.device))
        require(
            isinstance(self.crossbar, CrossbarConfig), self, "crossbar", self.crossbar,
            "a CrossbarConfig (set its fields with dotted options, e.g. 'crossbar.adc.bits')",
        )  # fmt: skip
        times = self.times_s
        ok = (
            isinstance(times, (list, tuple))
            and 0 < len(times) <= 1000
            and all(
                isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= MAX_TIME_S
                for t in times
            )
        )  # NaN and inf fail the range test
        require(ok, self, "times_s", times, f"1 to 1000 times in [0, {MAX_TIME_S:g}] s")
        object.__setattr__(self, "times_s", tuple(float(t) for t in times))


#: The group (``neuro.result.ENERGY_GROUPS``) of every energy component of this target.
ENERGY_GROUP_OF = {**COMPONENT_GROUPS, "digital": "compute", "host_io": "off_chip"}
#: Parts of the boundary this target does not model (components, with the reason).
ENERGY_NOT_MODELLED = {
    "interconnect": "on-chip routing of activations between tiles is not modelled (movement "
    "holds the SRAM buffer reads and writes of every pass only)",
    "dram": "weights stay in the cells and activations in on-chip buffers: no DRAM",
}
#: Why the static group is absent when a user sets every static figure of
#: ``CostConfig`` to 0 (by default PUMA's tile control and leakage figures fill it).
STATIC_NOT_MODELLED = (
    "tile control and leakage set to 0 (CostConfig.control_W_per_tile, "
    "register_leak_W_per_line, dac_leak_W, static_W_per_adc); the integrating (CCO) "
    "converters' running power over each read window is in conversion (adc)"
)
_STATIC = STATIC_NOT_MODELLED


def digital_layer_names(model: nn.Module, patterns: Collection[str]) -> list[str]:
    """The weight layers of ``model`` that ``AnalogConfig.digital_layers`` keeps digital.

    ``"first"``/``"last"``: the first/last conv, linear, recurrent or attention module in
    module order (the order of :func:`crossbar.nn.convert`); other entries are module
    names or ``fnmatch`` patterns.

    Raises
    ------
    ConfigError
        An entry that names no weight layer, listing the valid names.
    """
    candidates: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(c + ".") for c in candidates):
            continue  # inside an attention or recurrent module: converted as one
        if isinstance(module, _WEIGHT_LAYERS):
            candidates.append(name)
    found: list[str] = []
    for pattern in patterns:
        special = {"first": candidates[:1], "last": candidates[-1:]}
        hit = special.get(pattern, [n for n in candidates if fnmatch.fnmatchcase(n, pattern)])
        if not hit:
            valid = ", ".join(["first", "last", *candidates][:40])
            raise ConfigError(
                f"AnalogConfig.digital_layers: {pattern!r} names no weight layer of the "
                f"workload; valid: {valid}"
            )
        found += hit
    return list(dict.fromkeys(found))


@dataclasses.dataclass(frozen=True)
class LayerMeasure:
    """What the energy model needs to know of one weight layer, measured on data.

    Attributes
    ----------
    inputs : InputStats
        Statistics of the layer's inputs (im2col columns for a conv) as the DAC codes them.
    mean_value : float
        Mean programmed cell value (S or F) of the layer's weights under the mapping.
    """

    inputs: InputStats
    mean_value: float


@torch.no_grad()
def measure_layers(
    model: nn.Module, x: torch.Tensor, device: devices.DeviceModel, config: CrossbarConfig
) -> dict[str, LayerMeasure]:
    """Input statistics and mean programmed value of every linear/conv layer of ``model``.

    Forward hooks record each layer's input on the batch ``x`` (the calibration batch):
    a linear layer's input vectors, a conv's im2col columns per group. The mean cell value
    is that of the layer's weights as :func:`crossbar.cost.programmed_mean` maps them.

    Returns
    -------
    dict
        :class:`LayerMeasure` by module name (the names of the workload's layer table).
    """
    found: dict[str, LayerMeasure] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple) -> None:
            xin = inputs[0].detach()
            w = module.weight.detach()
            if isinstance(module, nn.Conv2d):
                g = module.groups
                cols = F.unfold(xin, module.kernel_size, module.dilation, module.padding,
                                module.stride)  # fmt: skip
                k = cols.shape[1] // g
                vec = torch.cat([cols[:, i * k : (i + 1) * k].transpose(1, 2).reshape(-1, k)
                                 for i in range(g)])  # fmt: skip
                per = w.shape[0] // g
                parts = [w[i * per : (i + 1) * per].flatten(1) for i in range(g)]
                mean = sum(programmed_mean(p, device, config) for p in parts) / g
            else:
                vec = xin.reshape(-1, xin.shape[-1])
                mean = programmed_mean(w, device, config)
            found[name] = LayerMeasure(InputStats.measure(vec, config), mean)

        return record

    handles = [
        m.register_forward_pre_hook(hook(name))
        for name, m in model.named_modules()
        if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return found


def workload_costs(
    workload: Workload,
    device: devices.DeviceModel,
    config: CrossbarConfig,
    measured: dict[str, LayerMeasure] | None = None,
    digital: Collection[str] = (),
) -> tuple[dict[str, float], float, float, float, list[dict]]:
    """Per-inference costs of ``workload`` on crossbars of ``device``.

    Parameters
    ----------
    workload, device, config
        The network, the cell and the crossbars.
    measured : dict, optional
        :func:`measure_layers` by layer name; a layer without it is costed at
        ``config.cost.input_activity`` and the device's mid-range value.
    digital : collection of str, optional
        Weight layers kept digital (:func:`digital_layer_names`): each MAC costs
        ``CostConfig.digital_mac_J`` (``digital``, compute) and its 8-bit weights, inputs and
        outputs pass once through the SRAM buffers per input (``buffers``, movement); no
        tiles, converters or latency of their own (like the other digital layers).

    Returns
    -------
    breakdown : dict[str, float]
        J by component (:data:`crossbar.COMPONENTS`, ``digital`` and ``host_io``; groups in
        :data:`ENERGY_GROUP_OF`).
    latency_s : float
        One input through every layer.
    stage_s : float
        The slowest layer (the pipeline's period).
    area_m2 : float
        Every layer's tiles and periphery.
    layers : list of dict
        Per-layer table (same keys in every row); ``energy_J`` is the layer's chip energy,
        ``placement`` ``"analog"`` or ``"digital"``.
    """
    c = config.cost
    measured = measured or {}
    breakdown = {k: 0.0 for k in (*COMPONENTS, "digital", "host_io")}
    latency = stage = area = 0.0
    rows = []
    for layer in workload.layers:
        gemm = layer.gemm()
        on_chip = gemm is not None and not (
            layer.name in digital or layer.name.rpartition(".")[0] in digital
        )  # an attention module's rows are "<name>.in_proj", "<name>.out_proj"
        row = {"name": layer.name, "kind": layer.kind, "macs": int(layer.macs),
               "placement": "analog" if on_chip else "digital"}  # fmt: skip
        if gemm is not None and not on_chip:
            e_mac = layer.macs * c.digital_mac_J
            n_bytes = (layer.n_weights + int(np.prod(layer.input_shape))
                       + int(np.prod(layer.output_shape))) * c.activation_bytes  # fmt: skip
            e_buf = n_bytes * c.buffer_J_per_byte
            breakdown["digital"] += e_mac
            breakdown["buffers"] += e_buf
            row.update(tiles=0, cells=0, adc_conversions=0, energy_J=e_mac + e_buf,
                       latency_s=0.0, area_m2=0.0, input_activity=None, ones_fraction=None,
                       mean_cell_value=None)  # fmt: skip
        elif gemm is None:
            e_dig = float(layer.ops) * c.digital_op_J
            breakdown["digital"] += e_dig
            row.update(tiles=0, cells=0, adc_conversions=0, energy_J=e_dig, latency_s=0.0,
                       area_m2=0.0, input_activity=None, ones_fraction=None,
                       mean_cell_value=None)  # fmt: skip
        else:
            m, k, n = gemm
            groups = int(layer.groups or 1)
            meas = measured.get(layer.name)
            stats = meas.inputs if meas else InputStats.from_activity(c.input_activity)
            mean_value = meas.mean_value if meas else None
            rep = matrix_cost(device, config, n, k, m, stats, mean_value=mean_value)
            for comp, e in rep.energy_J.items():
                breakdown[comp] += groups * e
            latency += rep.latency_s
            stage = max(stage, rep.latency_s)
            area += groups * rep.area_m2
            row.update(
                tiles=groups * rep.tiles, cells=groups * rep.cells,
                adc_conversions=groups * rep.adc_conversions,
                energy_J=groups * rep.total_energy_J, latency_s=rep.latency_s,
                area_m2=groups * rep.area_m2, input_activity=stats.mean_abs,
                ones_fraction=stats.ones,
                mean_cell_value=mean_value if mean_value is not None
                else 0.5 * (device.g_min + device.g_max),
            )  # fmt: skip
        rows.append(row)
    n_in = int(np.prod(workload.input_shape))
    n_out = int(np.prod(workload.layers[-1].output_shape)) if workload.layers else 0
    breakdown["host_io"] = (n_in + n_out) * c.activation_bytes * c.host_io_J_per_byte
    if c.static_W_per_adc == 0.0 and tile_static_power(config) == 0.0:
        # not modelled (STATIC_NOT_MODELLED), not a silent 0
        del breakdown["static"]
    return breakdown, latency, stage, area, rows


class Analog:
    """Analog in-memory computing on crossbars of one device."""

    def __init__(self, config: AnalogConfig | None = None) -> None:
        self.cfg = config or AnalogConfig()
        self.name = f"aimc:{self.cfg.device}"

    def config(self) -> dict:
        return {"family": "aimc", **dataclasses.asdict(self.cfg)}

    def _accuracy(
        self,
        workload: Workload,
        device: devices.DeviceModel,
        seed: int,
        prov: dict,
        digital: Collection[str] = (),
    ) -> tuple[np.ndarray, float]:
        cfg = self.cfg
        tm = trained_model(workload)
        data = dataset_for(workload)
        x_test, y_test = data.tensors("test", limit=cfg.test_limit)
        x_cal, _ = data.tensors("train", limit=cfg.calibration_size)
        prov.update(data_source=tm.data_source, weights_key=tm.key)
        prov["test_inputs"] = len(y_test)
        prov["accuracy_metric"] = metric_name(data)  # top-1, or mAP@0.5 of a detector
        source = tm.model
        if cfg.hwa_epochs:
            source = self._hwa_model(tm, data, device, prov)
            prov["hwa_fp32_accuracy"] = score_model(data, source, x_test, y_test)
        times = self.curve_times()
        acc = np.zeros((cfg.repeats, len(times)))
        for r in range(cfg.repeats):
            rseed = int(np.random.SeedSequence([seed, r]).generate_state(1)[0])
            gen = torch.Generator().manual_seed(rseed)
            model = convert(source, cfg.crossbar, device_model=device, generator=gen, seed=rseed,
                            exclude=list(digital))  # fmt: skip
            if r == 0:  # where every weight layer runs (crossbar.nn's conversion report)
                prov["conversion_report"] = [
                    [row.name, row.kind, row.placement, row.reason]
                    for row in model.conversion_report
                    if row.weights
                ]
            calibrate(model, x_cal)
            for i, t in enumerate(times):
                set_time(model, t)  # draws this repeat's read at t
                acc[r, i] = score_model(data, model, x_test, y_test)
        return acc, score_model(data, tm.model, x_test, y_test)

    def _hwa_model(self, tm, data, device: devices.DeviceModel, prov: dict) -> torch.nn.Module:
        """The FP32 model fine-tuned with noise injection for ``device`` (cached on disk)."""
        import hashlib

        from crossbar.hwa import HWAConfig, hwa_train
        from neuro.workloads.training import cache_dir

        hcfg = HWAConfig.for_device(device, epochs=self.cfg.hwa_epochs)
        key = hashlib.sha256(f"{tm.key}|{device.name}|{hcfg!r}|seed0".encode()).hexdigest()[:20]
        path = cache_dir() / "weights" / "hwa" / f"{key}.pt"
        model = copy.deepcopy(tm.model)
        if path.is_file():
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        else:
            x, y = data.tensors("train")
            model = hwa_train(tm.model, x, y, hcfg, seed=0)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            torch.save(model.state_dict(), tmp)
            tmp.replace(path)  # atomic: a reader never sees half a file
        prov.update(hwa_key=key, hwa_config=dataclasses.asdict(hcfg))
        return model.eval()

    def curve_times(self) -> tuple[float, ...]:
        """``times_s`` and ``read_time_s``, sorted, without duplicates (s)."""
        return tuple(sorted({*self.cfg.times_s, float(self.cfg.read_time_s)}))

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        """Accuracy against time (when the workload has data) and costs, all from ``seed``."""
        started = now_iso()
        cfg = self.cfg
        if cfg.hwa_epochs and not workload.shape_only and is_detection(dataset_for(workload)):
            raise ConfigError(
                f"{self.name}: hwa_epochs must be 0 for the detection workload "
                f"{workload.name!r} (noise-injection training is cross-entropy on class "
                "labels; a detector has boxes)"
            )
        device = devices.get(cfg.device)
        prov = provenance()
        digital = digital_layer_names(workload.build(), cfg.digital_layers)
        prov["digital_layers"] = digital
        measured = None
        if not workload.shape_only:  # input activity and cell values measured per layer
            x_cal, _ = dataset_for(workload).tensors("train", limit=cfg.calibration_size)
            measured = measure_layers(trained_model(workload).model, x_cal, device, cfg.crossbar)
        breakdown, latency, stage, area, layers = workload_costs(
            workload, device, cfg.crossbar, measured, digital
        )
        accuracy = accuracy_std = None
        curves: dict[str, Curve] = {}
        extra: dict[str, float] = {
            "tiles": float(sum(row["tiles"] for row in layers)),
            "cells": float(sum(row["cells"] for row in layers)),
            "digital_weight_layers": float(len(digital)),
        }
        if not workload.shape_only:
            acc, fp32 = self._accuracy(workload, device, seed, prov, digital)
            mean, std = acc.mean(0), acc.std(0)
            times = self.curve_times()
            head = times.index(float(cfg.read_time_s))
            accuracy, accuracy_std = float(mean[head]), float(std[head])
            curves["accuracy_vs_time"] = Curve(np.array(times), mean, "t_s", "accuracy", y_std=std)
            extra["fp32_accuracy"] = float(fp32)
            extra["accuracy_read_time_s"] = float(cfg.read_time_s)
            if cfg.hwa_epochs:  # the programmed weights' own FP32 accuracy
                extra["hwa_fp32_accuracy"] = float(prov["hwa_fp32_accuracy"])
            if cfg.test_limit is not None:  # a subset: say so, with FP32 on the same inputs
                extra["test_inputs"] = float(prov["test_inputs"])
                extra["fp32_accuracy_same_inputs"] = float(fp32)
            # How much the wires matter, and whether the accuracy includes them.
            xc = cfg.crossbar
            kappa = 0.0
            if device.quantity == "conductance" and device.name != "ideal":  # ideal: no wires
                n = max(xc.tile_rows, xc.tile_cols)
                kappa = wire_drop_criterion(xc.r_wire_ohm, device.g_max, n)
            extra["ir_drop_criterion"] = kappa
            resolved = xc.ir_drop
            if resolved == "auto":  # as crossbar.Crossbar.ir_drop_mode resolves it
                resolved = "exact" if kappa > AUTO_KAPPA else "none"
            extra["ir_drop_modelled"] = float(resolved != "none")
        prov.update(started=started, finished=now_iso())
        return Result(
            workload=workload.name,
            target=self.name,
            seed=seed,
            ops_per_inference=float(workload.ops_per_inference),
            accuracy=accuracy,
            accuracy_std=accuracy_std,
            latency=latency,
            throughput=1.0 / stage if stage > 0 else None,
            area=area,
            layers=layers,
            curves=curves,
            config=self.config(),
            provenance=prov,
            batch_size=cfg.batch_size,
            extra=extra,
        ).set_energy(
            {k: (ENERGY_GROUP_OF[k], v) for k, v in breakdown.items()},
            {**ENERGY_NOT_MODELLED, **({} if "static" in breakdown else {"static": _STATIC})},
        )


def _factory(variant: str | None, **options) -> Analog:
    """Options are fields of :class:`AnalogConfig`; dotted keys reach the crossbar config
    (``"crossbar.adc.bits"``, ``"crossbar.drift_compensation"``)."""
    name = f"aimc:{variant or 'pcm'}"
    return Analog(with_options(AnalogConfig(device=variant or "pcm"), options, name))


register_family(
    Family(
        "aimc",
        _factory,
        devices.names,
        "analog in-memory computing: crossbars of one device (ReRAM, PCM, FeFET, memcapacitor)",
        quick_options={"repeats": 2, "test_limit": 300, "times_s": (1.0, 86400.0)},
    )
)
