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
readers and is deleted by the next writer when it opens the file, so such groups never
accumulate. A run whose group cannot be read back (a damaged group, a wrong-typed
metric, invalid JSON) is skipped with a :class:`DamagedRunWarning` naming it by
:meth:`Archive.table` and :meth:`Archive.runs`, is never counted complete when a sweep
resumes (so it runs again), and :meth:`Archive.get` refuses it with one line.

Concurrency
-----------
**One writer per file, whatever its name.** A writer opens the archive file itself
(creating it if missing, never truncating it) and holds an exclusive lock on it until
:meth:`Archive.close`. On Linux and macOS that is ``flock`` on the *inode*, so the same file
reached through a symlink, a hard link, another relative path or a bind mount meets the same
lock; the kernel releases it when the writer dies, so a SIGKILL never leaves a stale lock.
A second writer gets :class:`ArchiveLockedError` naming the holder. On Windows, whose byte-
range locks are mandatory (a lock on the archive would stop HDF5 itself from reading it),
the writer lock sits on ``<real path>.writer`` beside it instead: a hard link there is not
recognised as the same archive (untested: no Windows machine in CI).

**Readers see whole runs.** Each append, and each read (``runs``, ``run_keys``, ``get``,
``table``), takes a short exclusive lock on ``<real path>.lock`` beside the archive, so a
reader waits at most one append (milliseconds) or another read and then sees a consistent
snapshot: every completed run, never half of one. We chose this lock over HDF5's SWMR
mode because SWMR only lets a writer extend existing datasets,
not create the new groups every run adds, and needs the newest file format, which older
HDF5 tools cannot read. If the wait exceeds :data:`READ_WAIT_S`, the reader gets one line
saying the archive is being written. The lock file is opened with ``O_NOFOLLOW`` (a
symlink planted in its place is refused, never followed), and its content (the holder's
pid) is only rewritten when it is a regular, single-link file that is empty or already
reads ``pid ...``: nothing it does not own is ever truncated. A reader never creates the lock file (reading a read-only folder
works and leaves nothing behind).

The locks are taken with the ``filelock`` package's descriptor locks
(:func:`filelock.lock_descriptor`): ``flock`` on POSIX, ``LockFileEx`` on Windows, on a
descriptor we opened ourselves, because the writer lock must sit on the archive's own inode
(the only identity that a hard link shares) and ``flock``'s per-open-file semantics keep it
held while h5py opens and closes its own descriptors of the same file (POSIX ``lockf``
locks would be dropped by those closes). ``filelock`` offers no shared lock on a
descriptor, so reads exclude each other too (for the milliseconds a read holds the lock;
they used to share a ``flock(LOCK_SH)``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock
import h5py
import numpy as np

from neuro._lazy import lazy_module
from neuro.provenance import now_iso
from neuro.result import DERIVED_METRICS, METRIC_FIELDS, METRIC_UNITS, Curve, Result

pd = lazy_module("pandas")  # imported when a table is built, not by ``neuro archive ls``

__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveLockedError",
    "DamagedRunWarning",
    "SCHEMA_VERSION",
    "check_writable",
]

SCHEMA_VERSION = 1
_STR = h5py.string_dtype("utf-8")
#: Longest a reader waits for an append in progress before saying the file is being written.
READ_WAIT_S = 10.0
#: Longest an append waits for readers to finish.
WRITE_WAIT_S = 60.0
_LOCK_MAX_BYTES = 64  # a lock file of ours holds "pid <n>"; anything bigger is not ours
# Portable open flags: Windows has no O_NOFOLLOW (open follows no symlink there anyway)
# and no O_CLOEXEC (its descriptors are not inherited by default).
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_WINDOWS = sys.platform == "win32"
# What an access takes on the lock file (both exclusive: see the module doc).
_READ, _WRITE = "read", "write"


def _pread(fd: int, n: int) -> bytes:
    """The first ``n`` bytes of ``fd`` (``os.pread`` is POSIX-only)."""
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, n)


def _pwrite(fd: int, data: bytes) -> None:
    """Write ``data`` at the start of ``fd``."""
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


class ArchiveError(RuntimeError):
    """The archive cannot be opened or is not one of ours."""


class ArchiveLockedError(ArchiveError):
    """Another process is writing the archive."""


class _MissingRun(KeyError):
    """:meth:`Archive.get` of an id that names no completed run (not a read error)."""


