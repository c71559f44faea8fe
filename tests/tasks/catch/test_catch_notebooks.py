import json
from pathlib import Path

import pandas as pd
import papermill
import pytest

from fwlib.pipeline.runner import KERNEL_NAME
from fwlib.run.provenance import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks" / "catch"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    root = tmp_path_factory.mktemp("catch")
    papermill.execute_notebook(
        str(NOTEBOOKS / "01_train.ipynb"), str(root / "01_train.ipynb"),
        parameters={"results_dir": str(root), "games": ["N6_M2"],
                    "agents": ["fast_weights", "feedforward"], "observed_games": ["N6_full"],
                    "observed_agents": ["lstm"], "seeds": [0], "hidden_units": 8,
                    "max_frames": {"default": 1600}, "num_envs": 8, "eval_every": 800,
                    "eval_episodes": 20, "progress": False},
        kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(REPO_ROOT))
    papermill.execute_notebook(
        str(NOTEBOOKS / "02_figures.ipynb"), str(root / "02_figures.ipynb"),
        parameters={"results_dir": str(root)}, kernel_name=KERNEL_NAME, progress_bar=False,
        cwd=str(REPO_ROOT))
    return root


def test_the_notebooks_train_the_grid_and_record_what_they_show(executed):
    root = executed / "catch"
    grid = json.loads((root / "grid.json").read_text())
    assert len(grid) == 3
    table = pd.read_csv(root / "tables" / "catch_rates.csv")
    assert set(zip(table["game"], table["model"], strict=True)) == {
        ("N6_M2", "fast_weights"), ("N6_M2", "feedforward"), ("N6_full", "lstm")}
    for name in grid:
        metrics = json.loads((root / "runs" / name / "metrics.json").read_text())
        row = table[(table["model"] == metrics["model"]) & (table["game"] == metrics["version"])]
        assert row["catch_rate_mean"].iloc[0] == pytest.approx(100 * metrics["catch_rate"])
        assert 0.0 <= metrics["catch_rate"] <= 1.0 and metrics["frames"] == 1600
        assert metrics["final_episodes"] == 1000
    claims = pd.read_csv(root / "tables" / "claims.csv")
    assert set(claims["verdict"]) <= {"too short to judge", "not run"}
    for path in ("figures/figure5.png", "figures/figure5.svg", "tables/catch_rates.md"):
        assert (root / path).exists(), path


def test_the_report_section_reads_the_tables_or_says_it_was_not_run(executed, tmp_path,
                                                                     monkeypatch):
    import IPython.display

    from fwlib.tasks.catch import report_section

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda *objects: shown.extend(str(getattr(o, "data", o))
                                                      for o in objects))
    report_section(tmp_path, "smoke")
    assert "Not run in this profile" in "\n".join(shown)
    shown.clear()
    report_section(executed, "smoke")
    text = "\n".join(shown)
    assert "too short to judge" in text and "A2C instead of A3C" in text
    assert "Evaluation and test games" in text and "weights kept at (M frames)" in text


def test_the_selection_table_marks_the_chosen_settings(tmp_path):
    from fwlib.tasks.catch.report import selection_markdown

    assert "have not been selected" in selection_markdown(tmp_path)
    pd.DataFrame({"agent": ["fast_weights", "fast_weights"], "learning_rate": [1e-3, 3e-3],
                  "fast_lr": [0.02, 0.5], "best_eval_catch_rate": [0.97, 0.9],
                  "best_frames": [2_400_000, 400_000], "last_eval_catch_rate": [0.7, 0.6],
                  "test_catch_rate": [0.95, 0.99], "chosen": [True, False]}).to_csv(
        tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert "| Fast weights | 0.001 | 0.02 | 97.0 | 2.4 | 70.0 | 95.0 | yes |" in text


def test_figures_notebook_names_the_missing_input(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="catch/01_train"):
        papermill.execute_notebook(
            str(NOTEBOOKS / "02_figures.ipynb"), str(tmp_path / "out.ipynb"),
            parameters={"results_dir": str(tmp_path)}, kernel_name=KERNEL_NAME,
            progress_bar=False, cwd=str(REPO_ROOT))


def test_the_source_notebooks_have_one_parameters_cell():
    for path in sorted(Path(NOTEBOOKS).glob("*.ipynb")):
        declared = papermill.inspect_notebook(str(path))
        assert "results_dir" in declared
