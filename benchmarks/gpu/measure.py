"""The GPU measurements besides the training-speed table, each writing one JSON file:

- ``environment``: the device as JAX sees it (``device_kind``, memory statistics), the
  ``nvidia-smi`` line where there is one, the package versions, the XLA flags in force;
- ``cell``: one cell of Table 1 (fast weights, R = 100, the default profile's learning rate
  and η) trained for ``--steps`` updates through :func:`fwlib.run.execute.execute`: its
  metrics (provenance included), its history and its updates per second;
- ``parallel``: the same short training (``--steps`` updates) in one process to warm the
  compilation cache (where ``JAX_COMPILATION_CACHE_DIR`` sets one), then in one process alone,
  then in ``--processes`` processes side by side on the one device (a seed each): the total
  throughput with N processes over the one alone's, from the wall-clock of the processes
  (start-up and compilation included), from the runs' own recorded time, and at the steady
  rate (updates between the first and the last evaluation over the time between them, which
  leaves compilation out).

A run's steady rate is its training speed once compiled; on a GPU, compiling the fast-weights
step can take far longer than a short run's training, so the two are reported apart.

    python benchmarks/gpu/measure.py environment --out OUT
    python benchmarks/gpu/measure.py cell --out OUT --steps 3000
    python benchmarks/gpu/measure.py parallel --out OUT --steps 1000 --processes 4

Run by ``benchmarks/gpu/run.sh`` under ``KERAS_BACKEND=jax``; needs no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CELL_UNITS = 100
LEARNING_RATE = 3e-3  # the default profile's, for fast weights
FAST_LR = 0.02  # η chosen on the validation split at R = 100
EVAL_EVERY = 500
PACKAGES = ("keras", "jax", "jaxlib", "jax-cuda13-plugin", "jax-cuda13-pjrt",
            "jax-cuda12-plugin", "jax-cuda12-pjrt", "numpy", "optree", "ml_dtypes", "h5py",
            "namex", "absl-py", "pandas", "scipy")
ENVIRONMENT_VARIABLES = ("KERAS_BACKEND", "XLA_FLAGS", "XLA_PYTHON_CLIENT_PREALLOCATE",
                         "XLA_PYTHON_CLIENT_MEM_FRACTION", "CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS",
                         "JAX_COMPILATION_CACHE_DIR", "CUDA_MPS_PIPE_DIRECTORY")


def cell_config(steps: int, seed: int = 0):
    """Fast weights at R = 100 on associative retrieval (K = 4), ``steps`` updates, no early
    stopping: the run of Table 1's cell, shortened."""
    from fwlib.tasks.associative.grid import table1_grid  # noqa: PLC0415

    (config,) = table1_grid(["fast_weights"], [CELL_UNITS], [seed], max_steps=steps,
                            learning_rate=LEARNING_RATE, fast_lr=FAST_LR,
                            eval_every=min(EVAL_EVERY, steps), patience=steps)
    return config


# ---------------------------------------------------------------- environment

def device_info() -> dict:
    """The first device JAX sees: platform, kind, memory statistics (bytes), and how many."""
    import jax  # noqa: PLC0415

    devices = jax.devices()
    first = devices[0]
    try:
        stats = first.memory_stats() or {}
    except Exception:  # noqa: BLE001 - a platform without memory statistics
        stats = {}
    keep = ("bytes_limit", "bytes_reservable_limit", "bytes_in_use", "peak_bytes_in_use")
    return {"platform": first.platform, "device_kind": first.device_kind,
            "count": len(devices), "memory_stats": {k: stats[k] for k in keep if k in stats},
            "memory_limit_gib": round(stats["bytes_limit"] / 2**30, 2)
            if "bytes_limit" in stats else None,
            "jax_backend": jax.default_backend()}


