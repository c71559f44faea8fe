import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from fwlib import pipeline, verdicts
from fwlib.pipeline import catalog, runner
from fwlib.pipeline.__main__ import main
from fwlib.pipeline.console import Console
from fwlib.pipeline.profiles import load_profile, read_yaml
from fwlib.run.store import load_runs
from fwlib.tasks import TASKS

NOTEBOOKS = [catalog.notebook_path(n) for n in catalog.notebooks()]


def test_notebooks_are_grouped_by_task_with_the_report_last():
    names = catalog.notebooks()
    assert names[:4] == ["associative/01_data", "associative/02_train",
                         "associative/03_ablations", "associative/04_figures"]
    assert names[-1] == "report"
    tasks = [n.split("/")[0] for n in names[:-1]]
    assert tasks == sorted(tasks, key=list(TASKS).index)  # grouped, in the paper's order


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
    intro = book.cells[0]
    assert intro.cell_type == "markdown"
    assert "**Reads:**" in intro.source and "**Writes:**" in intro.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_saved_as_jupyterlab_saves_it(path):
    """Opening it in JupyterLab changes nothing: the file is nbformat's own serialisation,
    with cell ids, and the kernel's full language_info already in place."""
    import ipykernel.ipkernel

    text = path.read_text()
    book = nbformat.read(path, as_version=4)
    assert text == nbformat.writes(book) + "\n"
    assert (book.nbformat, book.nbformat_minor) == (4, 5)
    assert all(cell.get("id") for cell in book.cells)
    assert book.metadata.kernelspec.name == runner.KERNEL_NAME
    expected = dict(ipykernel.ipkernel.IPythonKernel.language_info)
    assert set(book.metadata.language_info) == set(expected)
    assert book.metadata.language_info["codemirror_mode"] == expected["codemirror_mode"]


def test_profiles_name_real_notebooks_and_parameters(tmp_path):
    for name in pipeline.profiles():
        planned = pipeline.plan(name, results_root=tmp_path)
        assert planned["notebooks"] == catalog.notebooks()
        assert len(planned["runs"]["associative/02_train"]) >= 6


def test_the_committed_results_were_trained_under_their_profiles_budgets():
    for name in pipeline.profiles():
        pipeline.plan(name)  # raises where a committed run's budget differs from its plan


def test_a_profile_takes_its_base_and_replaces_what_it_names():
    names = catalog.notebooks()
    seeds, default = pipeline.load_profile("seeds", names), pipeline.load_profile("default",
                                                                                  names)
    train = "associative/02_train"
    assert seeds["notebooks"][train] == {**default["notebooks"][train], "seeds": [0, 1, 2]}
    assert seeds["notebooks"]["associative/04_figures"] == default["notebooks"][
        "associative/04_figures"]
    ablations = "associative/03_ablations"
    assert seeds["notebooks"][ablations] == {
        **default["notebooks"][ablations],
        "studies": ["layer_norm", "inner_steps", "control"], "seeds": [0, 1, 2],
        "hidden_units": {"default": [20], "inner_steps": [20, 50]},
        "max_steps": {"default": 25000, "50": 60000},
        "learning_rate": {"default": 0.003, "50": 0.001}, "fast_lr": {"default": 0.5, "50": 0.1}}
    assert "base" not in seeds and seeds["description"] != default["description"]


def test_numeric_keys_of_a_profile_are_read_as_strings(tmp_path):
    """papermill records parameters as JSON with sorted keys: mixed number and string keys
    could not be written."""
    path = tmp_path / "mixed.yaml"
    path.write_text("notebooks:\n  associative/03_ablations:\n"
                    "    max_steps: {default: 25000, 50: 60000}\n"
                    "    hidden_units: {default: [20], inner_steps: [20, 50]}\n")
    params = pipeline.load_profile(str(path), catalog.notebooks())["notebooks"][
        "associative/03_ablations"]
    assert params["max_steps"] == {"default": 25000, "50": 60000}
    assert params["hidden_units"] == {"default": [20], "inner_steps": [20, 50]}
    json.dumps(params, sort_keys=True)


