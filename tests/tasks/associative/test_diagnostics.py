"""The fast-weight read against the slow term, measured on recorded runs."""

import json

import numpy as np
import pandas as pd
import pytest

from fwlib.cores import CoreSpec
from fwlib.run.config import RunConfig
from fwlib.run.seeding import seed_everything
from fwlib.tasks.associative import AssociativeTask, diagnostics


def fake_run(root, units, seed, test_error, slow_scale=None, gain_scale=1.0):
    """A run folder as training leaves it: config, metrics and best weights, standing for
    training: the initial weights with C, W and b times ``slow_scale`` and the layer-norm gain
    times ``gain_scale`` (no best weights when ``slow_scale`` is None)."""
    config = RunConfig(task=AssociativeTask(), model=CoreSpec("fast_weights", units),
                       seed=seed).validate()
    run_dir = root / config.run_name()
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict()))
    (run_dir / "metrics.json").write_text(json.dumps({"test_error": test_error}))
    seed_everything(seed)
    model = config.task.build_model(config.model)
    if slow_scale is not None:
        layer = diagnostics.find_fast_weights_layer(model)
        for weight in (layer.input_kernel, layer.recurrent_kernel, layer.bias):
            weight.assign(np.asarray(weight) * slow_scale)
        layer.ln_gain.assign(np.asarray(layer.ln_gain) * gain_scale)
        model.save_weights(run_dir / "best_0000500.weights.h5")
    return run_dir


def test_initial_weights_are_rebuilt_from_the_seed_and_trained_ones_read(tmp_path):
    """With layer norm the read-to-slow ratio ignores the slow term's scale: C, W and b a
    hundred times larger give a hundred times the slow term and the same ratio."""
    run_dir = fake_run(tmp_path, 8, 1, 0.02, slow_scale=100.0)
    norms = diagnostics.run_norms(run_dir, examples=16)
    assert set(norms["stage"]) == {"initial", "trained"}
    assert len(norms) == 2 * 11  # both stages, every step of an 11-token sequence
    initial = norms[norms["stage"] == "initial"].set_index("step")
    trained = norms[norms["stage"] == "trained"].set_index("step")
    np.testing.assert_allclose(trained["slow"], 100 * initial["slow"], rtol=2e-3)
    np.testing.assert_allclose(trained["ratio_mean"], initial["ratio_mean"], rtol=1e-2)
    assert (initial.loc[1:, "cosine"] > 0.5).all()  # ReLU states point the same way


def test_per_run_findings_name_the_runs_where_the_read_still_dominates(tmp_path):
    learned = fake_run(tmp_path, 8, 0, 0.01, slow_scale=1.0, gain_scale=0.01)
    stuck = fake_run(tmp_path, 8, 1, 0.6, slow_scale=1.0)
    runs = pd.DataFrame({"model": ["fast_weights"] * 2, "run_dir": [str(learned), str(stuck)],
                         "test_error": [0.01, 0.6]})
    by_run = diagnostics.per_run(diagnostics.grid_norms(runs, examples=16))
    assert list(by_run["seed"]) == [0, 1]
    assert by_run.loc[0, "trained ratio"] < 1.0 < by_run.loc[1, "trained ratio"]
    text = diagnostics.findings_markdown(by_run)
    assert "In 1 of 2 trained runs the read fell below the slow term" in text
    assert "R = 8 seed 1 (60.00 % test error" in text


def test_a_run_without_best_weights_has_only_its_initial_stage(tmp_path):
    run_dir = fake_run(tmp_path, 8, 0, 0.5)
    norms = diagnostics.run_norms(run_dir, examples=8)
    assert set(norms["stage"]) == {"initial"}
    assert "trained ratio" not in diagnostics.per_run(
        norms.assign(test_error=0.5)).columns


def test_only_fast_weights_runs_are_measured(tmp_path):
    config = RunConfig(task=AssociativeTask(), model=CoreSpec("lstm", 8)).validate()
    run_dir = tmp_path / config.run_name()
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(config.to_dict()))
    with pytest.raises(ValueError, match="not fast_weights"):
        diagnostics.run_norms(run_dir)
    assert diagnostics.findings_markdown(pd.DataFrame()) == "No fast-weights runs to measure."


def test_the_findings_say_whether_the_read_grows_with_r_at_the_etas_used():
    def table(ratios, etas):
        return pd.DataFrame({"R": [20, 50, 100], "seed": 0, "η": etas,
                             "test error (%)": 1.0, "initial ratio": ratios,
                             "initial cosine": 0.9, "initial ‖h‖": [4.0, 6.4, 9.2]})

    same_eta = diagnostics.findings_markdown(table([27.0, 80.0, 171.0], [0.5, 0.5, 0.5]))
    assert "171× the slow term at R = 100, η = 0.5" in same_eta
    assert "more so as R grows" in same_eta
    smaller = diagnostics.findings_markdown(table([27.0, 16.0, 7.0], [0.5, 0.1, 0.02]))
    assert "more so as R grows" not in smaller
    assert "a smaller η at a larger R keeps it from growing with R" in smaller


def test_a_folder_without_a_recorded_run_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no recorded run"):
        diagnostics.run_norms(tmp_path)
