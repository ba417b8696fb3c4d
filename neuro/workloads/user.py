"""The user's own models, presets and plug-ins: how any model reaches ``neuro``.

Three ways, all resolved by name wherever a workload, device or target is named (the
``neuro`` command, experiment specs, :func:`neuro.workloads.get`):

1. **A reference to a function**: ``path/to/file.py:build`` or ``package.module:build``.
   The function takes no argument and returns either a :class:`~neuro.workloads.Workload`
   (full control: dataset, input shape, training recipe, weights) or an ``nn.Module``
   (a fresh, untrained one per call), which becomes a workload on Fashion-MNIST 1×28×28
   trained with the default recipe (:class:`~neuro.workloads.TrainConfig`).
2. **Preset files** in the user folder (``$NEURO_HOME``, else ``~/.config/neuro-cosim``):

   * ``workloads/<name>.toml``::

         name = "my-cnn"                      # default: the file's stem
         model = "my_cnn.py:build"            # relative to the TOML file, or module:function
         description = "my CNN"
         input_shape = [1, 28, 28]            # default [1, 28, 28]
         dataset = "fashion-mnist"            # or "mnist", "cifar10", "cifar10:/data/cifar"
         weights = "my_cnn.pt"                # optional: a state dict, weights_only=True
         spiking_steps = 128                  # optional: snn conversion steps (default 64)
         [train]                              # optional: TrainConfig fields
         epochs = 4

     or a registered workload with your weights and/or data
     (:func:`neuro.workloads.pretrained.with_weights`)::

         name = "my-resnet18"
         model = "resnet18"                   # a workload name (no ':')
         weights = "resnet18.pt"              # relative to the TOML file
         data = "imagenet-val-subset"         # a folder: image folder or CIFAR binaries
         image_size = 224                     # optional: input size for image folders
         # anchors = [[1.08, 1.19], ...]      # optional, YOLOv2: anchor priors in grid cells

   * ``devices/<name>.toml``: a device preset in the format of ``devices/presets/*.toml``
     (:func:`devices.register_preset`); it becomes ``aimc:<name>`` and ``snn:<name>``.
   * ``targets/<name>.toml``: a named target with options::

         name = "pcm-6bit"                    # default: the file's stem
         target = "aimc:pcm"
         [options]
         "crossbar.adc.bits" = 6

3. **Package entry points**, so that a lab can ship a plug-in package: group
   ``neuro_cosim.workloads`` (a Workload, a list of them, or a function returning either),
   ``neuro_cosim.devices`` (a device factory ``factory(**overrides) -> DeviceModel``
   registered under the entry point's name, or the path of a preset TOML) and
   ``neuro_cosim.targets`` (a :class:`neuro.targets.base.Family`).

:func:`load_plugins` registers the presets and entry points once per process (the
``neuro`` command calls it first; :func:`neuro.workloads.get` and ``names`` call it too).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from devices.validation import ConfigError
from neuro.workloads.base import TrainConfig, Workload

__all__ = [
    "user_dir",
    "resolve",
    "load_plugins",
    "workload_from_toml",
    "absolute_reference",
    "ENTRY_POINT_GROUPS",
]

#: Entry-point groups a plug-in package may fill.
ENTRY_POINT_GROUPS = ("neuro_cosim.workloads", "neuro_cosim.devices", "neuro_cosim.targets")
_WORKLOAD_KEYS = {
    "name", "model", "description", "input_shape", "dataset", "weights", "train", "data",
    "spiking_steps", "image_size", "anchors",
}  # fmt: skip
_loaded: set[str] = set()


def user_dir() -> Path:
    """``$NEURO_HOME``, else ``~/.config/neuro-cosim``."""
    return Path(os.environ.get("NEURO_HOME") or Path.home() / ".config" / "neuro-cosim")


def _load_function(ref: str, base: Path | None = None) -> Callable[[], Any]:
    """The function named by ``file.py:function`` or ``module:function``."""
    target, sep, func = ref.rpartition(":")
    if not sep or not target or not func.isidentifier():
        raise ConfigError(
            f"model reference {ref!r} must be 'path/to/file.py:function' or 'module:function'"
        )
    if target.endswith(".py"):
        path = Path(target).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise ConfigError(f"model reference {ref!r}: file {str(path)!r} not found")
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        mod_name = f"neuro_user_{path.stem}_{digest}"
        module = sys.modules.get(mod_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            try:
                spec.loader.exec_module(module)
            except Exception:
                del sys.modules[mod_name]
                raise
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(
                f"model reference {ref!r}: cannot import {target!r} ({exc})"
            ) from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise ConfigError(f"model reference {ref!r}: {target!r} has no function {func!r}")
    return fn


def absolute_reference(ref: str, base: str | os.PathLike) -> str:
    """``ref`` with a relative ``file.py`` path made absolute against the folder ``base``.

    An experiment spec names its models relative to its own folder, not to the folder
    the command runs in: ``models/cnn.py:build`` in ``/lab/specs/run.toml`` is
    ``/lab/specs/models/cnn.py:build``. Names, ``module:function`` references and
    absolute paths are returned as they are.
    """
    target, sep, func = ref.rpartition(":")
    if not sep or not target.endswith(".py"):
        return ref
    path = Path(target).expanduser()
    if path.is_absolute():
        return ref
    return f"{(Path(base) / path).resolve()}:{func}"


def _as_workload(ref: str, fn: Callable[[], Any], **fields: Any) -> Workload:
    obj = fn()
    if isinstance(obj, Workload):
        return dataclasses.replace(obj, **fields) if fields else obj
    if not isinstance(obj, nn.Module):
        raise ConfigError(
            f"model reference {ref!r} returned {type(obj).__name__}; expected an nn.Module or "
            "a neuro.workloads.Workload"
        )
    spec: dict[str, Any] = {
        "name": ref,
        "description": f"user model {ref}",
        "input_shape": (1, 28, 28),
        "dataset": "fashion-mnist",
        "train": TrainConfig(),
        **fields,
    }
    if spec.get("weights") and "train" not in fields:
        spec["train"] = None  # given weights: nothing to train
    return Workload(build=fn, **spec)


def resolve(name: str) -> Workload | None:
    """The workload a reference ``file.py:function`` or ``module:function`` names, or None
    when ``name`` is no reference (no ``:``). Errors name the reference and what failed."""
    if ":" not in name:
        return None
    return _as_workload(name, _load_function(name))


def workload_from_toml(path: str | os.PathLike) -> Workload:
    """A workload preset file (see the module docstring)."""
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"workload preset {path}: {exc}") from None
    unknown = sorted(set(spec) - _WORKLOAD_KEYS)
    if unknown:
        valid = ", ".join(sorted(_WORKLOAD_KEYS))
        raise ConfigError(f"workload preset {path}: unknown key {unknown[0]!r}; valid: {valid}")
    if "model" not in spec:
        raise ConfigError(f"workload preset {path}: 'model' (file.py:function) is required")
    fields: dict[str, Any] = {"name": str(spec.get("name", path.stem))}
    for key in ("description", "dataset"):
        if key in spec:
            fields[key] = spec[key]
    if "input_shape" in spec:
        fields["input_shape"] = tuple(spec["input_shape"])
    if "spiking_steps" in spec:
        fields["spiking_steps"] = spec["spiking_steps"]
    if "weights" in spec:
        weights = Path(spec["weights"]).expanduser()
        fields["weights"] = str(weights if weights.is_absolute() else path.parent / weights)
    if "train" in spec:
        fields["train"] = TrainConfig(**spec["train"])
    ref = str(spec["model"])
    if ":" not in ref:  # a registered workload with the user's weights and/or data
        from neuro.workloads.pretrained import with_weights

        data = spec.get("data")
        if data is not None:
            data = Path(str(data)).expanduser()
            data = data if data.is_absolute() else path.parent / data
        if fields.get("weights") is None and data is None:
            raise ConfigError(
                f"workload preset {path}: model {ref!r} names a workload; give weights, data "
                "or both (or model = 'file.py:function')"
            )
        options = {k: spec[k] for k in ("image_size", "anchors") if k in spec}
        if "anchors" in options:
            options["anchors"] = [tuple(a) for a in options["anchors"]]
        found = with_weights(ref, fields.pop("weights", None), data, **options)
        fields.pop("input_shape", None)
        return dataclasses.replace(found, **fields)
    for key in ("data", "image_size", "anchors"):
        if key in spec:
            raise ConfigError(
                f"workload preset {path}: {key!r} goes with a workload name as model; with "
                "model = 'file.py:function' name the dataset ('dataset') or return a Workload"
            )
    return _as_workload(ref, _load_function(ref, path.parent), **fields)


def _register_workloads(objs: Any, origin: str) -> None:
    from neuro import workloads

    items = objs() if callable(objs) and not isinstance(objs, Workload) else objs
    for w in items if isinstance(items, (list, tuple)) else [items]:
        if not isinstance(w, Workload):
            raise ConfigError(f"{origin}: expected a Workload; got {type(w).__name__}")
        workloads.register(w, replace=True)


def _target_preset(path: Path) -> None:
    from neuro.targets.base import Family, make_target, register_family

    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"target preset {path}: {exc}") from None
    if "target" not in spec:
        raise ConfigError(f"target preset {path}: 'target' (e.g. 'aimc:pcm') is required")
    name, base, options = (
        str(spec.get("name", path.stem)),
        str(spec["target"]),
        spec.get("options", {}),
    )
    make_target(base, **options)  # a bad preset fails here, at load

    def factory(variant: str | None, **more: Any):
        target = make_target(base, **{**options, **more})
        target.name = name
        return target

    register_family(
        Family(name, factory, lambda: [], f"{base} with {options} ({path.name})"), replace=True
    )


def load_plugins(*, force: bool = False) -> None:
    """Register the user folder's presets and the installed plug-ins' entry points (once).

    Raises
    ------
    ConfigError
        A preset or plug-in that does not load, naming its file or entry point.
    """
    import devices
    import neuro.targets  # noqa: F401 - the built-in families first
    from neuro.targets.base import Family, register_family

    home = str(user_dir())
    if home in _loaded and not force:
        return
    _loaded.add(home)
    folder = Path(home)
    for path in sorted((folder / "devices").glob("*.toml")):
        devices.register_preset(path, replace=True)
    for path in sorted((folder / "workloads").glob("*.toml")):
        _register_workloads(workload_from_toml(path), str(path))
    for path in sorted((folder / "targets").glob("*.toml")):
        _target_preset(path)
    for group in ENTRY_POINT_GROUPS:
        for ep in importlib.metadata.entry_points(group=group):
            origin = f"entry point {ep.name!r} ({group})"
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in: name it, one line
                raise ConfigError(f"{origin} does not load: {exc}") from None
            if group.endswith("workloads"):
                _register_workloads(obj, origin)
            elif group.endswith("devices"):
                if isinstance(obj, (str, os.PathLike)):
                    devices.register_preset(obj, replace=True)
                else:
                    devices.register(ep.name, obj, replace=True)
            elif isinstance(obj, Family):
                register_family(obj, replace=True)
            else:
                raise ConfigError(f"{origin}: expected a neuro.targets.base.Family")
