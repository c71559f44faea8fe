import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import pandas as pd
import pytest

from fwlib.cores import CoreSpec
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.folder import BudgetChanged, RunClash
from fwlib.run.store import load_runs
from fwlib.supervised.fit import batch_order, evaluation_data, train, training_dataset
from fwlib.tasks.associative import AssociativeTask
from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask
from fwlib.tasks.mnist_glimpses.spec import GlimpseModelSpec

SMALL = RunConfig(task=AssociativeTask(), model=CoreSpec("fast_weights", 8),
                  optim=OptimSpec(batch_size=64),
                  budget=Budget(max_steps=300, eval_every=50, steps_per_execution=25,
                                patience=10_000))


def small(**changes) -> RunConfig:
    parts = {}
    for part in ("task", "model", "optim", "budget"):
        names = set(getattr(SMALL, part).__dataclass_fields__)
        own = {k: changes.pop(k) for k in list(changes) if k in names}
        parts[part] = replace(getattr(SMALL, part), **own)
    return replace(SMALL, **parts, **changes)


@pytest.mark.parametrize("change, name", [
    ({"kind": "fw"}, "kind"), ({"hidden_units": 0}, "hidden_units"),
    ({"decay": -0.1}, "decay"), ({"fast_lr": -1.0}, "fast_lr"),
    ({"inner_steps": 0}, "inner_steps"), ({"learning_rate": 0.0}, "learning_rate"),
    ({"max_steps": 120}, "max_steps"), ({"indexing": "x"}, "indexing"),
    ({"layer_norm": "yes"}, "layer_norm"), ({"seed": -1}, "seed"), ({"num_pairs": 0}, "num_pairs"),
    ({"batch_size": 200_000}, "batch_size"),
])
def test_bad_parameters_raise_before_anything_is_written(tmp_path, change, name):
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=name):
        train(small(**change), run_dir)
    assert not run_dir.exists()


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="unknown model parameter.*hidden"):
        RunConfig.from_dict({"task": {"name": "associative"}, "model": {"hidden": 20}})
    with pytest.raises(ValueError, match="task must be one of"):
        RunConfig.from_dict({"task": {"name": "mnist"}})


def test_batch_order_is_a_permutation_per_pass_and_a_longer_budget_extends_it():
    order = batch_order(1000, 100, 25, seed=0)
    assert order.shape == (25, 100)
    assert sorted(order[:10].ravel()) == list(range(1000))
    assert not np.array_equal(order[:10], order[10:20])
    assert np.array_equal(order, batch_order(1000, 100, 25, seed=0))
    assert np.array_equal(order, batch_order(1000, 100, 40, seed=0)[:25])


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data input pipeline")
def test_input_pipelines_use_one_thread_and_no_autotuning():
    """Runs side by side must not share a machine-wide pool, and tf.data's autotuning thread
    held up the end of model.fit for many seconds in Dask workers."""
    x, y = np.zeros((64, 3), np.float32), np.zeros(64, np.int32)
    for dataset in (training_dataset(x, y, batch_order(64, 8, 8, seed=0), block=4),
                    evaluation_data(x, y, batch_size=16, cache=True), evaluation_data(x, y)):
        options = dataset.options()
        assert options.autotune.enabled is False
        assert options.threading.private_threadpool_size == 1
        assert options.threading.max_intra_op_parallelism == 1
    batches = list(training_dataset(x, y, batch_order(64, 8, 8, seed=0), block=4))
    assert len(batches) == 8 and batches[0][0].shape == (8, 3)


def _run_in_subprocess(config: RunConfig, run_dir: Path, env=None) -> subprocess.Popen:
    code = ("import json, sys; from fwlib.run.execute import execute; "
            "execute(json.loads(sys.argv[1]), sys.argv[2])")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config.to_dict()),
                             str(run_dir)],
                            env={**(os.environ if env is None else env),
                                 "TF_CPP_MIN_LOG_LEVEL": "3"})


