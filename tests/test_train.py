import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fwlib.results import load_runs
from fwlib.train import TrainConfig, batch_order, train

SMALL = dict(model="fast_weights", hidden_units=8, max_steps=300, eval_every=50,
             steps_per_execution=25, patience=10_000, batch_size=64)


@pytest.mark.parametrize("change, name", [
    ({"model": "fw"}, "model"), ({"hidden_units": 0}, "hidden_units"),
    ({"decay": -0.1}, "decay"), ({"fast_lr": -1.0}, "fast_lr"),
    ({"inner_steps": 0}, "inner_steps"), ({"learning_rate": 0.0}, "learning_rate"),
    ({"max_steps": 120}, "max_steps"), ({"indexing": "x"}, "indexing"),
    ({"layer_norm": "yes"}, "layer_norm"), ({"seed": -1}, "seed"), ({"num_pairs": 0}, "num_pairs"),
])
def test_bad_parameters_raise_before_anything_is_written(tmp_path, change, name):
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=name):
        train(TrainConfig(**{**SMALL, **change}), run_dir)
    assert not run_dir.exists()


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="hidden"):
        TrainConfig.from_dict({"hidden": 20})


def test_batch_order_is_a_permutation_per_pass():
    order = batch_order(1000, 100, 25, seed=0)
    assert order.shape == (25, 100)
    assert sorted(order[:10].ravel()) == list(range(1000))
    assert not np.array_equal(order[:10], order[10:20])
    assert np.array_equal(order, batch_order(1000, 100, 25, seed=0))


def _run_in_subprocess(config: TrainConfig, run_dir: Path) -> subprocess.Popen:
    code = ("import json, sys; from fwlib.train import TrainConfig, train; "
            "train(TrainConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2], progress=False)")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config.to_dict()),
                             str(run_dir)], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_kill_and_resume_gives_identical_metrics(tmp_path):
    config = TrainConfig(**SMALL)
    reference = train(config, tmp_path / "straight", progress=False)

    run_dir = tmp_path / "interrupted"
    process = _run_in_subprocess(config, run_dir)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        state = run_dir / "state.json"
        if state.exists() and json.loads(state.read_text())["step"] >= 100:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run_dir / "metrics.json").exists()
    killed_at = json.loads((run_dir / "state.json").read_text())["step"]
    assert 100 <= killed_at < config.max_steps

    resumed = train(config, run_dir, progress=False)
    for key in ("test_error", "test_loss", "valid_error", "best_step", "steps"):
        assert resumed[key] == reference[key], key
    straight = pd.read_csv(tmp_path / "straight" / "history.csv")
    again = pd.read_csv(run_dir / "history.csv")
    pd.testing.assert_frame_equal(straight.drop(columns="wall_seconds"),
                                  again.drop(columns="wall_seconds"))
    # no checkpoint litter once finished
    assert not list(run_dir.glob("ckpt_*"))


def test_finished_run_is_not_trained_again_and_records_everything(tmp_path):
    config = TrainConfig(**{**SMALL, "max_steps": 100})
    first = train(config, tmp_path / "run", progress=False)
    mtime = (tmp_path / "run" / "metrics.json").stat().st_mtime
    second = train(config, tmp_path / "run", progress=False)
    assert second == first and (tmp_path / "run" / "metrics.json").stat().st_mtime == mtime
    for key in ("test_error", "valid_error", "steps", "wall_seconds", "examples_per_second",
                "code_version", "device", "packages"):
        assert key in first
    assert first["packages"]["tensorflow"].startswith("2.")
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(history.columns) == ["step", "train_loss", "valid_loss", "valid_error",
                                     "wall_seconds"]
    assert list(history["step"]) == [50, 100]
    with pytest.raises(ValueError, match="another config"):
        train(TrainConfig(**{**SMALL, "max_steps": 200}), tmp_path / "run")

    runs = load_runs(tmp_path)
    assert len(runs) == 1
    for column in ("model", "hidden_units", "seed", "test_error", "valid_error", "steps",
                   "wall_seconds"):
        assert column in runs.columns
    assert runs.loc[0, "test_error"] == first["test_error"]


def test_early_stopping_on_patience(tmp_path):
    config = TrainConfig(**{**SMALL, "learning_rate": 1e-7, "max_steps": 1000, "patience": 100})
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["stopped"] == "patience"
    assert metrics["steps"] < 1000
    assert metrics["steps"] - metrics["best_step"] >= 100


def test_early_stopping_on_target(tmp_path):
    config = TrainConfig(**{**SMALL, "target_error": 0.95})
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["stopped"] == "target" and metrics["steps"] == 50
