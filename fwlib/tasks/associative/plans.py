"""The runs that each training notebook of this experiment plans, from its parameters.

The notebook and the pipeline's validation call the same function, so what the pipeline
checks before anything runs is exactly what the notebook will train.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fwlib.run.config import RunConfig
from fwlib.tasks.associative import AssociativeTask, ablations, capacity
from fwlib.tasks.associative.grid import table1_grid


def check_data(num_pairs, data_seed, **_) -> list[RunConfig]:
    """Notebook ``01_data``: trains nothing; its settings are checked."""
    AssociativeTask(num_pairs=num_pairs, data_seed=data_seed).validate()
    return []


def train_runs(models, hidden_units, seeds, max_steps, learning_rate, eval_every, patience,
               batch_size, num_pairs: int = 4, data_seed: int = 0, fast_lr=0.5,
               clip_norm=5.0, lr_half_life=0, plateau_error=1.0, **_) -> list[RunConfig]:
    """Notebook ``02_train``: the Table 1 grid (budget, patience, learning rate and its
    half-life, clipping norm and η, ``fast_lr``, may be set per model and R)."""
    return table1_grid(models, hidden_units, seeds, max_steps, learning_rate,
                       clip_norm=clip_norm, eval_every=eval_every, patience=patience,
                       lr_half_life=lr_half_life, plateau_error=plateau_error,
                       batch_size=batch_size, num_pairs=num_pairs, data_seed=data_seed,
                       fast_lr=fast_lr)


def ablation_plan(studies, hidden_units, seeds, max_steps, learning_rate, eval_every,
                  patience, decays, fast_lrs, inner_steps, plateau_error=1.0, fast_lr=0.5,
                  **_) -> pd.DataFrame:
    """Notebook ``03_ablations``: one row per (study, value, R, seed), with its config."""
    return ablations.plan(studies, hidden_units, seeds, max_steps,
                          learning_rate=learning_rate, fast_lr=fast_lr, eval_every=eval_every,
                          patience=patience, plateau_error=plateau_error,
                          decays=decays, fast_lrs=fast_lrs,
                          inner_steps=inner_steps)


def ablation_runs(**params) -> list[RunConfig]:
    return list(ablation_plan(**params).drop_duplicates("run")["config"])


def capacity_runs(cells, num_pairs, seeds, max_steps, learning_rate, eval_every, patience,
                  batch_size, data_seed: int = 0, fast_lr=0.5, clip_norm=5.0,
                  lr_half_life=0, plateau_error=1.0, **_) -> list[RunConfig]:
    """Notebook ``05_capacity``: every cell ("model@R") at every K with Table 1's settings, so
    that the K = 4 runs are Table 1's own."""
    return capacity.plan(cells, num_pairs, seeds, max_steps, learning_rate,
                         clip_norm=clip_norm, eval_every=eval_every, patience=patience,
                         lr_half_life=lr_half_life, plateau_error=plateau_error,
                         batch_size=batch_size, data_seed=data_seed, fast_lr=fast_lr)


# notebook -> the function that plans its runs (for the pipeline's checks and estimates)
PLANS = {"01_data": check_data, "02_train": train_runs, "03_ablations": ablation_runs,
         "05_capacity": capacity_runs}
# notebook -> the folder, under the profile's results folder, where its runs are trained
# (the capacity study shares Table 1's, where its K = 4 runs are Table 1's own)
RUNS_DIRS = {"02_train": "runs", "03_ablations": "ablations/runs", "05_capacity": "runs"}


def write_grid(out_dir: str | os.PathLike, configs: list[RunConfig]) -> None:
    """Record the run names of the latest Table 1 grid: Table 1 is made from these only."""
    (Path(out_dir) / "grid.json").write_text(json.dumps([c.run_name() for c in configs],
                                                        indent=2))


def table1_runs(out_dir: str | os.PathLike, runs: pd.DataFrame) -> pd.DataFrame:
    """The finished runs of the latest Table 1 grid (all runs when no grid is recorded)."""
    grid_file = Path(out_dir) / "grid.json"
    if grid_file.exists() and len(runs):
        return runs[runs["run"].isin(json.loads(grid_file.read_text()))]
    return runs
