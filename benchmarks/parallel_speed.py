"""Wall-clock of a grid of real training runs with one worker and with the default workers,
in one run of this script, on one machine.

The grid: fast weights and LSTM at R = 50, four seeds each (8 runs of ``--steps`` updates,
associative retrieval, the default profile's learning rate). Each setting trains the whole
grid from scratch in a temporary folder through :func:`fwlib.run.parallel.run_grid` (worker
start-up included); the runs' metrics must be identical between the settings. Writes
``parallel_speed.md`` and ``parallel_speed.json`` under ``--out`` and prints the table.

    python benchmarks/parallel_speed.py                  # 1 worker, then one per core
    python benchmarks/parallel_speed.py --workers 1 2 4 --steps 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KEYS = ("test_error", "valid_error", "best_step", "steps")


def grid(steps: int, seeds: int):
    from fwlib.cores import CoreSpec  # noqa: PLC0415
    from fwlib.run.config import Budget, OptimSpec, RunConfig  # noqa: PLC0415
    from fwlib.tasks.associative import AssociativeTask  # noqa: PLC0415

    return [RunConfig(task=AssociativeTask(), model=CoreSpec(kind, 50),
                      optim=OptimSpec(learning_rate=3e-3),
                      budget=Budget(max_steps=steps, eval_every=500, patience=steps),
                      seed=seed).validate()
            for kind in ("fast_weights", "lstm") for seed in range(seeds)]


def measure(configs, workers: int) -> dict:
    from fwlib.run.parallel import run_grid  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        metrics = run_grid(configs, tmp, workers=workers, progress=False)
        seconds = time.perf_counter() - start
    return {"workers": workers, "runs": len(configs), "seconds": seconds,
            "runs_per_minute": 60 * len(configs) / seconds,
            "train_seconds": sum(m["wall_seconds"] for m in metrics),
            "metrics": [{k: m[k] for k in KEYS} for m in metrics]}


def markdown(rows: list[dict], info: dict) -> str:
    base = rows[0]["seconds"]
    lines = [f"Grid: {rows[0]['runs']} runs (fast weights and LSTM, R = 50, "
             f"{info['steps']:,} updates each), trained from scratch with each number of "
             f"workers; {info['device']}; code {info['code_version']}.", "",
             "| workers | wall-clock (s) | runs per minute | speed-up over 1 worker | "
             "runs' own time, summed (s) | per run, mean (s) | metrics identical to 1 worker |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        same = "yes" if row["metrics"] == rows[0]["metrics"] else "**no**"
        lines.append(f"| {row['workers']} | {row['seconds']:.0f} | "
                     f"{row['runs_per_minute']:.2f} | {base / row['seconds']:.2f}× | "
                     f"{row['train_seconds']:.0f} | {row['train_seconds'] / row['runs']:.1f} | "
                     f"{same} |")
    lines += ["", "A run's own time is what its `metrics.json` records (`wall_seconds`: "
              "compiling, training and validating; not building the model or the final test "
              "evaluation). With N workers the wall-clock cannot go below the summed time "
              "divided by N: where the per-run time grows with N, runs side by side slow each "
              "other down."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+",
                        default=sorted({1, os.cpu_count() or 1}))
    parser.add_argument("--steps", type=int, default=6000, help="updates per run")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per model (2 models)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks")
    args = parser.parse_args(argv)
    for name in ("steps", "seeds"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name}: must be a positive integer")
    if any(w < 1 for w in args.workers):
        parser.error("argument --workers: every count must be a positive integer")
    if args.steps % 500:
        parser.error("argument --steps: must be a multiple of 500")

    from fwlib.run.provenance import environment, write_benchmark  # noqa: PLC0415

    configs = grid(args.steps, args.seeds)
    rows = [measure(configs, w) for w in args.workers]
    env = environment()
    info = {"steps": args.steps, "device": env["device"], "code_version": env["code_version"],
            "packages": env["packages"]}
    text = markdown(rows, info)
    write_benchmark(args.out, "parallel_speed", info, rows, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
