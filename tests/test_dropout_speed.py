import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "dropout_speed.py"
spec = importlib.util.spec_from_file_location("dropout_speed", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("argv, option", [(["--rate", "1.0"], "--rate"),
                                          (["--rate", "0"], "--rate"),
                                          (["--windows", "0"], "--windows"),
                                          (["--window-steps", "-5"], "--window-steps"),
                                          (["--models", "gru"], "--models")])
def test_bad_arguments_name_the_option(tmp_path, capsys, argv, option):
    with pytest.raises(SystemExit):
        bench.main([*argv, "--out", str(tmp_path)])
    assert option in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_table_puts_each_generator_beside_no_dropout(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--units", "8", "--windows", "1",
                           "--window-steps", "5", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "dropout_speed.json").read_text())["rows"]
    assert [(r["variant"], r["rate"]) for r in rows] == [("none", 0.0), ("keras", 0.3),
                                                           ("philox", 0.3)]
    assert rows[0]["slowdown"] == 1.0
    for row in rows:
        assert row["ms_per_update"] > 0 and row["peak_rss_mib"] > 0
        assert row["examples_per_second"] == pytest.approx(128_000 / row["ms_per_update"])
    text = (tmp_path / "dropout_speed.md").read_text()
    assert "| fast_weights | 8 | 0.3 | Philox (Table 2) |" in text
    assert text in done.stdout
