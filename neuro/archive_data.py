"""The archive as data: units of the table's columns, unit-named exports, the N-d view.

:meth:`neuro.archive.Archive.table` returns a :class:`pandas.DataFrame` whose column names
are the plain field names (``energy_per_inference``, ``latency``, ``crossbar.adc.bits``);
**the units live in** ``table.attrs["units"]`` (one convention: a dict from column to its
unit, ``""`` for names and labels). SI units throughout: ``J``, ``s``, ``m^2``,
``ops/s/W``; ``fraction`` for accuracies and sparsities (0.9 is 90 %), ``count`` for
numbers of events, cells or inputs, ``1`` for other plain numbers. ``table.attrs["grid"]`` lists the swept options (one
column each: the run's grid point). A CSV or JSON file has no attrs, so an export names
the unit in each header instead (:func:`units_in_names`: ``energy_per_inference [J]``).

:func:`to_xarray` turns a table (and the runs' curves) into an :class:`xarray.Dataset`
over ``workload × target × <swept options> × seed`` (and the curves' own x, e.g.
``read_time_s``); xarray is an optional dependency (``pip install xarray``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neuro.result import METRIC_UNITS

__all__ = ["unit_of", "finish_table", "units_in_names", "to_xarray", "require_xarray", "CURVE_DIMS"]

#: Columns that name or label a run (no unit).
_LABELS = ("run_id", "workload", "target", "status", "data_source", "error")
#: Fixed units of the table's own columns (besides the metrics of ``METRIC_UNITS``).
_FIXED = {
    "seed": "",
    "batch_size": "count",
    "test_inputs": "count",
    "test_inputs_total": "count",
    "started": "UTC",
    "finished": "UTC",
}
#: Unit by name suffix (extras and options name their unit this way: ``step_s``).
_SUFFIXES = (("_J", "J"), ("_s", "s"), ("_W", "W"), ("_B", "B"), ("_S", "S"), ("_Hz", "Hz"),
             ("_m2", "m^2"), ("_m", "m"), ("_V", "V"), ("_A", "A"), ("_F", "F"))  # fmt: skip
#: neuro.neurobench.NB_UNITS (not imported: it needs torch).
_NB_UNITS = {"footprint_B": "B", "connection_sparsity": "fraction",
             "activation_sparsity": "fraction", "synaptic_ops_dense": "ops",
             "synaptic_ops_effective_macs": "ops", "synaptic_ops_effective_acs": "ops",
             "membrane_updates": "updates"}  # fmt: skip
#: Extras that count things per inference (the other unsuffixed ones are plain numbers, "1").
_COUNTS = {"synaptic_events", "spikes", "spikes_out", "hidden_spikes", "messages",
           "messages_in_tile", "neuron_updates", "neuron_updates_active", "neuron_updates_idle",
           "hops_ew", "hops_ns", "host_bytes", "row_drives", "column_conversions", "tiles",
           "cells", "train_images", "passes", "chips"}  # fmt: skip
#: Curve x labels -> the dimension they become in :func:`to_xarray`.
CURVE_DIMS = {"t_s": "read_time_s", "steps": "steps", "training_images": "training_images"}
_NO_XARRAY = (
    "Archive.to_xarray needs xarray: pip install xarray (or pip install 'neuro-cosim[data]')"
)
_CURVE_UNITS = {"t_s": "s", "accuracy": "fraction", "energy_per_inference_J": "J"}


def unit_of(column: str) -> str:
    """The unit of a column of :meth:`Archive.table` (``""`` for labels and seeds).

    Metrics by :data:`neuro.result.METRIC_UNITS`; ``energy_*`` columns J per inference;
    NeuroBench figures (``nb_*``) by :data:`neuro.neurobench.NB_UNITS`; other columns by
    their suffix (``_J``, ``_s``, ``_W`` …), ``fraction`` for accuracies, ``count`` for
    the known counts per inference (events, spikes, cells) and ``1`` for other numbers.
    """
    if column in METRIC_UNITS:
        return METRIC_UNITS[column]
    if column in _FIXED:
        return _FIXED[column]
    if column in _LABELS:
        return ""
    if column.startswith("energy_") and not column.endswith(("_per_synaptic_event_J",)):
        return "J"
    if column.startswith("nb_"):
        return _NB_UNITS.get(column[3:], "1")
    leaf = column.rsplit(".", 1)[-1]
    if leaf.endswith("_per_W"):  # a rate per watt: flops_per_W is FLOPS/W
        return leaf[: -len("_per_W")].upper() + "/W"
    for suffix, unit in _SUFFIXES:
        if leaf.endswith(suffix):
            return unit
    if "accuracy" in leaf or leaf.endswith(("_fraction", "sparsity")):
        return "fraction"
    if leaf == "bits" or leaf.endswith("_bits"):
        return "bit"
    if leaf in _COUNTS:
        return "count"
    return "1"


def finish_table(df: Any, grid: Sequence[str]) -> Any:
    """``df`` with datetimes for ``started``/``finished`` (UTC ``datetime64``; NaT where
    not recorded) and ``attrs["units"]`` and ``attrs["grid"]`` set."""
    import pandas as pd

    for col in ("started", "finished"):
        if col in df.columns:
            df[col] = pd.to_datetime(
                df[col].replace("", None), utc=True, errors="coerce", format="ISO8601"
            )
    for col in ("test_inputs", "test_inputs_total", "batch_size"):
        if col in df.columns:
            df[col] = df[col].astype("Int64")  # counts, <NA> where not recorded
    df.attrs["units"] = {c: ("" if c in grid and unit_of(c) == "1" else unit_of(c))
                         for c in df.columns}  # fmt: skip
    df.attrs["grid"] = list(grid)
    return df


def units_in_names(df: Any) -> Any:
    """A copy of ``df`` whose column names carry their unit: ``energy_per_inference [J]``
    (from ``df.attrs["units"]``; columns without a unit keep their name). For CSV and
    JSON exports, which cannot keep ``attrs``."""
    units = df.attrs.get("units", {})
    names = {c: f"{c} [{units[c]}]" for c in df.columns if units.get(c)}
    out = df.rename(columns=names)
    out.attrs = {}
    return out


def _key(v: Any) -> Any:
    """A dictionary key for a coordinate value (None and NaN are the same: missing)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _coordinate(values: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct values (sorted where they sort, missing last) and their array."""
    uniq = list(dict.fromkeys(_key(v) for v in values))
    try:
        uniq.sort(key=lambda v: (v is None, v))
    except TypeError:
        pass
    present = [v for v in uniq if v is not None]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if numeric and present:
        if None in uniq:
            arr = np.array([np.nan if v is None else v for v in uniq], dtype=float)
        else:
            arr = np.asarray(uniq)
    else:
        arr = np.array(uniq, dtype=object)
    return uniq, arr


def to_xarray(table: Any, curves: Mapping[str, Mapping[str, tuple]] | None = None) -> Any:
    """An N-d :class:`xarray.Dataset` of ``table`` (one row per run, from
    :meth:`Archive.table`) over ``workload``, ``target``, the swept options
    (``table.attrs["grid"]``) and ``seed``.

    Every numeric column becomes a variable with its unit in ``attrs["units"]`` (NaN where
    no run exists for a combination); ``run_id`` says which run each cell comes from.
    ``curves`` maps ``run_id`` to ``{name: (x, y, y_std or None, x_label, y_label)}``;
    each curve becomes a variable with one more dimension, named after its x
    (:data:`CURVE_DIMS`: ``t_s`` is ``read_time_s``), and ``<name>_std`` where the runs
    give a spread. Where two runs share all coordinates the later one is kept.

    Raises
    ------
    ImportError
        xarray is not installed (one line saying how to install it).
    """
    try:
        import xarray as xr
    except ImportError:
        raise ImportError(_NO_XARRAY) from None
    grid = list(table.attrs.get("grid", []))
    units = dict(table.attrs.get("units", {}))
    dims = ["workload", "target", *grid, "seed"]
    coords: dict[str, list[Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    for d in dims:
        coords[d], arrays[d] = _coordinate(list(table[d]) if d in table else [None])
    index = {d: {v: i for i, v in enumerate(coords[d])} for d in dims}
    shape = tuple(len(coords[d]) for d in dims)
    positions = [
        tuple(index[d][_key(row.get(d))] for d in dims) for row in table.to_dict("records")
    ]
    skip = set(dims) | {"run_id"}
    data_vars: dict[str, Any] = {}
    for col in table.columns:
        if col in skip or table[col].dtype.kind not in "biuf":
            continue
        arr = np.full(shape, np.nan)
        for pos, value in zip(positions, table[col].to_numpy(dtype=float, na_value=np.nan)):
            arr[pos] = value
        data_vars[col] = (dims, arr, {"units": units.get(col, "")})
    if "run_id" in table:
        ids = np.full(shape, "", dtype=object)
        for pos, rid in zip(positions, table["run_id"]):
            ids[pos] = rid
        data_vars["run_id"] = (dims, ids)
    curve_coords: dict[str, np.ndarray] = {}
    rows = dict(zip(table["run_id"], positions)) if "run_id" in table else {}
    found: dict[str, list] = {}  # curve name -> [(position, curve tuple)]
    for rid, per in (curves or {}).items():
        for name, c in per.items():
            if rid in rows:
                found.setdefault(name, []).append((rows[rid], c))
    for name in sorted(found):  # the x values of every curve sharing a dimension
        dim = CURVE_DIMS.get(found[name][0][1][3], found[name][0][1][3])
        xs = {float(x) for _, c in found[name] for x in c[0]}
        curve_coords[dim] = np.array(sorted(xs | set(curve_coords.get(dim, []))))
    for name in sorted(found):
        x_label, y_label = found[name][0][1][3], found[name][0][1][4]
        dim = CURVE_DIMS.get(x_label, x_label)
        where = {x: i for i, x in enumerate(curve_coords[dim])}
        y = np.full((*shape, len(where)), np.nan)
        s = np.full_like(y, np.nan)
        for pos, (cx, cy, cs, _, _) in found[name]:
            for k, x in enumerate(cx):
                y[(*pos, where[float(x)])] = cy[k]
                if cs is not None:
                    s[(*pos, where[float(x)])] = cs[k]
        attrs = {"units": _CURVE_UNITS.get(y_label, unit_of(y_label)),
                 "long_name": f"{y_label} against {x_label}"}  # fmt: skip
        data_vars[name] = ([*dims, dim], y, attrs)
        if not np.isnan(s).all():
            data_vars[f"{name}_std"] = (
                [*dims, dim],
                s,
                {**attrs, "long_name": "s.d. over repeats"},
            )
    all_coords = {d: (d, arrays[d], {"units": units.get(d, "")}) for d in dims}
    for dim, values in curve_coords.items():
        unit = "s" if dim == "read_time_s" else ""
        all_coords[dim] = (dim, values, {"units": unit})
    ds = xr.Dataset(data_vars, coords=all_coords)
    ds.attrs["grid"] = grid
    return ds


def require_xarray() -> None:
    """Raise a one-line :class:`ImportError` when xarray is not installed."""
    try:
        import xarray  # noqa: F401
    except ImportError:
        raise ImportError(_NO_XARRAY) from None
