"""Experiment grids: what a profile asks to train, as validated :class:`TrainConfig` lists."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from fwlib.models import MODEL_KINDS
from fwlib.train import TrainConfig, prepare_run_dir, train


def budget_for(budgets: Mapping[str, int], model: str, hidden_units: int) -> int:
    """The update budget for one cell: ``"model@R"``, else ``"model"``, else ``"default"``."""
    for key in (f"{model}@{hidden_units}", model, "default"):
        if key in budgets:
            return int(budgets[key])
    raise ValueError(f"max_steps has no budget for {model} at R={hidden_units}: give a "
                     "'default' entry or one named 'model' or 'model@R'")


def _check_budget_keys(budgets: Mapping[str, int]) -> None:
    for key, value in budgets.items():
        model = key.split("@")[0]
        if key != "default" and model not in MODEL_KINDS:
            raise ValueError(f"max_steps key {key!r} must be 'default', a model kind "
                             f"({', '.join(MODEL_KINDS)}) or 'model@R'")
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"max_steps[{key!r}] must be a positive integer (got {value!r})")


def grid(models: Iterable[str], hidden_units: Iterable[int], seeds: Iterable[int],
         max_steps: Mapping[str, int], **common) -> list[TrainConfig]:
    """models × hidden_units × seeds, each with its budget; every config validated up front."""
    models, hidden_units, seeds = list(models), list(hidden_units), list(seeds)
    for name, values in (("models", models), ("hidden_units", hidden_units), ("seeds", seeds)):
        if not values:
            raise ValueError(f"{name} must list at least one value")
    for model in models:
        if model not in MODEL_KINDS:
            raise ValueError(f"models must be drawn from {', '.join(MODEL_KINDS)} "
                             f"(got {model!r})")
    _check_budget_keys(max_steps)
    configs = []
    for model, units, seed in itertools.product(models, hidden_units, seeds):
        config = TrainConfig.from_dict({**common, "model": model, "hidden_units": units,
                                        "seed": seed,
                                        "max_steps": budget_for(max_steps, model, units)})
        configs.append(config.validate())
    names = [c.run_name() for c in configs]
    if len(set(names)) != len(names):
        raise ValueError("the grid lists the same run twice (repeated models, R or seeds)")
    return configs


def pending(configs: Iterable[TrainConfig], runs_root: str | os.PathLike) -> list[TrainConfig]:
    """The configs whose runs have not finished yet (including interrupted ones)."""
    root = Path(runs_root)
    return [c for c in configs if not prepare_run_dir(c, root / c.run_name())]


def run_all(configs: Iterable[TrainConfig], runs_root: str | os.PathLike,
            progress: bool | None = None, on_finish=None) -> list[dict]:
    """Train every config under ``runs_root/<run_name>`` (finished runs are reused)."""
    configs = list(configs)
    root = Path(runs_root)
    for config in configs:  # a clash with an existing run is reported before any training
        prepare_run_dir(config, root / config.run_name())
    results = []
    for config in configs:
        metrics = train(config, root / config.run_name(), progress=progress)
        results.append(metrics)
        if on_finish is not None:
            on_finish(config, metrics)
    return results
