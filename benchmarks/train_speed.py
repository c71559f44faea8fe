"""Training speed of the paper's models on this machine, in one run.

For each configuration, in a fresh subprocess of its own:

- training examples per second: real Keras training steps (the model compiled as
  ``fwlib.supervised.fit.build_compiled_model`` compiles it: Adam, XLA,
  ``steps_per_execution``), batch 128, sequences of 11 symbols (K = 4 pairs); ``model.fit``
  runs timed windows of
  ``--window-steps`` updates, the first ``--warmup`` windows (compilation included) are
  discarded, and the median over the other windows is reported with its range;
- peak resident memory of that process (``ru_maxrss``) and, on a GPU, the device's peak;
- FLOPs per training example counted from the shapes (:func:`flops_per_example`) and the
  achieved GFLOP/s, beside the rate of a plain float32 matrix multiply measured in the same run.

Configurations: fast weights in the attention form and with the explicit matrix A, the
attention form without XLA, RNN+LN, IRNN, LSTM and A-LSTM, at each R of ``--units``; and the
attention form fed by the training input pipeline (``tf.data`` gathering batches from the
training arrays under TensorFlow, a generator of NumPy batches under JAX, as
``fwlib.supervised.fit`` does) instead of one resident batch; and fast weights, the IRNN, the
LSTM and the A-LSTM with the core reading the embedded sequence rather than the embedding's
token table (:mod:`fwlib.cores.tokens`), the same function computed the longer way.
``--backends tensorflow jax``
measures every configuration under each Keras backend (``KERAS_BACKEND`` of the subprocess)
and puts them side by side. ``--repeats N`` measures every configuration N times, in N rounds
over all of them, so that a slow spell of a shared machine does not fall on one configuration
alone: the table gives the median of the N rounds' medians (and the range over every timed
window), each ratio is computed from those medians, and the rounds' own ratios are listed
beside it. ``--time-to-accuracy`` also trains fast weights R = 50 with
``fwlib.supervised.fit.train`` until 1 % validation error, under the first backend.

Writes ``train_speed.csv``, ``train_speed.md`` and ``train_speed.json`` (environment, matrix
multiply rate, ratios, time to accuracy) under ``--out`` and prints the Markdown table.

    python benchmarks/train_speed.py                 # the full measurement
    python benchmarks/train_speed.py --quick         # R = 20, a few short windows: a check
    python benchmarks/train_speed.py --backends tensorflow jax --models fast_weights --units 50
    python benchmarks/train_speed.py --backends tensorflow jax --models fast_weights \
        --units 50 --repeats 3                      # three interleaved rounds
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 128
NUM_PAIRS = 4
SEQ_LEN = 2 * NUM_PAIRS + 3
MATMUL_SIZE = 512
PIPELINE_UNITS = 50  # R of the input-pipeline comparison (the first --units when 50 is absent)
TARGET_ERROR = 0.01
BACKENDS = ("tensorflow", "jax")

# name -> (model kind, implementation, XLA, input, label)
CONFIGURATIONS = {
    "fast_weights": ("fast_weights", "attention", True, "resident", "fast weights (attention)"),
    "fast_weights_matrix": ("fast_weights", "matrix", True, "resident",
                            "fast weights (matrix A)"),
    "fast_weights_no_xla": ("fast_weights", "attention", False, "resident",
                            "fast weights (attention, no XLA)"),
    "fast_weights_pipeline": ("fast_weights", "attention", True, "pipeline",
                              "fast weights (attention, input pipeline)"),
    "rnn_ln": ("rnn_ln", "attention", True, "resident", "RNN+LN"),
    "irnn": ("irnn", "attention", True, "resident", "IRNN"),
    "lstm": ("lstm", "attention", True, "resident", "LSTM"),
    "alstm": ("alstm", "attention", True, "resident", "A-LSTM"),
    # The same models with the core reading the embedded sequence, as they did before the
    # token table (``build_classifier(token_table=False)``): same function, more work.
    "fast_weights_embedded": ("fast_weights", "attention", True, "embedded",
                              "fast weights (attention, embedded sequence)"),
    "irnn_embedded": ("irnn", "attention", True, "embedded", "IRNN (embedded sequence)"),
    "lstm_embedded": ("lstm", "attention", True, "embedded", "LSTM (embedded sequence)"),
    "alstm_embedded": ("alstm", "attention", True, "embedded", "A-LSTM (embedded sequence)"),
}
FULL = {"units": [20, 50, 100], "windows": 7, "warmup": 2, "window_steps": 200}
QUICK = {"units": [20], "windows": 3, "warmup": 1, "window_steps": 50}
CSV_COLUMNS = (
    "backend", "name", "label", "model", "implementation", "xla", "input", "hidden_units",
    "batch_size", "seq_len", "status", "examples_per_s", "examples_per_s_min", "examples_per_s_max",
    "windows", "warmup_windows", "window_steps", "steps_per_execution", "first_window_s",
    "params", "train_flops_per_example", "achieved_gflops", "matmul_fraction", "peak_rss_mib",
    "rss_after_import_mib", "device_peak_mib", "repeats", "examples_per_s_by_repeat", "note",
)


def flops_per_example(kind: str, hidden_units: int, implementation: str = "attention",
                      seq_len: int = SEQ_LEN, embedding_dim: int = 100,
                      decoder_units: int = 100, vocab: int = 37, *, inner_steps: int = 1,
                      num_copies: int = 4, training: bool = True,
                      batch_size: int = BATCH_SIZE, token_table: bool = True) -> float:
    """FLOPs of one example, in a batch of ``batch_size``, through the associative classifier
    with core ``kind`` at R = ``hidden_units``: the core's multiply-adds
    (:func:`fwlib.cores.flops.core_multiply_adds`, which states the counting rule; the core
    reads the tokens through the embedding's table, computed once per batch, or with
    ``token_table=False`` the embedded sequence) plus the
    decoder's and the logits', 2 FLOPs each; the embedding is a lookup (0). A training step
    costs 3 × the forward pass; ``training=False`` gives the forward pass."""
    from fwlib.cores import CoreSpec  # noqa: PLC0415
    from fwlib.cores.flops import core_multiply_adds  # noqa: PLC0415

    spec = CoreSpec(kind=kind, hidden_units=hidden_units, implementation=implementation,
                    inner_steps=inner_steps, num_copies=num_copies)
    head = hidden_units * decoder_units + decoder_units * vocab
    forward = 2 * (core_multiply_adds(spec, seq_len, embedding_dim,
                                      table_rows=vocab if token_table else None,
                                      batch_size=batch_size) + head)
    return 3 * forward if training else forward


# ---------------------------------------------------------------- measurements (subprocess)

def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def device_peak_mib() -> float | None:
    """Peak memory the backend allocated on the first GPU, in MiB; None without a GPU."""
    import keras  # noqa: PLC0415

    if keras.backend.backend() == "jax":
        import jax  # noqa: PLC0415

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return gpus[0].memory_stats()["peak_bytes_in_use"] / 2**20 if gpus else None
    import tensorflow as tf  # noqa: PLC0415

    if not tf.config.list_physical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


def _window_timer():
    import keras  # noqa: PLC0415

    class WindowTimer(keras.callbacks.Callback):
        """Seconds of each epoch (one timed window); Keras has synced the logs by epoch end."""

        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # the window ends when its last update has finished
            self.seconds.append(time.perf_counter() - self.started)

    return WindowTimer()


def input_batches(input_kind: str, total_steps: int):
    """Batches of (tokens, answer): one resident batch repeated, or the training pipeline of
    ``fwlib.supervised.fit.train`` (a batch-order array gathered from the training split)."""
    import keras  # noqa: PLC0415

    from fwlib.run.config import Budget  # noqa: PLC0415
    from fwlib.supervised.fit import batch_order, training_dataset  # noqa: PLC0415
    from fwlib.tasks.associative import data as associative  # noqa: PLC0415

    if input_kind in ("resident", "embedded"):
        x, y = associative.generate(BATCH_SIZE, NUM_PAIRS, seed=0)
        if keras.backend.backend() != "tensorflow":
            return ((x, y) for _ in itertools.count())  # Keras reads a generator
        import tensorflow as tf  # noqa: PLC0415

        return tf.data.Dataset.from_tensors((x, y)).repeat()
    x_train, y_train = associative.load_splits(NUM_PAIRS, 0)["train"]
    order = batch_order(len(y_train), BATCH_SIZE, total_steps, seed=0)
    block = math.gcd(Budget().steps_per_execution, total_steps)
    return training_dataset(x_train, y_train, order, block=block)


def measure_training(spec: dict) -> dict:
    """Examples/s of real training steps for one configuration, and this process's memory."""
    import keras  # noqa: PLC0415

    from fwlib.supervised.fit import build_compiled_model, compile_model  # noqa: PLC0415
    from fwlib.tasks.associative.model import build_classifier  # noqa: PLC0415

    rss_after_import = peak_rss_mib()
    kind, implementation, xla, input_kind, _ = CONFIGURATIONS[spec["name"]]
    windows, warmup, window_steps = spec["windows"], spec["warmup"], spec["window_steps"]
    total = windows + warmup
    config = associative_config(kind, spec["units"], implementation=implementation,
                                eval_every=window_steps, max_steps=total * window_steps)
    keras.utils.set_random_seed(0)
    if input_kind == "embedded":
        model = compile_model(build_classifier(config.model, NUM_PAIRS, token_table=False),
                              config)
    else:
        model = build_compiled_model(config)
    if not xla:
        model.jit_compile = False
    timer = _window_timer()
    model.fit(input_batches(input_kind, total * window_steps), epochs=total,
              steps_per_epoch=window_steps, callbacks=[timer], shuffle=False, verbose=0)
    rates = [window_steps * BATCH_SIZE / s for s in timer.seconds[warmup:]]
    return {
        "examples_per_s": statistics.median(rates), "examples_per_s_min": min(rates),
        "examples_per_s_max": max(rates), "first_window_s": timer.seconds[0],
        "xla": bool(model.jit_compile), "steps_per_execution": int(model.steps_per_execution),
        "params": int(model.count_params()), "peak_rss_mib": peak_rss_mib(),
        "rss_after_import_mib": rss_after_import,
        "device_peak_mib": device_peak_mib(),
    }


