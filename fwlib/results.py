"""The results store: run directories on disk -> pandas tables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

RUN_COLUMNS = ("model", "hidden_units", "seed", "test_error", "valid_error", "steps",
               "wall_seconds")


def _run_dirs(root: Path):
    return sorted(p.parent for p in root.rglob("metrics.json")
                  if (p.parent / "config.json").exists())


def load_runs(root: str | os.PathLike) -> pd.DataFrame:
    """One row per finished run under ``root``: its config, its metrics and its folder.

    Config fields are prefixed by nothing; metric fields that share a config name (``model``,
    ``hidden_units``, ``seed``) agree by construction. ``extra`` labels become columns.
    """
    rows = []
    for run_dir in _run_dirs(Path(root)):
        config = json.loads((run_dir / "config.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text())
        extra = config.pop("extra", {}) or {}
        packages = metrics.pop("packages", {})
        row = {**config, **extra, **metrics, "run_dir": str(run_dir), "run": run_dir.name}
        row.update({f"version_{k}": v for k, v in packages.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*RUN_COLUMNS, "run_dir", "run"])
    return frame.sort_values(["model", "hidden_units", "seed", "run"]).reset_index(drop=True)


def load_history(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The per-evaluation rows of one run (step, losses, validation error, wall-clock)."""
    return pd.read_csv(Path(run_dir) / "history.csv")


def load_histories(root: str | os.PathLike) -> pd.DataFrame:
    """All finished runs' histories, long format, with the run's config columns joined."""
    runs = load_runs(root)
    frames = []
    for _, run in runs.iterrows():
        history = load_history(run["run_dir"])
        for column in ("model", "hidden_units", "seed", "run"):
            history[column] = run[column]
        frames.append(history)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
