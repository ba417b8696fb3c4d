"""Where a result came from: package versions, git revision, host, timings."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import socket
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["provenance", "git_revision", "now_iso"]

_PACKAGES = ("neuro-cosim", "torch", "numpy", "scipy", "brian2", "h5py")


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


@lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The checkout's git revision (with ``-dirty``), or None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance() -> dict:
    """Versions, git revision and host of this process."""
    import torch

    return {
        "torch_threads": torch.get_num_threads(),
        "versions": dict(_versions()),
        "git_revision": git_revision(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }
