"""The pipeline's notebooks: each task's numbered notebooks in the tasks' order, then the
report; their declared parameters and the runs that each plans."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from fwlib.pipeline.profiles import PipelineError
from fwlib.run.provenance import REPO_ROOT
from fwlib.tasks import TASKS

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
REPORT = "report"
INJECTED = ("results_dir", "profile")  # set by the runner, not by a profile


def notebooks(directory: Path | None = None) -> list[str]:
    """Notebook names in pipeline order: ``task/NN_name`` for every task, then ``report``."""
    directory = directory or NOTEBOOK_DIR
    names = []
    for task in TASKS:
        names += [f"{task}/{p.stem}" for p in sorted((directory / task).glob("[0-9][0-9]_*.ipynb"))]
    names += [p.stem for p in sorted(directory.glob("[0-9][0-9]_*.ipynb"))]
    if (directory / f"{REPORT}.ipynb").exists():
        names.append(REPORT)
    return names


def notebook_path(name: str, directory: Path | None = None) -> Path:
    return (directory or NOTEBOOK_DIR) / f"{name}.ipynb"


def selected(names: list[str], only: list[str] | None, start: str | None) -> list[str]:
    """The notebooks to run, in order, from ``--only`` / ``--from``: a notebook's full name,
    its name within its task (``02_train``) where that is unique, or a task's name (all of its
    notebooks)."""

    def resolve(option: str, value: str) -> list[str]:
        if value in names:
            return [value]
        tasks = [n for n in names if n.split("/")[0] == value and "/" in n]
        if tasks:
            return tasks
        short = [n for n in names if n.split("/")[-1] == value
                 or n.split("/")[-1].split("_", 1)[0] == value]
        if len(short) == 1:
            return short
        raise PipelineError(f"{option} must name one of {', '.join(names)} (or a task, or a "
                            f"notebook's unique short name); got {value!r}")

    if only:
        chosen = {n for v in only for n in resolve("--only", v)}
        return [n for n in names if n in chosen]
    if start:
        return names[names.index(resolve("--from", start)[0]):]
    return names


def declared_parameters(name: str, directory: Path | None = None) -> dict:
    """The notebook's ``parameters`` cell: name -> papermill's description of it."""
    import papermill  # noqa: PLC0415

    return papermill.inspect_notebook(str(notebook_path(name, directory)))


def defaults(name: str, directory: Path | None = None) -> dict:
    return {k: ast.literal_eval(v["default"])
            for k, v in declared_parameters(name, directory).items()}


def _plans_module(name: str):
    """The task's ``plans`` module for this notebook, and the notebook's stem; None, None for
    a notebook outside a task or a task without one."""
    if "/" not in name:
        return None, None
    task, stem = name.split("/", 1)
    try:
        return importlib.import_module(f"{TASKS[task]}.plans"), stem
    except ModuleNotFoundError:
        return None, None


def _plans(name: str):
    """The task's planning function for this notebook, or None."""
    module, stem = _plans_module(name)
    return getattr(module, "PLANS", {}).get(stem)


def runs_dir(name: str, out: Path) -> Path | None:
    """The folder where the notebook trains its runs, under the results folder ``out``; None
    for a notebook that trains nothing."""
    module, stem = _plans_module(name)
    relative = getattr(module, "RUNS_DIRS", {}).get(stem)
    return None if relative is None else Path(out) / relative


def planned_configs(name: str, params: dict, directory: Path | None = None) -> list:
    """The runs (validated configs, each once) that the notebook makes with these parameters,
    its own defaults filling the rest; [] for a notebook that trains nothing. A bad value
    raises ``ValueError`` naming it."""
    plan = _plans(name)
    if plan is None:
        return []
    return list(plan(**(defaults(name, directory) | params)) or [])
