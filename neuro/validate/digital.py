"""Digital NPU: the fitted constant of the AB9 model, and its checks against measured chips.

Calibration (:data:`neuro.validate.FITTED`): AB9's static power, fitted to Han 2020's
measured 1.3 TOPS/W (``npu.calibrate_static_W``); that figure is re-derived here only as a
*regression* check.

Held-out validation: measured chips no parameter was fitted to, each modelled by a preset
of the same :class:`npu.AB9` class with the same Horowitz energies and the same
``scale_energy`` (``npu/presets.py``, role ``"validation"``), running a workload of the
published shape:

- ArtBrain-K (160 AB9): 0.893 TFLOPS/W (ETRI 2021), against the board model built from
  cited components (regulator and supply efficiency, LPDDR4 and PCIe energy per byte) at
  full load;
- Google TPU v1 (Jouppi et al., ISCA 2017): MLP0 throughput (roofline against DDR3) and the
  die's busy power, whole and less its measured idle power (the part the model predicts);
- MIT Eyeriss (Chen et al., JSSC 2017): AlexNet convolutions at batch 4 and 200 MHz,
  energy per frame and frames per second.
"""

from __future__ import annotations

import npu
from neuro.validate import Check, Fitted, register_check, register_fitted
from npu.calibration import HAN2020_CLOCK_Hz, efficiency_check, full_load
from npu.ops import Op, gemm_op
from npu.system import ARTBRAIN_K_TFLOPS_PER_W

__all__ = ["alexnet_conv_ops", "mlp0_ops", "FIGURE_HAN2020"]

FIGURE_HAN2020 = "han2020-ab9-1.3TOPS/W"
_HAN2020 = (
    "Han, Choi, Kwon, ETRI J. 42(4) 2020, doi:10.4218/etrij.2020-0128, abstract: "
    "measured 1.3 TOPS/W, 128x128 nano cores at 1.2 GHz, 1.1 V, 28 nm"
)
_JOUPPI = "Jouppi et al., ISCA 2017 (arXiv:1704.04760)"
_CHEN = "Chen, Krishna, Emer, Sze, IEEE JSSC 52(1) 2017, doi:10.1109/JSSC.2016.2616357"

#: TPU v1 measured die power (Jouppi 2017, Table 2): idle 28 W, busy 40 W.
TPU_V1_IDLE_W = 28.0
TPU_V1_BUSY_W = 40.0
#: TPU v1 on MLP0 (Jouppi 2017, Table 3): 12.3 TeraOps/s (92 peak).
TPU_V1_MLP0_TOPS = 12.3
#: Eyeriss on the AlexNet CONV layers, batch 4, 200 MHz, 1 V (Chen 2017, Table V and
#: abstract): 278 mW at 34.7 frames/s.
EYERISS_ALEXNET_W = 0.278
EYERISS_ALEXNET_FPS = 34.7


def mlp0_ops() -> list[Op]:
    """TPU v1's MLP0 (Jouppi 2017, Table 1): 5 fully connected layers, 20 M weights, batch
    200. The widths are not published: 5 equal 2000 × 2000 layers (4 M weights each)."""
    return [gemm_op(f"fc{i}", 1, 2000, 2000) for i in range(5)]


def _conv(name: str, hw_out: int, c_in: int, c_out: int, k: int, groups: int, hw_in: int) -> Op:
    m, kk, n = hw_out * hw_out, c_in // groups * k * k, c_out // groups
    return Op(name, "conv2d", m=m, k=kk, n=n, groups=groups, in_elems=c_in * hw_in * hw_in,
              out_elems=c_out * m, weight_elems=kk * n * groups, macs=m * kk * n * groups)  # fmt: skip


def alexnet_conv_ops() -> list[Op]:
    """AlexNet's five CONV layers as Eyeriss ran them (Krizhevsky et al. 2012; Chen 2017,
    Table V): 227² × 3 input, 11×11/4 → 55² × 96; 5×5 in two groups → 27² × 256; 3×3 →
    13² × 384, 384 (two groups), 256 (two groups). 666 M MACs per image."""
    return [
        _conv("conv1", 55, 3, 96, 11, 1, 227),
        _conv("conv2", 27, 96, 256, 5, 2, 27),
        _conv("conv3", 13, 256, 384, 3, 1, 13),
        _conv("conv4", 13, 384, 384, 3, 2, 13),
        _conv("conv5", 13, 384, 256, 3, 2, 13),
    ]


def _on_chip_J(perf: npu.NetworkPerf) -> float:
    return sum(perf.energy_J[c] for c in npu.CHIP_COMPONENTS)


def _ab9_tops_per_W() -> float:
    cfg = npu.presets.get("ab9").replace(clock_Hz=HAN2020_CLOCK_Hz)
    return efficiency_check(cfg)["flops_per_W"] / 1e12


def _artbrain_k_tflops_per_W() -> float:
    return full_load(npu.presets.get("artbrain-k"))["system_flops_per_W"] / 1e12


def _tpu_mlp0_tops() -> float:
    cfg = npu.presets.get("tpu-v1")
    return npu.simulate(mlp0_ops(), cfg, batch=200).achieved_flops / 1e12


def _tpu_busy_W() -> float:
    return full_load(npu.presets.get("tpu-v1"))["chip_W"]