def measure_matmul(spec: dict) -> dict:
    """GFLOP/s of a float32 ``size``×``size`` matrix multiply under XLA (median of 5 trials),
    through the Keras backend of this process, and the environment (code version, device,
    packages)."""
    import keras  # noqa: PLC0415

    from fwlib.run.provenance import environment  # noqa: PLC0415

    size, chain = spec["size"], 16
    chained, a, b = (_jax_chain if keras.backend.backend() == "jax"
                     else _tensorflow_chain)(size, chain)

    def timed(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            out = chained(a, b)
        float(out[0, 0])  # the calls end when their last product is read back
        return time.perf_counter() - start

    timed(2)
    calls = 1
    while timed(calls) < 0.2:
        calls *= 2
    rates = [2 * size**3 * chain * calls / timed(calls) / 1e9 for _ in range(5)]
    return {"matmul_size": size, "matmul_gflops": statistics.median(rates),
            "matmul_backend": keras.backend.backend(), "environment": environment()}


def _tensorflow_chain(size: int, chain: int):
    """``chain`` dependent products (so that one call is long enough to time), compiled."""
    import tensorflow as tf  # noqa: PLC0415

    a = tf.random.normal((size, size), seed=0) / size**0.5
    b = tf.random.normal((size, size), seed=1)

    @tf.function(jit_compile=True)
    def chained(a, b):
        for _ in range(chain):
            b = tf.matmul(a, b)
        return b

    return chained, a, b


def _jax_chain(size: int, chain: int):
    import jax  # noqa: PLC0415

    a = jax.random.normal(jax.random.key(0), (size, size)) / size**0.5
    b = jax.random.normal(jax.random.key(1), (size, size))

    @jax.jit
    def chained(a, b):
        for _ in range(chain):
            b = a @ b
        return b

    return chained, a, b


def time_to_accuracy(config) -> dict:
    """Train ``config`` with ``fwlib.supervised.fit.train`` in a temporary folder; the wall-clock
    (``history.csv``'s ``wall_seconds``: training and evaluations) and updates until the
    validation error first reaches ``config.target_error``."""
    from fwlib.supervised.fit import train  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / config.run_name()
        start = time.perf_counter()
        metrics = train(config, run_dir, progress=False)
        total_s = time.perf_counter() - start
        with open(run_dir / "history.csv", newline="") as f:
            history = list(csv.DictReader(f))
    target = config.budget.target_error
    reached = [row for row in history if float(row["valid_error"]) <= target]
    return {
        "model": config.model.kind, "hidden_units": config.model.hidden_units,
        "target_error": target, "reached": bool(reached),
        "steps_to_target": int(reached[0]["step"]) if reached else None,
        "wall_s_to_target": float(reached[0]["wall_seconds"]) if reached else None,
        "best_valid_error": metrics["valid_error"], "test_error": metrics["test_error"],
        "steps": metrics["steps"], "stopped": metrics["stopped"], "total_wall_s": total_s,
        "backend": metrics["backend"],
        "peak_rss_mib": peak_rss_mib(),
    }


def associative_config(kind: str, units: int, *, implementation: str = "attention",
                       learning_rate: float = 1e-3, eval_every: int = 500,
                       max_steps: int = 20_000, target_error: float = 0.0):
    """A validated associative-retrieval run config for the measurements."""
    from fwlib.cores import CoreSpec  # noqa: PLC0415
    from fwlib.run.config import Budget, OptimSpec, RunConfig  # noqa: PLC0415
    from fwlib.tasks.associative import AssociativeTask  # noqa: PLC0415

    return RunConfig(task=AssociativeTask(num_pairs=NUM_PAIRS),
                     model=CoreSpec(kind, units, implementation=implementation),
                     optim=OptimSpec(learning_rate=learning_rate, batch_size=BATCH_SIZE),
                     budget=Budget(max_steps=max_steps, eval_every=eval_every,
                                   target_error=target_error)).validate()


def measure_time_to_accuracy(spec: dict) -> dict:
    # The learning rate of the default profile, chosen on the validation split.
    return time_to_accuracy(associative_config("fast_weights", 50, learning_rate=3e-3,
                                               target_error=TARGET_ERROR, eval_every=500,
                                               max_steps=40_000))


WORKERS = {"train": measure_training, "matmul": measure_matmul,
           "time_to_accuracy": measure_time_to_accuracy}


def run_worker(spec: dict) -> dict:
    """Run one measurement in a fresh Python process, under the Keras backend
    ``spec["backend"]`` (TensorFlow by default); its result, or {"error": ...}."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
           "KERAS_BACKEND": spec.get("backend", "tensorflow")}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                           json.dumps(spec)], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    lines = (done.stderr or done.stdout).strip().splitlines()
    return {"error": lines[-1] if lines else f"exit status {done.returncode}"}


# ---------------------------------------------------------------- the report

def plan(models: list[str], units: list[int]) -> list[tuple[str, int]]:
    """(configuration, R) pairs in table order; the pipeline one at one R only."""
    pipeline_units = PIPELINE_UNITS if PIPELINE_UNITS in units else units[0]
    return [(name, r) for name in models for r in units
            if name != "fast_weights_pipeline" or r == pipeline_units]


def make_row(name: str, units: int, result: dict, settings: dict, matmul_gflops: float,
             backend: str = "tensorflow") -> dict:
    """One CSV row from a measurement (or a skip/failure note)."""
    kind, implementation, xla, input_kind, label = CONFIGURATIONS[name]
    flops = flops_per_example(kind, units, implementation,
                              token_table=input_kind != "embedded")
    row = {c: "" for c in CSV_COLUMNS}
    row.update(backend=backend, name=name, label=label, model=kind,
               implementation=implementation, xla=xla, input=input_kind, hidden_units=units,
               batch_size=BATCH_SIZE, seq_len=SEQ_LEN,
               windows=settings["windows"], warmup_windows=settings["warmup"],
               window_steps=settings["window_steps"], train_flops_per_example=flops)
    if "skipped" in result or "error" in result:
        status = "skipped" if "skipped" in result else "failed"
        row.update(status=status, note=result.get("skipped") or result["error"])
        return row
    row.update({k: v for k, v in result.items() if k in row and v is not None}, status="ok")
    _set_gflops(row, matmul_gflops)
    if result["xla"] != xla:
        row["note"] = "Keras turned XLA off for this model"
    return row


def _set_gflops(row: dict, matmul_gflops: float) -> None:
    """The row's achieved GFLOP/s, from its FLOPs per example and examples per second, and
    that rate as a fraction of the matrix multiply's."""
    row["achieved_gflops"] = row["train_flops_per_example"] * row["examples_per_s"] / 1e9
    row["matmul_fraction"] = row["achieved_gflops"] / matmul_gflops


def combine_repeats(rounds: list[list[dict]], matmul_gflops: float) -> list[dict]:
    """One row per configuration from several rounds of the same plan: the median of the
    rounds' medians, the range over all their windows, the largest peak memory, and each
    round's median in ``examples_per_s_by_repeat``. A configuration that failed or was
    skipped in any round keeps that round's row."""
    rows = []
    for measured in zip(*rounds, strict=True):
        bad = [r for r in measured if r["status"] != "ok"]
        if bad:
            rows.append(bad[0])
            continue
        rates = [r["examples_per_s"] for r in measured]
        row = dict(measured[0])
        row.update(examples_per_s=statistics.median(rates),
                   examples_per_s_min=min(r["examples_per_s_min"] for r in measured),
                   examples_per_s_max=max(r["examples_per_s_max"] for r in measured),
                   peak_rss_mib=max(r["peak_rss_mib"] for r in measured),
                   repeats=len(measured),
                   examples_per_s_by_repeat="; ".join(f"{rate:.0f}" for rate in rates))
        _set_gflops(row, matmul_gflops)
        rows.append(row)
    return rows


def ratios(rows: list[dict]) -> dict[str, float]:
    """The comparisons under the table, for every R (and backend) where both sides were
    measured; with two backends, JAX's rate over TensorFlow's for each configuration too."""
    rate = {(r["backend"], r["name"], r["hidden_units"]): r["examples_per_s"] for r in rows
            if r["status"] == "ok"}
    units = sorted({r["hidden_units"] for r in rows})
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    pairs = [("fast_weights", "fast_weights_matrix", "attention / matrix A"),
             ("fast_weights", "lstm", "fast weights (attention) / LSTM"),
             ("fast_weights", "fast_weights_no_xla", "XLA / no XLA (fast weights, attention)"),
             ("fast_weights_pipeline", "fast_weights",
              "input pipeline / resident batch (fast weights, attention)")]
    pairs += [(name, f"{name}_embedded", f"token table / embedded sequence ({label})")
              for name, label in (("fast_weights", "fast weights"), ("irnn", "IRNN"),
                                  ("lstm", "LSTM"), ("alstm", "A-LSTM"))]
    found = {}
    for backend, (a, b, text), r in itertools.product(backends, pairs, units):
        if (backend, a, r) in rate and (backend, b, r) in rate:
            prefix = f"{backend}: " if len(backends) > 1 else ""
            found[f"{prefix}{text}, R = {r}"] = rate[(backend, a, r)] / rate[(backend, b, r)]
    for name, r in dict.fromkeys((row["name"], row["hidden_units"]) for row in rows):
        if ("jax", name, r) in rate and ("tensorflow", name, r) in rate:
            found[f"JAX / TensorFlow, {CONFIGURATIONS[name][4]}, R = {r}"] = (
                rate[("jax", name, r)] / rate[("tensorflow", name, r)])
    return found


def _fmt(value, digits: int = 0) -> str:
    if value in ("", None):
        return "–"
    return f"{value:,.{digits}f}"


def markdown(rows: list[dict], info: dict) -> str:
    """The table, the machine's matrix-multiply rate, the ratios and time to accuracy."""
    repeats = info.get("repeats", 1)
    lines = [
        f"Training speed, batch {BATCH_SIZE}, sequence length {SEQ_LEN}; median examples/s "
        f"over {info['settings']['windows']} windows of {info['settings']['window_steps']} "
        f"updates after {info['settings']['warmup']} warm-up window(s)"
        + (f"; each configuration measured {repeats} times, in {repeats} rounds over all of "
           f"them: the median of the rounds' medians, the range over every window"
           if repeats > 1 else "")
        + (" (quick check, not a measurement)" if info["quick"] else "") + ".",
        f"Device: {info['environment']['device']}; code {info['environment']['code_version']}.",
        f"Matrix multiply ({MATMUL_SIZE}×{MATMUL_SIZE} float32, XLA, "
        f"{info.get('matmul_backend', 'tensorflow')}): "
        f"{info['matmul_gflops']:,.1f} GFLOP/s.",
        "",
        "| configuration | backend | R | examples/s | min – max | MFLOP/example | GFLOP/s "
        "| % of matmul | peak RSS MiB | params |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['label']} | {r['backend']} | {r['hidden_units']} "
                         f"| {r['status']}: {r['note']} | | | | | | |")
            continue
        lines.append(
            f"| {r['label']} | {r['backend']} | {r['hidden_units']} "
            f"| {_fmt(r['examples_per_s'])} "
            f"| {_fmt(r['examples_per_s_min'])} – {_fmt(r['examples_per_s_max'])} "
            f"| {r['train_flops_per_example'] / 1e6:.3f} | {_fmt(r['achieved_gflops'], 2)} "
            f"| {100 * r['matmul_fraction']:.1f} | {_fmt(r['peak_rss_mib'])} "
            f"| {r['params']:,} |")
    lines += ["", "MFLOP/example: one training step (3 × forward), counted from the shapes "
              "(`flops_per_example`). Peak RSS: the whole process, the backend included "
              f"(about {_fmt(info['rss_after_import_mib'])} MiB after import). The matrix "
              "multiply is measured under the first backend measured.", ""]
    by_round = info.get("ratios_by_repeat") or []
    for text, value in info["ratios"].items():
        each = [f"{r[text]:.2f}" for r in by_round if text in r]
        lines.append(f"- {text}: {value:.2f}"
                     + (f" (rounds: {', '.join(each)})" if len(each) > 1 else ""))
    tta = info.get("time_to_accuracy")
    if tta and "error" in tta:
        lines += ["", f"Time to accuracy: failed ({tta['error']})."]
    elif tta and tta["reached"]:
        lines += ["", f"Time to ≤ {tta['target_error']:.0%} validation error, fast weights "
                  f"R = {tta['hidden_units']} ({tta['backend']}): "
                  f"{tta['wall_s_to_target']:,.0f} s "
                  f"({tta['steps_to_target']:,} updates; training and evaluations)."]
    elif tta:
        lines += ["", f"Time to accuracy: {tta['target_error']:.0%} validation error not "
                  f"reached in {tta['steps']:,} updates (best {tta['best_valid_error']:.2%}, "
                  f"stopped: {tta['stopped']})."]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


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
    """Options, checked before any work; defaults come from FULL or, with --quick, QUICK."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a quick check: R = {QUICK['units']}, {QUICK['windows']} windows "
                             f"of {QUICK['window_steps']} updates")
    parser.add_argument("--units", type=_positive_int, nargs="+",
                        help=f"hidden units R (default {FULL['units']})")
    parser.add_argument("--models", nargs="+", choices=list(CONFIGURATIONS),
                        default=list(CONFIGURATIONS), metavar="NAME",
                        help=f"configurations, from: {', '.join(CONFIGURATIONS)} (default all)")
    parser.add_argument("--windows", type=_positive_int,
                        help=f"timed windows per configuration (default {FULL['windows']})")
    parser.add_argument("--warmup", type=_positive_int,
                        help=f"discarded windows, compilation included (default {FULL['warmup']})")
    parser.add_argument("--window-steps", type=_positive_int,
                        help=f"updates per window (default {FULL['window_steps']}); a multiple "
                             "of 50 keeps steps_per_execution = 50, as in training")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=["tensorflow"],
                        metavar="NAME",
                        help="Keras backends to measure each configuration under, side by side, "
                             f"from: {', '.join(BACKENDS)} (default tensorflow)")
    parser.add_argument("--repeats", type=_positive_int, default=1,
                        help="rounds over every configuration; the table gives the median of "
                             "the rounds (default 1)")
    parser.add_argument("--time-to-accuracy", action=argparse.BooleanOptionalAction,
                        help="also train fast weights R = 50 to 1 %% validation error "
                             "(default: on, off with --quick)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks",
                        help="output folder (default results/benchmarks)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is None:
        if "alstm" in args.models and any(r % 2 for r in args.units or FULL["units"]):
            parser.error("argument --units: A-LSTM needs even R (or leave alstm out of --models)")
        if args.out.exists() and not args.out.is_dir():
            parser.error(f"argument --out: {args.out} exists and is not a folder")
        if "jax" in args.backends and importlib.util.find_spec("jax") is None:
            parser.error("argument --backends: jax is not installed (pip install 'jax[cpu]')")
    defaults = QUICK if args.quick else FULL
    for name in ("units", "windows", "warmup", "window_steps"):
        if getattr(args, name) is None:
            setattr(args, name, defaults[name])
    if args.time_to_accuracy is None:
        args.time_to_accuracy = not args.quick
    args.models = list(dict.fromkeys(args.models))
    args.units = list(dict.fromkeys(args.units))
    args.backends = list(dict.fromkeys(args.backends))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        spec = json.loads(args.worker)
        print("RESULT " + json.dumps(WORKERS[spec["task"]](spec)), flush=True)
        return 0

    settings = {"windows": args.windows, "warmup": args.warmup,
                "window_steps": args.window_steps}
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    log(f"matrix multiply {MATMUL_SIZE}×{MATMUL_SIZE} {args.backends[0]} ...")
    matmul = run_worker({"task": "matmul", "size": MATMUL_SIZE, "backend": args.backends[0]})
    if "error" in matmul:
        raise SystemExit(f"the matrix-multiply measurement failed: {matmul['error']}")
    alstm_missing = importlib.util.find_spec("fwlib.cores.alstm") is None
    rounds = []
    for round_index in range(args.repeats):
        rows = []
        for (name, units), backend in itertools.product(plan(args.models, args.units),
                                                        args.backends):
            log(f"{name} R={units} {backend}"
                + (f" (round {round_index + 1}/{args.repeats})" if args.repeats > 1 else "")
                + " ...")
            if name == "alstm" and alstm_missing:
                result = {"skipped": "fwlib/cores/alstm.py is not there"}
            elif name == "fast_weights_no_xla" and backend == "jax":
                result = {"skipped": "JAX compiles every training step with XLA"}
            else:
                result = run_worker({"task": "train", "name": name, "units": units,
                                     "backend": backend, **settings})
            rows.append(make_row(name, units, result, settings, matmul["matmul_gflops"],
                                 backend))
        rounds.append(rows)
    rows = combine_repeats(rounds, matmul["matmul_gflops"]) if args.repeats > 1 else rounds[0]
    tta = None
    if args.time_to_accuracy:
        log(f"time to {TARGET_ERROR:.0%} validation error, fast weights R=50 "
            f"{args.backends[0]} ...")
        tta = run_worker({"task": "time_to_accuracy", "backend": args.backends[0]})

    ok = [r for r in rows if r["status"] == "ok"]
    info = {"quick": args.quick, "settings": settings, "backends": args.backends,
            "batch_size": BATCH_SIZE,
            "seq_len": SEQ_LEN, "matmul_size": MATMUL_SIZE,
            "matmul_gflops": matmul["matmul_gflops"],
            "matmul_backend": matmul["matmul_backend"], "environment": matmul["environment"],
            "rss_after_import_mib": min((r["rss_after_import_mib"] for r in ok), default=""),
            "ratios": ratios(rows), "repeats": args.repeats,
            "ratios_by_repeat": [ratios(r) for r in rounds] if args.repeats > 1 else [],
            "time_to_accuracy": tta,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    table = markdown(rows, info)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "train_speed.csv", rows)
    (args.out / "train_speed.md").write_text(table)
    (args.out / "train_speed.json").write_text(json.dumps(info, indent=2) + "\n")
    print(table)
    return 0 if len(ok) == len([r for r in rows if r["status"] != "skipped"]) else 1


if __name__ == "__main__":
    sys.exit(main())
