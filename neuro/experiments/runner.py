"""Running an experiment's runs, serially or on Dask, with only the driver writing the archive.

Workers (local processes of a Dask ``LocalCluster``, or an existing cluster by address)
build the target and evaluate the run; the :class:`~neuro.result.Result` travels back to
the driver, which appends it to the archive and flushes. Runs already complete in the
archive (same key) are skipped, so a sweep killed at any point resumes where it stopped,
without duplicates. A run that raises is archived with status ``"failed"`` and is tried
again on the next resume.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from devices.validation import ConfigError
from neuro.archive import Archive
from neuro.experiments.spec import ExperimentSpec, RunSpec
from neuro.result import Result

__all__ = ["execute", "run_experiment", "Summary"]


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
    result.check()
    return result


def _execute_in_worker(run: RunSpec) -> Result:
    import torch

    torch.set_num_threads(1)  # one thread per worker process: no oversubscription
    return execute(run)


def _client(workers: int | None, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dist extra is installed by make
        raise ConfigError(
            "--workers/--scheduler need dask[distributed] (pip install 'neuro-cosim[dist]')"
        ) from None
    if scheduler:
        return Client(scheduler, timeout="20s"), None
    import dask

    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in the workers by default, so glibc
    # gives every freed tensor back to the OS and page-faults it in again: measured here,
    # a crossbar evaluation ran 2.5-3x slower in a worker than in the driver. Our workers
    # start without it.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    return Client(cluster), cluster


def run_experiment(
    spec: ExperimentSpec,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_run: Callable[[RunSpec, str], None] | None = None,
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
    """
    if workers is not None and scheduler is not None:
        raise ConfigError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1; got {workers}")
    runs = spec.runs()
    with Archive(out, mode="a") as archive:
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

        bar = tqdm(total=len(pending), desc=spec.name, unit="run", disable=None)
        if workers is None and scheduler is None:
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

            client, cluster = _client(workers, scheduler)
            try:
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
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        bar.close()
    return Summary(len(runs), len(runs) - len(pending), completed, failed)