def _tpu_dynamic_W() -> float:
    cfg = npu.presets.get("tpu-v1")
    return full_load(cfg)["chip_W"] - cfg.static_W


def _eyeriss_perf() -> npu.NetworkPerf:
    return npu.simulate(alexnet_conv_ops(), npu.presets.get("eyeriss"), batch=4)


def _eyeriss_J_per_frame() -> float:
    perf = _eyeriss_perf()
    return _on_chip_J(perf) / perf.batch


def _eyeriss_fps() -> float:
    return _eyeriss_perf().throughput


register_fitted(
    Fitted(
        "npu.ab9.static_W",
        npu.presets.AB9_STATIC_W,
        "W",
        figure_id=FIGURE_HAN2020,
        figure=_HAN2020,
        where="npu.presets.AB9_STATIC_W (npu.calibrate_static_W on a 4096^3 FP16 GEMM)",
    )
)

register_check(
    Check(
        "digital.ab9.tops_per_W",
        "digital",
        "TOPS/W, dense 4096^3 FP16 GEMM on one AB9 at 1.2 GHz, on chip",
        "TOPS/W",
        1.3,
        _ab9_tops_per_W,
        _HAN2020,
        FIGURE_HAN2020,
        kind="regression",
        band=(0.995, 1.005),
        note="re-derives the figure npu.ab9.static_W was fitted to (static_W rounded to 0.01 W)",
    )
)
register_check(
    Check(
        "digital.artbrain-k.tflops_per_W",
        "digital",
        "TFLOPS/W of the 160-chip system at full load (dense FP16 GEMM, 1.25 GHz)",
        "TFLOPS/W",
        ARTBRAIN_K_TFLOPS_PER_W,
        _artbrain_k_tflops_per_W,
        "ETRI 2021 achievement summary: ArtBrain-K, 160 AB9, 6,400 TFLOPS, 0.893 TFLOPS/W",
        "etri2021-artbrain-k-0.893TFLOPS/W",
        note=(
            "model: achieved FLOP/s over die + LPDDR4 power through 0.90 regulators and a 0.92 "
            "supply; host CPUs, fans and cooling not modelled (their number is not published); "
            "the published figure divides peak, not achieved, FLOP/s by power"
        ),
    )
)
register_check(
    Check(
        "digital.tpu-v1.mlp0_tops",
        "digital",
        "TeraOps/s on MLP0 (5 FC layers, 20 M INT8 weights, batch 200)",
        "TOPS",
        TPU_V1_MLP0_TOPS,
        _tpu_mlp0_tops,
        f"{_JOUPPI}, Table 3 (MLP0 on the TPU, 92 peak)",
        "jouppi2017-tpu-v1-mlp0-12.3TOPS",
        note="weights streamed from DDR3 at 34 GB/s (roofline); layer widths not published",
    )
)
register_check(
    Check(
        "digital.tpu-v1.busy_power",
        "digital",
        "die power, busy (model: dense INT8 GEMM keeping the 256x256 array busy)",
        "W",
        TPU_V1_BUSY_W,
        _tpu_busy_W,
        f"{_JOUPPI}, Table 2 (TPU die, measured busy power)",
        "jouppi2017-tpu-v1-busy-40W",
        note="static = the measured idle 28 W of the same table; the next check isolates the rest",
    )
)
register_check(
    Check(
        "digital.tpu-v1.dynamic_power",
        "digital",
        "die power above idle (busy 40 W − idle 28 W)",
        "W",
        TPU_V1_BUSY_W - TPU_V1_IDLE_W,
        _tpu_dynamic_W,
        f"{_JOUPPI}, Table 2 (busy − idle)",
        "jouppi2017-tpu-v1-busy-minus-idle-12W",
        note=(
            "INT8 MAC + INT32 add (Horowitz, scaled to 28 nm at an assumed 0.9 V), Unified "
            "Buffer and accumulator SRAM; pipeline registers, control and the activation unit "
            "not charged; the model GEMM keeps the array 84 % busy (CNN0: 93 %)"
        ),
    )
)
register_check(
    Check(
        "digital.eyeriss.alexnet_J_per_frame",
        "digital",
        "chip energy per frame, AlexNet CONV1-5, batch 4, 200 MHz, 1 V (278 mW / 34.7 fps)",
        "J",
        EYERISS_ALEXNET_W / EYERISS_ALEXNET_FPS,
        _eyeriss_J_per_frame,
        f"{_CHEN}, Table V and abstract (278 mW at 34.7 frames/s)",
        "chen2017-eyeriss-alexnet-278mW",
        note=(
            "16-bit MAC (Horowitz, scaled to 65 nm, 1 V), 4 scratchpad accesses per MAC at 1x "
            "MAC (Chen 2016 Table IV), global-buffer traffic of an output-stationary fold; "
            "without the scratchpads the model gives 0.19x. Not modelled: clock network, NoC "
            "multicast, zero gating (which lowers the measurement), leakage"
        ),
    )
)
register_check(
    Check(
        "digital.eyeriss.alexnet_fps",
        "digital",
        "frames/s, AlexNet CONV1-5, batch 4, 200 MHz",
        "frames/s",
        EYERISS_ALEXNET_FPS,
        _eyeriss_fps,
        f"{_CHEN}, Table V",
        "chen2017-eyeriss-alexnet-34.7fps",
        note="168 PEs folded output-stationary; row-stationary mapping losses not modelled",
    )
)
