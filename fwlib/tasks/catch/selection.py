"""Catch: each agent's learning rate (and the fast-weights agent's η), chosen on the
evaluation games.

A run's evaluation games are its validation split and its 1,000 final games its test split
(:mod:`fwlib.rl.train`). Every agent is trained on ``N16_M3`` with each learning rate of
``LEARNING_RATES`` and, for fast weights, each η of ``FAST_LRS`` (the paper's 0.5 and the 0.02
that MNIST's selection chose); seed 0, the budget of the default profile. A setting is judged
by its best evaluation catch rate (the weights a run keeps), ties going to the setting that
reached it in fewer frames; the catch rate on the final games plays no part. The chosen
settings are applied to ``N24_M5`` too, where no selection was run.

    python -m fwlib.tasks.catch.selection --out results/selection/catch/settings
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.run.folder import RunFolder
from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.tasks.catch.plans import train_runs

AGENTS = ("fast_weights", "lstm", "irnn", "feedforward")
LEARNING_RATES = (1e-3, 3e-3)
FAST_LRS = (0.5, 0.02)
GAME = "N16_M3"
BUDGET = {"hidden_units": 64, "max_frames": 4_000_000, "num_envs": 16, "n_steps": 20,
          "eval_every": 200_000, "eval_episodes": 200}


def selection_grid(agents=AGENTS, learning_rates=LEARNING_RATES, fast_lrs=FAST_LRS,
                   game: str = GAME, seed: int = 0, **budget) -> list:
    """Every agent at every learning rate (and every η for fast weights) on ``game``."""
    settings = {**BUDGET, **budget}
    configs = []
    for agent in agents:
        for lr in learning_rates:
            for eta in (fast_lrs if agent == "fast_weights" else (0.5,)):
                configs += train_runs([game], [agent], [], [], [seed], learning_rate=lr,
                                      fast_lr=eta, **settings)
    return configs


def summarise(runs_dir: str | Path, configs) -> pd.DataFrame:
    """One row per setting: its best evaluation catch rate, the frames it was reached at, the
    final games' catch rate (shown, not used) and whether the setting is its agent's choice."""
    rows = []
    for config in configs:
        folder = RunFolder(Path(runs_dir) / config.run_name())
        if not folder.metrics_path.exists():
            continue
        metrics = folder.metrics()
        rows.append({"agent": config.model.kind, "learning_rate": config.optim.learning_rate,
                     "fast_lr": config.model.fast_lr if config.model.kind == "fast_weights"
                     else None,
                     "best_eval_catch_rate": metrics.get("best_eval_catch_rate"),
                     "best_frames": metrics.get("best_frames"),
                     "last_eval_catch_rate": metrics.get("last_eval_catch_rate"),
                     "test_catch_rate": metrics.get("catch_rate"),
                     "frames": metrics.get("frames"), "run": config.run_name()})
    summary = pd.DataFrame(rows)
    if summary.empty:
        raise ValueError(f"no finished selection run under {runs_dir}")
    summary = summary.sort_values(["agent", "best_eval_catch_rate", "best_frames"],
                                  ascending=[True, False, True], kind="stable")
    summary["chosen"] = ~summary.duplicated("agent")
    order = {a: i for i, a in enumerate(AGENTS)}
    return (summary.sort_values("agent", key=lambda s: s.map(order), kind="stable")
            .reset_index(drop=True))


def chosen_settings(summary: pd.DataFrame) -> dict:
    """``{agent: {"learning_rate": ..., "fast_lr": ...}}`` of the chosen rows."""
    chosen = summary[summary["chosen"]]
    return {row["agent"]: {"learning_rate": float(row["learning_rate"]),
                           **({"fast_lr": float(row["fast_lr"])}
                              if row["agent"] == "fast_weights" else {})}
            for _, row in chosen.iterrows()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", nargs="+", default=list(AGENTS))
    parser.add_argument("--learning-rates", type=float, nargs="+",
                        default=list(LEARNING_RATES))
    parser.add_argument("--fast-lrs", type=float, nargs="+", default=list(FAST_LRS))
    parser.add_argument("--max-frames", type=int, default=BUDGET["max_frames"])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "results" / "selection" / "catch" / "settings")
    args = parser.parse_args(argv)
    configs = selection_grid(args.agents, args.learning_rates, args.fast_lrs,
                             max_frames=args.max_frames)
    run_grid(configs, args.out / "runs", workers=args.workers, title="Catch settings")
    summary = summarise(args.out / "runs", configs)
    summary.to_csv(args.out / "summary.csv", index=False)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
