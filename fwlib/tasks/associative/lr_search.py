"""Learning-rate selection on the validation split (the paper chose hyper-parameters by grid
search on the validation set). Trains each model at one R with each candidate learning rate
and picks, per model, the rate with the lowest validation error.

    python -m fwlib.tasks.associative.lr_search --out results/lr_selection
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_runs
from fwlib.tasks.associative.grid import table1_grid

CANDIDATES = (1e-3, 3e-3)


def search(models, hidden_units: int, learning_rates, max_steps: int, out: Path,
           seed: int = 0, workers: int | None = None) -> pd.DataFrame:
    """Train the grid (finished runs are reused) and return one row per (model, rate)."""
    configs = [c for lr in learning_rates
               for c in table1_grid(models, [hidden_units], [seed], {"default": max_steps},
                                    learning_rate=lr, eval_every=500, patience=max_steps)]
    run_grid(configs, out / "runs", workers=workers, title="learning rates")
    runs = load_runs(out / "runs")
    runs = runs[runs["run"].isin({c.run_name() for c in configs})]
    summary = runs[["model", "hidden_units", "learning_rate", "seed", "valid_error", "best_step",
                    "steps", "wall_seconds"]].sort_values(["model", "valid_error"])
    summary["chosen"] = ~summary.duplicated("model")
    summary.to_csv(out / "summary.csv", index=False)
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["fast_weights", "lstm", "irnn"])
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--max-steps", type=int, default=15_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "lr_selection")
    args = parser.parse_args(argv)
    summary = search(args.models, args.units, args.learning_rates, args.max_steps, args.out,
                     workers=args.workers)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
