"""Named AB9 configurations: presets are data in a registry, each with its source.

>>> from npu import presets
>>> presets.get("ab9").peak_flops
40960000000000.0

A preset's ``role`` says what it is for: ``"target"`` (an ETRI chip or system, run as
``npu:<name>`` with bit-true FP16 accuracy) or ``"validation"`` (another vendor's measured
chip, modelled with the same class and energies to predict its published figures in
``neuro validate``; its integer arithmetic is not modelled bit-true, so it is no target).

Add a variant with :func:`register` (a name used twice raises)::

    presets.register(presets.get("ab9").replace(name="ab9-1ghz", clock_Hz=1.0e9),
                     "AB9 at its 1 GHz baseline clock (Cho 2020)")
"""

from __future__ import annotations

import dataclasses

from devices.registry import Registry
from devices.validation import require
from npu.config import AB9

__all__ = ["Preset", "PRESETS", "ROLES", "register", "get", "names", "source"]


#: What a preset is for (see the module docstring).
ROLES = ("target", "validation")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named config, where its numbers come from, and what it is for."""

    config: AB9
    source: str
    role: str = "target"


PRESETS: Registry[Preset] = Registry("npu preset")


def register(config: AB9, source: str, *, replace: bool = False, role: str = "target") -> AB9:
    """Add ``config`` under ``config.name``, with its ``source`` (one line) and ``role``."""
    require(role in ROLES, "register", "role", role, f"one of {', '.join(map(repr, ROLES))}")
    PRESETS.register(config.name, Preset(config, source, role), replace=replace)
    return config


def get(name: str) -> AB9:
    """The config called ``name``; an unknown name lists the valid ones."""
    return PRESETS.get(name).config


def source(name: str) -> str:
    """Where the numbers of preset ``name`` come from."""
    return PRESETS.get(name).source


def names(role: str | None = None) -> list[str]:
    """Registered preset names (of ``role`` only, if given)."""
    return [n for n, p in PRESETS.items() if role is None or p.role == role]


#: The fitted static power of AB9 (W): ``npu.calibrate_static_W(AB9())`` = 1.987 W, rounded.
#: Fitted to Han 2020's measured 1.3 TOPS/W; registered as ``npu.ab9.static_W``.
AB9_STATIC_W = 1.99

# ArtBrain boards: the power outside the die, from cited components (none of them is the
# ArtBrain-K 0.893 TFLOPS/W it is checked against). LPDDR4 access energy and PCIe PHY energy
# per byte are charged per byte moved (``EnergyModel.dram_J_per_B``, ``host_io_J_per_B``).
#: Board voltage regulators (12 V to core): 0.90. Our assumption for a multiphase buck at
#: mid load: TI's LM25148 datasheet (SNVSC05, 2021, Fig. 9-17 design) reaches 95-97 % from
#: 12 V to 5 V; conversion to ~1 V loses more.
ARTBRAIN_VR_EFFICIENCY = 0.90
#: Server AC-DC supply: 80 PLUS Platinum certification threshold, 92 % at 50 % load
#: (115 V internal, 80 PLUS program; the server's supply class is not published: assumed).
ARTBRAIN_PSU_EFFICIENCY = 0.92

register(
    AB9(static_W=AB9_STATIC_W),
    "ETRI AB9 chip: one 128x128 FP16 nano-core mesh at 1.25 GHz (40.96 TFLOPS), >36 MB SRAM, "
    "LPDDR4 41.6 GB/s, 15-40 W, 28 nm, 391 mm^2 (Cho 2020 doi:10.4218/etrij.2020-0134; "
    "Han 2020 doi:10.4218/etrij.2020-0128); FP16 accumulation (the only accumulator consistent "
    "with Han 2020's 1.3 TOPS/W under Horowitz energies); static power fitted to that 1.3 TOPS/W",
)
register(
    AB9(
        name="artbrain-s",
        static_W=AB9_STATIC_W,
        batch_size=16,
        vr_efficiency=ARTBRAIN_VR_EFFICIENCY,
    ),
    "ArtBrain-S: one AB9 on a PCIe Gen3 x16 board (ETRI 2021 achievement summary); batch 16 "
    "for throughput (our choice); board: voltage-regulator loss (0.90, TI LM25148 datasheet "
    "2021 as bound), LPDDR4 and PCIe PHY (Bae 2021) energy per byte; no server",
)
register(
    AB9(
        name="artbrain-k",
        static_W=AB9_STATIC_W,
        n_chips=160,
        batch_size=16,
        vr_efficiency=ARTBRAIN_VR_EFFICIENCY,
        psu_efficiency=ARTBRAIN_PSU_EFFICIENCY,
    ),
    "ArtBrain-K: 160 AB9 chips, 6,400 TFLOPS (ETRI 2021 achievement summary); board as "
    "ArtBrain-S plus the server supply (80 PLUS Platinum 92 %, 2021 program thresholds); host "
    "CPUs not modelled (their number is not published); 0.893 TFLOPS/W is a held-out check",
)

# Measured systolic chips of other vendors, for held-out validation (role "validation"):
# the same model class and Horowitz energies scaled by the same scale_energy, their
# published architecture, and no parameter fitted to their measurements.
register(
    AB9(
        name="tpu-v1",
        n_arrays=1,
        array_rows=256,
        array_cols=256,
        n_cpu_cores=0,
        clock_Hz=700e6,
        sram_bytes=24 * 2**20,
        dram_bandwidth_Bps=34e9,
        pcie_bandwidth_Bps=14 * 2**30,
        power_min_W=28.0,
        power_max_W=75.0,
        node_m=28e-9,
        vdd_V=0.9,
        static_W=28.0,
        die_area_m2=331e-6,
        dataflow="ws",
        dtype="int8",
        accumulate="int32",
        weights_in_sram=False,
        batch_size=200,
    ),
    "Google TPU v1 (Jouppi et al., ISCA 2017, arXiv:1704.04760): 256x256 INT8 MACs, 32-bit "
    "accumulators, 700 MHz (92 TOPS), 28 nm, <=331 mm^2, 24 MiB Unified Buffer for "
    "activations, weights streamed from 8 GiB DDR3 at 34 GB/s through the Weight FIFO, PCIe "
    "Gen3 x16 (14 GiB/s, Fig. 1), TDP 75 W; static power = its measured idle die power 28 W "
    "(Table 2); supply voltage not published: 0.9 V assumed (Horowitz's own, factor 1)",
    role="validation",
)
register(
    AB9(
        name="eyeriss",
        n_arrays=1,
        array_rows=12,
        array_cols=14,
        n_cpu_cores=0,
        clock_Hz=200e6,
        sram_bytes=108e3,
        dram_bandwidth_Bps=64 / 8 * 60e6,
        power_min_W=0.0,
        power_max_W=1.0,
        node_m=65e-9,
        vdd_V=1.0,
        static_W=0.0,
        die_area_m2=16e-6,
        dataflow="os",
        dtype="int16",
        accumulate="int16",
        pe_rf_accesses_per_mac=4.0,
        batch_size=4,
    ),
    "MIT Eyeriss (Chen et al., IEEE JSSC 52(1) 2017, doi:10.1109/JSSC.2016.2616357): 12x14 = "
    "168 PEs, 16-bit fixed point, 65 nm, 1 V, 200 MHz core clock, 108 KB global buffer, "
    "4 mm x 4 mm die, 64-bit off-chip link at 60 MHz; leakage not published: static 0 "
    "(named omission); row-stationary PE: 4 scratchpad accesses per MAC (JSSC 2017 Sec. III), "
    "its array folding approximated by output-stationary",
    role="validation",
)
