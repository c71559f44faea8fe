"""The planned runs of Table 2, and the runs that each notebook plans from its parameters.

The notebook and the pipeline's validation call the same function, so what the pipeline
checks before anything runs is exactly what the notebook will train. Results live under
``<results_dir>/mnist_glimpses/``.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from fwlib.cores import check_choice
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.grid import check_cell_keys, check_nonempty, per_cell
from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask
from fwlib.tasks.mnist_glimpses.spec import MODEL_KINDS, GlimpseModelSpec

TABLE2_MODELS = ("irnn", "lstm", "convnet", "fast_weights")  # the paper's row order
TABLE2_UNITS = (50, 100, 200)
FOLDER = "mnist_glimpses"  # this experiment's part of a results folder


def task_dir(out_dir: str | os.PathLike) -> Path:
    return Path(out_dir) / FOLDER


def table2_grid(models: Iterable[str], hidden_units: Iterable[int], seeds: Iterable[int],
                max_steps: Mapping | int, learning_rate: Mapping | float = 1e-3, *,
                lr_half_life: Mapping | int = 0, fast_lr: Mapping | float = 0.5,
                weight_decay: Mapping | float = 0.0, dropout: Mapping | float = 0.0,
                xla: Mapping | bool = True, shift: int = 0, eval_every: int = 500,
                patience: int = 5000, batch_size: int = 128,
                order: str = "coarse_fine", train_examples: int = 50_000,
                **core) -> list[RunConfig]:
    """models × hidden_units × seeds; ``max_steps``, ``learning_rate``, ``lr_half_life``
    (updates over which Adam's step size halves; 0: constant), ``fast_lr`` (η of fast
    weights), ``weight_decay`` (decoupled, of the weight matrices; 0: none), ``dropout``
    (its rate; 0: none) and ``xla`` (TensorFlow compiles the training step with XLA) may be
    set per model or per cell (``"model@R"``); ``shift`` (training images moved by up to
    that many pixels; 0: none) is the same for every model, as the input is; the other ``core``
    settings (λ, S, ...) apply to fast weights.
    Every config is validated before anything runs."""
    models, hidden_units, seeds = list(models), list(hidden_units), list(seeds)
    check_nonempty(models=models, hidden_units=hidden_units, seeds=seeds)
    for model in models:
        check_choice("models", model, MODEL_KINDS)
    check_cell_keys("max_steps", max_steps, MODEL_KINDS)
    check_cell_keys("learning_rate", learning_rate, MODEL_KINDS)
    check_cell_keys("lr_half_life", lr_half_life, MODEL_KINDS)
    check_cell_keys("fast_lr", fast_lr, MODEL_KINDS)
    check_cell_keys("weight_decay", weight_decay, MODEL_KINDS)
    check_cell_keys("dropout", dropout, MODEL_KINDS)
    check_cell_keys("xla", xla, MODEL_KINDS)
    task = MnistGlimpsesTask(order=order, train_examples=train_examples).validate()
    configs = []
    for model, units, seed in itertools.product(models, hidden_units, seeds):
        config = RunConfig(
            task=task, model=GlimpseModelSpec(kind=model, hidden_units=units,
                                   fast_lr=per_cell("fast_lr", fast_lr, model, units),
                                   dropout=per_cell("dropout", dropout, model, units),
                                   xla=per_cell("xla", xla, model, units), shift=shift,
                                   **core),
            optim=OptimSpec(learning_rate=per_cell("learning_rate", learning_rate, model, units),
                            lr_half_life=per_cell("lr_half_life", lr_half_life, model, units),
                            weight_decay=per_cell("weight_decay", weight_decay, model, units),
                            batch_size=batch_size),
            budget=Budget(max_steps=per_cell("max_steps", max_steps, model, units),
                          eval_every=eval_every, patience=patience),
            seed=seed)
        configs.append(config.validate())
    if len({c.run_id() for c in configs}) != len(configs):
        raise ValueError("the grid lists the same run twice (repeated models, R or seeds)")
    return configs


def check_data(orders, examples_to_show, **_) -> list[RunConfig]:
    """Notebook ``01_glimpses``: trains nothing; its settings are checked."""
    orders = list(orders)
    check_nonempty(orders=orders)
    for order in orders:
        MnistGlimpsesTask(order=order).validate()
    if (isinstance(examples_to_show, bool) or not isinstance(examples_to_show, int)
            or examples_to_show < 1):
        raise ValueError(f"examples_to_show must be a positive integer (got "
                         f"{examples_to_show!r})")
    return []


def train_runs(models, hidden_units, seeds, max_steps, learning_rate, eval_every, patience,
               batch_size, order, train_examples, lr_half_life=0, fast_lr=0.5,
               weight_decay=0.0, dropout=0.0, xla=True, shift=0, **_) -> list[RunConfig]:
    """Notebook ``02_grid``: the Table 2 grid."""
    return table2_grid(models, hidden_units, seeds, max_steps, learning_rate,
                       lr_half_life=lr_half_life, fast_lr=fast_lr, weight_decay=weight_decay,
                       dropout=dropout, xla=xla, shift=shift, eval_every=eval_every,
                       patience=patience,
                       batch_size=batch_size,
                       order=order, train_examples=train_examples)


# notebook -> the function that plans its runs (for the pipeline's checks and estimates)
PLANS = {"01_glimpses": check_data, "02_grid": train_runs}
# notebook -> the folder, under the profile's results folder, where its runs are trained
RUNS_DIRS = {"02_grid": f"{FOLDER}/runs"}


def write_grid(out_dir: str | os.PathLike, configs: list[RunConfig]) -> None:
    """Record the run names of the latest Table 2 grid: Table 2 is made from these only."""
    folder = task_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grid.json").write_text(json.dumps([c.run_name() for c in configs], indent=2))


def table2_runs(out_dir: str | os.PathLike, runs: pd.DataFrame) -> pd.DataFrame:
    """The finished runs of the latest Table 2 grid (all runs when no grid is recorded)."""
    grid_file = task_dir(out_dir) / "grid.json"
    if grid_file.exists() and len(runs):
        return runs[runs["run"].isin(json.loads(grid_file.read_text()))]
    return runs
