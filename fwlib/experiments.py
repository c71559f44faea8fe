"""Experiment grids: what a profile asks to train, as validated :class:`TrainConfig` lists."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from fwlib.models import MODEL_KINDS
from fwlib.train import TrainConfig, prepare_run_dir, train


def per_cell(name: str, values, model: str, hidden_units: int):
    """A value set per cell: ``"model@R"``, else ``"model"``, else ``"default"``; a plain
    number applies to every cell."""
    if not isinstance(values, Mapping):
        return values
    for key in (f"{model}@{hidden_units}", model, "default"):
        if key in values:
            return values[key]
    raise ValueError(f"{name} has no value for {model} at R={hidden_units}: give a "
                     "'default' entry or one named 'model' or 'model@R'")


def _check_cell_keys(name: str, values) -> None:
    if not isinstance(values, Mapping):
        return
    for key in values:
        model = str(key).split("@")[0]
        if key != "default" and model not in MODEL_KINDS:
            raise ValueError(f"{name} key {key!r} must be 'default', a model kind "
                             f"({', '.join(MODEL_KINDS)}) or 'model@R'")


def grid(models: Iterable[str], hidden_units: Iterable[int], seeds: Iterable[int],
         max_steps: Mapping[str, int] | int, learning_rate: Mapping[str, float] | float = 1e-3,
         **common) -> list[TrainConfig]:
    """models × hidden_units × seeds; ``max_steps`` and ``learning_rate`` may be set per model
    or per cell (see :func:`per_cell`). Every config is validated before anything runs."""
    models, hidden_units, seeds = list(models), list(hidden_units), list(seeds)
    for name, values in (("models", models), ("hidden_units", hidden_units), ("seeds", seeds)):
        if not values:
            raise ValueError(f"{name} must list at least one value")
    for model in models:
        if model not in MODEL_KINDS:
            raise ValueError(f"models must be drawn from {', '.join(MODEL_KINDS)} "
                             f"(got {model!r})")
    _check_cell_keys("max_steps", max_steps)
    _check_cell_keys("learning_rate", learning_rate)
    configs = []
    for model, units, seed in itertools.product(models, hidden_units, seeds):
        config = TrainConfig.from_dict({
            **common, "model": model, "hidden_units": units, "seed": seed,
            "max_steps": per_cell("max_steps", max_steps, model, units),
            "learning_rate": per_cell("learning_rate", learning_rate, model, units)})
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
    for position, config in enumerate(configs, 1):
        run_dir = root / config.run_name()
        state = "reused" if prepare_run_dir(config, run_dir) else "training"
        print(f"[{position}/{len(configs)}] {config.run_name()}: {state}", flush=True)
        metrics = train(config, run_dir, progress=progress)
        results.append(metrics)
        if on_finish is not None:
            on_finish(config, metrics)
    return results
