"""Planned grids: settings given per cell, and which planned runs are still to train."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder


def setting(name: str, values, keys: Iterable, missing: str):
    """``values`` itself when it is a plain value; else the entry under the first of ``keys``
    that it has (most specific first), or a ``ValueError`` naming ``name`` and what has no
    value (``missing``)."""
    if not isinstance(values, Mapping):
        return values
    for key in keys:
        if key in values:
            return values[key]
    raise ValueError(f"{name} has no value for {missing}")


def per_cell(name: str, values, model: str, hidden_units: int):
    """A value set per cell: ``"model@R"``, else ``"model"``, else ``"default"``; a plain
    value applies to every cell."""
    return setting(name, values, (f"{model}@{hidden_units}", model, "default"),
                   f"{model} at R={hidden_units}: give a 'default' entry or one named "
                   "'model' or 'model@R'")


def check_cell_keys(name: str, values, kinds: Iterable[str]) -> None:
    """Raise ``ValueError`` naming ``name`` when a per-cell key names no model kind."""
    if not isinstance(values, Mapping):
        return
    kinds = tuple(kinds)
    for key in values:
        model = str(key).split("@")[0]
        if key != "default" and model not in kinds:
            raise ValueError(f"{name} key {key!r} must be 'default', a model kind "
                             f"({', '.join(kinds)}) or 'model@R'")


def check_nonempty(**lists) -> None:
    for name, values in lists.items():
        if not list(values):
            raise ValueError(f"{name} must list at least one value")


def unique_runs(configs: Iterable[RunConfig]) -> list[RunConfig]:
    """The configs with each run once (the first config of each identity)."""
    seen: dict[str, RunConfig] = {}
    for config in configs:
        seen.setdefault(config.run_id(), config)
    return list(seen.values())


def pending(configs: Iterable[RunConfig], runs_root: str | os.PathLike) -> list[RunConfig]:
    """The configs whose runs have not finished yet (interrupted ones included)."""
    root = Path(runs_root)
    return [c for c in configs if not RunFolder(root / c.run_name()).check(c)]
