"""The paper's experiments, one package each, in the order of the paper and of the report.

A task package ``fwlib/tasks/<name>/`` provides:

- ``TASK``: its task spec, a frozen dataclass with ``name``, ``title``, ``trainer``
  (``"supervised"`` or ``"rl"``) and the classes of its run config's other parts
  (``model_class``, ``optim_class``, ``budget_class``); for a supervised task, ``splits()``,
  ``data_digest()`` and ``build_model(model_spec)`` (inputs to logits);
- ``report_section(out_dir, profile)``: displays its section of the report;
- ``index_entries(out_dir)``: (path, label) pairs of its tables and figures for the index.

Its notebooks live in ``notebooks/<name>/`` and run in their numbered order; the pipeline
runs the tasks in the order below, then the report notebook.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# name -> module; the report's sections follow this order.
TASKS = {
    "associative": "fwlib.tasks.associative",
    "mnist_glimpses": "fwlib.tasks.mnist_glimpses",
    "multipie": "fwlib.tasks.multipie",
    "catch": "fwlib.tasks.catch",
}


def task_module(name: str) -> ModuleType:
    if name not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)} (got {name!r})")
    return importlib.import_module(TASKS[name])


def task_class(name: str | None):
    """The task spec class registered under ``name``."""
    spec = getattr(task_module(name), "TASK", None)
    if spec is None:
        raise ValueError(f"task {name!r} has no runs (its section of the report says why)")
    return spec