def test_a_bad_or_circular_base_is_named(tmp_path):
    path = tmp_path / "custom.yaml"
    path.write_text(json.dumps({"base": "nope", "notebooks": {}}))
    with pytest.raises(pipeline.PipelineError, match="base must be one of"):
        pipeline.load_profile(str(path), [])
    (tmp_path / "a.yaml").write_text(json.dumps({"base": "b"}))
    (tmp_path / "b.yaml").write_text(json.dumps({"base": "a"}))
    with pytest.raises(pipeline.PipelineError, match="without cycles"):
        pipeline.load_profile("a", [], directory=tmp_path)


@pytest.mark.parametrize("text, line, message", [
    ("description: x\nnotebooks:\n  associative/02_train: {models: [fw\n", None,
     "not valid YAML"),
    ("description: x\nnotebooks:\n  - associative/02_train\n", 3, "notebooks must be a mapping"),
    ("description: x\nnotebooks:\n  associative/02_train:\n    - models\n", 4,
     "must be a mapping of name to value"),
    ("- just\n- a list\n", 1, "a profile must be a mapping"),
    ("description: x\nworkerz: 2\n", 2, "unknown key 'workerz'"),
])
def test_a_malformed_profile_is_named_with_its_line(tmp_path, capsys, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(pipeline.PipelineError, match=message) as error:
        read_yaml(path)
    if line is not None:
        assert f"{path}, line {line}:" in str(error.value)
    code = main(["--profile", str(path), "--results-root", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def _write_profile(tmp_path: Path, notebooks: dict, **top) -> str:
    path = tmp_path / "custom.yaml"
    path.write_text(json.dumps({"description": "test", "notebooks": notebooks, **top}))
    return str(path)


@pytest.mark.parametrize("notebooks, top, message", [
    ({"associative/02_train": {"models": ["fw"]}}, {}, "models must be one of"),
    ({"associative/02_train": {"hidden_units": [0]}}, {}, "hidden_units must be a positive"),
    ({"associative/02_train": {"max_steps": {"default": 300}, "eval_every": 200}}, {},
     "max_steps must be"),
    ({"associative/02_train": {"learning_rat": 0.1}}, {}, "unknown parameter"),
    ({"associative/01_data": {"num_pairs": 40}}, {}, "num_pairs must be"),
    ({"associative/03_ablations": {"studies": ["dropout"]}}, {}, "studies must be"),
    ({"09_nothing": {}}, {}, "unknown notebook"),
    ({}, {"workers": 0}, "workers must be a positive integer"),
])
def test_bad_parameter_stops_before_anything_is_written(tmp_path, notebooks, top, message,
                                                         capsys):
    profile = _write_profile(tmp_path, notebooks, **top)
    code = main(["--profile", profile, "--results-root", str(tmp_path / "results")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_bad_options_are_named(capsys, tmp_path):
    assert main(["--profile", "nope"]) == 2
    assert "profile must be one of" in capsys.readouterr().err
    names = catalog.notebooks()
    with pytest.raises(pipeline.PipelineError, match="--only must name one of"):
        pipeline.selected(names, ["99"], None)
    assert pipeline.selected(names, None, "associative/04_figures") == names[
        names.index("associative/04_figures"):]
    assert pipeline.selected(names, ["associative/02_train", "associative/01_data"], None) == [
        "associative/01_data", "associative/02_train"]
    assert pipeline.selected(names, ["associative"], None) == [
        n for n in names if n.startswith("associative/")]
    assert pipeline.selected(names, ["report"], None) == ["report"]
    assert main(["--profile", "smoke", "--scheduler", "localhost:8786",
                 "--results-root", str(tmp_path)]) == 2
    assert "scheduler must be a Dask scheduler address" in capsys.readouterr().err
    assert main(["--profile", "smoke", "--workers", "0", "--results-root", str(tmp_path)]) == 2
    assert "workers must be a positive integer (got 0)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_failing_notebook_is_reported_with_cell_and_error(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": runner.KERNEL_NAME, "language": "python",
                                   "display_name": "Python"}
    params = nbformat.v4.new_code_cell('results_dir = "x"  # output folder')
    params.metadata["tags"] = ["parameters"]
    book.cells = [params, nbformat.v4.new_code_cell("raise RuntimeError('boom in cell')")]
    nbformat.write(book, notebooks / "01_fail.ipynb")
    monkeypatch.setattr(catalog, "NOTEBOOK_DIR", notebooks)
    profile = _write_profile(tmp_path, {})
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.run(profile, results_root=tmp_path / "results", workers=1,
                     console=Console(io.StringIO()))
    text = str(error.value)
    assert "01_fail" in text and "cell" in text and "boom in cell" in text


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    console = io.StringIO()
    out = pipeline.run("smoke", results_root=root, console=Console(console))
    return out, console.getvalue()


def test_smoke_profile_end_to_end(smoke):
    smoke, _ = smoke
    for path in ("report.html", "index.html", "tables/table1.csv", "tables/table1.md",
                 "figures/figure2.png", "figures/figure2.svg", "data/summary.json",
                 "notebooks/associative/02_train.ipynb", "notebooks/associative/02_train.html",
                 "pipeline.json", "pipeline.log"):
        assert (smoke / path).exists(), path
    report = (smoke / "report.html").read_text()
    assert "Deviations and assumptions" in report and "data:image/png;base64" in report
    assert "Multi-PIE" in report and "In&nbsp;[" not in report  # code hidden

    claims = pd.read_csv(smoke / "tables" / "ablation_claims.csv")
    assert len(claims) == 3
    # 200 updates say nothing: the smoke profile's claims get no verdict
    assert set(claims["verdict"]) <= {"too short to judge", "not tested"}
    assert claims.loc[claims["claim"].str.startswith("(2)"), "verdict"].tolist() == [
        "not tested"]
    ablation_runs = pd.read_csv(smoke / "tables" / "ablation_runs.csv")
    assert ablation_runs["run"].nunique() == 3 and ablation_runs["steps"].eq(200).all()

    table = pd.read_csv(smoke / "tables" / "table1.csv")
    assert len(table) == 12
    ran = table[table["seeds"] > 0]
    assert set(zip(ran["kind"], ran["R"], strict=True)) == {
        (m, r) for m in ("fast_weights", "lstm", "irnn") for r in (20, 50)}
    assert set(ran["verdict"]) == {verdicts.TOO_SHORT}
    runs = load_runs(smoke / "runs")
    runs = runs[runs["num_pairs"] == 4]  # the capacity study's other K share the folder
    for _, row in ran.iterrows():
        run = runs[(runs["model"] == row["kind"]) & (runs["hidden_units"] == row["R"])]
        assert len(run) == 1
        metrics = json.loads((Path(run["run_dir"].iloc[0]) / "metrics.json").read_text())
        assert row["ours_mean"] == pytest.approx(100 * metrics["test_error"], abs=1e-9)
        assert 0.0 <= metrics["test_error"] <= 0.95
        history = pd.read_csv(Path(run["run_dir"].iloc[0]) / "history.csv")
        assert metrics["valid_error"] == pytest.approx(history["valid_error"].min())
        assert metrics["code_version"] == metrics["starts"][0]["code_version"]
    fast = runs[(runs["model"] == "fast_weights") & (runs["hidden_units"] == 50)].iloc[0]
    assert fast["steps"] == 800 and fast["test_error"] < 0.75  # well below 90 % chance error


def test_the_capacity_study_shares_table_1s_runs_at_k_4(smoke):
    smoke, _ = smoke
    study = pd.read_csv(smoke / "tables" / "capacity.csv")
    assert set(zip(study["kind"], study["K"], strict=True)) == {
        (m, k) for m in ("fast_weights", "lstm") for k in (2, 4)}
    runs = load_runs(smoke / "runs")
    grid = set(json.loads((smoke / "grid.json").read_text()))
    at_four = runs[(runs["num_pairs"] == 4) & (runs["hidden_units"] == 20)
                   & runs["model"].isin(["fast_weights", "lstm"])]
    assert len(at_four) == 2 and set(at_four["run"]) <= grid  # trained once, by Table 1
    assert len(runs[runs["num_pairs"] == 2]) == 2
    compared = pd.read_csv(smoke / "tables" / "capacity_comparison.csv")
    assert set(compared["verdict"]) == {"not judged (budgets too short)"}
    assert "Capacity" in (smoke / "report.html").read_text()


def test_the_report_says_the_smoke_budgets_cannot_judge(smoke):
    smoke, _ = smoke
    report = (smoke / "report.html").read_text()
    assert "Too short to judge" in report
    table = pd.read_csv(smoke / "tables" / "table1.csv")
    assert set(table["verdict"]) <= {verdicts.TOO_SHORT, verdicts.NOT_RUN}
    claim = report.split("main claim")[1].split("</table>")[0]
    assert "holds" not in claim.replace("holds</em> when", "") and "not judged" in claim


def test_the_console_is_for_a_person(smoke):
    smoke, console = smoke
    lines = console.strip().splitlines()
    assert lines[0].startswith("fast-weights-repro · profile smoke")
    assert any(re.match(r"\s+Table 1 grid: 6/6 runs finished", line) for line in lines)
    for noise in ("I0000", "E0000", "absl", "cuInit", "running over TCP", "<IPython.core",
                  "Executing"):
        assert noise not in console, noise
    assert lines[-3].startswith("report: ") and lines[-1].startswith("log:")
    log = (smoke / "pipeline.log").read_text()
    assert "Table 1 grid" in log or "runs in the grid" in log


def test_second_run_trains_nothing_and_says_so(smoke):
    smoke, _ = smoke
    metrics = sorted(smoke.glob("runs/*/metrics.json"))
    before = {p: p.stat().st_mtime_ns for p in metrics}
    console = io.StringIO()
    pipeline.run("smoke", only=["02_train"], results_root=smoke.parent,
                 console=Console(console))
    assert {p: p.stat().st_mtime_ns for p in metrics} == before
    assert "6 of 6 runs already finished in this results folder (reused" in console.getvalue()
    executed = nbformat.read(smoke / "notebooks" / "associative" / "02_train.ipynb",
                             as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "0 to train" in text


def test_each_notebook_trains_where_the_pipeline_checks_its_runs(smoke):
    smoke, _ = smoke
    planned = pipeline.plan("smoke", results_root=smoke.parent)
    trained = {name: configs for name, configs in planned["runs"].items() if configs}
    assert trained
    for name, configs in trained.items():
        folder = catalog.runs_dir(name, smoke)
        assert all((folder / c.run_name() / "metrics.json").exists() for c in configs), name


def test_a_finished_run_under_another_budget_stops_the_pipeline_before_it_starts(
        smoke, tmp_path, capsys):
    smoke, _ = smoke
    profile = load_profile("smoke", catalog.notebooks())
    params = profile["notebooks"]["associative/02_train"]
    more = {key: 2 * value for key, value in params["max_steps"].items()}
    (tmp_path / "smoke.yaml").write_text(json.dumps(
        {"description": "the smoke profile with twice the updates",
         "notebooks": {"associative/02_train": {**params, "max_steps": more}}}))
    log = smoke / "pipeline.json"
    before = log.stat().st_mtime_ns
    code = main(["--profile", str(tmp_path / "smoke.yaml"), "--only", "associative/02_train",
                 "--results-root", str(smoke.parent)])
    assert code == 2
    error = capsys.readouterr().err
    assert "associative/02_train" in error and "finished under another budget" in error
    assert "delete the folder" in error
    assert log.stat().st_mtime_ns == before


class _Text(HTMLParser):
    """The visible text of a page outside tables, scripts and styles; tables and images."""

    def __init__(self):
        super().__init__()
        self.depth, self.skip, self.text, self.tables, self.images = 0, 0, [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
            self.depth += 1
        elif tag in ("script", "style"):
            self.skip += 1
        elif tag == "img":
            self.images.append(dict(attrs).get("src", ""))

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth -= 1
        elif tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.depth and not self.skip:
            self.text.append(data)


def test_the_rendered_report_is_html_not_markdown(smoke):
    smoke, _ = smoke
    page = _Text()
    page.feed((smoke / "report.html").read_text())
    text = "".join(page.text)
    assert page.tables >= 6  # Table 1, its details, the claim, ablations, deviations, ...
    assert not re.search(r"^\s*\|.*\|\s*$", text, re.M), "a Markdown table was not rendered"
    assert "|---" not in text and "**" not in text and "```" not in text
    figures = [src for src in page.images if src.startswith("data:image/png;base64,")]
    assert len(figures) == len(page.images) >= 3  # Figure 2, every R, ablations: embedded
    deviations = text.split("Deviations and assumptions")[1][:400]
    assert "| what |" not in deviations


def test_no_start_up_noise_in_any_notebook_output(smoke):
    smoke, _ = smoke
    executed = sorted((smoke / "notebooks").rglob("*.ipynb"))
    assert len(executed) == len(catalog.notebooks())
    for path in executed:
        book = nbformat.read(path, as_version=4)
        text = json.dumps([c.get("outputs", []) for c in book.cells])
        for noise in ("I0000", "E0000", "cuInit", "oneDNN", "absl::", "running over TCP"):
            assert noise not in text, (path.name, noise)
