"""Some cells of a profile's Table 2, trained on their own: the runs that the profile's
``mnist_glimpses/02_grid`` plans for the models, widths and seeds named, trained into that
profile's results folder (so its pipeline reuses them later), then a table of those cells
by Table 2's rules (``mnist_glimpses/tables/cells.csv`` and ``cells.md``): test error over
seeds with the verdict, updates, why the runs stopped, and fast weights against each other
model at the same width. With ``--without-dropout``, the twins' table goes to
``cells_without_dropout.csv`` and ``.md``.

For a profile too long to run whole here, such as ``paper``'s longer budgets at one width:

    python -m fwlib.tasks.mnist_glimpses.cells --profile paper --models fast_weights lstm \
        --units 200

``--no-train`` tabulates the finished runs of those cells and trains nothing.
``--without-dropout`` takes the same cells with dropout 0: the twins that the report sets
beside the runs with dropout (:func:`fwlib.tasks.mnist_glimpses.table.without_setting`).

    python -m fwlib.tasks.mnist_glimpses.cells --profile seeds --models convnet \
        --without-dropout
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from fwlib.markdown import to_markdown
from fwlib.run.parallel import run_grid
from fwlib.run.store import load_runs
from fwlib.tasks.mnist_glimpses.plans import task_dir
from fwlib.tasks.mnist_glimpses.spec import MODEL_LABELS
from fwlib.tasks.mnist_glimpses.table import compare, errors_by_cell, table2, without_setting

NOTEBOOK = "mnist_glimpses/02_grid"


def select(configs, models=None, units=None, seeds=None) -> list:
    """The planned ``configs`` of the models, widths and seeds named (None: all planned).
    A value the plan does not hold raises ``ValueError`` naming it and what is planned."""
    chosen = []
    for name, values, of in (("models", models, lambda c: c.model.kind),
                             ("units", units, lambda c: c.model.hidden_units),
                             ("seeds", seeds, lambda c: c.seed)):
        planned = sorted({of(c) for c in configs})
        for value in values or []:
            if value not in planned:
                raise ValueError(f"{name} must be among {', '.join(map(str, planned))}, the "
                                 f"values this profile's Table 2 plans (got {value!r})")
        chosen.append((set(values) if values else set(planned), of))
    return [c for c in configs if all(of(c) in wanted for wanted, of in chosen)]


def cells_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Table 2's rows for the cells that have runs, each with fast weights against every
    other model at its width (``beats``, ``loses`` or ``unclear``, by the claim's rule)."""
    table = table2(runs)
    table = table[table["seeds"] > 0].reset_index(drop=True)
    errors = errors_by_cell(runs)
    against = []
    for _, row in table.iterrows():
        fast = errors.get(("fast_weights", row["R"]))
        if row["kind"] == "fast_weights" or not fast:
            against.append("")
        else:
            against.append(f"fast weights {compare(fast, errors[row['kind'], row['R']])} "
                           f"{MODEL_LABELS[row['kind']]}")
    return table.assign(fast_weights_vs=against)


def cells_markdown(table: pd.DataFrame, profile: str, without_dropout: bool = False) -> str:
    shown = table[["model", "R", "seeds", "ours_mean", "ours_std", "per_seed", "paper_error",
                   "verdict", "budget", "steps_mean", "stopped", "trend",
                   "fast_weights_vs"]].rename(columns={
                       "ours_mean": "test error (%)", "ours_std": "std",
                       "per_seed": "per seed (%)", "paper_error": "paper (%)",
                       "steps_mean": "updates (mean)", "fast_weights_vs": "comparison"})
    for column in ("budget", "updates (mean)"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    twins = ", their twins without dropout," if without_dropout else ""
    return (f"Table 2 cells of the `{profile}` profile{twins} trained on their own (test "
            "error, mean and std over seeds; verdicts and comparisons by Table 2's rules):\n\n"
            + to_markdown(shown.round(2)) + "\n")


def main(argv=None) -> int:
    from fwlib.pipeline import PipelineError, plan  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m fwlib.tasks.mnist_glimpses.cells",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--units", type=int, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--results-root", type=Path, default=None)
    parser.add_argument("--no-train", action="store_true",
                        help="tabulate the runs of these cells that have finished; train none")
    parser.add_argument("--without-dropout", action="store_true",
                        help="the same cells with dropout 0 (the twins of runs with dropout)")
    args = parser.parse_args(argv)
    try:  # every planned run is checked, and the names validated, before anything runs
        planned = plan(args.profile, [NOTEBOOK], results_root=args.results_root)
        configs = select(planned["runs"][NOTEBOOK], args.models, args.units, args.seeds)
        if args.without_dropout:
            configs = [without_setting(c, "dropout") for c in configs]
    except (PipelineError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    folder = task_dir(planned["out"])
    if not args.no_train:
        run_grid(configs, folder / "runs", workers=args.workers, title="Table 2 cells")
    names = {c.run_name() for c in configs}
    runs = load_runs(folder / "runs")
    missing = sorted(names - set(runs["run"]))
    if missing:
        print(f"not finished, left out: {', '.join(missing)}")
    table = cells_table(runs[runs["run"].isin(names)])
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    stem = "cells_without_dropout" if args.without_dropout else "cells"
    table.to_csv(folder / "tables" / f"{stem}.csv", index=False)
    text = cells_markdown(table, planned["profile_name"], args.without_dropout)
    (folder / "tables" / f"{stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
