"""Some cells of a profile's Table 2, trained on their own and tabulated."""

import pandas as pd
import pytest

from fwlib.run.store import load_runs
from fwlib.tasks.mnist_glimpses import cells, plans

PROFILE = """\
notebooks:
  mnist_glimpses/02_grid:
    models: [fast_weights, lstm, convnet]
    hidden_units: [50, 100]
    seeds: [0, 1]
    max_steps: {default: 20}
    eval_every: 10
    batch_size: 32
    train_examples: 256
    progress: false
"""


def _errors(rows):
    return pd.DataFrame([{"model": m, "hidden_units": r, "seed": s, "test_error": e / 100,
                          "diverged": False, "max_steps": 15000, "train_examples": 50_000,
                          "steps": 15000, "best_step": 14000, "stopped": "budget",
                          "wall_seconds": 60.0} for m, r, s, e in rows])


def test_the_cells_named_are_the_profiles_planned_runs():
    configs = plans.table2_grid(["fast_weights", "lstm", "convnet"], [8, 16], [0, 1], 20,
                                eval_every=10)
    chosen = cells.select(configs, ["fast_weights", "lstm"], [16], None)
    assert sorted((c.model.kind, c.model.hidden_units, c.seed) for c in chosen) == [
        ("fast_weights", 16, 0), ("fast_weights", 16, 1), ("lstm", 16, 0), ("lstm", 16, 1)]
    assert len(cells.select(configs)) == len(configs)
    with pytest.raises(ValueError, match=r"models must be among convnet, fast_weights, lstm"):
        cells.select(configs, ["irnn"])
    with pytest.raises(ValueError, match=r"units must be among 8, 16, .*\(got 200\)"):
        cells.select(configs, units=[200])


def test_the_cells_table_compares_fast_weights_with_each_model_at_its_width():
    runs = _errors([("fast_weights", 200, 0, 1.6), ("fast_weights", 200, 1, 1.7),
                    ("lstm", 200, 0, 1.1), ("lstm", 200, 1, 1.2),
                    ("irnn", 200, 0, 1.65), ("irnn", 200, 1, 2.0)])
    table = cells.cells_table(runs).set_index("kind")
    assert list(table.index) == ["irnn", "lstm", "fast_weights"]  # only the cells run
    assert table.loc["lstm", "fast_weights_vs"] == "fast weights loses LSTM"
    assert table.loc["irnn", "fast_weights_vs"] == "fast weights unclear IRNN"
    assert table.loc["fast_weights", "fast_weights_vs"] == ""
    assert table.loc["lstm", "verdict"] == "reproduced"  # paper 1.10 ± 0.5
    assert table.loc["fast_weights", "verdict"] == "not reproduced"  # paper 0.85 ± 0.5
    text = cells.cells_markdown(table.reset_index(), "paper")
    assert "| Fast weights | 200 | 2 | 1.65 |" in text and "| 15,000 | 15,000 |" in text


def test_cells_train_into_the_profiles_folder_and_bad_names_stop_first(tmp_path, capsys):
    profile = tmp_path / "tiny.yaml"
    profile.write_text(PROFILE)
    root = tmp_path / "results"
    assert cells.main(["--profile", str(profile), "--models", "gru",
                       "--results-root", str(root)]) == 2
    assert "models must be among" in capsys.readouterr().err
    assert not root.exists()  # nothing written
    assert cells.main(["--profile", str(profile), "--models", "fast_weights", "--units", "50",
                       "--seeds", "0", "--workers", "1", "--results-root", str(root)]) == 0
    folder = plans.task_dir(root / "tiny")
    runs = load_runs(folder / "runs")
    assert list(zip(runs["model"], runs["hidden_units"], runs["seed"], strict=True)) == [
        ("fast_weights", 50, 0)]
    table = pd.read_csv(folder / "tables" / "cells.csv")
    assert list(table["kind"]) == ["fast_weights"] and table.loc[0, "seeds"] == 1
    assert "Table 2 cells of the `tiny` profile" in (folder / "tables" / "cells.md").read_text()
    capsys.readouterr()
    assert cells.main(["--profile", str(profile), "--models", "fast_weights", "--units", "50",
                       "100", "--seeds", "0", "--no-train", "--results-root", str(root)]) == 0
    assert "not finished, left out: fast_weights_R100_seed0_" in capsys.readouterr().out
    assert len(load_runs(folder / "runs")) == 1  # nothing trained
    assert list(pd.read_csv(folder / "tables" / "cells.csv")["R"]) == [50]


def test_the_twins_without_dropout_are_the_runs_the_report_pairs(tmp_path):
    from fwlib.tasks.mnist_glimpses.table import twin_name

    profile = tmp_path / "tiny.yaml"
    profile.write_text(PROFILE.replace("    progress: false\n", "    dropout: {convnet: 0.2, "
                                       "default: 0.0}\n    xla: {default: true, convnet: "
                                       "false}\n    progress: false\n"))
    root = tmp_path / "results"
    chosen = ["--profile", str(profile), "--models", "convnet", "--units", "50", "--seeds",
              "0", "--workers", "1", "--results-root", str(root)]
    assert cells.main(chosen) == 0
    assert cells.main([*chosen, "--without-dropout"]) == 0
    tables = plans.task_dir(root / "tiny") / "tables"  # each table in its own files
    assert pd.read_csv(tables / "cells.csv")["kind"].tolist() == ["convnet"]
    assert "twins without dropout" in (tables / "cells_without_dropout.md").read_text()
    assert "twins without dropout" not in (tables / "cells.md").read_text()
    runs = load_runs(plans.task_dir(root / "tiny") / "runs")
    assert sorted(runs["dropout"]) == [0.0, 0.2]
    assert set(runs["xla"]) == {False}
    dropped = runs[runs["dropout"] > 0].iloc[0]
    twin = twin_name(plans.task_dir(root / "tiny") / "runs" / dropped["run"], "dropout")
    assert twin in set(runs["run"]) and twin != dropped["run"]
