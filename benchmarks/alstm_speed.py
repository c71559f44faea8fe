"""Training speed of the A-LSTM's step, against the same step written with per-step slices,
side by side in one run, both reading the embedded sequence (as Table 1's runs did before the
token table, :mod:`fwlib.cores.tokens`; ``benchmarks/train_speed.py`` times that).

The A-LSTM (:class:`fwlib.cores.alstm.AssociativeLSTM`) computes every step's input part in
one time-major 2-D matrix product and takes each step's parts apart with ``unstack`` and
``split``. The sliced form below computes the same function the direct way: a batched product
``einsum("btd,dk->btk")``, then ``projected[:, t]`` and ``z[:, a:b]`` slices at each step,
and the real and imaginary parts sliced out of each complex product. Its outputs are checked
against the layer's (the same weights, to 1e-5) before it is timed, so the two rows time one
function.

For each R of ``--units`` and each form, in a fresh subprocess with one thread (as the
pipeline's workers train): Table 1's associative-retrieval model (K = 4, batch 128; the core
reading the embedded sequence) compiled
as ``fwlib.supervised.fit.compile_model`` compiles a run (Adam, XLA,
``steps_per_execution``); ``model.fit`` runs ``--windows`` timed windows of
``--window-steps`` updates after one untimed window (compilation included), on random
sequences (the speed does not depend on the symbols), and the median window gives the time
per update. The table also gives training examples per second, the speed-up of the layer over
the sliced form and the process's peak resident memory (``ru_maxrss``).

Writes ``alstm_speed.md`` and ``alstm_speed.json`` under ``--out`` and prints the table.

    python benchmarks/alstm_speed.py
    python benchmarks/alstm_speed.py --units 50 --windows 5
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
FORMS = ("sliced", "layer")
BATCH = 128


def sliced_call(layer, inputs):
    """The A-LSTM step of ``layer`` written with per-step slices (the function of
    :meth:`AssociativeLSTM.call`, computed the direct way)."""
    from keras import ops  # noqa: PLC0415

    from fwlib.cores.alstm import _bound  # noqa: PLC0415

    def complex_mul(a, b):
        a_re, a_im, b_re, b_im = a[..., 0, :], a[..., 1, :], b[..., 0, :], b[..., 1, :]
        return ops.stack([a_re * b_re - a_im * b_im, a_re * b_im + a_im * b_re], axis=-2)

    n, copies = layer.num_complex, layer.num_copies
    columns = layer._column_index()
    kernel = ops.take(layer.kernel, columns, axis=1)
    recurrent_kernel = ops.take(layer.recurrent_kernel, columns, axis=1)
    projected = ops.einsum("btd,dk->btk", inputs, kernel) + ops.take(layer.bias, columns)
    keys_end = 3 * n + 4 * n * copies
    h = cells = None
    outputs = []
    for t in range(inputs.shape[1]):
        z = projected[:, t, :]
        if h is not None:
            z = z + ops.matmul(h, recurrent_kernel)
        gates = ops.sigmoid(ops.reshape(z[:, :3 * n], (-1, 3, 1, n)))
        keys = _bound(ops.reshape(z[:, 3 * n:keys_end], (-1, copies, 2, 2, n)))
        u = _bound(ops.reshape(z[:, keys_end:], (-1, 1, 2, n)))
        written = complex_mul(keys[:, :, 0], gates[:, None, 1] * u)
        cells = written if cells is None else gates[:, None, 0] * cells + written
        read = _bound(ops.mean(complex_mul(keys[:, :, 1], cells), axis=1))
        h = ops.reshape(gates[:, 2] * read, (-1, 2 * n))
        outputs.append(h)
    return ops.stack(outputs, axis=1) if layer.return_sequences else h


def _config(units: int, window_steps: int):
    from fwlib.cores import CoreSpec  # noqa: PLC0415
    from fwlib.run.config import Budget, OptimSpec, RunConfig  # noqa: PLC0415
    from fwlib.tasks.associative import AssociativeTask  # noqa: PLC0415

    return RunConfig(task=AssociativeTask(num_pairs=4), model=CoreSpec("alstm", units),
                     optim=OptimSpec(learning_rate=0.003, batch_size=BATCH),
                     budget=Budget(eval_every=window_steps,
                                   steps_per_execution=window_steps)).validate()


def check_same_function(units: int) -> float:
    """The largest difference between the layer's outputs and the sliced form's, for random
    inputs and the layer's initial weights with larger biases (so that bound() acts)."""
    import numpy as np  # noqa: PLC0415
    from keras import ops  # noqa: PLC0415

    from fwlib.cores.alstm import AssociativeLSTM  # noqa: PLC0415

    x = np.random.default_rng(0).normal(size=(4, 11, 16)).astype("float32")
    layer = AssociativeLSTM(units, return_sequences=True)
    layer.build(x.shape)
    layer.bias.assign(np.random.default_rng(1).normal(scale=2.0, size=layer.bias.shape))
    return float(np.max(np.abs(ops.convert_to_numpy(layer(x))
                               - ops.convert_to_numpy(sliced_call(layer, x)))))


