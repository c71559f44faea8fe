"""The results store: run folders on disk -> pandas tables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fwlib.run.config import RunConfig

RUN_COLUMNS = ("task", "model", "hidden_units", "seed", "test_error", "valid_error", "steps",
               "stopped", "diverged", "wall_seconds")


def _run_dirs(root: Path):
    return sorted(p.parent for p in root.rglob("metrics.json")
                  if (p.parent / "config.json").exists())


def flatten_config(config: dict) -> dict:
    """One flat row from a run's ``config.json``: every part's fields side by side, the task's
    name as ``task``, the model's kind as ``model``, the labels as columns of their own.
    A record written before configs had parts (one flat mapping of an associative-retrieval
    run) is read as it is."""
    if not isinstance(config.get("model"), dict):
        row = {k: v for k, v in config.items() if k != "extra"}
        row.update(config.get("extra") or {})
        row.setdefault("task", "associative")
        return row
    row = {}
    for part in ("task", "model", "optim", "budget"):
        row.update(config.get(part) or {})
    row["task"] = (config.get("task") or {}).get("name")
    row["model"] = (config.get("model") or {}).get("kind")
    row.pop("name", None)
    row.pop("kind", None)
    row["seed"] = config.get("seed", 0)
    row.update(config.get("labels") or {})
    return row


def _with_defaults(config: dict) -> dict:
    """A recorded config with every field its config classes have now, defaults filled in
    for fields added after it was written (their defaults are neutral, so the run is the
    same); a record the classes cannot read is returned as it is."""
    if not isinstance(config.get("model"), dict):
        return config
    try:
        return RunConfig.from_dict(config).to_dict()
    except (ValueError, TypeError):
        return config


def load_runs(root: str | os.PathLike) -> pd.DataFrame:
    """One row per finished run under ``root``: its config (every field, defaults filled in
    for records written before a field existed), its metrics and its folder."""
    rows = []
    for run_dir in _run_dirs(Path(root)):
        config = _with_defaults(json.loads((run_dir / "config.json").read_text()))
        metrics = json.loads((run_dir / "metrics.json").read_text())
        packages = metrics.pop("packages", {})
        metrics.pop("budget", None)
        row = {**flatten_config(config), **metrics, "run_dir": str(run_dir),
               "run": run_dir.name}
        row.update({f"version_{k}": v for k, v in packages.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*RUN_COLUMNS, "run_dir", "run"])
    if "diverged" not in frame:
        frame["diverged"] = False
    frame["diverged"] = frame["diverged"].fillna(False).astype(bool)
    return frame.sort_values(["model", "hidden_units", "seed", "run"]).reset_index(drop=True)


def load_history(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The per-evaluation rows of one run (step, losses, validation error, wall-clock)."""
    return pd.read_csv(Path(run_dir) / "history.csv")


def load_histories(root: str | os.PathLike, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The histories of ``runs`` (all finished runs under ``root`` by default), long format,
    with the run's model, size, seed and name joined."""
    runs = load_runs(root) if runs is None else runs
    frames = []
    for _, run in runs.iterrows():
        history = load_history(run["run_dir"])
        for column in ("model", "hidden_units", "seed", "run"):
            history[column] = run[column]
        frames.append(history)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