# A run under JAX with the settings of a machine with a GPU (jax_gpu_installed made true on
# this CPU): deterministic GPU operations, no preallocation, a compilation cache on disk.
_AS_ON_A_GPU = ("import json, os, sys; import fwlib.run.execute as ex; "
                "ex.jax_gpu_installed = lambda: True; "
                "ex.execute(json.loads(sys.argv[1]), sys.argv[2]); "
                "names = ('XLA_FLAGS', 'XLA_PYTHON_CLIENT_PREALLOCATE', "
                "'JAX_COMPILATION_CACHE_DIR'); "
                "open(sys.argv[3], 'w').write(json.dumps({k: os.environ.get(k) for k in names}))")


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_gpu_settings_and_a_warm_compilation_cache_change_no_number(tmp_path):
    # every run in a JAX process of its own, whatever the backend of this one
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAX_COMPILATION_CACHE_DIR", "XLA_PYTHON_CLIENT_PREALLOCATE")}
    env.update(KERAS_BACKEND="jax", XDG_CACHE_HOME=str(tmp_path / "home_cache"),
               TF_CPP_MIN_LOG_LEVEL="3", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    cache = tmp_path / "home_cache" / "fast-weights-repro" / "jax"

    def as_on_a_gpu(name: str) -> dict:
        subprocess.run([sys.executable, "-c", _AS_ON_A_GPU, json.dumps(SMALL.to_dict()),
                        str(tmp_path / name), str(tmp_path / f"{name}.json")],
                       env=env, check=True, timeout=300)
        return json.loads((tmp_path / f"{name}.json").read_text())

    plain = _run_in_subprocess(SMALL, tmp_path / "plain",
                               env={**env, "XDG_CACHE_HOME": str(tmp_path / "unused")})
    settings = as_on_a_gpu("cold")  # compiles, and keeps what it compiled
    kept = {path.name for path in cache.iterdir()}
    assert any("train_step" in name for name in kept), kept
    assert "--xla_gpu_deterministic_ops=true" in settings["XLA_FLAGS"]
    assert settings["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert settings["JAX_COMPILATION_CACHE_DIR"] == str(cache)
    as_on_a_gpu("warm")  # loads them
    assert plain.wait() == 0
    reference, *others = (json.loads((tmp_path / name / "metrics.json").read_text())
                          for name in ("plain", "cold", "warm"))
    for metrics in others:
        for key in ("test_error", "test_loss", "valid_error", "best_step", "steps"):
            assert metrics[key] == reference[key], key


def test_what_a_gpu_machine_sets_keeps_what_the_environment_sets(tmp_path, monkeypatch):
    from fwlib.run.execute import default_cache_dir, jax_gpu_settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "fast-weights-repro" / "jax"
    updates, cache = jax_gpu_settings({"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"})
    assert updates == {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false "
                                    "--xla_gpu_deterministic_ops=true",
                       "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    assert cache == str(tmp_path / "fast-weights-repro" / "jax")
    updates, cache = jax_gpu_settings({"XLA_FLAGS": "--xla_gpu_deterministic_ops=false",
                                       "XLA_PYTHON_CLIENT_PREALLOCATE": "true",
                                       "JAX_COMPILATION_CACHE_DIR": "/elsewhere"})
    assert updates == {} and cache is None
    assert jax_gpu_settings({"JAX_COMPILATION_CACHE_DIR": ""})[1] is None  # none wanted


def test_workers_sharing_a_gpu_without_mps_get_a_notice(tmp_path, monkeypatch):
    import fwlib.run.execute as ex

    monkeypatch.setattr(ex, "jax_gpu_installed", lambda: True)
    pipes = tmp_path / "mps"
    pipes.mkdir()
    environ = {"CUDA_MPS_PIPE_DIRECTORY": str(pipes)}
    notice = ex.gpu_sharing_notice(4, environ, backend="jax")
    assert "4 workers will share the GPU" in notice and "nvidia-cuda-mps-control -d" in notice
    (pipes / "control").touch()  # the daemon's pipe: the service is up
    assert ex.mps_running(environ)
    assert ex.gpu_sharing_notice(4, environ, backend="jax") is None
    (pipes / "control").unlink()
    assert ex.gpu_sharing_notice(1, environ, backend="jax") is None
    assert ex.gpu_sharing_notice(4, environ, backend="tensorflow") is None
    assert ex.gpu_sharing_notice(4, {**environ, "CUDA_VISIBLE_DEVICES": ""}, "jax") is None
    monkeypatch.setattr(ex, "jax_gpu_installed", lambda: False)
    assert ex.gpu_sharing_notice(4, environ, backend="jax") is None


# Table 2's glimpse reader with dropout and moved images: a resumed run must draw the masks
# and moves an uninterrupted one draws, so the layers' random state is checkpointed with the
# weights.
DROPOUT = RunConfig(task=MnistGlimpsesTask(train_examples=2000),
                    model=GlimpseModelSpec("fast_weights", 8, fast_lr=0.05, encoder_units=8,
                                           dropout=0.3, shift=2),
                    optim=OptimSpec(batch_size=64), budget=SMALL.budget)


# Table 2's ConvNet, trained without XLA as the profiles train it: TensorFlow's own kernels
# must be as deterministic as XLA's for a resumed run to match.
CONVNET = RunConfig(task=MnistGlimpsesTask(train_examples=2000),
                    model=GlimpseModelSpec("convnet", 16, dropout=0.3, xla=False),
                    optim=OptimSpec(batch_size=64), budget=SMALL.budget)


@pytest.mark.parametrize("config", [SMALL, DROPOUT, CONVNET],
                         ids=["fast_weights", "dropout_and_shift", "convnet_without_xla"])
def test_kill_and_resume_gives_identical_metrics(tmp_path, config):
    # every run in a process of its own, with one thread as the pipeline's workers have: the
    # last digits of a sum can depend on the number of threads
    straight = _run_in_subprocess(config, tmp_path / "straight")
    run_dir = tmp_path / "interrupted"
    process = _run_in_subprocess(config, run_dir)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        state = run_dir / "state.json"
        try:
            if state.exists() and json.loads(state.read_text())["step"] >= 100:
                break
        except ValueError:
            pass
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run_dir / "metrics.json").exists()
    killed_at = json.loads((run_dir / "state.json").read_text())["step"]
    assert 100 <= killed_at < config.budget.max_steps

    assert _run_in_subprocess(config, run_dir).wait() == 0
    assert straight.wait() == 0
    resumed, reference = (json.loads((path / "metrics.json").read_text())
                          for path in (run_dir, tmp_path / "straight"))
    for key in ("test_error", "test_loss", "valid_error", "best_step", "steps"):
        assert resumed[key] == reference[key], key
    assert [s["step"] for s in resumed["starts"]] == [0, killed_at]
    straight = pd.read_csv(tmp_path / "straight" / "history.csv")
    again = pd.read_csv(run_dir / "history.csv")
    pd.testing.assert_frame_equal(straight.drop(columns="wall_seconds"),
                                  again.drop(columns="wall_seconds"))
    assert not list(run_dir.glob("ckpt_*"))  # no checkpoint litter once finished


def test_files_left_by_a_kill_after_the_commit_point_are_removed(tmp_path):
    """A kill between writing state.json and removing the previous checkpoint (or kept
    weights) leaves files that the state no longer names; the next commit removes them."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    left = ["ckpt_0000025.weights.h5", "ckpt_0000025.opt.npz", "best_0000025.weights.h5"]
    for name in left:
        (run_dir / name).write_bytes(b"left by a killed process")
    metrics = train(small(max_steps=100), run_dir, progress=False)
    assert not list(run_dir.glob("ckpt_*"))
    assert [p.name for p in run_dir.glob("best_*")] == [
        f"best_{metrics['best_step']:07d}.weights.h5"]


def test_finished_run_is_reused_only_where_another_budget_gives_its_result(tmp_path):
    config = small(max_steps=100)
    first = train(config, tmp_path / "run", progress=False)
    mtime = (tmp_path / "run" / "metrics.json").stat().st_mtime
    assert train(config, tmp_path / "run", progress=False) == first
    # it stopped on its budget: more updates, or a target it met at its first evaluation
    # (chance error is 90 %), would have ended it elsewhere
    for budget in ({"max_steps": 200}, {"max_steps": 100, "target_error": 0.95}):
        with pytest.raises(BudgetChanged, match="stopped: budget after 100 updates"):
            train(small(**budget), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "metrics.json").stat().st_mtime == mtime
    assert first["budget"]["max_steps"] == 100
    for key in ("test_error", "valid_error", "steps", "wall_seconds", "examples_per_second",
                "code_version", "device", "packages", "data_digest", "backend", "run_id"):
        assert first[key] is not None, key
    assert first["packages"]["tensorflow"].startswith("2.")
    assert first["backend"] == keras.backend.backend()
    assert [start["backend"] for start in first["starts"]] == [keras.backend.backend()]
    assert first["data_digest"] == AssociativeTask().data_digest(AssociativeTask().splits())
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(history.columns) == ["step", "train_loss", "valid_loss", "valid_error",
                                     "wall_seconds"]
    assert list(history["step"]) == [50, 100]
    with pytest.raises(RunClash, match="another run"):
        train(small(max_steps=100, learning_rate=0.01), tmp_path / "run")

    runs = load_runs(tmp_path)
    assert len(runs) == 1
    for column in ("task", "model", "hidden_units", "seed", "test_error", "valid_error", "steps",
                   "wall_seconds", "learning_rate", "max_steps", "diverged"):
        assert column in runs.columns
    assert runs.loc[0, "test_error"] == first["test_error"]
    assert runs.loc[0, "task"] == "associative" and runs.loc[0, "model"] == "fast_weights"


def test_an_interrupted_run_resumes_under_a_longer_budget(tmp_path):
    run_dir = tmp_path / "run"
    process = _run_in_subprocess(small(max_steps=300), run_dir)
    while process.poll() is None:
        state = run_dir / "state.json"
        try:
            if state.exists() and json.loads(state.read_text())["step"] >= 100:
                break
        except ValueError:
            pass
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    longer = train(small(max_steps=400), run_dir, progress=False)
    straight = train(small(max_steps=400), tmp_path / "straight", progress=False)
    assert longer["steps"] == 400 and longer["test_error"] == straight["test_error"]
    recorded = json.loads((run_dir / "config.json").read_text())
    assert recorded["budget"]["max_steps"] == 400


def test_early_stopping_on_patience(tmp_path):
    metrics = train(small(learning_rate=1e-7, max_steps=1000, patience=100), tmp_path / "run",
                    progress=False)
    assert metrics["stopped"] == "patience"
    assert metrics["steps"] < 1000
    assert metrics["steps"] - metrics["best_step"] >= 100


def test_early_stopping_on_target(tmp_path):
    metrics = train(small(target_error=0.95), tmp_path / "run", progress=False)
    assert metrics["stopped"] == "target" and metrics["steps"] == 50


def test_a_diverging_run_stops_at_once_and_keeps_no_nan_weights(tmp_path):
    # Without layer norm and with three inner steps, the fast-weight term grows without
    # bound: the loss is NaN within the first evaluation window.
    config = small(layer_norm=False, inner_steps=3, fast_lr=50.0, learning_rate=0.5,
                   max_steps=1000)
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["diverged"] and metrics["stopped"] == "diverged"
    assert metrics["steps"] < 1000
    assert metrics["test_error"] is None or math.isfinite(metrics["test_error"])
    for path in (tmp_path / "run").glob("best_*.weights.h5"):

        model = config.task.build_model(config.model)
        model.load_weights(path)
        assert all(np.isfinite(w).all() for w in model.get_weights())
    runs = load_runs(tmp_path)
    assert bool(runs.loc[0, "diverged"])


@dataclass(frozen=True)
class _DisagreeingTask(AssociativeTask):
    """Associative retrieval whose test labels are all wrong: if model selection ever read
    the test split, it would see an error near 100 %."""

    name: ClassVar[str] = "associative"

    def splits(self) -> dict:
        splits = dict(super().splits())
        x, y = splits["test"]
        splits["test"] = (x, np.where(y == 26, 27, 26).astype(y.dtype))  # never the answer
        return splits


def test_model_selection_never_sees_the_test_split(tmp_path):
    honest = train(small(max_steps=200), tmp_path / "honest", progress=False)
    config = replace(small(max_steps=200), task=_DisagreeingTask())
    rigged = train(config, tmp_path / "rigged", progress=False)
    for key in ("valid_error", "best_step", "steps"):
        assert rigged[key] == honest[key], key
    history = [pd.read_csv(tmp_path / n / "history.csv").drop(columns="wall_seconds")
               for n in ("honest", "rigged")]
    pd.testing.assert_frame_equal(*history)
    assert rigged["test_error"] > 0.5 > honest["test_error"] - 0.4


def test_a_run_is_not_resumed_under_another_backend(tmp_path):
    from fwlib.run.folder import RunFolder

    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    folder = RunFolder(tmp_path / "run")
    folder.write_config(SMALL)
    folder.write_json("state.json", {"backend": other, "step": 50, "eval_every": 50})
    before = sorted(p.name for p in folder.path.iterdir())
    with pytest.raises(ValueError, match=f"under the {other} backend and this process runs "
                       f"{keras.backend.backend()}.*KERAS_BACKEND={other}"):
        train(SMALL, folder.path, progress=False)
    assert sorted(p.name for p in folder.path.iterdir()) == before


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_weight_decay_shrinks_the_weight_matrices_only(weight_decay):
    """With zero gradients Adam moves nothing, so what changes is the decay alone: each
    matrix shrinks by learning rate × weight decay of itself; biases and layer-norm gains and
    biases stay."""
    from fwlib.supervised.fit import build_compiled_model  # noqa: PLC0415

    config = small(weight_decay=weight_decay, learning_rate=0.01)
    model = build_compiled_model(config)
    before = [np.array(v) for v in model.trainable_variables]
    assert any(b.ndim < 2 for b in before) and any(b.ndim >= 2 for b in before)
    model.optimizer.apply_gradients(
        [(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    for b, v in zip(before, model.trainable_variables, strict=True):
        shrink = 1 - 0.01 * weight_decay if b.ndim >= 2 else 1.0
        np.testing.assert_allclose(np.array(v), b * shrink, rtol=1e-6, atol=1e-7,
                                   err_msg=v.path)
