"""Training speed of Table 2's models with and without dropout, and with each dropout mask
generator, side by side in one run.

For each model (``--models``, at ``--units`` hidden units) three configurations: no dropout;
dropout at ``--rate`` with the mask drawn as Keras draws it (TensorFlow picks the generator,
"auto_select"); dropout with the mask drawn by Philox, named explicitly, as Table 2's models
draw it (:mod:`fwlib.tasks.mnist_glimpses.model`). Each one is measured in a fresh subprocess
with one thread, as the pipeline's workers train: the model compiled as
``fwlib.supervised.fit.compile_model`` compiles a Table 2 run (Adam, XLA except for the
ConvNet, as the profiles train them; ``steps_per_execution``), batch 128, random images
(the speed does not depend on the pixels); ``model.fit`` runs ``--windows`` timed windows
of ``--window-steps`` updates after one untimed window (compilation included), and the
median window gives the time per update.
The table also gives training examples per second, the slow-down against no dropout and the
process's peak resident memory (``ru_maxrss``).

Writes ``dropout_speed.md`` and ``dropout_speed.json`` under ``--out`` and prints the table.

    python benchmarks/dropout_speed.py
    python benchmarks/dropout_speed.py --models fast_weights lstm convnet --units 100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (("none", 0.0, "philox"), ("keras", None, "keras"), ("philox", None, "philox"))
MODELS = ("fast_weights", "lstm", "irnn", "convnet")
BATCH = 128


def child(model_kind: str, units: int, rate: float, generator: str, windows: int,
          window_steps: int) -> dict:
    """One configuration, timed in this process (one thread)."""
    import resource  # noqa: PLC0415

    from fwlib.run.execute import configure_threads  # noqa: PLC0415

    configure_threads()
    import numpy as np  # noqa: PLC0415

    from fwlib.run.config import Budget, OptimSpec, RunConfig  # noqa: PLC0415
    from fwlib.run.seeding import seed_everything  # noqa: PLC0415
    from fwlib.supervised.fit import compile_model  # noqa: PLC0415
    from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask  # noqa: PLC0415
    from fwlib.tasks.mnist_glimpses import model as models  # noqa: PLC0415
    from fwlib.tasks.mnist_glimpses.spec import GlimpseModelSpec  # noqa: PLC0415

    task = MnistGlimpsesTask()
    spec = GlimpseModelSpec(kind=model_kind, hidden_units=units, fast_lr=0.005, dropout=rate,
                            xla=model_kind != "convnet")
    config = RunConfig(task=task, model=spec, optim=OptimSpec(batch_size=BATCH),
                       budget=Budget(eval_every=window_steps,
                                     steps_per_execution=window_steps)).validate()
    seed_everything(0)
    if model_kind == "convnet":
        model = models.build_convnet(units, rate, generator)
    else:
        model = models.build_glimpse_classifier(spec.core(), task.order, spec.encoder_units,
                                                rate, generator)
    model = compile_model(model, config)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH * window_steps, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH * window_steps).astype(np.int32)
    seconds = []
    for _ in range(windows + 1):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        seconds.append(time.perf_counter() - start)
    per_update = statistics.median(seconds[1:]) / window_steps
    return {"ms_per_update": 1000 * per_update, "examples_per_second": BATCH / per_update,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(model_kind: str, units: int, rate: float, generator: str, windows: int,
            window_steps: int) -> dict:
    command = [sys.executable, __file__, "--child", model_kind, str(units), str(rate),
               generator, str(windows), str(window_steps)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                               "PYTHONPATH": str(REPO_ROOT)})
    if done.returncode:
        raise RuntimeError(f"{model_kind} {generator} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict], info: dict) -> str:
    lines = [f"Table 2's models, batch {BATCH}, one thread per configuration, median of "
             f"{info['windows']} windows of {info['window_steps']} updates; {info['device']}; "
             f"Keras backend {info['backend']}; code {info['code_version']}.", "",
             "| model | R | dropout | mask generator | ms per update | examples/s | "
             "time against no dropout | peak memory (MiB) |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for row in rows:
        generator = {"none": "", "keras": "Keras (auto_select)",
                     "philox": "Philox (Table 2)"}[row["variant"]]
        lines.append(f"| {row['model']} | {row['units']} | {row['rate']:g} | {generator} | "
                     f"{row['ms_per_update']:.1f} | {row['examples_per_second']:,.0f} | "
                     f"{row['slowdown']:.2f}× | {row['peak_rss_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, units, rate, generator, windows, steps = argv[1:]
        print(json.dumps(child(kind, int(units), float(rate), generator, int(windows),
                               int(steps))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["fast_weights"], choices=MODELS)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--window-steps", type=int, default=50)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks")
    args = parser.parse_args(argv)
    if not 0.0 < args.rate < 1.0:
        parser.error(f"argument --rate: must be in (0, 1) (got {args.rate})")
    for name in ("units", "windows", "window_steps"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be a positive integer")

    from fwlib.run.provenance import benchmark_info, write_benchmark  # noqa: PLC0415

    rows = []
    for kind in args.models:
        for variant, rate, generator in VARIANTS:
            rate = args.rate if rate is None else rate
            row = measure(kind, args.units, rate, generator, args.windows, args.window_steps)
            rows.append({"model": kind, "units": args.units, "variant": variant,
                         "rate": rate, **row})
            base = next(r for r in rows if r["model"] == kind and r["variant"] == "none")
            rows[-1]["slowdown"] = row["ms_per_update"] / base["ms_per_update"]
    info = benchmark_info(windows=args.windows, window_steps=args.window_steps)
    text = markdown(rows, info)
    write_benchmark(args.out, "dropout_speed", info, rows, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
