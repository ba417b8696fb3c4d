"""Named AB9 configurations: presets are data in a registry, each with its source.

>>> from npu import presets
>>> presets.get("ab9").peak_flops
40960000000000.0

Add a variant with :func:`register` (a name used twice raises)::

    presets.register(presets.get("ab9").replace(name="ab9-1ghz", clock_Hz=1.0e9),
                     "AB9 at its 1 GHz baseline clock (Cho 2020)")
"""

from __future__ import annotations

import dataclasses

from devices.registry import Registry
from npu.config import AB9

__all__ = ["Preset", "PRESETS", "register", "get", "names"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named config and where its numbers come from."""

    config: AB9
    source: str


PRESETS: Registry[Preset] = Registry("npu preset")


def register(config: AB9, source: str, *, replace: bool = False) -> AB9:
    """Add ``config`` under ``config.name``, with its ``source`` (one line)."""
    PRESETS.register(config.name, Preset(config, source), replace=replace)
    return config


def get(name: str) -> AB9:
    """The config called ``name``; an unknown name lists the valid ones."""
    return PRESETS.get(name).config


def names() -> list[str]:
    """Registered preset names."""
    return PRESETS.names()


register(
    AB9(),
    "ETRI AB9 chip: one 128x128 FP16 nano-core mesh at 1.25 GHz (40.96 TFLOPS), >36 MB SRAM, "
    "LPDDR4 41.6 GB/s, 15-40 W, 28 nm, 391 mm^2 (Cho 2020 doi:10.4218/etrij.2020-0134; "
    "Han 2020 doi:10.4218/etrij.2020-0128); static power calibrated to Han 2020's 1.3 TOPS/W",
)
register(
    AB9(name="artbrain-s", batch_size=16),
    "ArtBrain-S: one AB9 on a PCIe Gen3 x16 board (ETRI 2021 achievement summary); batch 16 "
    "for throughput (our choice); board power not published, so 0 W",
)
register(
    AB9(name="artbrain-k", n_chips=160, batch_size=16, board_power_W=4.8),
    "ArtBrain-K: 160 AB9 chips, 6,400 TFLOPS, 0.893 TFLOPS/W (ETRI 2021 achievement summary); "
    "board_power_W = 6,400e12/0.893e12 W / 160 - 40 W = 4.8 W per chip (system power the "
    "published figures imply, less the chip's 40 W maximum)",
)
