"""Does a smaller fast-weight learning rate η fix fast weights at large R? Chosen on the
validation split only.

With the paper's η = 0.5 the fast-weight read is 170× the slow term at R = 100 at
initialisation (see :mod:`fwlib.tasks.associative.diagnostics`), and one seed of three sat on
the 62 % plateau. This trains fast weights at each R with each candidate η and several seeds,
the same learning rate and budget for all, and ranks the η at each R by their mean best
**validation** error over the seeds (the test error is recorded by every run but plays no
part here). The η chosen at each R is the one Table 1 uses (`fast_lr` per `fast_weights@R`
in the profiles).

    python -m fwlib.tasks.associative.fast_lr_search --out results/selection/associative_fast_lr
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.run.grid import unique_runs
from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_runs
from fwlib.tasks.associative.grid import table1_grid
from fwlib.tasks.associative.lr_search import over_seeds, recorded_configs

FAST_LRS = (0.5, 0.1, 0.02)


def search_grid(hidden_units, fast_lrs, seeds, max_steps: int, learning_rate: float,
                patience: int):
    """Fast weights at every R of ``hidden_units`` (one R or several) × η × seed."""
    units = [hidden_units] if isinstance(hidden_units, int) else list(hidden_units)
    return [c for eta in fast_lrs
            for c in table1_grid(["fast_weights"], units, seeds,
                                 {"default": max_steps}, learning_rate=learning_rate,
                                 eval_every=500, patience=patience, fast_lr=eta)]


def summarise(runs_dir: str | Path, configs) -> pd.DataFrame:
    """One row per (R, η): the best validation error of each seed, their mean, how many seeds
    ended on the initial plateau (validation error above 50 %), and which η is chosen at
    each R."""
    runs = load_runs(runs_dir)
    runs = runs[runs["run"].isin({c.run_name() for c in configs})]
    rows = []
    for _, group in runs.groupby(["hidden_units", "fast_lr"]):
        rows.append({"R": int(group["hidden_units"].iloc[0]),
                     "fast_lr": float(group["fast_lr"].iloc[0]),
                     "learning_rate": float(group["learning_rate"].iloc[0]),
                     **over_seeds(group)})
    summary = (pd.DataFrame(rows).sort_values(["R", "valid_error_mean"])
               .reset_index(drop=True))
    summary["chosen"] = ~summary.duplicated("R")
    return summary


def chosen_fast_lr(summary: pd.DataFrame) -> dict:
    """``{"fast_weights@R": η}`` of the η chosen at each R."""
    chosen = summary[summary["chosen"]]
    return {f"fast_weights@{int(r)}": float(eta)
            for r, eta in zip(chosen["R"], chosen["fast_lr"], strict=True)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--fast-lrs", type=float, nargs="+", default=list(FAST_LRS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--patience", type=int, default=6_000)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "results" / "selection" / "associative_fast_lr")
    args = parser.parse_args(argv)
    configs = search_grid(args.units, args.fast_lrs, args.seeds, args.max_steps,
                          args.learning_rate, args.patience)
    run_grid(configs, args.out / "runs", workers=args.workers, title="η search")
    # every η recorded in the folder, so that a search run in parts is summarised whole
    summary = summarise(args.out / "runs",
                        unique_runs([*configs, *recorded_configs(args.out / "runs")]))
    summary.to_csv(args.out / "summary.csv", index=False)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
