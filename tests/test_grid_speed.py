import importlib.util
import json
from pathlib import Path

import pytest

from fwlib.run.store import load_runs

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "grid_speed.py"
spec = importlib.util.spec_from_file_location("grid_speed", SCRIPT)
grid_speed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grid_speed)


def _run(root: Path, name: str, kind: str, units: int, seed: int, steps: int, seconds: float,
         test_error: float, code: str) -> None:
    folder = root / "runs" / name
    folder.mkdir(parents=True)
    config = {"task": {"name": "associative"}, "model": {"kind": kind, "hidden_units": units},
              "budget": {"max_steps": 20_000}, "seed": seed}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "metrics.json").write_text(json.dumps(
        {"model": kind, "hidden_units": units, "seed": seed, "steps": steps,
         "wall_seconds": seconds, "test_error": test_error, "valid_error": test_error,
         "stopped": "budget", "diverged": False, "code_version": code}))


def _grids(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    _run(before, "lstm_a", "lstm", 50, 0, 1000, 10.0, 0.03, "old")
    _run(before, "lstm_b", "lstm", 50, 1, 3000, 30.0, 0.04, "old")
    _run(before, "irnn_a", "irnn", 20, 0, 2000, 4.0, 0.2, "old")
    _run(before, "only_before", "irnn", 20, 1, 2000, 4.0, 0.2, "old")
    _run(after, "lstm_a", "lstm", 50, 0, 1000, 5.0, 0.031, "new")
    _run(after, "lstm_b", "lstm", 50, 1, 1000, 5.0, 0.05, "new")
    _run(after, "irnn_a", "irnn", 20, 0, 2000, 2.0, 0.2, "new")
    return before, after


def test_times_per_update_are_summed_over_the_seeds_of_each_cell(tmp_path):
    pairs = grid_speed.paired_runs(*(load_runs(folder) for folder in _grids(tmp_path)))
    assert sorted(pairs["run"]) == ["irnn_a", "lstm_a", "lstm_b"]  # runs in both only
    cells = grid_speed.per_cell(pairs).set_index("model")
    lstm = cells.loc["lstm"]
    assert lstm["runs"] == 2
    assert lstm["ms_per_update_before"] == pytest.approx(10.0)  # 40 s over 4,000 updates
    assert lstm["ms_per_update_after"] == pytest.approx(5.0)  # 10 s over 2,000 updates
    assert lstm["speedup"] == pytest.approx(2.0)
    assert cells.loc["irnn", "speedup"] == pytest.approx(2.0)


def test_the_table_names_the_code_versions_and_every_run(tmp_path, capsys):
    before, after = _grids(tmp_path)
    assert grid_speed.main([str(before), str(after), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "grid_speed.md").read_text()
    assert "(code old)" in text and "(code new)" in text
    assert "| lstm_b | 1 | 3000 | 1000 | 4.0 | 5.0 |" in text
    assert "44.0 min before" not in text and "Runs' own time in all" in text
    assert text in capsys.readouterr().out
    # Table 1 and the main claim, as each training gives them (one seed: not judged).
    assert "Table 1, before:" in text and "Table 1, after:" in text
    assert ("| LSTM | 60.81 | not run | 1.85 | 3.50 ± 0.71 (0 of 2 seeds within, 2 worse; "
            "not reproduced) |") in text  # before: 3.0 and 4.0 %
    assert "| 1.85 | 4.05 ± 1.34 (0 of 2 seeds within" in text  # after: 3.1 and 5.0 %
    assert "The main claim, before:" in text and "The main claim, after:" in text


def test_a_missing_folder_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        grid_speed.parse_args([str(tmp_path / "nope"), str(tmp_path)])
    assert "before" in capsys.readouterr().err


def test_no_common_run_exits_with_2(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert grid_speed.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 2
