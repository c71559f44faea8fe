"""Execute a profile's notebooks in order with papermill, and render the report."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path

from fwlib.pipeline import catalog as nb
from fwlib.pipeline.console import Console
from fwlib.pipeline.profiles import PipelineError, load_profile, profile_path
from fwlib.pipeline.render import render, write_index
from fwlib.run.folder import RunClash, RunFolder
from fwlib.run.parallel import PROGRESS_ENV, resolve_scheduler, resolve_workers
from fwlib.run.provenance import REPO_ROOT, environment

KERNEL_NAME = "fast-weights-repro"
LOGGERS = ("papermill", "traitlets", "jupyter_client", "nbclient", "distributed", "py.warnings")


def notebook_parameters(name: str, profile: dict, profile_name: str, results_dir: str,
                        directory: Path | None = None) -> dict:
    """The parameters for one notebook: the profile's, checked against the notebook's own
    ``parameters`` cell, plus ``results_dir`` (and ``profile`` where the notebook takes it)."""
    declared = nb.declared_parameters(name, directory)
    given = dict((profile.get("notebooks") or {}).get(name) or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise PipelineError(f"{name}: unknown parameter(s) {unknown}; this notebook takes "
                            f"{', '.join(sorted(set(declared) - set(nb.INJECTED)))}")
    injected = [k for k in given if k in nb.INJECTED]
    if injected:
        raise PipelineError(f"{name}: {injected} are set by the runner, not by a profile")
    given["results_dir"] = results_dir
    if "profile" in declared:
        given["profile"] = profile_name
    return given


def ensure_kernel() -> None:
    """Install the project's kernel spec into this environment if it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    if KERNEL_NAME in KernelSpecManager().find_kernel_specs():
        return
    from ipykernel.kernelspec import install  # noqa: PLC0415

    install(prefix=sys.prefix, kernel_name=KERNEL_NAME,
            display_name="Python (fast-weights-repro)")


def _execution(log: dict, names: list[str]) -> dict:
    """One pipeline execution, for the record kept across executions."""
    return {"started": log["started"], "notebooks": names, "seconds": log["last_run_seconds"],
            "notebook_seconds": {n: log["notebooks"][n]["seconds"] for n in names},
            "code_version": log["environment"]["code_version"],
            "workers": log.get("workers"), "scheduler": log.get("scheduler")}


