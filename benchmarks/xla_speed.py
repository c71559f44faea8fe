"""Training speed of Table 2's models with and without XLA, side by side in one run.

For each model of ``--models`` at each width of ``--units``, the run that a profile's
``mnist_glimpses/02_grid`` plans (``--profile``, seed 0: its learning rate, dropout and the
rest), trained twice with a short budget (``--steps`` updates, evaluated every
``--eval-every``): its training step compiled by XLA, and run by TensorFlow's own kernels
(``xla: false``, oneDNN on a CPU). Each is the real training loop,
``fwlib.supervised.fit.train`` on the real data (input pipeline, validation evaluations,
checkpoints and the test evaluation included), in a fresh subprocess with one thread, as the
pipeline's workers train. The two variants of a model train at the same time, one per core,
as two workers do (``--one-at-a-time``: one after the other).

The table gives, per variant: milliseconds per update over the whole run (compilation
included, so a short budget overstates it for both), training examples per second, the time
against XLA, the time to reach ``--target`` validation error (from the run's evaluations;
"—" where the budget did not reach it), the validation error at the end and the process's
peak resident memory (``ru_maxrss``).

Writes ``xla_speed.md`` and ``xla_speed.json`` under ``--out`` and prints the table.

    python benchmarks/xla_speed.py
    python benchmarks/xla_speed.py --models convnet --units 50 --steps 500 --eval-every 250
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = ("fast_weights", "lstm", "irnn", "convnet")
NOTEBOOK = "mnist_glimpses/02_grid"


def child(config_json: str, run_dir: str) -> dict:
    """Train one config in this process (one thread); its timings and peak memory."""
    import resource  # noqa: PLC0415

    from fwlib.run.execute import configure_threads  # noqa: PLC0415

    configure_threads()
    import pandas as pd  # noqa: PLC0415

    from fwlib.run.config import RunConfig  # noqa: PLC0415
    from fwlib.supervised.fit import train  # noqa: PLC0415

    config = RunConfig.from_dict(json.loads(config_json)).validate()
    metrics = train(config, run_dir, progress=False)
    history = pd.read_csv(Path(run_dir) / "history.csv")
    return {"steps": int(metrics["steps"]), "wall_seconds": float(metrics["wall_seconds"]),
            "valid_error": float(metrics["valid_error"]),
            "history": history[["step", "valid_error", "wall_seconds"]].to_dict("list"),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def start(config, run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(config.to_dict()), str(run_dir)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO_ROOT)})


def finish(process: subprocess.Popen, what: str) -> dict:
    out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"{what} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def time_to(history: dict, target: float) -> float | None:
    """Seconds from the run's start to its first evaluation at or below ``target``."""
    for error, seconds in zip(history["valid_error"], history["wall_seconds"], strict=True):
        if error <= target:
            return float(seconds)
    return None


def markdown(rows: list[dict], info: dict) -> str:
    lines = [f"Table 2's runs as profile `{info['profile']}` plans them (seed 0), "
             f"{info['steps']:,} updates each, evaluated every {info['eval_every']}, in the "
             f"real training loop; one thread per run, the two variants of a model "
             f"{'one after the other' if info['one_at_a_time'] else 'at the same time'}; "
             f"{info['device']}; Keras backend {info['backend']}; code "
             f"{info['code_version']}.", "",
             f"| model | R | training step | ms per update | examples/s | time against XLA | "
             f"time to {info['target']:.0%} validation error (s) | validation error at the end "
             f"| peak memory (MiB) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        reached = "—" if row["time_to_target_s"] is None else f"{row['time_to_target_s']:.0f}"
        step = "XLA" if row["xla"] else "TensorFlow kernels (no XLA)"
        lines.append(f"| {row['model']} | {row['units']} | {step} | "
                     f"{row['ms_per_update']:.1f} | {row['examples_per_second']:,.0f} | "
                     f"{row['time_against_xla']:.2f}× | {reached} | "
                     f"{row['valid_error']:.2%} | {row['peak_rss_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(child(argv[1], argv[2])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--units", type=int, nargs="+", default=[200])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--target", type=float, default=0.03)
    parser.add_argument("--one-at-a-time", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks")
    args = parser.parse_args(argv)
    for name in ("steps", "eval_every"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be a positive integer")
    if args.steps % args.eval_every:
        parser.error(f"argument --steps: must be a multiple of --eval-every={args.eval_every} "
                     f"(got {args.steps})")
    if not 0.0 < args.target < 1.0:
        parser.error(f"argument --target: must be in (0, 1) (got {args.target})")

    from fwlib.pipeline import PipelineError, plan  # noqa: PLC0415
    from fwlib.run.provenance import benchmark_info, write_benchmark  # noqa: PLC0415
    from fwlib.tasks.mnist_glimpses.cells import select  # noqa: PLC0415

    try:
        planned = plan(args.profile, [NOTEBOOK])["runs"][NOTEBOOK]
        configs = select(planned, args.models, args.units, [0])
    except (PipelineError, ValueError) as error:
        parser.error(f"argument --profile/--models/--units: {error}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for config in configs:
            budget = dataclasses.replace(config.budget, max_steps=args.steps,
                                         eval_every=args.eval_every, patience=args.steps)
            variants = {xla: dataclasses.replace(
                config, budget=budget, model=dataclasses.replace(config.model, xla=xla))
                for xla in (True, False)}
            results = {}
            running = {}
            for xla, variant in variants.items():
                running[xla] = start(variant, Path(scratch) / f"{variant.run_name()}_{xla}")
                if args.one_at_a_time:
                    results[xla] = finish(running.pop(xla), variant.run_name())
            for xla, process in running.items():
                results[xla] = finish(process, variants[xla].run_name())
            for xla in (True, False):
                result = results[xla]
                per_update = result["wall_seconds"] / result["steps"]
                rows.append({
                    "model": config.model.kind, "units": config.model.hidden_units,
                    "xla": xla, "steps": result["steps"],
                    "wall_seconds": result["wall_seconds"],
                    "ms_per_update": 1000 * per_update,
                    "examples_per_second": config.optim.batch_size / per_update,
                    "time_against_xla": result["wall_seconds"] / results[True]["wall_seconds"],
                    "time_to_target_s": time_to(result["history"], args.target),
                    "valid_error": result["valid_error"],
                    "peak_rss_mib": result["peak_rss_mib"]})
    info = benchmark_info(profile=args.profile, steps=args.steps, eval_every=args.eval_every,
                          target=args.target, one_at_a_time=args.one_at_a_time)
    text = markdown(rows, info)
    write_benchmark(args.out, "xla_speed", info, rows, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
