"""The planned runs of Table 1: models × R × seeds, settings per cell."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from fwlib.cores import CORE_KINDS, CoreSpec, check_choice
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.grid import check_cell_keys, check_nonempty, per_cell
from fwlib.tasks.associative import AssociativeTask

TABLE1_MODELS = ("irnn", "lstm", "alstm", "fast_weights")
TABLE1_UNITS = (20, 50, 100)


def table1_grid(models: Iterable[str], hidden_units: Iterable[int], seeds: Iterable[int],
                max_steps: Mapping | int, learning_rate: Mapping | float = 1e-3, *,
                clip_norm: Mapping | float = 5.0, eval_every: int = 500,
                patience: Mapping | int = 6000, lr_half_life: Mapping | int = 0,
                plateau_error: float = 1.0, batch_size: int = 128, num_pairs: int = 4,
                data_seed: int = 0,
                **core) -> list[RunConfig]:
    """models × hidden_units × seeds; ``max_steps``, ``learning_rate``, ``clip_norm`` (Adam's
    global gradient-norm clipping; 0 turns it off), ``patience`` and ``lr_half_life`` (updates
    over which the step size halves; 0 keeps it constant) may be set per model or per cell
    (see :func:`fwlib.run.grid.per_cell`); ``core`` settings (λ, η, ...) apply to every model
    that reads them, each a plain value or set per cell the same way. Patience applies only
    once a run's best validation error is at or below ``plateau_error`` (1.0: always).
    Every config is validated before anything runs."""
    models, hidden_units, seeds = list(models), list(hidden_units), list(seeds)
    check_nonempty(models=models, hidden_units=hidden_units, seeds=seeds)
    for model in models:
        check_choice("models", model, CORE_KINDS)
    check_cell_keys("max_steps", max_steps, CORE_KINDS)
    check_cell_keys("learning_rate", learning_rate, CORE_KINDS)
    check_cell_keys("clip_norm", clip_norm, CORE_KINDS)
    check_cell_keys("patience", patience, CORE_KINDS)
    check_cell_keys("lr_half_life", lr_half_life, CORE_KINDS)
    for name, value in core.items():
        check_cell_keys(name, value, CORE_KINDS)
    task = AssociativeTask(num_pairs=num_pairs, data_seed=data_seed)
    configs = []
    for model, units, seed in itertools.product(models, hidden_units, seeds):
        config = RunConfig(
            task=task, model=CoreSpec(kind=model, hidden_units=units,
                                      **{name: per_cell(name, value, model, units)
                                         for name, value in core.items()}),
            optim=OptimSpec(learning_rate=per_cell("learning_rate", learning_rate, model, units),
                            clip_norm=per_cell("clip_norm", clip_norm, model, units),
                            lr_half_life=per_cell("lr_half_life", lr_half_life, model, units),
                            batch_size=batch_size),
            budget=Budget(max_steps=per_cell("max_steps", max_steps, model, units),
                          eval_every=eval_every,
                          patience=per_cell("patience", patience, model, units),
                          plateau_error=plateau_error),
            seed=seed)
        configs.append(config.validate())
    if len({c.run_id() for c in configs}) != len(configs):
        raise ValueError("the grid lists the same run twice (repeated models, R or seeds)")
    return configs
