"""The experiment's notebooks, run in order under papermill with tiny parameters; what they
record is read back."""

import json
from pathlib import Path

import pandas as pd
import papermill
import pytest

from fwlib import verdicts
from fwlib.pipeline import catalog, runner
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_runs
from fwlib.tasks.mnist_glimpses import plans, table

TINY = {
    "mnist_glimpses/01_glimpses": {"orders": ["coarse_fine", "fine_centre"],
                                   "examples_to_show": 2},
    "mnist_glimpses/02_grid": {"models": ["fast_weights"], "hidden_units": [50], "seeds": [0],
                               "max_steps": {"default": 20}, "eval_every": 10,
                               "batch_size": 32, "train_examples": 256, "dropout": 0.1,
                               "progress": False},
    "mnist_glimpses/03_table2": {},
}


def _run(name: str, results: Path, out: Path, **params) -> None:
    papermill.execute_notebook(str(catalog.notebook_path(name)), str(out / f"{name[-8:]}.ipynb"),
                               parameters={"results_dir": str(results), **params},
                               kernel_name=runner.KERNEL_NAME, cwd=str(REPO_ROOT),
                               progress_bar=False)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    results = tmp_path_factory.mktemp("mnist_results")
    out = tmp_path_factory.mktemp("mnist_notebooks")
    for name, params in TINY.items():
        if name == "mnist_glimpses/02_grid":  # first the same grid without dropout: the twins
            _run(name, results, out, **{**params, "dropout": 0.0})
        _run(name, results, out, **params)
    return results


def test_the_notebooks_are_in_the_pipeline_in_order():
    names = [n for n in catalog.notebooks() if n.startswith("mnist_glimpses/")]
    assert names == list(TINY)
    assert catalog.notebooks().index(names[0]) > catalog.notebooks().index(
        "associative/01_data")


def test_recorded_metrics_are_read_back(executed):
    folder = plans.task_dir(executed)
    summary = json.loads((folder / "data" / "summary.json").read_text())
    assert summary["sizes"] == {"train": 50_000, "valid": 10_000, "test": 10_000}
    assert (folder / "figures" / "glimpses.png").exists()

    all_runs = load_runs(folder / "runs")
    runs = plans.table2_runs(executed, all_runs)
    assert len(all_runs) == 2 and len(runs) == 1  # the table's run and its twin
    run = runs.iloc[0]
    assert run["dropout"] == 0.1
    assert (run["model"], run["hidden_units"], run["steps"]) == ("fast_weights", 50, 20)
    assert run["train_examples"] == 256 and run["order"] == "coarse_fine"
    history = pd.read_csv(Path(run["run_dir"]) / "history.csv")
    assert list(history["step"]) == [10, 20]
    assert run["valid_error"] == pytest.approx(history["valid_error"].min())
    assert 0.0 <= run["test_error"] <= 0.95

    table2 = pd.read_csv(folder / "tables" / "table2.csv")
    assert len(table2) == 12
    cell = table2[(table2["kind"] == "fast_weights") & (table2["R"] == 50)].iloc[0]
    assert cell["ours_mean"] == pytest.approx(100 * run["test_error"], abs=1e-9)
    assert cell["verdict"] == verdicts.TOO_SHORT  # 20 updates on 256 images: no verdict
    assert set(table2.drop(cell.name)["verdict"]) == {verdicts.NOT_RUN}
    claim = pd.read_csv(folder / "tables" / "table2_claim.csv")
    assert list(claim["verdict"]) == [table.HOLDS, table.NOT_JUDGED]
    assert (folder / "figures" / "table2_curves.png").exists()
    assert "Fast weights" in (folder / "tables" / "table2.md").read_text()

    pairs = pd.read_csv(folder / "tables" / "dropout_pairs.csv")
    twin = all_runs[all_runs["dropout"] == 0].iloc[0]
    assert list(pairs["twin"]) == [twin["run"]] and list(pairs["seed"]) == [0]
    assert pairs["change"].iloc[0] == pytest.approx(
        100 * (run["test_error"] - twin["test_error"]))
    assert pd.read_csv(folder / "tables" / "shift_pairs.csv").empty  # no run moves its images

    without = pd.read_csv(folder / "tables" / "without_fast_weights.csv")
    assert list(without["run"]) == [run["run"]]
    # the kept weights, evaluated again, give back the recorded validation error (one
    # example is 1e-4; Keras records the accuracy in float32)
    assert without["valid_error"].iloc[0] == pytest.approx(run["valid_error"], abs=1e-6)
    assert without["valid_error_recorded"].iloc[0] == run["valid_error"]
    assert 0.0 <= without["valid_error_without_fast_weights"].iloc[0] <= 1.0


def test_the_report_section_reads_what_the_notebooks_wrote(executed, monkeypatch):
    from IPython import display as ipython_display

    from fwlib.tasks.mnist_glimpses import report

    shown = []
    monkeypatch.setattr(ipython_display, "display", lambda *items: shown.extend(items))
    report.section(executed, "tiny")
    text = "\n".join(getattr(item, "data", "") or "" for item in shown
                     if isinstance(getattr(item, "data", None), str))
    assert "Table 2: MNIST test error" in text and "Too short to judge" in text
    assert "Deviations and assumptions" in text
    assert "use their fast weights?" in text and "with η = 0 at test time" in text
    assert "What dropout changed" in text and "claim **not judged**" in text
    assert report.DROPOUT_FIT_NOTE in text  # the table's run trained with dropout
    assert report.SHIFT_FIT_NOTE not in text  # and read its images as they are

    shown.clear()
    report.section(executed / "nothing_here", "tiny")
    text = "\n".join(item.data for item in shown if isinstance(getattr(item, "data", None), str))
    assert "Not run in this profile" in text and "Deviations and assumptions" in text


def test_a_missing_input_names_the_notebook_to_run_first(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="mnist_glimpses/01_glimpses"):
        _run("mnist_glimpses/02_grid", tmp_path / "empty", tmp_path,
             **TINY["mnist_glimpses/02_grid"])
    assert not (tmp_path / "empty" / "mnist_glimpses" / "runs").exists()


def test_the_fast_weights_check_refuses_other_runs(executed, tmp_path):
    from fwlib.tasks.mnist_glimpses import diagnostics

    run_dir = Path(load_runs(plans.task_dir(executed) / "runs")["run_dir"].iloc[0])
    other = tmp_path / "lstm_run"
    other.mkdir()
    config = json.loads((run_dir / "config.json").read_text())
    config["model"]["kind"] = "lstm"
    (other / "config.json").write_text(json.dumps(config))
    (other / "metrics.json").write_text((run_dir / "metrics.json").read_text())
    with pytest.raises(ValueError, match="lstm run, not fast_weights"):
        diagnostics.without_fast_weights(other)
    with pytest.raises(ValueError, match="no finished run"):
        diagnostics.without_fast_weights(tmp_path / "nothing")
