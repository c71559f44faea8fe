import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "alstm_speed.py"
spec = importlib.util.spec_from_file_location("alstm_speed", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("argv, option", [(["--units", "7"], "--units"),
                                          (["--units", "0"], "--units"),
                                          (["--windows", "0"], "--windows"),
                                          (["--window-steps", "-5"], "--window-steps")])
def test_bad_arguments_name_the_option(tmp_path, capsys, argv, option):
    with pytest.raises(SystemExit):
        bench.main([*argv, "--out", str(tmp_path)])
    assert option in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("units", [8, 20])
def test_the_sliced_form_computes_the_layers_function(units):
    assert bench.check_same_function(units) < 1e-5


def test_the_table_puts_the_layer_beside_the_sliced_form(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--units", "8", "--windows", "1",
                           "--window-steps", "5", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "alstm_speed.json").read_text())["rows"]
    assert [(r["units"], r["form"]) for r in rows] == [(8, "sliced"), (8, "layer")]
    assert rows[0]["speedup"] == 1.0
    for row in rows:
        assert row["ms_per_update"] > 0 and row["peak_rss_mib"] > 0
        assert row["max_output_difference"] < 1e-5
        assert row["examples_per_second"] == pytest.approx(128_000 / row["ms_per_update"])
    text = (tmp_path / "alstm_speed.md").read_text()
    assert "| 8 | the layer (Table 1) |" in text
    assert text in done.stdout