def executions(log: dict) -> list[dict]:
    """Every execution a pipeline log (``pipeline.json``) records. A log written before the
    list was kept holds only its latest execution, at the top level."""
    if "executions" in log:
        return log["executions"]
    if "last_run_seconds" in log:
        return [_execution(log, list(log["notebooks"]))]
    return []


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's file descriptor 2, which the notebooks' kernels and their workers
    inherit, to ``path``: their start-up notices and warnings go to the log, not the
    console."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _log_to_file(path: Path) -> logging.Handler:
    """Everything the notebooks and the libraries say goes to ``path``."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    logging.captureWarnings(True)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler


def _stop_logging(handler: logging.Handler) -> None:
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def plan(profile_name: str, only: list[str] | None = None, start: str | None = None,
         results_root: Path | None = None) -> dict:
    """Everything a run of the pipeline would do, checked: the profile, the notebooks, their
    parameters and their planned runs. Raises :class:`PipelineError` naming the problem."""
    names = nb.notebooks()
    profile = load_profile(profile_name, names)
    profile_name = profile_path(profile_name).stem
    chosen = nb.selected(names, only, start)
    root = results_root or REPO_ROOT / "results"
    out = (root / profile_name).resolve()
    try:
        results_dir = str(out.relative_to(REPO_ROOT))
    except ValueError:
        results_dir = str(out)
    params, runs = {}, {}
    for name in chosen:
        params[name] = notebook_parameters(name, profile, profile_name, results_dir)
        try:
            runs[name] = nb.planned_configs(name, params[name])
        except (ValueError, TypeError) as error:
            raise PipelineError(f"{name}: {error}") from None
        folder = nb.runs_dir(name, out)
        for config in runs[name] if folder is not None else []:
            try:  # a finished run that this plan cannot reuse is named before anything runs
                RunFolder(folder / config.run_name()).check(config)
            except RunClash as error:
                raise PipelineError(f"{name}: {error}") from None
    return {"profile": profile, "profile_name": profile_name, "notebooks": chosen,
            "params": params, "runs": runs, "out": out}


def run(profile_name: str, only: list[str] | None = None, start: str | None = None,
        results_root: Path | None = None, workers: int | None = None,
        scheduler: str | None = None, console: Console | None = None) -> Path:
    """Execute the selected notebooks of a profile; return the profile's results folder."""
    import papermill  # noqa: PLC0415

    console = console or Console()
    planned = plan(profile_name, only, start, results_root)
    profile, profile_name, out = planned["profile"], planned["profile_name"], planned["out"]
    names = planned["notebooks"]
    try:
        workers = resolve_workers(workers if workers is not None else profile.get("workers"))
        scheduler = resolve_scheduler(scheduler)
    except ValueError as error:
        raise PipelineError(str(error)) from None

    ensure_kernel()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    log_path = out / "pipeline.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    log["executions"] = executions(log)
    log.update(profile=profile_name, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               environment=environment(), workers=None if scheduler else workers,
               scheduler=scheduler)
    log.setdefault("notebooks", {})
    handler = _log_to_file(out / "pipeline.log")
    progress_file = out / ".progress.json"
    saved_env = {k: os.environ.get(k) for k in ("FWLIB_WORKERS", "FWLIB_SCHEDULER",
                                                PROGRESS_ENV)}
    os.environ.update({"FWLIB_WORKERS": str(workers), PROGRESS_ENV: str(progress_file)})
    if scheduler:
        os.environ["FWLIB_SCHEDULER"] = scheduler
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers} local worker(s)"
    console.line(f"fast-weights-repro · profile {profile_name} · {where} · {out}")
    finished = sum(1 for _ in out.rglob("metrics.json"))
    if finished:
        console.line(f"{out} already holds {finished} finished runs: they are reused, not "
                     f"trained again (`make verify PROFILE={profile_name}` trains every run "
                     "afresh in results/verify/ and compares)")
    began = time.perf_counter()
    try:
        for position, name in enumerate(names, 1):
            console.line(f"[{position}/{len(names)}] {name}")
            executed = out / "notebooks" / f"{name}.ipynb"
            executed.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            try:
                with console.watch(progress_file), _stderr_to(out / "pipeline.log"):
                    papermill.execute_notebook(
                        str(nb.notebook_path(name)), str(executed),
                        parameters=planned["params"][name], kernel_name=KERNEL_NAME,
                        cwd=str(REPO_ROOT), progress_bar=False, log_output=True)
            except papermill.PapermillExecutionError as error:
                log["notebooks"][name] = {"seconds": time.perf_counter() - started,
                                          "status": "failed"}
                log_path.write_text(json.dumps(log, indent=2))
                raise PipelineError(
                    f"notebook {name} failed in cell {error.exec_count}: {error.ename}: "
                    f"{error.evalue}\n(executed copy with the traceback: {executed}; the "
                    f"whole output: {out / 'pipeline.log'})") from None
            seconds = time.perf_counter() - started
            log["notebooks"][name] = {"seconds": seconds, "status": "ok"}
            log_path.write_text(json.dumps(log, indent=2))
            render(executed, executed.with_suffix(".html"), hide_code=False)
            console.line(f"    done in {seconds:.0f} s")
    finally:
        _stop_logging(handler)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    log["last_run_seconds"] = time.perf_counter() - began
    log["total_seconds"] = sum(v["seconds"] for v in log["notebooks"].values())
    log["executions"].append(_execution(log, names))
    log_path.write_text(json.dumps(log, indent=2))
    report = out / "notebooks" / f"{nb.REPORT}.ipynb"
    if report.exists():
        render(report, out / "report.html", hide_code=True)
    write_index(out, profile_name, profile, log)
    console.line(f"report: {out / 'report.html'}\nindex:  {out / 'index.html'}\n"
                 f"log:    {out / 'pipeline.log'}")
    return out
