"""The import direction of DESIGN.md, enforced by walking every module with ``ast``.

devices: nothing of ours. crossbar: devices. snn: devices, crossbar. npu: only the leaf
modules devices.validation, devices.registry, devices.lazy and devices.cext (one ConfigError,
one registry behaviour, lazy names, C kernels built at first use).
neuro: anything. Also: the package names resolve to this checkout, not to PyPI namesakes.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("neuro", "devices", "crossbar", "snn", "npu")
ALLOWED = {
    "devices": {"devices"},
    "crossbar": {"crossbar", "devices"},
    "snn": {"snn", "devices", "crossbar"},
    "npu": {"npu", "devices.validation", "devices.registry", "devices.lazy", "devices.cext"},
    "neuro": set(OURS),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _allowed(package: str, name: str) -> bool:
    top = name.split(".")[0]
    if top not in OURS:
        return True
    for allowed in ALLOWED[package]:
        if name == allowed or name.startswith(allowed + "."):
            return True
    # "from devices import validation" reads as devices + devices.validation: allow the
    # bare parent when an allowed submodule follows.
    return any(a.startswith(name + ".") for a in ALLOWED[package])


@pytest.mark.parametrize("package", OURS)
def test_imports_go_downward_only(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if not _allowed(package, name):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "imports against DESIGN.md's direction:\n" + "\n".join(bad)


def test_rule_catches_an_upward_import(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import neuro\nfrom crossbar.core import x\nfrom devices import base\n")
    names = _imports(p)
    assert not _allowed("devices", "neuro")
    assert not _allowed("npu", "devices.base")
    assert _allowed("npu", "devices.validation")
    assert not _allowed("crossbar", "snn")
    assert "crossbar.core" in names


@pytest.mark.parametrize("package", OURS)
def test_packages_resolve_to_this_checkout(package):
    module = importlib.import_module(package)
    assert Path(module.__file__).resolve().parent == ROOT / package
