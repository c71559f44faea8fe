import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from fwlib import pipeline

NOTEBOOKS = sorted(pipeline.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_exist_in_order():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:2] == ["01_data", "02_train"] and names[-1] == "05_report"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_with_documented_parameters(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "outputs committed"
    tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters cell"
    for line in tagged[0].source.splitlines():
        if line.strip():
            assert "#" in line, f"parameter line without a comment: {line!r}"
    declared = papermill.inspect_notebook(str(path))
    assert "results_dir" in declared
    assert all(p["help"] for p in declared.values())


def test_profiles_name_real_notebooks_and_parameters():
    for name in pipeline.profiles():
        profile = pipeline.load_profile(name)
        for notebook in profile.get("notebooks", {}):
            params = pipeline.notebook_parameters(notebook, profile, name, "results/x")
            pipeline.validate(notebook, params)


def test_a_profile_takes_its_base_and_replaces_what_it_names():
    seeds, default = pipeline.load_profile("seeds"), pipeline.load_profile("default")
    assert seeds["notebooks"]["02_train"] == {**default["notebooks"]["02_train"],
                                              "seeds": [0, 1, 2]}
    for notebook in ("03_ablations", "04_figures"):
        assert seeds["notebooks"][notebook] == default["notebooks"][notebook]
    assert "base" not in seeds and seeds["description"] != default["description"]


def test_a_bad_or_circular_base_is_named(tmp_path, monkeypatch):
    path = tmp_path / "custom.yaml"
    path.write_text(json.dumps({"base": "nope", "notebooks": {}}))
    with pytest.raises(pipeline.PipelineError, match="base must be one of"):
        pipeline.load_profile(str(path))

    monkeypatch.setattr(pipeline, "PROFILE_DIR", tmp_path)
    (tmp_path / "a.yaml").write_text(json.dumps({"base": "b"}))
    (tmp_path / "b.yaml").write_text(json.dumps({"base": "a"}))
    with pytest.raises(pipeline.PipelineError, match="without cycles"):
        pipeline.load_profile("a")


def _write_profile(tmp_path: Path, notebooks: dict) -> str:
    path = tmp_path / "custom.yaml"
    path.write_text(json.dumps({"description": "test", "notebooks": notebooks}))
    return str(path)


@pytest.mark.parametrize("notebooks, message", [
    ({"02_train": {"models": ["fw"]}}, "models must be drawn from"),
    ({"02_train": {"hidden_units": [0]}}, "hidden_units must be a positive integer"),
    ({"02_train": {"max_steps": {"default": 300}, "eval_every": 200}}, "max_steps must be"),
    ({"02_train": {"learning_rat": 0.1}}, "unknown parameter"),
    ({"01_data": {"num_pairs": 40}}, "num_pairs must be"),
    ({"09_nothing": {}}, "unknown notebook"),
])
def test_bad_parameter_stops_before_anything_is_written(tmp_path, notebooks, message, capsys):
    profile = _write_profile(tmp_path, notebooks)
    code = pipeline.main(["--profile", profile, "--results-root", str(tmp_path / "results")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_bad_profile_and_selection_are_named(capsys):
    assert pipeline.main(["--profile", "nope"]) == 2
    assert "profile must be one of" in capsys.readouterr().err
    with pytest.raises(pipeline.PipelineError, match="--only must name one of"):
        pipeline.selected(["99"], None)
    assert pipeline.selected(None, "04") == ["04_figures", "05_report"]
    assert pipeline.selected(["02", "01_data"], None) == ["01_data", "02_train"]


def test_failing_notebook_is_reported_with_cell_and_error(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": pipeline.KERNEL_NAME, "language": "python",
                                   "display_name": "Python"}
    params = nbformat.v4.new_code_cell('results_dir = "x"  # output folder')
    params.metadata["tags"] = ["parameters"]
    book.cells = [params, nbformat.v4.new_code_cell("raise RuntimeError('boom in cell')")]
    nbformat.write(book, notebooks / "01_fail.ipynb")
    monkeypatch.setattr(pipeline, "NOTEBOOK_DIR", notebooks)
    profile = _write_profile(tmp_path, {})
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.run(profile, results_root=tmp_path / "results")
    text = str(error.value)
    assert "01_fail" in text and "cell" in text and "boom in cell" in text


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    out = pipeline.run("smoke", results_root=root)
    return out


def test_smoke_profile_end_to_end(smoke):
    for path in ("report.html", "index.html", "tables/table1.csv", "tables/table1.md",
                 "figures/figure2.png", "figures/figure2.svg", "data/summary.json",
                 "notebooks/02_train.ipynb", "notebooks/02_train.html", "pipeline.json"):
        assert (smoke / path).exists(), path
    report = (smoke / "report.html").read_text()
    assert "Deviations and assumptions" in report and "data:image/png;base64" in report
    assert "layer norm is crucial" in report

    claims = pd.read_csv(smoke / "tables" / "ablation_claims.csv")
    assert len(claims) == 3
    tested = claims[~claims["claim"].str.startswith("(2)")]
    assert set(tested["verdict"]) <= {"confirmed", "refuted"}
    # the smoke profile runs no inner-steps study, so claim (2) must not get a verdict
    untested = claims[claims["claim"].str.startswith("(2)")]
    assert untested["verdict"].tolist() == ["not tested"]
    assert untested["evidence"].tolist() == ["missing runs"]
    ablation_runs = pd.read_csv(smoke / "tables" / "ablation_runs.csv")
    assert set(ablation_runs["run"]) == {"fast_weights_R20_lr0.003_seed0",
                                         "fast_weights_R20_lr0.003_noLN_seed0",
                                         "rnn_ln_R20_lr0.003_seed0"}
    assert ablation_runs["steps"].eq(200).all()
    assert "Table 1" in report and "In&nbsp;[" not in report  # code hidden

    table = pd.read_csv(smoke / "tables" / "table1.csv")
    assert len(table) == 12
    ran = table[table["seeds"] > 0]
    assert set(zip(ran["kind"], ran["R"], strict=True)) == {
        (m, r) for m in ("fast_weights", "lstm", "irnn") for r in (20, 50)}
    for _, row in ran.iterrows():
        run_dir = smoke / "runs" / f"{row['kind']}_R{row['R']}_lr0.003_seed0"
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert row["ours_mean"] == pytest.approx(100 * metrics["test_error"], abs=1e-9)
        assert 0.0 <= metrics["test_error"] <= 0.95
        history = pd.read_csv(run_dir / "history.csv")
        assert metrics["valid_error"] == pytest.approx(history["valid_error"].min())
    fast = json.loads((smoke / "runs" / "fast_weights_R50_lr0.003_seed0" / "metrics.json")
                      .read_text())
    assert fast["steps"] == 800 and fast["test_error"] < 0.75  # well below 90 % chance error


def test_second_run_trains_nothing(smoke):
    metrics = sorted(smoke.glob("runs/*/metrics.json"))
    before = {p: p.stat().st_mtime_ns for p in metrics}
    histories = {p: (p.parent / "history.csv").read_text() for p in metrics}
    pipeline.run("smoke", only=["02_train"], results_root=smoke.parent)
    assert {p: p.stat().st_mtime_ns for p in metrics} == before
    assert {p: (p.parent / "history.csv").read_text() for p in metrics} == histories
    executed = nbformat.read(smoke / "notebooks" / "02_train.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "0 to train" in text


def test_notebook_output_goes_to_the_current_stdout_once(capsys):
    import logging

    pipeline._show_notebook_output()
    pipeline._show_notebook_output()
    logger = logging.getLogger("papermill")
    assert sum(isinstance(h, pipeline._Console) for h in logger.handlers) == 1
    logger.info("[1/2] a run: training")
    logger.info("Executing Cell 3---")  # papermill's own chatter is dropped
    logger.info("I0000 00:00:1795659299.111611   13290 port.cc:153] oneDNN custom operations")
    logger.info("WARNING: All log messages before absl::InitializeLog() is called are written")
    assert capsys.readouterr().out == "    [1/2] a run: training\n"
