"""Run a grid's pending runs in parallel workers: local processes or a Dask cluster.

- By default, a Dask ``LocalCluster`` of worker processes on this machine, as many as it has
  cores, one thread each (one run per core: these small models gain nothing from a second
  thread, and two runs side by side each keep their speed).
- ``workers=N`` sets the number (``1``: one run at a time); ``scheduler="tcp://HOST:PORT"``
  sends the runs to a running Dask cluster whose workers see the same results folder.
- ``FWLIB_WORKERS`` and ``FWLIB_SCHEDULER`` set the same from the environment (the pipeline
  sets them from its options, so that a notebook run by the pipeline obeys them).

A run's numbers do not depend on where it ran: every run trains with one TensorFlow thread,
from its seed alone. A worker that dies loses only its current run's progress since that
run's last checkpoint: Dask gives the run to another worker, which resumes it; a run that
still fails is reported and resumes at the next invocation. Runs are locked while they train
(:meth:`fwlib.run.folder.RunFolder.lock`), so two pipelines on one folder never train the same
run at the same time. The runs go out one per free worker thread, longest first where their
times can be estimated (:func:`in_order`, :func:`longest_first`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from fwlib.notebook import interactive
from fwlib.run.config import RunConfig
from fwlib.run.execute import execute, gpu_sharing_notice
from fwlib.run.folder import RunFolder, atomic_write
from fwlib.run.grid import unique_runs
from fwlib.run.provenance import REPO_ROOT

PROGRESS_ENV = "FWLIB_PROGRESS_FILE"


class GridError(RuntimeError):
    """Some runs of a grid failed; the others finished and are kept."""


def resolve_workers(workers: int | None = None) -> int:
    """The number of local workers: ``workers``, else ``$FWLIB_WORKERS``, else the cores."""
    if workers is None:
        text = os.environ.get("FWLIB_WORKERS")
        workers = int(text) if text else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer (got {workers!r})")
    return workers


def resolve_scheduler(scheduler: str | None = None) -> str | None:
    scheduler = scheduler or os.environ.get("FWLIB_SCHEDULER") or None
    if scheduler is not None and not str(scheduler).startswith(("tcp://", "tls://", "inproc://")):
        raise ValueError("scheduler must be a Dask scheduler address such as "
                         f"tcp://HOST:PORT (got {scheduler!r})")
    return scheduler


class GridProgress:
    """What a grid is doing, for a person: a JSON file the pipeline's console reads, or
    progress bars in a notebook run by hand."""

    def __init__(self, title: str, configs: list[RunConfig], root: Path, done: int,
                 show: bool | None):
        self.title, self.configs, self.root = title, configs, root
        self.total, self.done, self.failed = len(configs), done, 0
        self.started = time.time()
        self.file = os.environ.get(PROGRESS_ENV)
        self.show = (show if show is not None else interactive()) and not self.file
        self.bars: dict[str, object] = {}
        self.grid_bar = None
        self._lock = threading.Lock()
        if self.show:
            from tqdm.auto import tqdm  # noqa: PLC0415

            self.tqdm = tqdm
            self.grid_bar = tqdm(total=self.total, initial=done, desc=title, unit="run",
                                 file=sys.stderr)

    def active(self) -> list[dict]:
        rows = []
        for config in self.configs:
            folder = RunFolder(self.root / config.run_name())
            if folder.finished() or not folder.is_locked():
                continue
            try:
                state = folder.read_state() or {}
            except (OSError, ValueError):  # being replaced at this moment
                state = {}
            rows.append({"run": config.run_name(), "step": state.get("step", 0),
                         "max_steps": config.budget.max_steps})
        return rows

    def update(self, finished: int = 0, failed: int = 0) -> None:
        with self._lock:
            self._update(finished, failed)

    def _update(self, finished: int, failed: int) -> None:
        self.done += finished
        self.failed += failed
        active = self.active()
        if self.file:
            atomic_write(Path(self.file), json.dumps(
                {"title": self.title, "total": self.total, "done": self.done,
                 "failed": self.failed, "started": self.started, "active": active}))
        if self.show:
            self.grid_bar.update(finished + failed)
            names = {a["run"] for a in active}
            for name in [n for n in self.bars if n not in names]:
                self.bars.pop(name).close()
            for row in active:
                bar = self.bars.get(row["run"])
                if bar is None:
                    bar = self.bars[row["run"]] = self.tqdm(
                        total=row["max_steps"], desc=row["run"], unit="step", leave=False,
                        file=sys.stderr)
                bar.update(row["step"] - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self.grid_bar is not None:
            self.grid_bar.close()


def _client(workers: int, scheduler: str | None):
    from dask.distributed import Client, LocalCluster  # noqa: PLC0415

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           worker_dashboard_address=None,
                           # no dashboard; the scheduler's HTTP server (health and metrics
                           # routes) takes a free port, so a second pipeline on the machine
                           # does not warn that port 8787 is taken
                           scheduler_kwargs={"dashboard_address": ":0"})
    return Client(cluster), cluster


def run_grid(configs: Iterable[RunConfig], runs_root: str | os.PathLike, *,
             workers: int | None = None, scheduler: str | None = None,
             progress: bool | None = None, title: str = "runs",
             on_finish: Callable[[RunConfig, dict], None] | None = None) -> list[dict]:
    """Train every run of ``configs`` under ``runs_root/<run name>`` (finished runs are reused,
    interrupted ones resume); return their metrics in the order of ``configs``.

    Raises :class:`GridError` naming the runs that failed, after every other run has ended.
    """
    configs = unique_runs(configs)
    workers, scheduler = resolve_workers(workers), resolve_scheduler(scheduler)
    root = Path(runs_root)
    finished = [RunFolder(root / c.run_name()).check(c) for c in configs]  # clashes first
    todo = [c for c, done in zip(configs, finished, strict=True) if not done]
    notice = gpu_sharing_notice(workers, os.environ) if todo and not scheduler else None
    if notice:
        warnings.warn(notice, stacklevel=2)
    monitor = GridProgress(title, configs, root, len(configs) - len(todo), progress)
    errors: dict[str, str] = {}
    try:
        if todo:
            errors = _train(todo, root, workers, scheduler, monitor, on_finish)
        monitor.update()
    finally:
        monitor.close()
    if errors:
        lines = "\n".join(f"  {name}: {error}" for name, error in errors.items())
        raise GridError(f"{len(errors)} of {len(configs)} runs failed (each resumes from its "
                        f"last checkpoint at the next invocation):\n{lines}")
    return [RunFolder(root / c.run_name()).metrics() for c in configs]


SPEED_TABLE = REPO_ROOT / "results" / "benchmarks" / "train_speed.csv"


def expected_seconds(configs: list[RunConfig], table: str | os.PathLike = SPEED_TABLE
                     ) -> list[float | None]:
    """A rough cost of each run, for ordering only: its update budget at the examples per
    second that the training-speed benchmark recorded for its model, implementation and R on
    associative retrieval (XLA, data in memory). ``None`` where the benchmark has no such row
    (another task, another R, S > 1) or no table is there."""
    try:
        import pandas as pd  # noqa: PLC0415

        speeds = pd.read_csv(table)
        speeds = speeds[(speeds["status"] == "ok") & (speeds["input"] == "resident")
                        & speeds["xla"].astype(bool)]
        rate = {(m, i, int(r)): float(s) for m, i, r, s in zip(
            speeds["model"], speeds["implementation"], speeds["hidden_units"],
            speeds["examples_per_s"], strict=True)}
    except (OSError, KeyError, ValueError):
        return [None] * len(configs)
    costs: list[float | None] = []
    for config in configs:
        model = config.model  # a CoreSpec on associative retrieval; other tasks have others
        key = ((model.kind, model.implementation, model.hidden_units)
               if config.task.name == "associative" and model.inner_steps == 1 else None)
        costs.append(config.optim.batch_size * config.budget.max_steps / rate[key]
                     if key in rate else None)
    return costs


def longest_first(configs: list[RunConfig]) -> list[RunConfig]:
    """The runs with the longest expected time first (each worker then takes the next run as
    it frees, which keeps the grid's last minutes from waiting on one long run), when every
    run's time can be estimated; otherwise the grid's own order. Ordering changes no run's
    numbers."""
    costs = expected_seconds(configs)
    if not configs or any(cost is None for cost in costs):
        return list(configs)
    order = sorted(range(len(configs)), key=lambda i: (-costs[i], i))
    return [configs[i] for i in order]


def in_order(client, items: list, submit) -> Iterator[tuple[Any, Any]]:
    """Submit ``submit(item)`` (a future) for each of ``items``, in order, never more at once
    than the cluster has worker threads, and yield ``(item, future)`` as each one ends.

    A worker that frees thus takes the next item at once. Dask, given every run up front,
    sends a one-thread worker a second run in advance, which can then wait there behind a
    long run while another worker is idle. The number of threads is read again after each
    run, so workers that join a cluster later are used."""
    from dask.distributed import as_completed  # noqa: PLC0415

    queue = list(items)
    running: dict = {}
    completed = as_completed()

    def fill():
        slots = max(1, sum(client.nthreads().values()))
        while queue and len(running) < slots:
            item = queue.pop(0)
            future = submit(item)
            running[future] = item
            completed.add(future)

    fill()
    for future in completed:
        item = running.pop(future)
        fill()
        yield item, future


def _train(todo: list[RunConfig], root: Path, workers: int, scheduler: str | None,
           monitor: GridProgress, on_finish) -> dict[str, str]:
    client, cluster = _client(workers, scheduler)
    errors = {}
    stop = threading.Event()

    def poll():
        while not stop.wait(1.0):
            monitor.update()

    def submit(config):
        return client.submit(execute, config.to_dict(), str(root / config.run_name()),
                             key=f"run-{config.run_name()}", pure=False)

    poller = threading.Thread(target=poll, daemon=True)
    try:
        poller.start()
        for config, future in in_order(client, longest_first(todo), submit):
            try:
                metrics = future.result()
            except Exception as error:  # a run's failure is reported; the others go on
                errors[config.run_name()] = f"{type(error).__name__}: {error}"
                monitor.update(failed=1)
                continue
            monitor.update(finished=1)
            if on_finish is not None:
                on_finish(config, metrics)
    finally:
        stop.set()
        client.close()
        if cluster is not None:
            cluster.close()
    return errors
