"""Copy what ``benchmarks/gpu/run.sh`` wrote on the GPU machine into
``results/benchmarks/gpu/`` and write ``summary.md`` there: the device, the versions, the
training speed, the Table 1 cell and the processes side by side, in one table each. A file
that a later measurement (``GPU_STEPS``) wrote replaces the earlier one; its ``run.log`` is
added after the earlier log.

    python benchmarks/gpu/collect.py FOLDER          # the folder the files came back to
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = ("environment.json", "train_speed.csv", "train_speed.md", "train_speed.json",
         "table1_cell.json", "parallel.json", "compile_check.csv", "run.log")


def _fmt(value, digits: int = 0) -> str:
    return "–" if value in ("", None) else f"{float(value):,.{digits}f}"


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _steady(history: list[dict]) -> float | None:
    """:func:`measure.steady_rate`, loaded from beside this file."""
    spec = importlib.util.spec_from_file_location("measure", Path(__file__).with_name(
        "measure.py"))
    measure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(measure)
    return measure.steady_rate(history)


def summary(folder: Path) -> str:
    """The Markdown summary of the files in ``folder`` (those missing are said to be)."""
    def load(name: str):
        path = folder / name
        return json.loads(path.read_text()) if path.exists() else None

    env, speed_info, cell = (load(n) for n in (
        "environment.json", "train_speed.json", "table1_cell.json"))
    lines = ["# GPU measurement", ""]
    if env:
        device = env["device"]
        packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        lines += [f"Device: {device['device_kind']} ({device['platform']}, "
                  f"{device['count']} device(s), allocator limit "
                  f"{_fmt(device['memory_limit_gib'], 1)} GiB)"
                  + (f"; nvidia-smi: {env['nvidia_smi']}" if env.get("nvidia_smi") else "")
                  + f". Host: {env['provenance']['device']}.", "",
                  f"Keras backend {env['keras_backend']}, TensorFlow installed: "
                  f"{'yes' if env['tensorflow_installed'] else 'no'}; XLA_FLAGS "
                  f"`{env['variables'].get('XLA_FLAGS', '')}`; code "
                  f"{env['provenance']['code_version']} (prepared from "
                  f"{env.get('code_version_prepared') or 'unknown'}).", "",
                  f"Packages: {packages}.", ""]
    else:
        lines += ["environment.json is missing.", ""]
    speed = folder / "train_speed.csv"
    if speed.exists():
        with open(speed, newline="") as f:
            rows = list(csv.DictReader(f))
        lines += ["## Training speed (batch 128, K = 4)", "",
                  "| configuration | R | examples/s | min – max | first window (s) | "
                  "device peak MiB | status |", "|---|---:|---:|---:|---:|---:|---|"]
        lines += [f"| {r['label']} | {r['hidden_units']} | {_fmt(r['examples_per_s'])} | "
                  f"{_fmt(r['examples_per_s_min'])} – {_fmt(r['examples_per_s_max'])} | "
                  f"{_fmt(r['first_window_s'], 1)} | {_fmt(r['device_peak_mib'])} | "
                  f"{(r['status'] + ' ' + r['note']).strip()} |" for r in rows]
        if speed_info:
            lines.append(f"\nMatrix multiply ({speed_info['matmul_size']}² float32, "
                         f"{speed_info.get('matmul_backend', '')}): "
                         f"{speed_info['matmul_gflops']:,.1f} GFLOP/s.")
        lines.append("")
    else:
        lines += ["train_speed.csv is missing.", ""]
    if cell:
        history = cell.get("history") or []
        steady = _steady(history)
        lines += ["## Table 1 cell, shortened", "", cell["what"] + "; a run's own time: "
                  "compiling, training and validating (`metrics.json`'s `wall_seconds`); the "
                  "first evaluation comes after compiling and the first updates; the steady "
                  "rate is over the updates between the first and the last evaluation.", "",
                  "| updates | updates/s, run's own time | run's own time (s) | "
                  "first evaluation at (s) | steady updates/s | validation error | test error |",
                  "|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {cell['steps']:,} | {cell['steps_per_second']:,.1f} | "
                  f"{cell['train_seconds']:,.1f} | "
                  f"{_fmt(history[0]['wall_seconds'] if history else None, 1)} | "
                  f"{_fmt(steady, 0)} | {_percent(cell['valid_error'])} | "
                  f"{_percent(cell['test_error'])} |", ""]
    else:
        lines += ["table1_cell.json is missing.", ""]
    lines += _parallel(folder)
    lines += _compile_check(folder)
    return "\n".join(lines)


def _parallel(folder: Path) -> list[str]:
    """One table for every ``parallel*.json``: each measurement's run alone, then its runs side
    by side, with and without the Multi-Process Service."""
    paths = sorted(folder.glob("parallel*.json"))
    if not paths:
        return ["parallel.json is missing.", ""]
    measured = [json.loads(path.read_text()) for path in paths]
    lines = ["## Processes side by side on one device", "",
             *(f"- {path.name}: {one['what']}." for path, one in zip(paths, measured,
                                                                    strict=True)), "",
             "Each measurement times one run alone, then several side by side; "
             "MPS: NVIDIA's Multi-Process Service, which runs the kernels of several processes "
             "at once instead of in turns. Throughput over one alone: the runs' work over the "
             "wall-clock of the processes (start-up included), each run's rate over its own "
             "time summed, and the steady updates per second (compiling left out) summed.", "",
             "| file | MPS | processes | wall-clock (s) | runs' own time, mean (s) | "
             "steady updates/s, sum | throughput over one alone (wall-clock) | "
             "(runs' own time) | (steady) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for path, parallel in zip(paths, measured, strict=True):
        mps = "yes" if parallel.get("multi_process_service") else "no"
        alone, together = parallel["alone"], parallel["together"]
        for side, ratio in ((alone, (1.0, 1.0, 1.0)),
                            (together, (parallel["throughput_ratio_wall"],
                                        parallel["throughput_ratio_train"],
                                        parallel.get("throughput_ratio_steady")))):
            runs = side["runs"]
            mean = sum(r["train_seconds"] for r in runs) / len(runs)
            rates = [r.get("steady_steps_per_second") for r in runs]
            total = None if None in rates else sum(rates)
            lines.append(f"| {path.name} | {mps} | {side['processes']} | "
                         f"{side['wall_seconds']:,.1f} | {mean:,.1f} | {_fmt(total)} | "
                         f"{ratio[0]:.2f}× | {ratio[1]:.2f}× | "
                         + ("–" if ratio[2] is None else f"{ratio[2]:.2f}×") + " |")
    return [*lines, ""]


def _compile_check(folder: Path) -> list[str]:
    """Fast weights' first window (compiling included) with XLA's GPU autotuning off, beside
    the same row of the training-speed table, autotuning on."""
    path = folder / "compile_check.csv"
    if not path.exists():
        return ["compile_check.csv is missing.", ""]
    speed = folder / "train_speed.csv"
    with_autotuning = {}
    if speed.exists():
        with open(speed, newline="") as f:
            with_autotuning = {(r["name"], r["hidden_units"]): r for r in csv.DictReader(f)}
    lines = ["## Compiling with XLA's GPU autotuning off", "",
             "`--xla_gpu_autotune_level=0`, no compilation cache; the first window includes "
             "compiling the training step.", "",
             "| configuration | R | first window (s), autotuning off | (on) | "
             "examples/s, off | (on) |", "|---|---:|---:|---:|---:|---:|"]
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            on = with_autotuning.get((row["name"], row["hidden_units"]), {})
            lines.append(f"| {row['label']} | {row['hidden_units']} | "
                         f"{_fmt(row.get('first_window_s'), 1)} | "
                         f"{_fmt(on.get('first_window_s'), 1)} | "
                         f"{_fmt(row.get('examples_per_s'))} | "
                         f"{_fmt(on.get('examples_per_s'))} |")
    return [*lines, ""]


def _tag(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise argparse.ArgumentTypeError(f"letters, digits, - and _ only (got {text!r})")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where run.sh's files are")
    parser.add_argument("--tag", type=_tag,
                        help="copy parallel.json as parallel_TAG.json, beside the earlier "
                             "measurements (letters, digits, - and _)")
    parser.add_argument("--dest", type=Path,
                        default=REPO_ROOT / "results" / "benchmarks" / "gpu",
                        help="where to copy them (default results/benchmarks/gpu)")
    args = parser.parse_args(argv)
    if not any((args.folder / name).exists() for name in FILES):
        parser.error(f"argument folder: {args.folder} has none of run.sh's files "
                     f"({', '.join(FILES)})")
    args.dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        source, target = args.folder / name, args.dest / name
        if name == "parallel.json" and args.tag:
            target = args.dest / f"parallel_{args.tag}.json"
        if not source.exists():
            continue
        if name == "run.log" and target.exists():
            # a later measurement (GPU_STEPS) adds its log to the earlier ones, once
            earlier, later = target.read_text(), source.read_text()
            if not earlier.endswith(later):
                target.write_text(earlier.rstrip("\n") + "\n\n" + later)
        else:
            shutil.copyfile(source, target)
    text = summary(args.dest)
    (args.dest / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
