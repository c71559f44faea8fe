"""Two trainings of the same grid side by side, from their own records: the time per update
of each model and R, and the test error of each run.

Nothing is trained here. For every run found in both results folders (the same run folder
name: the same config and seed), the runs' own time (``wall_seconds``: training and
evaluations) over their updates gives milliseconds per update; per model and R the table sums
both over the seeds. Beside it, each run's test error in both, which shows whether the two
trainings differ only as rounding does (a few hundredths of a point, or a run that drifts to
another outcome) or systematically; where the runs are associative retrieval's, Table 1 and the
paper's main claim as each training gives them (the report's own rules). Writes
``grid_speed.md`` under ``--out`` and prints it.

    python benchmarks/grid_speed.py results/benchmarks/idle_seeds_table1/seeds \
        results/benchmarks/idle_seeds_table1_token_table/seeds \
        --out results/benchmarks/idle_seeds_table1_token_table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from fwlib.markdown import to_markdown
from fwlib.run.store import load_runs

KEY = ["model", "hidden_units"]


def paired_runs(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per run present in both trainings (each a :func:`load_runs` frame): model, R,
    seed, updates, runs' own seconds and test error before and after, and the code version of
    each."""
    columns = ["run", *KEY, "seed", "steps", "wall_seconds", "test_error", "code_version"]
    old, new = (frame.reindex(columns=columns) for frame in (before, after))
    return old.merge(new, on=["run", *KEY, "seed"], suffixes=("_before", "_after"))


def per_cell(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per model and R: updates, runs' own minutes and milliseconds per update before and
    after, summed over the seeds, and the ratio of the times per update."""
    sums = pairs.groupby(KEY, sort=True)[["steps_before", "wall_seconds_before",
                                          "steps_after", "wall_seconds_after"]].sum()
    table = pd.DataFrame({
        "runs": pairs.groupby(KEY, sort=True).size(),
        "updates_before": sums["steps_before"], "updates_after": sums["steps_after"],
        "minutes_before": sums["wall_seconds_before"] / 60,
        "minutes_after": sums["wall_seconds_after"] / 60,
        "ms_per_update_before": 1000 * sums["wall_seconds_before"] / sums["steps_before"],
        "ms_per_update_after": 1000 * sums["wall_seconds_after"] / sums["steps_after"],
    })
    table["speedup"] = table["ms_per_update_before"] / table["ms_per_update_after"]
    return table.reset_index()


def table1_side_by_side(before: pd.DataFrame, after: pd.DataFrame, runs: list[str]) -> str:
    """Table 1 and the main claim from each training's runs among ``runs``, one after the
    other; empty when none of them is associative retrieval."""
    from fwlib.tasks.associative.report import main_claim  # noqa: PLC0415
    from fwlib.tasks.associative.table import table1, table1_wide  # noqa: PLC0415

    parts = []
    for label, frame in (("before", before), ("after", after)):
        frame = frame[frame["run"].isin(runs) & (frame["task"] == "associative")]
        if frame.empty:
            return ""
        table = table1(frame)
        parts += [f"Table 1, {label}:", "", to_markdown(table1_wide(table)), "",
                  f"The main claim, {label}:", "", to_markdown(main_claim(table)), ""]
    return "\n".join(parts)


def markdown(pairs: pd.DataFrame, before: Path, after: Path,
             frames: tuple[pd.DataFrame, pd.DataFrame]) -> str:
    cells = per_cell(pairs)
    shown = cells.assign(**{c: cells[c].round(2) for c in (
        "minutes_before", "minutes_after", "ms_per_update_before", "ms_per_update_after",
        "speedup")})
    versions = (", ".join(sorted(set(pairs["code_version_before"]))),
                ", ".join(sorted(set(pairs["code_version_after"]))))
    runs = pairs.assign(test_error_before=(100 * pairs["test_error_before"]).round(2),
                        test_error_after=(100 * pairs["test_error_after"]).round(2))
    total = (cells["minutes_before"].sum(), cells["minutes_after"].sum())
    return "\n".join([
        f"Before: `{before}` (code {versions[0]}); after: `{after}` (code {versions[1]}); "
        f"{len(pairs)} runs in both.",
        "",
        to_markdown(shown),
        "",
        f"Runs' own time in all: {total[0]:.1f} min before, {total[1]:.1f} min after "
        f"({total[0] / total[1]:.2f}×).",
        "",
        "Test error per run, in %:",
        "",
        to_markdown(runs[["run", "seed", "steps_before", "steps_after", "test_error_before",
                          "test_error_after"]]),
        "",
        table1_side_by_side(*frames, list(pairs["run"])),
    ])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="results folder of the first training")
    parser.add_argument("after", type=Path, help="results folder of the second training")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for grid_speed.md (default: print only)")
    args = parser.parse_args(argv)
    for name in ("before", "after"):
        if not getattr(args, name).is_dir():
            parser.error(f"argument {name}: {getattr(args, name)} is not a folder")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} exists and is not a folder")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    frames = load_runs(args.before), load_runs(args.after)
    pairs = paired_runs(*frames)
    if pairs.empty:
        print(f"no run is in both {args.before} and {args.after}", file=sys.stderr)
        return 2
    text = markdown(pairs, args.before, args.after, frames)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "grid_speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