#: What reading a damaged run's group can raise (h5py, the JSON attributes, a wrong type).
_UNREADABLE = (OSError, KeyError, ValueError, TypeError, AttributeError, RuntimeError)


class DamagedRunWarning(UserWarning):
    """A run of the archive cannot be read back and is skipped."""


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


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_writable(path: str | os.PathLike, *, what: str = "--out") -> Path:
    """Refuse, before any work, a path that cannot be written as an archive or an output file.

    An existing path must be a regular file that this process can open for writing (it is
    not modified); a missing one must have a nearest existing parent that is a folder in
    which a file can be created (checked by creating and removing a temporary file, so a
    read-only file system is caught even for root).

    Raises
    ------
    ArchiveError
        One line naming ``what``, the path and the reason.
    """
    p = Path(path)
    if p.exists() or p.is_symlink():
        if p.is_dir():
            raise ArchiveError(f"{what} must be a file; got the directory {str(p)!r}")
        if not p.exists():
            raise ArchiveError(f"{what} {str(p)!r} is a symlink to nothing")
        if not p.is_file():
            raise ArchiveError(f"{what} {str(p)!r} is not a regular file")
        try:
            fd = os.open(p, os.O_WRONLY | _O_CLOEXEC)  # no O_TRUNC: nothing changes
        except OSError as exc:
            raise ArchiveError(f"{what} {str(p)!r} cannot be written ({_os_reason(exc)})") from None
        os.close(fd)
        return p
    parent = p.absolute().parent
    while not parent.exists():
        if parent.is_symlink():
            raise ArchiveError(f"{what} {str(p)!r}: {parent} is a symlink to nothing")
        parent = parent.parent
    if not parent.is_dir():
        raise ArchiveError(f"{what} {str(p)!r}: {parent} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".neuro-write-check-")
    except OSError as exc:
        raise ArchiveError(
            f"{what} {str(p)!r}: cannot create files in {parent} ({_os_reason(exc)})"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return p


class Archive:
    """An HDF5 archive of runs.

    Parameters
    ----------
    path : path
        The ``.h5`` file.
    mode : {"r", "a"}
        ``"r"`` reads (no writer lock); ``"a"`` creates or appends and holds the writer lock
        until :meth:`close` (use as a context manager).

    Examples
    --------
    >>> with Archive("runs.h5", mode="a") as ar:        # doctest: +SKIP
    ...     ar.append(result)
    >>> Archive("runs.h5").table()                      # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r") -> None:
        self._fd: int | None = None  # the archive itself, flock'ed by a writer
        self._lock_fd: int | None = None  # <real path>.lock, held open by a writer
        self._writer_fd: int | None = None  # Windows: <real path>.writer, locked by a writer
        self._created = False  # this writer created the archive file
        if mode not in ("r", "a"):
            raise ValueError(f"Archive.mode must be 'r' or 'a'; got {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._next = 1  # writer: number of the next run id
        self._keys: dict[str, str] | None = None  # writer: run_key -> run id of complete runs
        if mode == "r":
            if self.path.is_dir():
                raise ArchiveError(f"{self.path}: is a directory, not an archive")
            if not self.path.is_file():
                raise ArchiveError(f"{self.path}: no such archive")
            with self._reading():
                pass
        else:
            self._acquire_lock()
            try:
                self._init_file()
            except BaseException:
                self._abandon()
                raise

    # -- locking -------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        """``<real path>.lock``: the file that orders appends and reads (see the module doc)."""
        real = Path(os.path.realpath(self.path))
        return real.with_name(real.name + ".lock")

    def _acquire_lock(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The archive itself, never truncated; a directory or a device is refused.
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o644)
                self._created = True
            except FileExistsError:
                fd = os.open(self.path, os.O_RDWR | _O_CLOEXEC)
        except OSError as exc:
            raise ArchiveError(
                f"{self.path}: cannot open for writing ({_os_reason(exc)})"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ArchiveError(f"{self.path}: not a regular file")
        lock_fd = fd
        try:
            if _WINDOWS:  # (see the module doc) pragma: no cover
                real = Path(os.path.realpath(self.path))
                lock_fd = os.open(real.with_name(real.name + ".writer"), os.O_RDWR | os.O_CREAT)
            locked = filelock.lock_descriptor(lock_fd, blocking=False)
        except OSError as exc:
            for d in {fd, lock_fd}:
                os.close(d)
            raise ArchiveError(f"{self.path}: cannot lock ({_os_reason(exc)})") from None
        if not locked:
            for d in {fd, lock_fd}:
                os.close(d)
            holder = self._holder() or "another process"
            raise ArchiveLockedError(
                f"{self.path}: archive is being written by {holder}; wait for it or use another file"
            ) from None
        self._fd = fd
        self._writer_fd = lock_fd if lock_fd != fd else None
        try:
            self._lock_fd = self._open_lock_file(create=True)
            self._write_holder()
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Close after a failed start; a file this writer created and left empty goes."""
        if self._created and self._fd is not None and os.fstat(self._fd).st_size == 0:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.close()

    def _open_lock_file(self, *, create: bool) -> int | None:
        """The lock file's descriptor (``None`` for a reader when there is none)."""
        flags = _O_NOFOLLOW | _O_CLOEXEC | (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY)
        try:
            fd = os.open(self.lock_path, flags, 0o644)
        except FileNotFoundError:
            if create:
                raise
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ArchiveError(
                    f"{self.lock_path}: lock file is a symlink; refusing to follow it (remove it)"
                ) from None
            if not create and exc.errno in (errno.EACCES, errno.EPERM):
                return None
            raise ArchiveError(
                f"{self.lock_path}: cannot open the lock file ({_os_reason(exc)})"
            ) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise ArchiveError(f"{self.lock_path}: lock file is not a regular file (remove it)")
        return fd

    def _write_holder(self) -> None:
        fd = self._lock_fd
        assert fd is not None
        st = os.fstat(fd)
        if st.st_nlink != 1 or st.st_size > _LOCK_MAX_BYTES:
            return  # not a lock file of ours: keep it as it is, only lock it
        if st.st_size and not _pread(fd, _LOCK_MAX_BYTES).startswith(b"pid "):
            return
        with self._access(_WRITE, WRITE_WAIT_S):
            os.ftruncate(fd, 0)
            _pwrite(fd, f"pid {os.getpid()}".encode())

    def _holder(self) -> str | None:
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError:
            return None
        try:
            text = os.read(fd, _LOCK_MAX_BYTES).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        return text if text.startswith("pid ") else None

    @contextlib.contextmanager
    def _access(self, kind: str, wait_s: float) -> Iterator[None]:
        """Hold the lock file for the block: ``kind`` is ``_READ`` or ``_WRITE`` (an append),
        both exclusive (``filelock`` has no shared descriptor lock)."""
        fd = self._lock_fd if self._lock_fd is not None else self._open_lock_file(create=False)
        own = fd is not self._lock_fd
        if fd is None:  # no lock file: no writer has ever appended here
            yield
            return
        try:
            deadline = time.monotonic() + wait_s
            while not filelock.lock_descriptor(fd, blocking=False):
                if time.monotonic() > deadline:
                    raise ArchiveError(
                        f"{self.path}: archive is being written (an append held it for "
                        f"more than {wait_s:g} s); try again"
                    ) from None
                time.sleep(0.01)
            try:
                yield
            finally:
                filelock.unlock_descriptor(fd)
        finally:
            if own:
                os.close(fd)

    def close(self) -> None:
        """Release the writer lock (a no-op for readers)."""
        for attr in ("_lock_fd", "_writer_fd", "_fd"):
            fd = getattr(self, attr, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    filelock.unlock_descriptor(fd)
                os.close(fd)
                setattr(self, attr, None)

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
            if self.path.is_file() and self.path.stat().st_size == 0:
                raise ArchiveError(
                    f"{self.path}: empty file (being created, or left by a writer killed while "
                    "creating it)"
                ) from None
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ArchiveError(f"{self.path}: cannot open as HDF5 ({reason})") from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[h5py.File]:
        """The file, open for reading under the shared lock, schema checked.

        HDF5 and decoding errors inside the block become one-line :class:`ArchiveError`.
        """
        with self._access(_READ, READ_WAIT_S):
            f = self._open("r")
            try:
                self._check_schema(f)
                yield f
            except _MissingRun:
                raise
            except _UNREADABLE as exc:
                raise ArchiveError(f"{self.path}: cannot read ({_short(exc)})") from None
            finally:
                f.close()

    def _check_schema(self, f: h5py.File) -> None:
        version = f.attrs.get("schema_version")
        if version is None:
            raise ArchiveError(f"{self.path}: not a neuro-cosim archive (no schema_version)")
        try:
            v = int(np.asarray(version).item())
        except (TypeError, ValueError, OverflowError):
            raise ArchiveError(
                f"{self.path}: bad schema_version {_short_repr(version)}; expected an integer"
            ) from None
        if v < 1:
            raise ArchiveError(
                f"{self.path}: bad schema_version {v}; expected 1 to {SCHEMA_VERSION}"
            )
        if v > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.path}: schema version {v} is newer than this "
                f"neuro-cosim reads ({SCHEMA_VERSION}); upgrade neuro-cosim"
            )
        if not isinstance(f.get("runs", getlink=True), h5py.HardLink) or not isinstance(
            f["runs"], h5py.Group
        ):
            raise ArchiveError(f"{self.path}: damaged archive (no /runs group)")

    def _init_file(self) -> None:
        with self._access(_WRITE, WRITE_WAIT_S):
            if os.fstat(self._fd).st_size == 0:  # new, or created by a writer killed then
                with self._open("w") as f:  # truncates the same inode: the lock stays
                    f.attrs["schema_version"] = SCHEMA_VERSION
                    f.attrs["created"] = now_iso()
                    f.attrs["producer"] = "neuro-cosim"
                    f.create_group("runs")
                    f.flush()
                return
            f = self._open("r+")
            try:
                self._check_schema(f)
                self._scan_for_writing(f)
            except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
                raise ArchiveError(f"{self.path}: cannot read ({_short(exc)})") from None
            finally:
                f.close()

    def _scan_for_writing(self, f: h5py.File) -> None:
        """Once per writer: delete groups a killed writer left half-written; next run id."""
        runs = f["runs"]
        highest = 0
        for rid in list(runs):
            if rid.startswith("r") and rid[1:].isdigit():
                highest = max(highest, int(rid[1:]))
            try:
                g = runs[rid]
                half = isinstance(g, h5py.Group) and "status" not in g.attrs
            except (OSError, KeyError, RuntimeError):
                half = False  # unreadable: left in place, skipped by readers
            if half:
                del runs[rid]
        self._next = highest + 1
        f.flush()

    # -- writing -------------------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._fd is None:
            raise ArchiveError(f"{self.path}: opened for reading; use Archive(path, mode='a')")

    @contextlib.contextmanager
    def _new_group(self, run_key: str | None) -> Iterator[h5py.Group]:
        """A new run group, O(1): its id comes from the counter set when the writer opened."""
        with self._access(_WRITE, WRITE_WAIT_S), self._open("a") as f:
            runs = f["runs"]
            while f"r{self._next:06d}" in runs:
                self._next += 1
            name = f"r{self._next:06d}"
            g = runs.create_group(name)
            self._next += 1
            try:
                yield g
            except Exception:  # a result that cannot be written: leave no half group
                with contextlib.suppress(Exception):
                    del runs[name]
                raise
            if run_key is not None and self._keys is not None:
                if g.attrs.get("status") == "complete":
                    self._keys[run_key] = g.name.rsplit("/", 1)[-1]

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
        with self._new_group(run_key) as g:
            self._write_result(g, result)
            if run_key is not None:
                g.attrs["run_key"] = run_key
            g.file.flush()
            g.attrs["status"] = status
            g.file.flush()
            return g.name.rsplit("/", 1)[-1]

    def append_failure(
        self, *, workload: str, target: str, seed: int, error: str,
        config: dict | None = None, run_key: str | None = None,
    ) -> str:  # fmt: skip
        """Record a run that raised: its definition and the error, status ``"failed"``."""
        self._require_writer()
        with self._new_group(run_key) as g:
            g.attrs.update(
                workload=workload, target=target, seed=int(seed), error=error,
                config=dumps(config or {}), provenance="{}", batch_size=0,
                started="", finished=now_iso(),
            )  # fmt: skip
            if run_key is not None:
                g.attrs["run_key"] = run_key
            g.file.flush()
            g.attrs["status"] = "failed"
            g.file.flush()
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
    def _problem(self, g: Any, *, deep: bool = False, metrics: bool = True) -> str | None:
        """Why run group ``g`` cannot be read back (``None``: it can).

        The cheap checks (attributes, config JSON, metric types) run for every listed run;
        ``deep`` also reads every dataset (what :meth:`get` and :meth:`table` do).
        """
        try:
            if not isinstance(g, h5py.Group):
                return "not a group"
            a = g.attrs
            for name in ("workload", "target"):
                if not isinstance(a.get(name), str):
                    return f"attribute {name!r} missing or not a string"
            seed = a.get("seed")
            if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
                return f"attribute 'seed' must be an integer; got {_short_repr(seed)}"
            try:
                json.loads(a.get("config", ""))
            except (TypeError, ValueError):
                return "attribute 'config' is not valid JSON"
            if a.get("status") != "complete":
                return None
            if not isinstance(g.get("metrics"), h5py.Group):
                return "no metrics group"
            if metrics or deep:
                # h5py's low-level calls: a third of the cost of opening each Dataset object,
                # which a resumed sweep pays for every run of the archive
                mid = g["metrics"].id
                for i in range(mid.get_num_objs()):
                    name = mid.get_objname_by_idx(i)
                    ok = mid.get_objtype_by_idx(i) == h5py.h5g.DATASET
                    if ok:
                        d = h5py.h5d.open(mid, name)
                        ok = d.shape == () and d.dtype.kind in "fiu"
                    if not ok:
                        return f"metric {name.decode(errors='replace')!r} is not a number"
            if deep:
                json.loads(a.get("provenance", "{}"))
                for ds in g["metrics"].values():
                    float(ds[()])
                for grp in ("energy_breakdown", "extra"):
                    for name, ds in g.get(grp, {}).items():
                        if not isinstance(ds, h5py.Dataset) or ds.shape != ():
                            return f"{grp}/{name} is not a number"
                        float(ds[()])
                if "layers" in g:
                    self._read_layers(g["layers"])
                for name, cg in g.get("curves", {}).items():
                    if len(cg["x"]) != len(cg["y"]):
                        return f"curve {name!r}: x and y differ in length"
        except _UNREADABLE as exc:
            return f"unreadable ({_short(exc)})"
        return None

    def _groups(
        self, f: h5py.File, include_failed: bool, *, warn: bool = True, metrics: bool = True
    ) -> list[tuple[str, h5py.Group]]:
        """Complete (and failed, if asked) runs in order; damaged ones warned about."""
        out, damaged = [], []
        runs = f["runs"]
        for rid in sorted(runs):
            try:
                g = runs[rid]
                status = g.attrs.get("status") if isinstance(g, h5py.Group) else "damaged"
            except (OSError, KeyError, ValueError, RuntimeError) as exc:
                damaged.append(f"{rid} (unreadable: {_short(exc)})")
                continue
            if status is None:
                continue  # half-written: invisible (deleted by the next writer)
            if status not in ("complete", "failed"):
                damaged.append(f"{rid} (status {_short_repr(status)})")
                continue
            if status == "failed" and not include_failed:
                continue
            problem = self._problem(g, metrics=metrics)
            if problem is not None:
                damaged.append(f"{rid} ({problem})")
                continue
            out.append((rid, g))
        if warn:
            self._warn_damaged(damaged, stacklevel=4)
        return out

    def _warn_damaged(self, damaged: list[str], stacklevel: int = 3) -> None:
        """One :class:`DamagedRunWarning` naming up to five skipped runs (none: nothing)."""
        if damaged:
            warnings.warn(
                f"{self.path}: skipped {len(damaged)} damaged run(s): {'; '.join(damaged[:5])}"
                + (f"; and {len(damaged) - 5} more" if len(damaged) > 5 else ""),
                DamagedRunWarning,
                stacklevel=stacklevel,
            )

    def summary(self) -> list[dict[str, Any]]:
        """What ``neuro archive ls`` shows of each run (completed and failed), without pandas.

        ``archive ls`` must start in under 0.5 s and importing pandas alone takes about
        that, so the listing reads the few fields it shows straight from each run's group
        (``run_id``, ``workload``, ``target``, ``seed``, ``status``, ``accuracy``,
        ``energy_per_inference``, ``latency``, ``finished``, ``accuracy_metric``: top-1 or a
        detector's mAP@0.5; a metric not modelled is None),
        runs in order and damaged ones skipped with one warning, as :meth:`table` does.
        """

        def metric(g: h5py.Group, name: str) -> float | None:
            m = g.get("metrics")
            if m is None or name not in m:
                return None
            value = float(m[name][()])
            return None if value != value else value  # NaN: not modelled

        rows, damaged = [], []
        with self._reading() as f:
            for rid, g in self._groups(f, True, metrics=False):
                try:
                    rows.append(
                        {"run_id": rid, "workload": str(g.attrs["workload"]),
                         "target": str(g.attrs["target"]), "seed": int(g.attrs["seed"]),
                         "status": str(g.attrs["status"]), "accuracy": metric(g, "accuracy"),
                         "energy_per_inference": metric(g, "energy_per_inference"),
                         "latency": metric(g, "latency"),
                         "finished": str(g.attrs.get("finished", "")),
                         "accuracy_metric": json.loads(g.attrs.get("provenance", "{}") or "{}")
                         .get("accuracy_metric") or "top-1"}
                    )  # fmt: skip
                except _UNREADABLE as exc:
                    damaged.append(f"{rid} (unreadable: {_short(exc)})")
        self._warn_damaged(damaged)
        return rows

    def runs(self, *, include_failed: bool = False) -> list[str]:
        """Ids of the completed runs (and failed ones if asked), in order; damaged ones skipped."""
        with self._reading() as f:
            return [rid for rid, _ in self._groups(f, include_failed)]

    def run_keys(self) -> set[str]:
        """``run_key`` of every completed, readable run (what a resumed sweep skips).

        A writer reads them once and then keeps them up to date as it appends.
        """
        if self._keys is not None:
            return set(self._keys)
        with self._reading() as f:
            keys = {
                str(g.attrs["run_key"]): rid
                for rid, g in self._groups(f, False)
                if isinstance(g.attrs.get("run_key"), str)
            }
        if self._fd is not None:
            self._keys = keys
        return set(keys)

    def get(self, run_id: str) -> Result:
        """The :class:`Result` of run ``run_id``.

        Raises
        ------
        KeyError
            No completed run of that id.
        ArchiveError
            The run's group is damaged (one line naming the run and the problem).
        """
        with self._reading() as f:
            runs = f["runs"]
            g = runs.get(run_id) if isinstance(run_id, str) else None
            status = g.attrs.get("status") if isinstance(g, h5py.Group) else None
            if status != "complete":
                valid = [rid for rid, _ in self._groups(f, False, warn=False)]
                shown = ", ".join(valid[:20]) + (", ..." if len(valid) > 20 else "")
                raise _MissingRun(
                    f"no completed run {run_id!r} in {self.path}; runs: {shown or '(none)'}"
                )
            problem = self._problem(g, deep=True)
            if problem is not None:
                raise ArchiveError(f"{self.path}: run {run_id} is damaged: {problem}")
            metrics = {name: _unfloat(g["metrics"][name][()]) for name in g["metrics"]}
            for name in DERIVED_METRICS:
                metrics.pop(name, None)
            metrics = {k: v for k, v in metrics.items() if k in METRIC_UNITS}
            layers = self._read_layers(g["layers"]) if "layers" in g else []
            curves = {}
            for name, cg in g.get("curves", {}).items():
                curves[name] = Curve(
                    cg["x"][()], cg["y"][()], str(cg.attrs["x_label"]), str(cg.attrs["y_label"]),
                    cg["y_std"][()] if "y_std" in cg else None,
                )  # fmt: skip
            breakdown = g.get("energy_breakdown", {})
            return Result(
                workload=str(g.attrs["workload"]),
                target=str(g.attrs["target"]),
                seed=int(g.attrs["seed"]),
                ops_per_inference=metrics.pop("ops_per_inference", None) or 0.0,
                energy_breakdown={k: float(v[()]) for k, v in breakdown.items()},
                energy_groups={
                    k: str(v.attrs["group"]) for k, v in breakdown.items() if "group" in v.attrs
                },
                energy_missing=json.loads(
                    breakdown.attrs.get("energy_missing", "{}") if breakdown else "{}"
                ),
                extra={k: _unfloat(v[()]) for k, v in g.get("extra", {}).items()},
                layers=layers,
                curves=curves,
                config=json.loads(g.attrs["config"]),
                provenance=json.loads(g.attrs.get("provenance", "{}")),
                batch_size=int(g.attrs.get("batch_size", 0)),
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
        """One row per run: ``run_id``, ``workload``, ``target``, ``seed``, one column per
        swept option (the run's grid point, e.g. ``crossbar.adc.bits``), ``status``, the
        metrics of DESIGN.md (SI units), ``energy_<component>``, ``energy_group_<group>``
        and extra figures, ``batch_size``, ``test_inputs`` (the inputs the accuracy was
        measured on), ``test_inputs_total`` (the test split's size, where recorded),
        ``data_source``, and ``started``/``finished`` as UTC ``datetime64``.

        Units: ``table.attrs["units"]`` maps every column to its unit (see
        :mod:`neuro.archive_data`; the names stay the fields' names);
        ``table.attrs["grid"]`` lists the swept options' columns.

        Damaged runs are left out with a :class:`DamagedRunWarning` naming them.
        """
        from neuro.archive_data import finish_table

        rows = []
        damaged = []
        grid: dict[str, None] = {}
        with self._reading() as f:
            # (a wrong-typed metric fails in _row: no need to check the metrics twice)
            for rid, g in self._groups(f, include_failed, metrics=False):
                try:
                    rows.append(self._row(rid, g, include_failed, grid))
                except _UNREADABLE as exc:
                    damaged.append(f"{rid} (unreadable: {_short(exc)})")
        self._warn_damaged(damaged)
        base = ["run_id", "workload", "target", "seed", *grid, "status", *METRIC_FIELDS]
        columns = list(dict.fromkeys(base + [c for row in rows for c in row]))
        return finish_table(pd.DataFrame(rows, columns=columns), list(grid))

    def to_xarray(self):
        """The completed runs as an N-d :class:`xarray.Dataset` over ``workload × target ×
        <swept options> × seed``, each curve with its own x as one more dimension
        (``accuracy_vs_time`` over ``read_time_s``); units in each variable's
        ``attrs["units"]`` (see :func:`neuro.archive_data.to_xarray`).

        Raises
        ------
        ImportError
            xarray is not installed (``pip install xarray``).
        """
        from neuro.archive_data import require_xarray, to_xarray

        require_xarray()
        table = self.table()
        curves: dict[str, dict[str, tuple]] = {}
        with self._reading() as f:
            runs = f["runs"]
            for rid in table["run_id"]:
                cg = runs[rid].get("curves")
                if cg is None:
                    continue
                curves[rid] = {
                    name: (c["x"][()], c["y"][()], c["y_std"][()] if "y_std" in c else None,
                           str(c.attrs["x_label"]), str(c.attrs["y_label"]))
                    for name, c in cg.items()
                }  # fmt: skip
        return to_xarray(table, curves)

    @staticmethod
    def _row(
        rid: str, g: h5py.Group, include_failed: bool, grid: dict[str, None] | None = None
    ) -> dict[str, Any]:
        """One run's row of :meth:`table` (raises on a damaged group); the names of its
        grid point's options are added to ``grid``."""
        from neuro.report import measured_inputs

        row: dict[str, Any] = {
            "run_id": rid,
            "workload": str(g.attrs["workload"]),
            "target": str(g.attrs["target"]),
            "seed": int(g.attrs["seed"]),
            "status": str(g.attrs["status"]),
        }
        m = g["metrics"] if "metrics" in g else {}
        present = set(m)
        for name in METRIC_FIELDS:
            row[name] = _unfloat(m[name][()]) if name in present else None
        groups: dict[str, float] = {}  # each object opened once: table() is O(runs)
        for grp, prefix in (("energy_breakdown", "energy_"), ("extra", "")):
            if grp in g:
                for k, v in g[grp].items():
                    value = float(v[()])
                    row[prefix + k] = None if math.isnan(value) else value
                    if prefix and "group" in v.attrs:
                        key = "energy_group_" + str(v.attrs["group"])
                        groups[key] = groups.get(key, 0.0) + value
        row.update(groups)
        config = json.loads(g.attrs.get("config", "{}"))
        prov = json.loads(g.attrs.get("provenance", "{}") or "{}")
        point = config.get("grid_point") if isinstance(config, dict) else None
        for k, v in (point if isinstance(point, dict) else {}).items():
            row[k] = v
            if grid is not None:
                grid[k] = None
        n, total = measured_inputs(
            Result(workload=row["workload"], target=row["target"], seed=row["seed"],
                   ops_per_inference=0.0, accuracy=row.get("accuracy"), config=config,
                   provenance=prov, extra={"test_inputs": row.get("test_inputs")})
        )  # fmt: skip
        row["test_inputs"], row["test_inputs_total"] = n, total
        row["data_source"] = str(prov.get("data_source", "")) or None
        row["batch_size"] = int(g.attrs.get("batch_size", 0))
        row["started"] = str(g.attrs.get("started", ""))
        row["finished"] = str(g.attrs.get("finished", ""))
        if include_failed:
            row["error"] = str(g.attrs.get("error", ""))
        return row


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
