"""Two Table 2 grids compared cell by cell on the validation split: a setting shared by every
model (one that changes the input, say) is judged over all the cells, not on one model.

Each grid is a results folder's ``mnist_glimpses/`` part (its ``grid.json`` names its runs).
Runs are matched by model, R and seed; each pair is judged by its best validation error, and
the second grid's setting is adopted if it is lower in more than half of the pairs. Test
errors are shown beside, not used.

    python -m fwlib.tasks.mnist_glimpses.compare results/default \\
        results/selection/mnist_glimpses_shift/shift2 \\
        --out results/selection/mnist_glimpses_shift/summary.csv
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from fwlib.run.store import load_runs
from fwlib.tasks.mnist_glimpses import plans
from fwlib.tasks.mnist_glimpses.spec import MODEL_LABELS

KEYS = ["model", "hidden_units", "seed"]


def grid_runs(out_dir: str | os.PathLike) -> pd.DataFrame:
    """The finished runs of the Table 2 grid recorded under ``out_dir``."""
    folder = plans.task_dir(out_dir)
    if not (folder / "runs").is_dir():
        raise ValueError(f"no Table 2 runs under {folder} (expected {folder / 'runs'})")
    return plans.table2_runs(out_dir, load_runs(folder / "runs"))


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, R, seed) that both grids ran: validation and test error (%) of
    each, updates, and whether the second is lower on validation."""
    columns = [*KEYS, "run", "valid_error", "test_error", "best_step", "steps"]
    pairs = before[columns].merge(after[columns], on=KEYS, suffixes=("_before", "_after"))
    if pairs.empty:
        raise ValueError("the two grids share no (model, hidden_units, seed)")
    for split in ("valid", "test"):
        for side in ("before", "after"):
            pairs[f"{split}_error_{side}"] = 100 * pairs[f"{split}_error_{side}"]
    pairs["lower_on_validation"] = pairs["valid_error_after"] < pairs["valid_error_before"]
    pairs["model"] = pd.Categorical(pairs["model"], list(MODEL_LABELS))
    return pairs.sort_values(KEYS).reset_index(drop=True)


def verdict(pairs: pd.DataFrame) -> tuple[bool, str]:
    """(adopted?, a sentence): adopted if lower on validation in more than half the pairs."""
    lower, total = int(pairs["lower_on_validation"].sum()), len(pairs)
    adopted = 2 * lower > total
    return adopted, (f"lower validation error in {lower} of {total} cells: "
                     f"{'adopted' if adopted else 'not adopted'} (the rule: more than half)")


def markdown(pairs: pd.DataFrame) -> str:
    lines = ["| model | R | seed | validation before | validation after | test before | "
             "test after |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in pairs.itertuples():
        mark = "**" if row.lower_on_validation else ""
        lines.append(f"| {MODEL_LABELS[row.model]} | {row.hidden_units} | {row.seed} | "
                     f"{row.valid_error_before:.2f} | {mark}{row.valid_error_after:.2f}{mark} | "
                     f"{row.test_error_before:.2f} | {row.test_error_after:.2f} |")
    return "\n".join(lines) + f"\n\n{verdict(pairs)[1]}.\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="results folder of the grid as it is")
    parser.add_argument("after", help="results folder of the grid with the new setting")
    parser.add_argument("--out", help="write the pairs here (CSV) and beside it (.md)")
    args = parser.parse_args(argv)
    pairs = compare(grid_runs(args.before), grid_runs(args.after))
    text = markdown(pairs)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        pairs.round(4).to_csv(out, index=False)
        out.with_suffix(".md").write_text(text)


if __name__ == "__main__":
    main()
