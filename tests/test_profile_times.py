import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "profile_times.py"
spec = importlib.util.spec_from_file_location("profile_times", SCRIPT)
times = importlib.util.module_from_spec(spec)
spec.loader.exec_module(times)


def _profile(root: Path, name: str, log: dict, runs: dict[str, float | None]) -> None:
    folder = root / name
    (folder / "runs").mkdir(parents=True)
    (folder / "pipeline.json").write_text(json.dumps(log))
    (folder / "grid.json").write_text(json.dumps(list(runs)))
    for seed, (run, seconds) in enumerate(runs.items()):
        if seconds is not None:  # None: in the grid, not finished
            (folder / "runs" / run).mkdir()
            config = {"task": {"name": "associative"},
                      "model": {"kind": "fast_weights", "hidden_units": 20}, "seed": seed}
            (folder / "runs" / run / "config.json").write_text(json.dumps(config))
            (folder / "runs" / run / "metrics.json").write_text(json.dumps(
                {"model": "fast_weights", "hidden_units": 20, "seed": seed,
                 "wall_seconds": seconds, "device": "cpu"}))


def test_rows_come_from_the_logs_and_the_grid(tmp_path):
    executions = [
        {"started": "t1", "notebooks": ["01_data", "02_train"], "seconds": 600.0,
         "notebook_seconds": {"01_data": 2.0, "02_train": 598.0}, "code_version": "abc"},
        {"started": "t2", "notebooks": ["05_report"], "seconds": 6.0,
         "notebook_seconds": {"05_report": 6.0}, "code_version": "def"},
    ]
    _profile(tmp_path, "one", {"executions": executions}, {"a": 120.0, "b": 240.0, "c": None})
    legacy = {"started": "t0", "last_run_seconds": 90.0, "environment": {"code_version": "x"},
              "notebooks": {"02_train": {"seconds": 60.0, "status": "ok"},
                            "04_figures": {"seconds": 30.0, "status": "ok"}}}
    _profile(tmp_path, "two", legacy, {"d": 30.0})

    rows = times.collect(tmp_path, None)
    assert [(r["profile"], r["started"]) for r in rows] == [("one", "t1"), ("one", "t2"),
                                                            ("two", "t0")]
    first = rows[0]
    assert first["minutes"] == 10.0 and first["train_notebook_minutes"] == 598.0 / 60
    assert (first["grid_runs"], first["grid_runs_finished"]) == (3, 2)
    assert first["grid_training_minutes"] == 6.0 and first["slowest_run"] == "b"
    assert first["grid_seeds"] == "0 1"
    assert rows[1]["train_notebook_minutes"] is None
    assert rows[2]["minutes"] == 1.5 and rows[2]["notebooks"] == "02_train 04_figures"
    assert "| one | t1 |" in times.markdown(rows)


