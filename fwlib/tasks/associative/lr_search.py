"""Adam's learning rate and gradient clipping chosen on the validation split, per model and R
(the paper chose its hyper-parameters by grid search on the validation set).

Trains each model at each R with each candidate learning rate and clipping norm, for each
seed, with the same budget and patience for all, and ranks the settings of each (model, R)
by their mean best **validation** error over the seeds (the test error is recorded by every
run but plays no part here; ties go to the setting listed first). Where every setting of a
(model, R) left every seed on the initial plateau, none is chosen.

    python -m fwlib.tasks.associative.lr_search --models irnn --units 20 50 100 \\
        --learning-rates 1e-4 3e-4 1e-3 3e-3 --clip-norms 5 1 \\
        --out results/selection/associative_lr

The first search, at R = 50 only with {0.001, 0.003} (``results/lr_selection``), is what
Table 1's learning rates still come from where no wider search has been run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_runs
from fwlib.tasks.associative.grid import table1_grid

CANDIDATES = (1e-4, 3e-4, 1e-3, 3e-3)
PLATEAU = 0.5  # a best validation error above this is the initial plateau (chance: 1 - 1/K)


def search_grid(models, hidden_units, learning_rates, clip_norms, seeds, max_steps: int,
                patience: int):
    """models × R × learning rate × clipping norm × seed, in that nesting."""
    for name, values in (("learning_rates", learning_rates), ("clip_norms", clip_norms)):
        if not list(values):
            raise ValueError(f"{name} must list at least one value")
    return [c for model in models for lr in learning_rates for clip in clip_norms
            for c in table1_grid([model], hidden_units, seeds, {"default": max_steps},
                                 learning_rate=lr, clip_norm=clip, eval_every=500,
                                 patience=patience)]


def over_seeds(group: pd.DataFrame) -> dict:
    """One setting's runs, a run per seed: each seed's best validation error, their mean, how
    many seeds ended on the initial plateau, and the mean number of updates."""
    group = group.sort_values("seed")
    return {"seeds": len(group),
            "valid_error_mean": float(group["valid_error"].mean()),
            "valid_error_per_seed": ", ".join(f"{100 * v:.2f}" for v in group["valid_error"]),
            "on_plateau": int((group["valid_error"] > PLATEAU).sum()),
            "updates_mean": float(group["steps"].mean())}


def summarise(runs_dir: str | Path, configs) -> pd.DataFrame:
    """One row per (model, R, learning rate, clipping norm): :func:`over_seeds` and the
    minutes of training, and which setting is chosen for each (model, R)."""
    runs = load_runs(runs_dir)
    runs = runs[runs["run"].isin({c.run_name() for c in configs})]
    settings = dict.fromkeys((c.model.kind, c.model.hidden_units, c.optim.learning_rate,
                              c.optim.clip_norm) for c in configs)  # in the order listed
    rows = []
    for model, units, lr, clip in settings:
        group = runs[(runs["model"] == model) & (runs["hidden_units"] == units)
                     & (runs["learning_rate"] == lr) & (runs["clip_norm"] == clip)]
        if not group.empty:
            rows.append({"model": model, "R": int(units), "learning_rate": float(lr),
                         "clip_norm": float(clip), **over_seeds(group),
                         "minutes": float(group["wall_seconds"].sum() / 60)})
    if not rows:
        raise ValueError(f"no finished run of this search in {runs_dir}")
    # a stable sort: of equal mean errors, the setting listed first comes first
    rows.sort(key=lambda row: (row["model"], row["R"], row["valid_error_mean"]))
    summary = pd.DataFrame(rows)
    # where every setting left every seed on the plateau, the ranking is noise: none is chosen
    learned = (summary["on_plateau"] < summary["seeds"]).groupby(
        [summary["model"], summary["R"]]).transform("any")
    summary["chosen"] = ~summary.duplicated(["model", "R"]) & learned
    return summary


def chosen_settings(summary: pd.DataFrame) -> dict:
    """``{"learning_rate": {"model@R": lr}, "clip_norm": {"model@R": norm}}`` of the chosen
    rows, in the per-cell form the profiles use."""
    chosen = summary[summary["chosen"]]
    cells = [f"{m}@{int(r)}" for m, r in zip(chosen["model"], chosen["R"], strict=True)]
    return {"learning_rate": dict(zip(cells, map(float, chosen["learning_rate"]), strict=True)),
            "clip_norm": dict(zip(cells, map(float, chosen["clip_norm"]), strict=True))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["irnn"])
    parser.add_argument("--units", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--clip-norms", type=float, nargs="+", default=[5.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-steps", type=int, default=30_000)
    parser.add_argument("--patience", type=int, default=6_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "results" / "selection" / "associative_lr")
    args = parser.parse_args(argv)
    try:
        configs = search_grid(args.models, args.units, args.learning_rates, args.clip_norms,
                              args.seeds, args.max_steps, args.patience)
    except ValueError as error:  # before anything is trained or written
        parser.error(str(error))
    run_grid(configs, args.out / "runs", workers=args.workers, title="learning rates")
    summary = summarise(args.out / "runs", configs)
    summary.to_csv(args.out / "summary.csv", index=False)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
