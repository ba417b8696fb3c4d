"""Device presets: data files (TOML), one per device, loaded into the device registry.

Each ``*.toml`` file here reads::

    [device]
    name = "pcm"              # registry name
    model = "pcm"             # model kind: a key of MODELS in devices/__init__.py
    summary = "..."           # one line for listings

    [config]                  # fields of the model's config (SI units)
    g_max = 25e-6

    [sources]                 # where each figure comes from
    g_max = "Joshi et al., Nat. Commun. 11, 2473 (2020)"

For the ``tabulated`` model, ``config.csv`` and ``config.programming_csv`` are paths
relative to this folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from devices.validation import ConfigError

__all__ = ["PRESET_DIR", "load_preset", "preset_files"]

PRESET_DIR = Path(__file__).parent


def preset_files(folder: Path = PRESET_DIR) -> list[Path]:
    """The preset TOML files of ``folder``, sorted by name."""
    return sorted(folder.glob("*.toml"))


def load_preset(path: Path) -> dict[str, Any]:
    """Parse one preset file into ``{"name", "model", "summary", "config", "sources"}``."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    dev = data.get("device", {})
    for key in ("name", "model"):
        if not isinstance(dev.get(key), str):
            raise ConfigError(
                f"preset {path.name}: [device].{key} must be a string; got {dev.get(key)!r}"
            )
    return {
        "name": dev["name"],
        "model": dev["model"],
        "summary": dev.get("summary", ""),
        "config": dict(data.get("config", {})),
        "sources": dict(data.get("sources", {})),
        "path": path,
    }
