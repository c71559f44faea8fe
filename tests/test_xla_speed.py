import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "xla_speed.py"
spec = importlib.util.spec_from_file_location("xla_speed", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("argv, option", [(["--steps", "0"], "--steps"),
                                          (["--steps", "120"], "--steps"),
                                          (["--eval-every", "-5"], "--eval-every"),
                                          (["--target", "1.5"], "--target"),
                                          (["--models", "gru"], "--models"),
                                          (["--profile", "nonesuch"], "--profile"),
                                          (["--profile", "smoke", "--units", "7"], "--units")])
def test_bad_arguments_name_the_option(tmp_path, capsys, argv, option):
    with pytest.raises(SystemExit):
        bench.main([*argv, "--out", str(tmp_path)])
    assert option in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_time_to_target_is_the_first_evaluation_at_or_below_it():
    history = {"valid_error": [0.5, 0.04, 0.03, 0.01], "wall_seconds": [1.0, 2.0, 3.0, 4.0]}
    assert bench.time_to(history, 0.03) == 3.0
    assert bench.time_to(history, 0.001) is None


def test_the_table_puts_each_model_without_xla_beside_xla(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--profile", "smoke", "--models",
                           "convnet", "--units", "50", "--steps", "20", "--eval-every", "10",
                           "--target", "0.9", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "xla_speed.json").read_text())["rows"]
    assert [(r["model"], r["units"], r["xla"]) for r in rows] == [("convnet", 50, True),
                                                                  ("convnet", 50, False)]
    assert rows[0]["time_against_xla"] == 1.0
    for row in rows:
        assert row["steps"] == 20 and row["ms_per_update"] > 0 and row["peak_rss_mib"] > 0
        assert row["examples_per_second"] == pytest.approx(128_000 / row["ms_per_update"])
        assert row["time_to_target_s"] is not None  # 90 % error: reached at once
    text = (tmp_path / "xla_speed.md").read_text()
    assert "| convnet | 50 | TensorFlow kernels (no XLA) |" in text
    assert text in done.stdout