def test_output_files_and_bad_arguments(tmp_path, capsys):
    _profile(tmp_path, "one", {"executions": []}, {"a": 60.0})
    assert times.main(["--results-root", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "profile_times.csv").read_text().startswith("profile,")
    assert "no profile has been run" in (tmp_path / "out" / "profile_times.md").read_text()
    with pytest.raises(SystemExit):
        times.parse_args(["--results-root", str(tmp_path), "--profiles", "nope"])
    assert "--profiles" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        times.parse_args(["--results-root", str(tmp_path / "missing")])
    assert "--results-root" in capsys.readouterr().err


def test_a_planned_run_is_charged_from_the_nearest_timing():
    from fwlib.cores import CoreSpec
    from fwlib.run.config import RunConfig
    from fwlib.tasks.associative import AssociativeTask

    timed = {("fast_weights", 20, 1, 4): 2.0, ("fast_weights", 20, 3, 4): 5.0,
             ("fast_weights", 50, 1, 4): 4.0, ("lstm", 20, 1, 4): 3.0}

    def cfg(model="fast_weights", hidden_units=20, inner_steps=1, num_pairs=4):
        return RunConfig(task=AssociativeTask(num_pairs=num_pairs),
                         model=CoreSpec(model, hidden_units, inner_steps=inner_steps))

    assert times.charge(cfg(), timed) == 2.0
    assert times.charge(cfg(model="lstm"), timed) == 3.0
    assert times.charge(cfg(model="rnn_ln", hidden_units=50), timed) == 4.0  # as fast weights
    assert times.charge(cfg(hidden_units=50, inner_steps=3), timed) == 4.0 * 2.5  # S ratio at 20
    assert times.charge(cfg(model="lstm", num_pairs=8), timed) == 3.0 * 19 / 11  # length 2K + 3


def _timings(root: Path) -> Path:
    """Finished runs of fast weights, LSTM and IRNN at R = 20 and 50: 1 ms per update."""
    for kind in ("fast_weights", "lstm", "irnn"):
        for units in (20, 50):
            folder = root / "runs" / f"{kind}_{units}"
            folder.mkdir(parents=True)
            config = {"task": {"name": "associative", "num_pairs": 4},
                      "model": {"kind": kind, "hidden_units": units, "inner_steps": 1}}
            (folder / "config.json").write_text(json.dumps(config))
            (folder / "metrics.json").write_text(json.dumps(
                {"model": kind, "hidden_units": units, "seed": 0, "steps": 1000,
                 "wall_seconds": 1.0}))
    return root


def test_an_estimate_plans_every_run_of_the_profile(tmp_path):
    rows = times.estimate("smoke", _timings(tmp_path), workers=(1, 2, 64))
    # the capacity study's K = 4 runs are Table 1's: charged once, to 02_train
    assert [(r["notebook"], r["runs"]) for r in rows] == [("associative/02_train", 6),
                                                          ("associative/03_ablations", 3),
                                                          ("associative/05_capacity", 2)]
    assert rows[0]["updates"] == 5 * 400 + 800 and rows[1]["updates"] == 3 * 200
    assert rows[2]["updates"] == 2 * 400
    assert rows[0]["hours_at_most"] == pytest.approx((5 * 400 + 800) * 0.001 / 3600)
    for row in rows:
        assert row["hours_1_workers"] == pytest.approx(row["hours_at_most"])
        assert row["hours_1_workers"] > row["hours_2_workers"] >= row["hours_64_workers"] > 0


def test_makespan_spreads_the_longest_runs_first():
    assert times.makespan([5, 4, 3, 3, 3], 2) == 10
    assert times.makespan([5, 4, 3], 1) == 12
    assert times.makespan([5, 4, 3], 64) == 5


def test_recorded_runs_are_charged_the_updates_they_took(tmp_path):
    planned = times.plan("smoke")["runs"]["associative/02_train"]
    recorded = tmp_path / "recorded"
    run_dir = times.catalog.runs_dir("associative/02_train", recorded) / planned[0].run_name()
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text(json.dumps({"steps": 150}))
    full = times.estimate("smoke", _timings(tmp_path / "timings"), workers=(1,))
    replay = times.estimate("smoke", _timings(tmp_path / "timings2"), workers=(1,),
                            recorded_root=recorded)
    assert (full[0]["recorded"], replay[0]["recorded"]) == (0, 1)
    saved = planned[0].budget.max_steps - 150
    assert replay[0]["updates"] == full[0]["updates"] - saved
    assert replay[0]["hours_1_workers"] == pytest.approx(
        full[0]["hours_1_workers"] - saved * 0.001 / 3600)
    assert [r["updates"] for r in replay[1:]] == [r["updates"] for r in full[1:]]
    text = times.estimate_markdown(replay, tmp_path, recorded)
    assert "the updates it took" in text and "| recorded |" in text


def test_recorded_needs_an_estimate_and_a_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        times.parse_args(["--recorded", str(tmp_path)])
    assert "--recorded: needs --estimate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        times.parse_args(["--estimate", "smoke", "--recorded", str(tmp_path / "absent")])
    assert "is not a folder" in capsys.readouterr().err
