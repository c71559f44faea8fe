"""Wall-clock of the pipeline profiles already run on this machine, from their own records.

Nothing is trained here: the numbers come from each profile's pipeline log
(``results/<profile>/pipeline.json``, timed by ``fwlib.pipeline`` around every notebook) and
from the ``metrics.json`` of the runs in its Table 1 grid (``grid.json``: training and
evaluation time of each run). Writes ``profile_times.csv`` and ``profile_times.md`` under
``--out`` and prints the Markdown.

    python benchmarks/profile_times.py                  # every profile under results/
    python benchmarks/profile_times.py --profiles default seeds
    python benchmarks/profile_times.py --estimate paper --timings default

``--estimate`` adds an upper bound on a profile's training time on this machine: every run it
plans (the same configs its notebooks would train) is charged its whole update budget at the
seconds per update measured by the runs of ``--timings`` (same model and R; a model without
such a run is charged as fast weights at that R; S > 1 by the ratio to S = 1 measured at
another R; K ≠ 4 in proportion to the sequence length 2K + 3), then the runs are spread over
each number of ``--workers`` (one run per worker, longest first, each to the worker that
frees first), which gives the wall-clock with that many cores. Early stopping makes the real
time shorter. Written to ``profile_estimate.md``.

``--recorded FOLDER`` charges each planned run that has finished under that results folder
its recorded number of updates instead of its whole budget (early stopping included): what
training the profile again from scratch would take at the per-update times of ``--timings``,
since a run trained again stops at the same update.

    python benchmarks/profile_times.py --results-root results/benchmarks/idle_seeds_table1 \
        --profiles seeds --estimate seeds --timings seeds --recorded results/seeds --workers 1 2
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import sys
from pathlib import Path

from fwlib.pipeline import PipelineError, catalog, executions, plan
from fwlib.run.folder import RunFolder
from fwlib.run.store import load_runs

REPO_ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("profile", "started", "notebooks", "workers", "minutes", "train_notebook_minutes",
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
            seconds = execution["notebook_seconds"]
            train_s = seconds.get("associative/02_train", seconds.get("02_train"))
            rows.append({
                "profile": profile_dir.name, "started": execution["started"],
                "notebooks": " ".join(execution["notebooks"]),
                "workers": execution.get("scheduler") or execution.get("workers") or 1,
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
             "| profile | started | notebooks | workers | minutes | of which 02_train | grid "
             "runs finished | seeds | grid training minutes | slowest run (min) | device | "
             "code |",
             "|---|---|---|---|---:|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        slowest = (f"{r['slowest_run']} ({_num(r['slowest_run_minutes'])})"
                   if r.get("slowest_run") else "")
        finished = (f"{r['grid_runs_finished']} / {r['grid_runs']}" if "grid_runs" in r else "")
        lines.append(f"| {r['profile']} | {r['started']} | {len(r['notebooks'].split())} "
                     f"| {r['workers']} | {_num(r['minutes'])} "
                     f"| {_num(r['train_notebook_minutes'])} "
                     f"| {finished} | {r.get('grid_seeds', '')} "
                     f"| {_num(r.get('grid_training_minutes'))} | {slowest} "
                     f"| {r['device'] or ''} | {r['code_version']} |")
    if not rows:
        lines.append("| (no profile has been run) | | | | | | | | | | | |")
    return "\n".join(lines) + "\n"


def seconds_per_update(runs) -> dict:
    """Mean seconds per update (or per frame) from finished runs (``load_runs``): by (model, R,
    S, K) for associative retrieval, by (task, model, R) for the other experiments."""
    runs = runs.assign(spu=runs["wall_seconds"] / runs["steps"])
    task = runs["task"] if "task" in runs else "associative"
    runs = runs.assign(task=task)
    timed = {}
    associative = runs[runs["task"] == "associative"]
    if len(associative):
        keys = ["model", "hidden_units", "inner_steps", "num_pairs"]
        timed.update(associative.groupby(keys)["spu"].mean().to_dict())
    others = runs[runs["task"] != "associative"]
    if len(others):
        timed.update(others.groupby(["task", "model", "hidden_units"])["spu"].mean().to_dict())
    return timed


def charge(config, timed: dict) -> float:
    """Seconds per update for ``config`` (see the module's notes on ``--estimate``); None for
    another experiment's run without a timing of its kind and size."""
    kind, units = config.model.kind, config.model.hidden_units
    if config.task.name != "associative":
        return timed.get((config.task.name, kind, units))
    inner_steps, num_pairs = config.model.inner_steps, config.task.num_pairs
    key = (kind, units, inner_steps, num_pairs)
    if key in timed:
        return timed[key]
    model = kind if (kind, units, 1, 4) in timed else "fast_weights"
    spu = timed[(model, units, 1, 4)]
    if inner_steps > 1:
        associative = {key: v for key, v in timed.items() if len(key) == 4}
        ratios = [v / timed[(m, r, 1, 4)] for (m, r, s, k), v in associative.items()
                  if (m, s, k) == (model, inner_steps, 4) and (m, r, 1, 4) in timed]
        spu *= sum(ratios) / len(ratios) if ratios else 1.0
    return spu * (2 * num_pairs + 3) / (2 * 4 + 3)


def makespan(seconds: list[float], workers: int) -> float:
    """Wall-clock of runs of these lengths on ``workers`` workers, one run each at a time:
    longest first, each to the worker that frees first."""
    free = [0.0] * workers
    for length in sorted(seconds, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + length)
    return max(free)


def recorded_steps(config, folder: Path | None) -> int | None:
    """The number of updates the run of ``config`` took in the runs folder ``folder``; None
    where it has not finished there."""
    if folder is None:
        return None
    run = RunFolder(folder / config.run_name())
    return run.metrics()["steps"] if run.finished() else None


def estimate(profile_name: str, timings_dir: Path,
             workers: tuple[int, ...] = (1, 2, 16, 64),
             recorded_root: Path | None = None) -> list[dict]:
    """Upper bound on the training time of each training notebook of a profile, with each
    number of workers; a run that an earlier notebook also plans (the capacity study's K = 4
    runs are Table 1's) is charged to the earlier one only. With ``recorded_root`` (a results
    folder), a run finished there is charged its recorded updates, not its whole budget."""
    timed = seconds_per_update(load_runs(timings_dir))
    planned = plan(profile_name)
    rows = []
    charged_before = set()  # (runs folder, run): a run two notebooks share is trained once
    for notebook, configs in planned["runs"].items():
        folder = catalog.runs_dir(notebook, Path("."))
        recorded = None if recorded_root is None else catalog.runs_dir(notebook, recorded_root)
        configs = [c for c in configs if (folder, c.run_name()) not in charged_before]
        charged_before |= {(folder, c.run_name()) for c in configs}
        if not configs:
            continue
        charged = [(c, charge(c, timed)) for c in configs]
        untimed = sum(spu is None for _, spu in charged)
        steps = [(recorded_steps(c, recorded), c.budget.max_steps, spu) for c, spu in charged
                 if spu is not None]
        if not steps:
            continue
        updates = [done if done is not None else budget for done, budget, _ in steps]
        seconds = [n * spu for n, (_, _, spu) in zip(updates, steps, strict=True)]
        row = {"profile": profile_name, "notebook": notebook, "runs": len(steps),
               "untimed": untimed, "recorded": sum(done is not None for done, _, _ in steps),
               "updates": sum(updates),
               "hours_at_most": sum(seconds) / 3600}
        row.update({f"hours_{n}_workers": makespan(seconds, n) / 3600 for n in workers})
        rows.append(row)
    return rows


def estimate_markdown(rows: list[dict], timings_dir: Path, recorded_root: Path | None = None
                      ) -> str:
    counts = [int(k.split("_")[1]) for k in rows[0] if k.startswith("hours_") and
              k.endswith("_workers")] if rows else []
    if recorded_root is None:
        charged = "Upper bound on training time: every planned run charged its whole budget at"
    else:
        charged = (f"Training time from scratch: every planned run charged the updates it took "
                   f"under `{recorded_root}` (its whole budget where it has not finished "
                   "there; `recorded` counts the others) at")
    lines = [f"{charged} the seconds per update of the runs under `{timings_dir}` (one run per "
             "worker, one TensorFlow thread per run), spread over N workers; runs of a kind "
             "without a timing are left out and counted.", "",
             "| profile | notebook | runs (left out) | recorded | updates | "
             + " | ".join(f"hours, {n} worker{'s' if n > 1 else ''}" for n in counts) + " |",
             "|---|---|---:|---:|---:|" + "---:|" * len(counts)]
    for r in rows:
        lines.append(f"| {r['profile']} | {r['notebook']} | {r['runs']} ({r['untimed']}) | "
                     f"{r['recorded']} | {r['updates']:,} | "
                     + " | ".join(f"{r[f'hours_{n}_workers']:.2f}" for n in counts) + " |")
    if rows:
        lines += ["", "| all notebooks | " + " | ".join(
            f"{n} worker{'s' if n > 1 else ''}: "
            f"{sum(r[f'hours_{n}_workers'] for r in rows):.1f} h" for n in counts) + " |"]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-root", type=Path, default=REPO_ROOT / "results",
                        help="where the profiles' folders are (default results/)")
    parser.add_argument("--profiles", nargs="+", metavar="NAME",
                        help="profiles to report (default: every folder with a pipeline.json)")
    parser.add_argument("--estimate", metavar="PROFILE",
                        help="also bound the training time of this profile (see above)")
    parser.add_argument("--timings", metavar="PROFILE", default="default",
                        help="profile whose finished runs give the seconds per update "
                             "(default: default)")
    parser.add_argument("--recorded", type=Path, metavar="FOLDER",
                        help="charge runs finished in this results folder their recorded "
                             "updates (default: every run its whole budget)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 16, 64],
                        help="worker counts of the estimate (default: 1 2 16 64)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks",
                        help="output folder (default results/benchmarks)")
    args = parser.parse_args(argv)
    if not args.results_root.is_dir():
        parser.error(f"argument --results-root: {args.results_root} is not a folder")
    for name in args.profiles or []:
        if not (args.results_root / name / "pipeline.json").exists():
            parser.error(f"argument --profiles: {name!r} has no pipeline.json under "
                         f"{args.results_root}")
    if args.estimate is not None:
        try:
            plan(args.estimate)
        except PipelineError as error:
            parser.error(f"argument --estimate: {error}")
        if not (args.results_root / args.timings / "runs").is_dir():
            parser.error(f"argument --timings: {args.timings!r} has no runs under "
                         f"{args.results_root}")
    if args.recorded is not None and args.estimate is None:
        parser.error("argument --recorded: needs --estimate")
    if args.recorded is not None and not args.recorded.is_dir():
        parser.error(f"argument --recorded: {args.recorded} is not a folder")
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
    if args.estimate is not None:
        timings_dir = args.results_root / args.timings
        shown = (timings_dir.resolve().relative_to(REPO_ROOT)
                 if timings_dir.resolve().is_relative_to(REPO_ROOT) else timings_dir)
        text = estimate_markdown(estimate(args.estimate, timings_dir, tuple(args.workers),
                                          args.recorded), shown, args.recorded)
        (args.out / "profile_estimate.md").write_text(text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
