"""Running an experiment's runs, serially or on Dask, with only the driver writing the archive.

Workers (local processes of a Dask ``LocalCluster``, or an existing cluster by address)
build the target and evaluate the run; the :class:`~neuro.result.Result` travels back to
the driver, which appends it to the archive and flushes. Runs already complete in the
archive (same key) are skipped, so a sweep killed at any point resumes where it stopped,
without duplicates. A run that raises is archived with status ``"failed"`` and is tried
again on the next resume.

Security: a Dask cluster exchanges pickles, and unpickling runs code, so point
``scheduler`` only at a cluster you trust (your own machines, on a private network or
behind TLS). The ``LocalCluster`` made for ``workers`` listens on 127.0.0.1 only and
starts no dashboard unless ``dashboard`` names an address. An unreachable scheduler fails
within :data:`CONNECT_TIMEOUT_S`, before the archive is opened, so nothing is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from devices.validation import ConfigError
from neuro.archive import Archive
from neuro.experiments.spec import ExperimentSpec, RunSpec
from neuro.report import quiet_bars
from neuro.result import Result

__all__ = ["execute", "run_experiment", "Summary", "check_scheduler_address"]

#: How long to wait for an existing Dask scheduler to answer.
CONNECT_TIMEOUT_S = 5.0
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def check_scheduler_address(address: str) -> str:
    """``address`` if it reads as ``[scheme://]host:port``, else :class:`ConfigError`."""
    scheme, sep, rest = address.rpartition("://")
    host, colon, port = (rest if sep else address).rpartition(":")
    ok = (not sep or scheme in _SCHEMES) and bool(host) and colon and port.isdigit()
    if ok and scheme != "inproc":
        ok = 1 <= int(port) <= 65535 and not any(c.isspace() for c in host)
    if not ok:
        raise ConfigError(
            f"--scheduler must be [tcp://]host:port (port 1-65535; schemes "
            f"{', '.join(_SCHEMES)}); got {address!r}"
        )
    return address


@dataclasses.dataclass(frozen=True)
class Summary:
    """What :func:`run_experiment` did: counts of runs."""

    total: int
    skipped: int
    completed: int
    failed: int


def execute(run: RunSpec) -> Result:
    """Evaluate one run (in whatever process calls it)."""
    from neuro.targets import make_target
    from neuro.workloads import get as get_workload

    result = make_target(run.target, **run.options).evaluate(
        get_workload(run.workload), seed=run.seed
    )
    result.target = run.target
    result.config = {**result.config, "grid_point": run.point}
    from neuro.compare import record_data
    from neuro.neurobench import add_to_result

    add_to_result(get_workload(run.workload), result)
    record_data(get_workload(run.workload), result)  # data source and test inputs
    result.check()
    return result


def _execute_in_worker(run: RunSpec) -> Result:
    import torch

    torch.set_num_threads(1)  # one thread per worker process: no oversubscription
    return execute(run)


def _client(workers: int | None, scheduler: str | None, dashboard: str | None = None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dist extra is installed by make
        raise ConfigError(
            "--workers/--scheduler need dask[distributed] (pip install 'neuro-cosim[dist]')"
        ) from None
    if scheduler:
        check_scheduler_address(scheduler)
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S:g}s"), None
        except (OSError, TimeoutError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(
                f"--scheduler {scheduler!r}: no Dask scheduler answered within "
                f"{CONNECT_TIMEOUT_S:g} s ({reason[:120]})"
            ) from None
    import dask

    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in the workers by default, so glibc
    # gives every freed tensor back to the OS and page-faults it in again: measured here,
    # a crossbar evaluation ran 2.5-3x slower in a worker than in the driver. Our workers
    # start without it.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=dashboard,
        )  # fmt: skip
    return Client(cluster), cluster


def run_experiment(
    spec: ExperimentSpec,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_run: Callable[[RunSpec, str], None] | None = None,
    dashboard: str | None = None,
) -> Summary:
    """Run every run of ``spec`` not yet complete in the archive at ``out``.

    Parameters
    ----------
    spec : ExperimentSpec
    out : path
        HDF5 archive (created if missing; locked while running).
    workers : int, optional
        Run on a Dask LocalCluster of this many single-threaded worker processes.
    scheduler : str, optional
        Run on an existing Dask cluster at this address (``"tcp://host:8786"``).
    on_run : callable, optional
        Called as ``on_run(run, status)`` after each run is archived.
    dashboard : str, optional
        With ``workers``: serve the Dask dashboard at this address (``"127.0.0.1:8787"``);
        none by default.
    """
    if workers is not None and scheduler is not None:
        raise ConfigError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1; got {workers}")
    runs = spec.runs()
    # Connect first: an unreachable scheduler fails fast, before the archive is touched.
    remote = _client(None, scheduler)[0] if scheduler is not None else None
    try:
        return _run(spec, runs, out, remote, workers, dashboard, on_run)
    finally:
        if remote is not None:
            remote.close()


def _run(spec, runs, out, client, workers, dashboard, on_run) -> Summary:
    cluster = None
    with Archive(out, mode="a") as archive, contextlib.ExitStack() as stack:
        if workers is not None:  # after the lock: a refused archive starts no processes
            client, cluster = _client(workers, None, dashboard)
            stack.callback(cluster.close)
            stack.callback(client.close)
        done = archive.run_keys()
        pending = [r for r in runs if r.key not in done]
        completed = failed = 0

        def record(run: RunSpec, result: Result | None, error: str | None) -> None:
            nonlocal completed, failed
            if result is not None:
                archive.append(result, run_key=run.key)
                completed += 1
                status = "complete"
            else:
                archive.append_failure(
                    workload=run.workload, target=run.target, seed=run.seed,
                    config={"options": run.options, "grid_point": run.point},
                    error=error or "", run_key=run.key,
                )  # fmt: skip
                failed += 1
                status = "failed"
            if on_run is not None:
                on_run(run, status)

        bar = tqdm(total=len(pending), desc=spec.name, unit="run", disable=quiet_bars())
        if client is None:
            for run in pending:
                try:
                    result, error = execute(run), None
                except Exception as exc:  # noqa: BLE001 - archived, the sweep goes on
                    result, error = (
                        None,
                        f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
                    )
                record(run, result, error)
                bar.update(1)
        else:
            from dask.distributed import as_completed

            futures = {
                client.submit(_execute_in_worker, run, key=f"run-{run.key}", pure=False): run
                for run in pending
            }
            for future in as_completed(futures):
                run = futures[future]
                try:
                    result, error = future.result(), None
                except Exception as exc:  # noqa: BLE001
                    result, error = None, f"{type(exc).__name__}: {exc}"
                record(run, result, error)
                bar.update(1)
        bar.close()
    return Summary(len(runs), len(runs) - len(pending), completed, failed)
