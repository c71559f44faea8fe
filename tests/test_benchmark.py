import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fwlib.train import TrainConfig

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "train_speed.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def test_flops_of_irnn_match_a_hand_count():
    # R = 20, T = 11, D = 100: input 100·20 and recurrent 20·20 multiply-adds per step,
    # decoder 20·100, logits 100·37; 2 FLOPs each; training = 3 × forward.
    forward = 2 * (11 * (100 * 20 + 20 * 20) + 20 * 100 + 100 * 37)
    assert bench.flops_per_example("irnn", 20, training=False) == forward == 64_200
    assert bench.flops_per_example("irnn", 20) == 3 * forward


def test_fast_weight_reads_are_counted_per_form():
    slow = bench.flops_per_example("rnn_ln", 50, training=False)
    attention = bench.flops_per_example("fast_weights", 50, "attention", training=False)
    matrix = bench.flops_per_example("fast_weights", 50, "matrix", training=False)
    assert attention - slow == 2 * 50 * 11 * 12  # reads over 1, 2, ..., 11 stored states
    assert matrix - slow == 2 * 11 * 50 * 50 * 2  # update and one read of A per step
    assert slow < attention < matrix


@pytest.mark.parametrize("kind", ["fast_weights", "irnn", "lstm", "rnn_ln", "alstm"])
def test_flops_grow_with_hidden_units(kind):
    counts = [bench.flops_per_example(kind, r) for r in (20, 50, 100, 200)]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)


def test_flops_reject_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        bench.flops_per_example("gru", 20)


@pytest.mark.parametrize("argv, option", [
    (["--units", "0"], "--units"), (["--models", "gru"], "--models"),
    (["--windows", "x"], "--windows"), (["--units", "21"], "--units"),
])
def test_bad_arguments_name_the_option(capsys, argv, option):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert option in capsys.readouterr().err


def test_time_to_accuracy_reads_the_history():
    config = TrainConfig(model="fast_weights", hidden_units=8, max_steps=100, eval_every=50,
                         steps_per_execution=25, batch_size=64, target_error=0.95)
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
