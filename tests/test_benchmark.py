import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "train_speed.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_script()


# Keras's own LSTM and SimpleRNN (the IRNN and LSTM on the embedded sequence) run their steps
# in a while loop, whose products the traced graph does not list.
@pytest.mark.parametrize("kind, implementation, token_table", [
    ("rnn_ln", "attention", True), ("fast_weights", "attention", True),
    ("fast_weights", "matrix", True), ("irnn", "attention", True), ("lstm", "attention", True),
    ("rnn_ln", "attention", False), ("fast_weights", "attention", False),
    ("fast_weights", "matrix", False)])
def test_flops_of_the_whole_classifier_match_its_traced_graph(kind, implementation,
                                                              token_table):
    import tensorflow as tf

    from fwlib.cores import CoreSpec
    from fwlib.cores.flops import traced_multiply_adds
    from fwlib.tasks.associative.model import build_classifier

    model = build_classifier(CoreSpec(kind, 20, implementation=implementation),
                             token_table=token_table)
    traced = traced_multiply_adds(lambda x: model(x), tf.TensorSpec((1, 11), tf.int32))
    settings = dict(batch_size=1, token_table=token_table)
    assert bench.flops_per_example(kind, 20, implementation, training=False,
                                   **settings) == 2 * traced
    assert bench.flops_per_example(kind, 20, implementation, **settings) == 6 * traced


def test_flops_reject_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        bench.flops_per_example("gru", 20)


@pytest.mark.parametrize("argv, option", [
    (["--units", "0"], "--units"), (["--models", "gru"], "--models"),
    (["--windows", "x"], "--windows"), (["--units", "21"], "--units"),
    (["--backends", "torch"], "--backends"), (["--repeats", "0"], "--repeats"),
])
def test_bad_arguments_name_the_option(capsys, argv, option):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert option in capsys.readouterr().err


def test_two_backends_are_measured_side_by_side_and_compared():
    args = bench.parse_args(["--backends", "tensorflow", "jax", "--models", "fast_weights"])
    assert args.backends == ["tensorflow", "jax"]
    settings = {"windows": 3, "warmup": 1, "window_steps": 50}
    rows = [bench.make_row("fast_weights", 50, {"examples_per_s": rate, "xla": True}, settings,
                           10.0, backend)
            for backend, rate in (("tensorflow", 1000.0), ("jax", 800.0))]
    assert [r["backend"] for r in rows] == ["tensorflow", "jax"]
    assert bench.ratios(rows) == {"JAX / TensorFlow, fast weights (attention), R = 50": 0.8}


def test_repeated_rounds_give_the_median_and_each_round_s_ratio():
    settings = {"windows": 3, "warmup": 1, "window_steps": 50}

    def measured(tf_rate, jax_rate):
        return [bench.make_row("fast_weights", 50,
                               {"examples_per_s": rate, "examples_per_s_min": rate - 100,
                                "examples_per_s_max": rate + 100, "peak_rss_mib": rate / 10,
                                "params": 20187, "xla": True}, settings, 10.0, backend)
                for backend, rate in (("tensorflow", tf_rate), ("jax", jax_rate))]

    rounds = [measured(1000.0, 500.0), measured(1200.0, 1300.0), measured(1100.0, 1000.0)]
    rows = bench.combine_repeats(rounds, 10.0)
    tf, jax = rows
    assert (tf["examples_per_s"], jax["examples_per_s"]) == (1100.0, 1000.0)
    assert (jax["examples_per_s_min"], jax["examples_per_s_max"]) == (400.0, 1400.0)
    assert jax["peak_rss_mib"] == 130.0 and jax["repeats"] == 3
    assert jax["examples_per_s_by_repeat"] == "500; 1300; 1000"
    assert jax["achieved_gflops"] == pytest.approx(jax["train_flops_per_example"] * 1000 / 1e9)
    text = "JAX / TensorFlow, fast weights (attention), R = 50"
    info = {"quick": False, "settings": settings, "repeats": 3,
            "environment": {"device": "cpu", "code_version": "abc"}, "matmul_gflops": 10.0,
            "rss_after_import_mib": 1.0, "ratios": bench.ratios(rows),
            "ratios_by_repeat": [bench.ratios(r) for r in rounds]}
    table = bench.markdown(rows, info)
    assert f"- {text}: 0.91 (rounds: 0.50, 1.08, 0.91)" in table
    assert "measured 3 times, in 3 rounds" in table
    failed = measured(1000.0, 900.0)
    failed[1] = bench.make_row("fast_weights", 50, {"error": "out of memory"}, settings, 10.0,
                               "jax")
    assert bench.combine_repeats([rounds[0], failed], 10.0)[1]["status"] == "failed"


def test_time_to_accuracy_reads_the_history():
    from dataclasses import replace

    config = bench.associative_config("fast_weights", 8, eval_every=50, max_steps=100,
                                      target_error=0.95)
    config = replace(config, optim=replace(config.optim, batch_size=64),
                     budget=replace(config.budget, steps_per_execution=25))
    result = bench.time_to_accuracy(config)
    assert result["reached"] and result["steps_to_target"] == 50
    assert 0 < result["wall_s_to_target"] <= result["total_wall_s"]


def test_quick_run_writes_a_table(tmp_path):
    out = tmp_path / "bench"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--models", "fast_weights",
                           "irnn", "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "train_speed.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == bench.CSV_COLUMNS
    assert [(r["name"], r["hidden_units"]) for r in rows] == [("fast_weights", "20"),
                                                              ("irnn", "20")]
    for row in rows:
        assert row["status"] == "ok"
        for column in ("examples_per_s", "train_flops_per_example", "achieved_gflops",
                       "peak_rss_mib", "params"):
            assert float(row[column]) > 0, column
    assert (out / "train_speed.md").read_text() in done.stdout
    info = json.loads((out / "train_speed.json").read_text())
    assert info["matmul_gflops"] > 0 and info["environment"]["code_version"]
