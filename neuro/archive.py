"""The HDF5 result archive: append-only, flushed after each run, locked against a second writer.

Layout (schema version :data:`SCHEMA_VERSION`), readable with any HDF5 tool::

    /                       attrs: schema_version, created, producer
    /runs/<run_id>/         attrs: workload, target, seed, status, run_key, batch_size,
                                   config (JSON), provenance (JSON), started, finished,
                                   error (failed runs)
        metrics/<name>      scalar float64, attr unit; NaN = not modelled by the target
        energy_breakdown/   attr energy_missing (JSON: group or component -> reason)
          <component>       scalar float64, J per inference; attr group (one of
                            neuro.result.ENERGY_GROUPS: chip = compute, conversion,
                            movement, static; system = chip + off_chip)
        extra/<name>        scalar float64 (target-specific figures)
        layers/<column>     one dataset per column of the per-layer table (float64 with
                            NaN for missing, or UTF-8 strings; lists JSON-encoded)
        curves/<name>/x, y, y_std      float64, attrs x_label, y_label

A run's group is written completely, then its ``status`` attribute is set, then the file
is flushed and closed: a writer killed between runs leaves a file that opens and holds
every completed run. A group without ``status`` (a write cut short) is invisible to the
readers and is replaced on the next write of the same run.

Only one process writes at a time: :class:`Archive` in a writing mode takes an exclusive
``flock`` on ``<path>.lock`` (released by the kernel if the writer dies) and a second
writer gets :class:`ArchiveLockedError`.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from neuro.provenance import now_iso
from neuro.result import DERIVED_METRICS, METRIC_FIELDS, METRIC_UNITS, Curve, Result

__all__ = ["Archive", "ArchiveError", "ArchiveLockedError", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_STR = h5py.string_dtype("utf-8")


class ArchiveError(RuntimeError):
    """The archive cannot be opened or is not one of ours."""


class ArchiveLockedError(ArchiveError):
    """Another process is writing the archive."""


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)


def dumps(obj: Any) -> str:
    """JSON with numpy values, tuples and paths made plain."""
    return json.dumps(obj, default=_json_default, sort_keys=True)


def _float(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _unfloat(v: Any) -> float | None:
    f = float(v)
    return None if math.isnan(f) else f


class Archive:
    """An HDF5 archive of runs.

    Parameters
    ----------
    path : path
        The ``.h5`` file.
    mode : {"r", "a"}
        ``"r"`` reads (no lock); ``"a"`` creates or appends and holds the writer lock
        until :meth:`close` (use as a context manager).

    Examples
    --------
    >>> with Archive("runs.h5", mode="a") as ar:        # doctest: +SKIP
    ...     ar.append(result)
    >>> Archive("runs.h5").table()                      # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r") -> None:
        self._lock_fh = None
        if mode not in ("r", "a"):
            raise ValueError(f"Archive.mode must be 'r' or 'a'; got {mode!r}")
        self.path = Path(path)
        self.mode = mode
        if mode == "r":
            if not self.path.is_file():
                raise ArchiveError(f"{self.path}: no such archive")
            self._check_schema()
        else:
            self._acquire_lock()
            try:
                self._init_file()
            except BaseException:
                self.close()
                raise

    # -- locking -------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _acquire_lock(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise ArchiveLockedError(
                f"{self.path}: archive is being written by {holder}; wait for it or use another file"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._lock_fh = fh

    def close(self) -> None:
        """Release the writer lock (a no-op for readers)."""
        if getattr(self, "_lock_fh", None) is not None:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    # -- file ----------------------------------------------------------------------------
    def _open(self, mode: str) -> h5py.File:
        try:
            return h5py.File(self.path, mode, locking=False)
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot open as HDF5 ({exc})") from None

    def _check_schema(self) -> None:
        with self._open("r") as f:
            version = f.attrs.get("schema_version")
            if version is None:
                raise ArchiveError(f"{self.path}: not a neuro-cosim archive (no schema_version)")
            if int(version) > SCHEMA_VERSION:
                raise ArchiveError(
                    f"{self.path}: schema version {int(version)} is newer than this "
                    f"neuro-cosim reads ({SCHEMA_VERSION}); upgrade neuro-cosim"
                )

    def _init_file(self) -> None:
        if self.path.exists():
            self._check_schema()
            return
        with self._open("w") as f:
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["created"] = now_iso()
            f.attrs["producer"] = "neuro-cosim"
            f.create_group("runs")
            f.flush()

    # -- writing -------------------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._lock_fh is None:
            raise ArchiveError(f"{self.path}: opened for reading; use Archive(path, mode='a')")

    def _new_group(self, f: h5py.File, run_key: str | None) -> h5py.Group:
        runs = f["runs"]
        # A write cut short left a group without status: replace it.
        for rid in list(runs):
            g = runs[rid]
            if "status" not in g.attrs and (run_key is None or g.attrs.get("run_key") == run_key):
                del runs[rid]
        index = len(runs) + 1
        while f"r{index:06d}" in runs:
            index += 1
        return runs.create_group(f"r{index:06d}")

    def append(
        self, result: Result, *, run_key: str | None = None, status: str = "complete"
    ) -> str:
        """Write one run and flush; returns its run id.

        Parameters
        ----------
        result : Result
            What the run produced.
        run_key : str, optional
            A key that identifies the run's definition (used to resume sweeps).
        status : str
            ``"complete"`` (default).
        """
        self._require_writer()
        with self._open("a") as f:
            g = self._new_group(f, run_key)
            self._write_result(g, result)
            if run_key is not None:
                g.attrs["run_key"] = run_key
            f.flush()
            g.attrs["status"] = status
            f.flush()
            return g.name.rsplit("/", 1)[-1]

    def append_failure(
        self, *, workload: str, target: str, seed: int, error: str,
        config: dict | None = None, run_key: str | None = None,
    ) -> str:  # fmt: skip
        """Record a run that raised: its definition and the error, status ``"failed"``."""
        self._require_writer()
        with self._open("a") as f:
            g = self._new_group(f, run_key)
            g.attrs.update(
                workload=workload, target=target, seed=int(seed), error=error,
                config=dumps(config or {}), provenance="{}", batch_size=0,
                started="", finished=now_iso(),
            )  # fmt: skip
            if run_key is not None:
                g.attrs["run_key"] = run_key
            f.flush()
            g.attrs["status"] = "failed"
            f.flush()
            return g.name.rsplit("/", 1)[-1]

    @staticmethod
    def _write_result(g: h5py.Group, r: Result) -> None:
        prov = dict(r.provenance)
        g.attrs.update(
            workload=r.workload, target=r.target, seed=int(r.seed), batch_size=int(r.batch_size),
            config=dumps(r.config), provenance=dumps(prov),
            started=str(prov.get("started", "")), finished=str(prov.get("finished", "")),
        )  # fmt: skip
        m = g.create_group("metrics")
        for name in METRIC_FIELDS:
            ds = m.create_dataset(name, data=_float(getattr(r, name)))
            ds.attrs["unit"] = METRIC_UNITS[name]
        b = g.create_group("energy_breakdown")
        for name, value in r.energy_breakdown.items():
            ds = b.create_dataset(name, data=float(value))
            ds.attrs["unit"] = "J"
            if name in r.energy_groups:
                ds.attrs["group"] = r.energy_groups[name]
        b.attrs["energy_missing"] = dumps(r.energy_missing)
        e = g.create_group("extra")
        for name, value in r.extra.items():
            e.create_dataset(name, data=_float(value))
        lay = g.create_group("layers")
        columns: list[str] = []
        for row in r.layers:
            columns += [k for k in row if k not in columns]
        lay.attrs["columns"] = dumps(columns)
        for col in columns:
            values = [row.get(col) for row in r.layers]
            numeric = all(
                v is None or (isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
                for v in values
            )
            if numeric and all(isinstance(v, (int, np.integer)) for v in values):
                lay.create_dataset(col, data=np.array(values, dtype=np.int64))
            elif numeric:
                lay.create_dataset(col, data=np.array([_float(v) for v in values], dtype=float))
            elif all(isinstance(v, str) for v in values):
                lay.create_dataset(col, data=np.array(values, dtype=object), dtype=_STR)
            else:
                enc = np.array([dumps(v) for v in values], dtype=object)
                lay.create_dataset(col, data=enc, dtype=_STR).attrs["json"] = True
        c = g.create_group("curves")
        for name, curve in r.curves.items():
            cg = c.create_group(name)
            cg.create_dataset("x", data=curve.x)
            cg.create_dataset("y", data=curve.y)
            if curve.y_std is not None:
                cg.create_dataset("y_std", data=curve.y_std)
            cg.attrs.update(x_label=curve.x_label, y_label=curve.y_label)

    # -- reading -------------------------------------------------------------------------
    def _complete_groups(self, f: h5py.File, include_failed: bool) -> list[tuple[str, h5py.Group]]:
        out = []
        for rid in sorted(f["runs"]):
            g = f["runs"][rid]
            status = g.attrs.get("status")
            if status == "complete" or (include_failed and status == "failed"):
                out.append((rid, g))
        return out

    def runs(self, *, include_failed: bool = False) -> list[str]:
        """Ids of the completed runs (and failed ones if asked), in order."""
        with self._open("r") as f:
            return [rid for rid, _ in self._complete_groups(f, include_failed)]

    def run_keys(self) -> set[str]:
        """``run_key`` of every completed run (what a resumed sweep skips)."""
        with self._open("r") as f:
            return {
                str(g.attrs["run_key"])
                for _, g in self._complete_groups(f, False)
                if "run_key" in g.attrs
            }

    def get(self, run_id: str) -> Result:
        """The :class:`Result` of run ``run_id``."""
        with self._open("r") as f:
            if run_id not in f["runs"] or f["runs"][run_id].attrs.get("status") != "complete":
                valid = ", ".join(self.runs()) or "(none)"
                raise KeyError(f"no completed run {run_id!r} in {self.path}; runs: {valid}")
            g = f["runs"][run_id]
            metrics = {name: _unfloat(g["metrics"][name][()]) for name in g["metrics"]}
            for name in DERIVED_METRICS:
                metrics.pop(name, None)
            layers = self._read_layers(g["layers"])
            curves = {}
            for name, cg in g["curves"].items():
                curves[name] = Curve(
                    cg["x"][()], cg["y"][()], str(cg.attrs["x_label"]), str(cg.attrs["y_label"]),
                    cg["y_std"][()] if "y_std" in cg else None,
                )  # fmt: skip
            return Result(
                workload=str(g.attrs["workload"]),
                target=str(g.attrs["target"]),
                seed=int(g.attrs["seed"]),
                ops_per_inference=metrics.pop("ops_per_inference") or 0.0,
                energy_breakdown={k: float(v[()]) for k, v in g["energy_breakdown"].items()},
                energy_groups={
                    k: str(v.attrs["group"])
                    for k, v in g["energy_breakdown"].items()
                    if "group" in v.attrs
                },
                energy_missing=json.loads(g["energy_breakdown"].attrs.get("energy_missing", "{}")),
                extra={k: _unfloat(v[()]) for k, v in g["extra"].items()},
                layers=layers,
                curves=curves,
                config=json.loads(g.attrs["config"]),
                provenance=json.loads(g.attrs["provenance"]),
                batch_size=int(g.attrs["batch_size"]),
                **metrics,
            )

    @staticmethod
    def _read_layers(lay: h5py.Group) -> list[dict[str, Any]]:
        columns = json.loads(lay.attrs.get("columns", "[]"))
        if not columns:
            return []
        data: dict[str, list] = {}
        for col in columns:
            ds = lay[col]
            if ds.dtype.kind == "f":
                data[col] = [_unfloat(v) for v in ds[()]]
            elif ds.dtype.kind in "iu":
                data[col] = [int(v) for v in ds[()]]
            elif ds.attrs.get("json", False):
                data[col] = [json.loads(v) for v in ds.asstr()[()]]
            else:
                data[col] = list(ds.asstr()[()])
        n = len(data[columns[0]])
        return [{col: data[col][i] for col in columns} for i in range(n)]

    def table(self, *, include_failed: bool = False) -> pd.DataFrame:
        """One row per run: ``run_id``, ``workload``, ``target``, ``seed``, ``status``, the
        metrics of DESIGN.md (SI units), ``energy_<component>`` and extra figures, times.
        """
        rows = []
        with self._open("r") as f:
            for rid, g in self._complete_groups(f, include_failed):
                row: dict[str, Any] = {
                    "run_id": rid,
                    "workload": str(g.attrs["workload"]),
                    "target": str(g.attrs["target"]),
                    "seed": int(g.attrs["seed"]),
                    "status": str(g.attrs["status"]),
                }
                for name in METRIC_FIELDS:
                    m = g["metrics"] if "metrics" in g else {}
                    row[name] = _unfloat(m[name][()]) if name in m else None
                for grp, prefix in (("energy_breakdown", "energy_"), ("extra", "")):
                    if grp in g:
                        for k, v in g[grp].items():
                            row[prefix + k] = _unfloat(v[()])
                if "energy_breakdown" in g:
                    groups: dict[str, float] = {}
                    for v in g["energy_breakdown"].values():
                        if "group" in v.attrs:
                            key = "energy_group_" + str(v.attrs["group"])
                            groups[key] = groups.get(key, 0.0) + float(v[()])
                    row.update(groups)
                row["batch_size"] = int(g.attrs.get("batch_size", 0))
                row["started"] = str(g.attrs.get("started", ""))
                row["finished"] = str(g.attrs.get("finished", ""))
                if include_failed:
                    row["error"] = str(g.attrs.get("error", ""))
                rows.append(row)
        base = ["run_id", "workload", "target", "seed", "status", *METRIC_FIELDS]
        return pd.DataFrame(rows, columns=None if rows else base)
