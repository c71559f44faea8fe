"""Wall-clock of the pipeline profiles already run on this machine, from their own records.

Nothing is trained here: the numbers come from each profile's pipeline log
(``results/<profile>/pipeline.json``, timed by ``fwlib.pipeline`` around every notebook) and
from the ``metrics.json`` of the runs in its Table 1 grid (``grid.json``: training and
evaluation time of each run). Writes ``profile_times.csv`` and ``profile_times.md`` under
``--out`` and prints the Markdown.

    python benchmarks/profile_times.py                  # every profile under results/
    python benchmarks/profile_times.py --profiles default seeds
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from fwlib.pipeline import executions
from fwlib.results import load_runs

REPO_ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("profile", "started", "notebooks", "minutes", "train_notebook_minutes",
           "grid_runs", "grid_runs_finished", "grid_seeds", "grid_training_minutes",
           "slowest_run", "slowest_run_minutes", "device", "code_version")


def grid_summary(profile_dir: Path) -> dict:
    """Runs of the profile's Table 1 grid: how many, how many finished, their training time."""
    grid_path = profile_dir / "grid.json"
    if not grid_path.exists():
        return {}
    names = json.loads(grid_path.read_text())
    runs = load_runs(profile_dir / "runs")
    runs = runs[runs["run"].isin(names)]
    slowest = runs.loc[runs["wall_seconds"].idxmax()] if len(runs) else None
    return {
        "grid_runs": len(names), "grid_runs_finished": len(runs),
        "grid_seeds": " ".join(str(s) for s in sorted(runs["seed"].unique())),
        "grid_training_minutes": runs["wall_seconds"].sum() / 60,
        "slowest_run": slowest["run"] if slowest is not None else "",
        "slowest_run_minutes": slowest["wall_seconds"] / 60 if slowest is not None else None,
        "device": runs["device"].iloc[0] if len(runs) else "",
    }


def collect(results_root: Path, profiles: list[str] | None) -> list[dict]:
    """One row per recorded pipeline execution, with the profile's grid beside it."""
    rows = []
    dirs = ([results_root / p for p in profiles] if profiles
            else sorted(p.parent for p in results_root.glob("*/pipeline.json")))
    for profile_dir in dirs:
        log_path = profile_dir / "pipeline.json"
        if not log_path.exists():
            continue
        log = json.loads(log_path.read_text())
        grid = grid_summary(profile_dir)
        for execution in executions(log):
            train_s = execution["notebook_seconds"].get("02_train")
            rows.append({
                "profile": profile_dir.name, "started": execution["started"],
                "notebooks": " ".join(execution["notebooks"]),
                "minutes": execution["seconds"] / 60,
                "train_notebook_minutes": train_s / 60 if train_s is not None else None,
                **grid, "device": grid.get("device") or log.get("environment", {}).get("device"),
                "code_version": execution["code_version"],
            })
    return rows


def _num(value, digits: int = 1) -> str:
    return "" if value is None or value == "" else f"{value:,.{digits}f}"


def markdown(rows: list[dict]) -> str:
    lines = ["Wall-clock of pipeline executions, from `results/<profile>/pipeline.json`; "
             "Table 1 grid: the runs of `grid.json`, their training and evaluation time summed "
             "from `metrics.json`.", "",
             "| profile | started | notebooks | minutes | of which 02_train | grid runs "
             "finished | seeds | grid training minutes | slowest run (min) | device | code |",
             "|---|---|---|---:|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        slowest = (f"{r['slowest_run']} ({_num(r['slowest_run_minutes'])})"
                   if r.get("slowest_run") else "")
        finished = (f"{r['grid_runs_finished']} / {r['grid_runs']}" if "grid_runs" in r else "")
        lines.append(f"| {r['profile']} | {r['started']} | {r['notebooks']} "
                     f"| {_num(r['minutes'])} | {_num(r['train_notebook_minutes'])} "
                     f"| {finished} | {r.get('grid_seeds', '')} "
                     f"| {_num(r.get('grid_training_minutes'))} | {slowest} "
                     f"| {r['device'] or ''} | {r['code_version']} |")
    if not rows:
        lines.append("| (no profile has been run) | | | | | | | | | | |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-root", type=Path, default=REPO_ROOT / "results",
                        help="where the profiles' folders are (default results/)")
    parser.add_argument("--profiles", nargs="+", metavar="NAME",
                        help="profiles to report (default: every folder with a pipeline.json)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks",
                        help="output folder (default results/benchmarks)")
    args = parser.parse_args(argv)
    if not args.results_root.is_dir():
        parser.error(f"argument --results-root: {args.results_root} is not a folder")
    for name in args.profiles or []:
        if not (args.results_root / name / "pipeline.json").exists():
            parser.error(f"argument --profiles: {name!r} has no pipeline.json under "
                         f"{args.results_root}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} exists and is not a folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = collect(args.results_root, args.profiles)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "profile_times.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    text = markdown(rows)
    (args.out / "profile_times.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
