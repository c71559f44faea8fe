import subprocess
import sys
import time

from fwlib.run.folder import RunFolder

HOLD = ("import sys, time; from fwlib.run.folder import RunFolder\n"
        "with RunFolder(sys.argv[1]).lock():\n    print('locked', flush=True)\n"
        "    time.sleep(60)\n")


def test_a_lock_is_held_across_processes_and_released_when_its_holder_dies(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert not folder.is_locked()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder.path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    assert folder.is_locked()
    holder.kill()  # SIGKILL: no clean-up code runs
    holder.wait()
    deadline = time.time() + 10
    while folder.is_locked() and time.time() < deadline:
        time.sleep(0.05)
    assert not folder.is_locked()
    with folder.lock():
        assert folder.is_locked()
    assert not folder.is_locked()


def test_json_is_written_without_nan(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.write_json("state.json", {"loss": float("nan"), "rows": [float("inf"), 1.0]})
    assert (folder.path / "state.json").read_text().count("null") == 2


def test_a_finished_run_answers_another_budget_only_where_it_would_end_the_same(tmp_path):
    from dataclasses import replace

    import pytest

    from fwlib.run.config import Budget, RunConfig
    from fwlib.run.folder import BudgetChanged
    from fwlib.tasks.associative import AssociativeTask

    def finished(name, budget, errors, stopped):
        config = RunConfig(task=AssociativeTask(), budget=budget)
        folder = RunFolder(tmp_path / name)
        folder.write_config(config)
        steps = [budget.eval_every * (i + 1) for i in range(len(errors))]
        folder.write_history([{"step": s, "valid_error": e} for s, e in zip(steps, errors,
                                                                            strict=True)],
                             ("step", "valid_error"))
        folder.write_json("metrics.json", {"stopped": stopped, "steps": steps[-1]})
        return folder, config

    def budget_of(config, **changes):
        return replace(config, budget=replace(config.budget, **changes))

    # best at 2,000, then no better for 2,000 updates: patience stopped it at 4,000
    early, config = finished("early", Budget(max_steps=6000, eval_every=1000, patience=2000),
                             [0.6, 0.3, 0.4, 0.35], "patience")
    assert early.valid_errors() == [(1000, 0.6), (2000, 0.3), (3000, 0.4), (4000, 0.35)]
    for max_steps in (4000, 5000, 60000):  # it stops at 4,000 within each of these budgets
        assert early.check(budget_of(config, max_steps=max_steps))
    assert early.check(budget_of(config, steps_per_execution=10))
    assert early.check(budget_of(config, plateau_error=0.5))  # 0.3 is off the plateau
    for changes in ({"max_steps": 3000},  # it would stop on its budget
                    {"patience": 3000},  # it would train on
                    {"plateau_error": 0.2},  # patience would not yet apply
                    {"target_error": 0.35},  # it would stop at 2,000
                    {"eval_every": 500}):
        with pytest.raises(BudgetChanged, match="stopped: patience after 4000 updates"):
            early.check(budget_of(config, **changes))

    full, config = finished("full", Budget(max_steps=3000, eval_every=1000), [0.6, 0.62, 0.61],
                            "budget")
    assert full.check(config)
    with pytest.raises(BudgetChanged, match=r"max_steps 3000.*max_steps 20000"):
        full.check(budget_of(config, max_steps=20000))
    assert not RunFolder(tmp_path / "none").check(config)

    diverged, config = finished("diverged", Budget(max_steps=6000, eval_every=1000),
                                [0.6, float("nan")], "diverged")
    assert diverged.check(budget_of(config, max_steps=60000, patience=500))
    with pytest.raises(BudgetChanged):
        diverged.check(budget_of(config, max_steps=1000))


def test_patience_waits_until_a_run_leaves_the_plateau():
    from fwlib.run.config import Budget

    budget = Budget(max_steps=20000, patience=2000, plateau_error=0.5)
    assert budget.stop_reason(9000, 0.61, 0.60, 1000) is None  # still on the plateau
    assert budget.stop_reason(9000, 0.41, 0.40, 7000) == "patience"
    assert budget.stop_reason(20000, 0.61, 0.60, 1000) == "budget"
    assert Budget(patience=2000).stop_reason(9000, 0.61, 0.60, 1000) == "patience"
    assert budget.stop_reason(500, 0.0, 0.0, 500) == "target"


def test_the_kept_weights_are_found_whatever_the_trainers_format(tmp_path):
    import json

    for name, kept in (("supervised", "best_0001500.weights.h5"), ("a2c", "best_0400000.npz")):
        folder = RunFolder(tmp_path / name)
        folder.path.mkdir()
        assert folder.best_weights() is None  # before its first evaluation
        (folder.path / kept).write_bytes(b"")
        (folder.path / "ckpt_0001500.weights.h5").write_bytes(b"")
        assert folder.best_weights() == folder.path / kept  # finished: the file it keeps
        (folder.path / "state.json").write_text(json.dumps({"best_weights": "best_x.npz"}))
        assert folder.best_weights() == folder.path / "best_x.npz"  # training: the state's
