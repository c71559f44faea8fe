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

from fwlib.rl.config import A2CSpec, RLBudget
from fwlib.rl.train import FINAL_STREAM, Learner, game_seeds, train
from fwlib.run.config import RunConfig
from fwlib.run.folder import BudgetChanged
from fwlib.tasks.catch import CatchTask
from fwlib.tasks.catch.agents import AgentSpec


def small(kind="fast_weights", max_steps=4000, eval_every=800, **optim):
    return RunConfig(task=CatchTask(size=6, visible_frames=2),
                     model=AgentSpec(kind=kind, hidden_units=8, encoder_units=16),
                     optim=A2CSpec(num_envs=8, **optim),
                     budget=RLBudget(max_steps=max_steps, eval_every=eval_every,
                                     eval_episodes=20, final_episodes=50))


@pytest.mark.parametrize(("part", "change", "name"), [
    ("optim", {"num_envs": 0}, "num_envs"), ("optim", {"discount": 1.5}, "discount"),
    ("optim", {"learning_rate": 0.0}, "learning_rate"), ("model", {"kind": "gru"}, "kind"),
    ("budget", {"max_steps": 1000}, "max_steps"), ("task", {"size": 2}, "size")])
def test_bad_parameters_raise_before_anything_is_written(tmp_path, part, change, name):
    config = small()
    values = config.to_dict()
    values[part].update(change)
    with pytest.raises(ValueError, match=name):
        config = RunConfig.from_dict(values)
        train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_training_on_a_small_observed_game_beats_a_random_policy(tmp_path):
    config = RunConfig(task=CatchTask(size=6, visible_frames=None, max_dx=0),
                       model=AgentSpec(kind="feedforward", hidden_units=16, encoder_units=16),
                       optim=A2CSpec(num_envs=32, learning_rate=0.01),
                       budget=RLBudget(max_steps=16000, eval_every=8000, eval_episodes=100,
                                       final_episodes=500))
    metrics = train(config, tmp_path / "run", progress=False)
    untrained = Learner(config).catch_rate(config.seed, FINAL_STREAM, 500)
    env = config.task.make_env(500)
    env.reset(game_seeds(0, FINAL_STREAM, 0, 500))
    actions = np.random.default_rng(0).integers(3, size=(env.episode_length, 500))
    for step in actions:
        _, rewards, _ = env.step(step)
    random_rate = float((rewards > 0).mean())
    assert metrics["catch_rate"] > max(random_rate, untrained) + 0.2
    assert metrics["steps"] == 16000 and not metrics["diverged"]
    for key in ("model", "hidden_units", "seed", "code_version", "starts", "data_digest",
                "wall_seconds", "stopped"):
        assert key in metrics, key
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["frames"].tolist() == [8000, 16000]


def _run_in_subprocess(config: RunConfig, run_dir: Path) -> subprocess.Popen:
    code = ("import json, sys; from fwlib.run.execute import execute; "
            "execute(json.loads(sys.argv[1]), sys.argv[2])")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config.to_dict()),
                             str(run_dir)], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_kill_and_resume_gives_identical_metrics(tmp_path):
    config = small(max_steps=16000, eval_every=800)
    reference = train(config, tmp_path / "straight", progress=False)

    run_dir = tmp_path / "interrupted"
    process = _run_in_subprocess(config, run_dir)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        state = run_dir / "state.json"
        try:
            if state.exists() and json.loads(state.read_text())["step"] >= 1600:
                break
        except ValueError:
            pass
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run_dir / "metrics.json").exists()
    killed_at = json.loads((run_dir / "state.json").read_text())["step"]
    assert 1600 <= killed_at < config.budget.max_steps

    resumed = train(config, run_dir, progress=False)
    for key in ("catch_rate", "last_weights_catch_rate", "best_frames", "best_eval_catch_rate",
                "last_eval_catch_rate", "steps", "updates"):
        assert resumed[key] == reference[key], key
    assert [s["step"] for s in resumed["starts"]] == [0, killed_at]
    straight = pd.read_csv(tmp_path / "straight" / "history.csv")
    again = pd.read_csv(run_dir / "history.csv")
    pd.testing.assert_frame_equal(straight.drop(columns="wall_seconds"),
                                  again.drop(columns="wall_seconds"))
    assert not list(run_dir.glob("ckpt_*"))
    # finished: reused under its own budget, refused under another
    assert train(config, run_dir, progress=False) == resumed
    with pytest.raises(BudgetChanged, match="another budget"):
        train(small(max_steps=32000, eval_every=800), run_dir, progress=False)


def test_the_weights_of_the_best_evaluation_are_kept_and_tested(tmp_path):
    config = small(max_steps=8000, eval_every=800, learning_rate=0.01)
    metrics = train(config, tmp_path / "run", progress=False)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    best = history["eval_catch_rate"].idxmax()  # the first of the highest
    assert metrics["best_frames"] == history["frames"][best]
    assert metrics["best_eval_catch_rate"] == history["eval_catch_rate"][best]
    assert metrics["last_eval_catch_rate"] == history["eval_catch_rate"].iloc[-1]
    kept = list((tmp_path / "run").glob("best_*.npz"))
    assert [p.name for p in kept] == [f"best_{metrics['best_frames']:010d}.npz"]
    assert not list((tmp_path / "run").glob("ckpt_*"))
    learner = Learner(config)
    learner.load(kept[0], optimizer=False)
    assert learner.catch_rate(config.seed, FINAL_STREAM, 50) == metrics["catch_rate"]
    assert metrics["last_weights_catch_rate"] is not None and metrics["weights"]


def test_files_left_by_a_kill_after_the_commit_point_are_removed(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("ckpt_0000000008.npz", "best_0000000008.npz"):
        (run_dir / name).write_bytes(b"left by a killed process")
    metrics = train(small(max_steps=1600, eval_every=800), run_dir, progress=False)
    assert not list(run_dir.glob("ckpt_*"))
    assert [p.name for p in run_dir.glob("best_*")] == [f"best_{metrics['best_frames']:010d}.npz"]


def test_a_diverging_run_stops_at_once(tmp_path):
    config = small(learning_rate=0.9, max_steps=8000)
    import fwlib.rl.train as rl_train

    original = rl_train.Learner.update

    def poisoned(self, env, update_index):
        result = original(self, env, update_index)
        if update_index == 3:
            result["losses"][0] = float("nan")
        return result

    rl_train.Learner.update = poisoned
    try:
        metrics = train(config, tmp_path / "run", progress=False)
    finally:
        rl_train.Learner.update = original
    assert metrics["diverged"] and metrics["stopped"] == "diverged"
    assert metrics["catch_rate"] is None and metrics["steps"] == 4 * 8 * 5
    assert not list((tmp_path / "run").glob("ckpt_*"))


def test_a_run_is_not_resumed_under_another_backend(tmp_path):
    import keras

    from fwlib.run.folder import RunFolder

    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    config = small()
    folder = RunFolder(tmp_path / "run")
    folder.write_config(config)
    folder.write_json("state.json", {"backend": other, "step": 800, "eval_every": 800})
    before = sorted(p.name for p in folder.path.iterdir())
    with pytest.raises(ValueError, match=f"under the {other} backend.*KERAS_BACKEND={other}"):
        train(config, folder.path, progress=False)
    assert sorted(p.name for p in folder.path.iterdir()) == before
