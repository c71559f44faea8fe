import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "parallel_speed.py"
spec = importlib.util.spec_from_file_location("parallel_speed", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_the_grid_has_eight_distinct_real_runs():
    configs = bench.grid(3000, 4)
    assert len({c.run_id() for c in configs}) == 8
    assert {c.model.kind for c in configs} == {"fast_weights", "lstm"}


def test_the_table_shows_speed_up_and_whether_the_numbers_agree():
    same = [{"test_error": 0.1}]
    rows = [{"workers": 1, "runs": 8, "seconds": 100.0, "runs_per_minute": 4.8,
             "train_seconds": 96.0, "metrics": same},
            {"workers": 2, "runs": 8, "seconds": 50.0, "runs_per_minute": 9.6,
             "train_seconds": 96.0, "metrics": same},
            {"workers": 4, "runs": 8, "seconds": 40.0, "runs_per_minute": 12.0,
             "train_seconds": 120.0, "metrics": [{"test_error": 0.2}]}]
    text = bench.markdown(rows, {"steps": 3000, "device": "cpu", "code_version": "abc"})
    assert "| 2 | 50 | 9.60 | 2.00× | 96 | 12.0 | yes |" in text
    assert "| 4 | 40 | 12.00 | 2.50× | 120 | 15.0 | **no** |" in text


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--steps", "1234"], ["--workers", "0"]])
def test_bad_arguments_are_named(argv, capsys):
    with pytest.raises(SystemExit):
        bench.main(argv)
    assert argv[0] in capsys.readouterr().err