def child(form: str, units: int, windows: int, window_steps: int) -> dict:
    """One configuration, timed in this process (one thread)."""
    import resource  # noqa: PLC0415

    from fwlib.run.execute import configure_threads  # noqa: PLC0415

    configure_threads()
    import numpy as np  # noqa: PLC0415

    from fwlib.cores.alstm import AssociativeLSTM  # noqa: PLC0415
    from fwlib.run.seeding import seed_everything  # noqa: PLC0415
    from fwlib.supervised.fit import compile_model  # noqa: PLC0415
    from fwlib.tasks.associative.model import build_classifier  # noqa: PLC0415

    difference = check_same_function(units)
    if difference > 1e-5:
        raise RuntimeError(f"the sliced form differs from the layer by {difference:g}")
    if form == "sliced":
        AssociativeLSTM.call = sliced_call
    config = _config(units, window_steps)
    seed_everything(0)
    model = compile_model(build_classifier(config.model, 4, token_table=False), config)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 37, (BATCH * window_steps, 11)).astype(np.int32)
    y = rng.integers(0, 37, BATCH * window_steps).astype(np.int32)
    seconds = []
    for _ in range(windows + 1):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        seconds.append(time.perf_counter() - start)
    per_update = statistics.median(seconds[1:]) / window_steps
    return {"ms_per_update": 1000 * per_update, "examples_per_second": BATCH / per_update,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "max_output_difference": difference}


def measure(form: str, units: int, windows: int, window_steps: int) -> dict:
    command = [sys.executable, __file__, "--child", form, str(units), str(windows),
               str(window_steps)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                               "PYTHONPATH": str(REPO_ROOT)})
    if done.returncode:
        raise RuntimeError(f"A-LSTM {form} R={units} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict], info: dict) -> str:
    lines = [f"Table 1's A-LSTM (K = 4, batch {BATCH}), one thread per configuration, median of "
             f"{info['windows']} windows of {info['window_steps']} updates; {info['device']}; "
             f"Keras backend {info['backend']}; code {info['code_version']}.", "",
             "| R | form | ms per update | examples/s | speed-up over sliced | "
             "largest output difference | peak memory (MiB) |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        form = {"sliced": "per-step slices", "layer": "the layer (Table 1)"}[row["form"]]
        lines.append(f"| {row['units']} | {form} | {row['ms_per_update']:.2f} | "
                     f"{row['examples_per_second']:,.0f} | {row['speedup']:.2f}× | "
                     f"{row['max_output_difference']:.1e} | {row['peak_rss_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        form, units, windows, steps = argv[1:]
        print(json.dumps(child(form, int(units), int(windows), int(steps))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window-steps", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmarks")
    args = parser.parse_args(argv)
    if any(units < 2 or units % 2 for units in args.units):
        parser.error(f"argument --units: each must be a positive even integer "
                     f"(got {args.units})")
    for name in ("windows", "window_steps"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be a positive integer")

    from fwlib.run.provenance import benchmark_info, write_benchmark  # noqa: PLC0415

    rows = []
    for units in args.units:
        for form in FORMS:
            row = measure(form, units, args.windows, args.window_steps)
            rows.append({"units": units, "form": form, **row})
            base = next(r for r in rows if r["units"] == units and r["form"] == "sliced")
            rows[-1]["speedup"] = base["ms_per_update"] / row["ms_per_update"]
    info = benchmark_info(windows=args.windows, window_steps=args.window_steps)
    text = markdown(rows, info)
    write_benchmark(args.out, "alstm_speed", info, rows, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
