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
    import json
    from dataclasses import replace

    import pytest

    from fwlib.run.config import Budget, RunConfig
    from fwlib.run.folder import BudgetChanged
    from fwlib.tasks.associative import AssociativeTask

    def finished(name, budget, stopped, steps):
        config = RunConfig(task=AssociativeTask(), budget=budget)
        folder = RunFolder(tmp_path / name)
        folder.write_config(config)
        folder.write_json("metrics.json", {"stopped": stopped, "steps": steps})
        return folder, config

    early, config = finished("early", Budget(max_steps=6000, patience=2000), "patience", 4500)
    for max_steps in (5000, 6000, 60000):  # stopped at 4,500 within each of these budgets
        assert early.check(replace(config, budget=replace(config.budget, max_steps=max_steps)))
    for budget in (replace(config.budget, max_steps=4000),  # it would stop on its budget
                   replace(config.budget, patience=3000), replace(config.budget, eval_every=250)):
        with pytest.raises(BudgetChanged, match="stopped: patience after 4500 updates"):
            early.check(replace(config, budget=budget))
    assert early.check(replace(config, budget=replace(config.budget, steps_per_execution=10)))

    full, config = finished("full", Budget(max_steps=6000), "budget", 6000)
    assert full.check(config)
    with pytest.raises(BudgetChanged, match=r"max_steps 6000.*max_steps 20000"):
        full.check(replace(config, budget=replace(config.budget, max_steps=20000)))
    assert not RunFolder(tmp_path / "none").check(config)
    assert json.loads((tmp_path / "full" / "metrics.json").read_text())["steps"] == 6000