def nvidia_smi() -> str | None:
    """``name, memory.total, driver_version`` of each GPU, where ``nvidia-smi`` exists."""
    if shutil.which("nvidia-smi") is None:
        return None
    done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                           "--format=csv,noheader"], capture_output=True, text=True)
    return done.stdout.strip() or None


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def measure_environment() -> dict:
    import keras  # noqa: PLC0415

    from fwlib.run.provenance import environment  # noqa: PLC0415

    return {"device": device_info(), "nvidia_smi": nvidia_smi(),
            "keras_backend": keras.backend.backend(),
            "tensorflow_installed": _installed("tensorflow"),
            "packages": package_versions(),
            "variables": {k: os.environ[k] for k in ENVIRONMENT_VARIABLES if k in os.environ},
            "provenance": environment(), "code_version_prepared": _prepared_version(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _prepared_version() -> str | None:
    """The code version that ``prepare.sh`` recorded beside the wheels, if it did."""
    path = REPO_ROOT / ".whl" / "code_version.txt"
    return (path.read_text().strip() or None) if path.exists() else None


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


# ---------------------------------------------------------------- one run

def steady_rate(history: list[dict]) -> float | None:
    """Updates per second between a run's first and last evaluation (compiling, which comes
    before the first, left out); None with fewer than two evaluations."""
    if len(history) < 2:
        return None
    first, last = history[0], history[-1]
    seconds = last["wall_seconds"] - first["wall_seconds"]
    return (last["step"] - first["step"]) / seconds if seconds > 0 else None


def train_one(steps: int, seed: int, run_dir: str) -> dict:
    """One short run through :func:`fwlib.run.execute.execute`; its metrics and history."""
    from fwlib.run.execute import execute  # noqa: PLC0415
    from fwlib.run.store import load_history  # noqa: PLC0415

    start = time.perf_counter()
    metrics = execute(cell_config(steps, seed).to_dict(), run_dir)
    seconds = time.perf_counter() - start
    history = load_history(run_dir).to_dict("records")
    return {"metrics": metrics, "history": history, "process_seconds": seconds,
            "steps_per_second": metrics["steps"] / max(metrics["wall_seconds"], 1e-9),
            "steady_steps_per_second": steady_rate(history),
            "first_evaluation_seconds": history[0]["wall_seconds"] if history else None}


def measure_cell(steps: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = train_one(steps, 0, str(Path(tmp) / cell_config(steps).run_name()))
    metrics = result["metrics"]
    return {"what": f"Table 1 cell: fast weights, R = {CELL_UNITS}, learning rate "
                    f"{LEARNING_RATE}, η = {FAST_LR}, {steps} updates, seed 0",
            "steps": metrics["steps"], "test_error": metrics["test_error"],
            "valid_error": metrics["valid_error"], "train_seconds": metrics["wall_seconds"],
            **result}


# ---------------------------------------------------------------- processes side by side

def _spawn(steps: int, seed: int, run_dir: Path, result: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "train-one",
                             "--steps", str(steps), "--seed", str(seed),
                             "--run-dir", str(run_dir), "--out", str(result)],
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def run_side_by_side(steps: int, seeds: list[int], folder: Path) -> dict:
    """Start one process per seed at once, wait for all; wall-clock and each run's numbers."""
    start = time.perf_counter()
    procs = [_spawn(steps, seed, folder / f"run_{seed}", folder / f"result_{seed}.json")
             for seed in seeds]
    errors = [proc.communicate()[1] for proc in procs]
    wall = time.perf_counter() - start
    runs = []
    for seed, proc, error in zip(seeds, procs, errors, strict=True):
        if proc.returncode != 0:
            tail = error.strip().splitlines()[-1] if error.strip() else ""
            raise RuntimeError(f"the run of seed {seed} failed (exit status "
                               f"{proc.returncode}): {tail}")
        one = json.loads((folder / f"result_{seed}.json").read_text())
        runs.append({"seed": seed, "train_seconds": one["metrics"]["wall_seconds"],
                     "process_seconds": one["process_seconds"],
                     "steps_per_second": one["steps_per_second"],
                     "steady_steps_per_second": one["steady_steps_per_second"],
                     "first_evaluation_seconds": one["first_evaluation_seconds"],
                     "test_error": one["metrics"]["test_error"]})
    return {"processes": len(seeds), "wall_seconds": wall, "runs": runs}


def measure_parallel(steps: int, processes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        warm_up = run_side_by_side(steps, [0], Path(tmp) / "warm_up")
        alone = run_side_by_side(steps, [0], Path(tmp) / "alone")
        together = run_side_by_side(steps, list(range(processes)), Path(tmp) / "together")
    train_alone = alone["runs"][0]["train_seconds"]
    train_together = [r["train_seconds"] for r in together["runs"]]
    steady_alone = alone["runs"][0]["steady_steps_per_second"]
    steady_together = [r["steady_steps_per_second"] for r in together["runs"]]
    steady = (sum(steady_together) / steady_alone
              if steady_alone and None not in steady_together else None)
    return {
        "what": f"{processes} processes of the same short training (fast weights, R = "
                f"{CELL_UNITS}, {steps} updates, a seed each) side by side on one device, "
                "against one alone",
        "steps": steps, "warm_up": warm_up, "alone": alone, "together": together,
        # run.sh sets the pipe folder only where NVIDIA's Multi-Process Service started
        "multi_process_service": bool(os.environ.get("CUDA_MPS_PIPE_DIRECTORY")),
        # N runs' work over the wall-clock, against one run's over its own
        "throughput_ratio_wall": processes * alone["wall_seconds"] / together["wall_seconds"],
        # the runs' own time (compiling, training, validating), each run's rate summed
        "throughput_ratio_train": sum(train_alone / t for t in train_together),
        "slowdown_per_run": sum(train_together) / len(train_together) / train_alone,
        # compiled: each run's updates per second between its first and last evaluation
        "throughput_ratio_steady": steady,
    }


# ---------------------------------------------------------------- command line

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("environment", "cell", "parallel", "train-one"))
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (for train-one: the result file)")
    parser.add_argument("--steps", type=_positive_int, default=3000,
                        help="updates per run (default 3000)")
    parser.add_argument("--processes", type=_positive_int, default=4,
                        help="processes side by side for parallel (default 4)")
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps > EVAL_EVERY and args.steps % EVAL_EVERY:
        parser.error(f"argument --steps: must be at most {EVAL_EVERY} or a multiple of it "
                     f"(got {args.steps})")
    if args.what == "train-one" and args.run_dir is None:
        parser.error("train-one needs --run-dir")
    if args.what != "train-one" and args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} exists and is not a folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.what == "train-one":
        result = train_one(args.steps, args.seed, args.run_dir)
        args.out.write_text(json.dumps(result, default=str) + "\n")
        return 0
    if args.what == "environment":
        result, name = measure_environment(), "environment.json"
    elif args.what == "cell":
        result, name = measure_cell(args.steps), "table1_cell.json"
    else:
        result, name = measure_parallel(args.steps, args.processes), "parallel.json"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / name).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("history", "metrics")},
                     indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
