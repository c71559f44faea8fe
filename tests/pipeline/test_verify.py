import json

from fwlib.pipeline import verify


def _run(root, name, **metrics):
    folder = root / "runs" / name
    folder.mkdir(parents=True)
    base = {"test_error": 0.1, "valid_error": 0.1, "steps": 500, "stopped": "budget",
            "device": "cpu A", "backend": "tensorflow", "code_version": "abc",
            "packages": {"tensorflow": "2.21.0"}}
    (folder / "metrics.json").write_text(json.dumps({**base, **metrics}))


def test_compare_names_identical_runs_differences_and_their_causes(tmp_path):
    committed, fresh = tmp_path / "committed", tmp_path / "fresh"
    _run(committed, "same")
    _run(fresh, "same")
    _run(committed, "other_machine")
    _run(fresh, "other_machine", test_error=0.12, device="cpu B",
         packages={"tensorflow": "2.22.0"})
    _run(committed, "flaky")
    _run(fresh, "flaky", steps=1000)
    _run(fresh, "new_run")
    table = verify.compare(committed, fresh).set_index("run")
    assert table.loc["runs/same", "status"] == "identical"
    row = table.loc["runs/other_machine"]
    assert row["status"] == "differs" and "test_error: 0.1 → 0.12" in row["differences"]
    assert "device: cpu A → cpu B" in row["why"] and "tensorflow 2.21.0 → 2.22.0" in row["why"]
    assert "not deterministic" in table.loc["runs/flaky", "why"]
    assert table.loc["runs/new_run", "status"] == "no committed run"
    assert table.loc["runs/other_machine", "new test_error"] == 0.12
