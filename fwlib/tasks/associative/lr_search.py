"""Adam's learning rate and gradient clipping chosen on the validation split, per model and R
(the paper chose its hyper-parameters by grid search on the validation set).

Trains each model at each R with each candidate learning rate and clipping norm, for each
seed, with the same budget and patience for all, and ranks the settings of each (model, R)
by their mean best **validation** error over the seeds (the test error is recorded by every
run but plays no part here; ties go to the setting listed first). Where every setting of a
(model, R) left every seed on the initial plateau, none is chosen. A search may go in
rounds: all candidates at one seed, then the best few at more seeds; only the settings run
at the most seeds of their (model, R) can be chosen.

    python -m fwlib.tasks.associative.lr_search --models irnn --units 20 50 100 \\
        --learning-rates 1e-4 3e-4 1e-3 3e-3 --clip-norms 5 1 \\
        --out results/selection/associative_lr

``--budgets-from PROFILE`` takes the budgets, patience, plateau and η of that profile's Table 1
(``associative/02_train``) per model and R, so each candidate is trained exactly as Table 1
would train it; the candidate equal to Table 1's own setting is then Table 1's run itself.

The first search, at R = 50 only with {0.001, 0.003} (``results/lr_selection``), is what
Table 1's learning rates still come from where no wider search has been run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.pipeline.profiles import PipelineError
from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder
from fwlib.run.grid import unique_runs
from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_runs
from fwlib.tasks.associative.grid import table1_grid
from fwlib.tasks.associative.table import PLATEAU

CANDIDATES = (1e-4, 3e-4, 1e-3, 3e-3)


def search_grid(models, hidden_units, learning_rates, clip_norms, seeds, max_steps,
                patience, lr_half_lives=(0,), plateau_error: float = 1.0, **core):
    """models × R × learning rate × clipping norm × step-size half-life × seed, in that
    nesting; ``max_steps``, ``patience`` and the ``core`` settings (η, ...) a plain value or
    set per model or cell as in Table 1."""
    for name, values in (("learning_rates", learning_rates), ("clip_norms", clip_norms),
                         ("lr_half_lives", lr_half_lives)):
        if not list(values):
            raise ValueError(f"{name} must list at least one value")
    return [c for model in models for lr in learning_rates for clip in clip_norms
            for half_life in lr_half_lives
            for c in table1_grid([model], hidden_units, seeds, max_steps,
                                 learning_rate=lr, clip_norm=clip, lr_half_life=half_life,
                                 eval_every=500, patience=patience,
                                 plateau_error=plateau_error, **core)]


def table1_budgets(profile: str, directory: Path | None = None) -> dict:
    """``max_steps``, ``patience``, ``plateau_error`` and ``fast_lr`` of a profile's Table 1
    notebook, as :func:`search_grid` takes them (a missing entry keeps the notebook's
    default); profiles are read from ``directory`` (default: the project's)."""
    from fwlib.pipeline.catalog import defaults, notebooks
    from fwlib.pipeline.profiles import load_profile

    name = "associative/02_train"
    books = load_profile(profile, notebooks(), directory)["notebooks"]
    params = {**defaults(name), **(books.get(name) or {})}
    return {name: params[name] for name in ("max_steps", "patience", "plateau_error",
                                            "fast_lr")}


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
    """One row per (model, R, learning rate, clipping norm, half-life of the step size):
    :func:`over_seeds`, the updates and patience allowed (and the validation error below which
    patience applied: 1.0 where it applied from the start), the minutes of training, and
    which setting is chosen for each (model, R)."""
    runs = load_runs(runs_dir)
    runs = runs[runs["run"].isin({c.run_name() for c in configs})]
    settings = dict.fromkeys((c.model.kind, c.model.hidden_units, c.optim.learning_rate,
                              c.optim.clip_norm, c.optim.lr_half_life)
                             for c in configs)  # in the order listed
    rows = []
    for model, units, lr, clip, half_life in settings:
        group = runs[(runs["model"] == model) & (runs["hidden_units"] == units)
                     & (runs["learning_rate"] == lr) & (runs["clip_norm"] == clip)
                     & (runs["lr_half_life"] == half_life)]
        if not group.empty:
            rows.append({"model": model, "R": int(units), "learning_rate": float(lr),
                         "clip_norm": float(clip), "lr_half_life": int(half_life),
                         "max_steps": int(group["max_steps"].max()),
                         "patience": int(group["patience"].max()),
                         "plateau_error": float(group["plateau_error"].min()),
                         **over_seeds(group),
                         "minutes": float(group["wall_seconds"].sum() / 60)})
    if not rows:
        raise ValueError(f"no finished run of this search in {runs_dir}")
    # a stable sort: of equal mean errors, the setting listed first comes first
    rows.sort(key=lambda row: (row["model"], row["R"], row["valid_error_mean"]))
    summary = pd.DataFrame(rows)
    # where every setting left every seed on the plateau, the ranking is noise: none is chosen
    learned = (summary["on_plateau"] < summary["seeds"]).groupby(
        [summary["model"], summary["R"]]).transform("any")
    # a setting run at fewer seeds than the most-tried settings of its cell is not chosen:
    # the best of a first round at one seed is confirmed, or not, at more seeds
    cell = [summary["model"], summary["R"]]
    eligible = summary["seeds"] == summary["seeds"].groupby(cell).transform("max")
    summary["chosen"] = eligible & ~eligible.groupby(cell).cumsum().gt(1) & learned
    return summary


def recorded_configs(runs_dir: str | Path) -> list[RunConfig]:
    """The configs of the finished runs already in ``runs_dir``, so that a search run in
    parts (one model at a time) is summarised whole."""
    configs = [RunFolder(path.parent).recorded_config()
               for path in sorted(Path(runs_dir).glob("*/metrics.json"))]
    return [config for config in configs if config is not None]


def chosen_settings(summary: pd.DataFrame) -> dict:
    """``{"learning_rate": {"model@R": lr}, "clip_norm": {...}, "lr_half_life": {...}}`` of
    the chosen rows, in the per-cell form the profiles use."""
    chosen = summary[summary["chosen"]]
    cells = [f"{m}@{int(r)}" for m, r in zip(chosen["model"], chosen["R"], strict=True)]
    half_lives = chosen["lr_half_life"] if "lr_half_life" in chosen else [0] * len(chosen)
    return {"learning_rate": dict(zip(cells, map(float, chosen["learning_rate"]), strict=True)),
            "clip_norm": dict(zip(cells, map(float, chosen["clip_norm"]), strict=True)),
            "lr_half_life": dict(zip(cells, map(int, half_lives), strict=True))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["irnn"])
    parser.add_argument("--units", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--clip-norms", type=float, nargs="+", default=[5.0])
    parser.add_argument("--lr-half-lives", type=int, nargs="+", default=[0],
                        help="updates over which the step size halves (0: constant)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-steps", type=int, default=30_000)
    parser.add_argument("--patience", type=int, default=6_000)
    parser.add_argument("--plateau-error", type=float, default=0.3,
                        help="patience applies once the best validation error is at or below "
                        "this (the initial plateau is near 62 %%, and runs can linger near "
                        "45 %% on the way down)")
    parser.add_argument("--budgets-from", metavar="PROFILE", default=None,
                        help="train every candidate with this profile's Table 1 budgets, "
                        "patience, plateau and η per model and R (overrides --max-steps, "
                        "--patience, --plateau-error)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "results" / "selection" / "associative_lr")
    args = parser.parse_args(argv)
    try:
        settings = {"max_steps": args.max_steps, "patience": args.patience,
                    "plateau_error": args.plateau_error}
        if args.budgets_from is not None:
            settings = table1_budgets(args.budgets_from)
        configs = search_grid(args.models, args.units, args.learning_rates, args.clip_norms,
                              args.seeds, lr_half_lives=args.lr_half_lives, **settings)
    except (ValueError, PipelineError) as error:  # before anything is trained or written
        parser.error(str(error))
    run_grid(configs, args.out / "runs", workers=args.workers, title="learning rates")
    # this search's settings first (ties go to the setting listed first), then earlier ones
    summary = summarise(args.out / "runs",
                        unique_runs([*configs, *recorded_configs(args.out / "runs")]))
    summary.to_csv(args.out / "summary.csv", index=False)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
