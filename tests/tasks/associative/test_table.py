import math
from pathlib import Path

import pandas as pd
import pytest

from fwlib import verdicts
from fwlib.tasks.associative import table


def _runs(rows) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "hidden_units": r, "seed": s, "test_error": e,
                          "steps": 1000, "wall_seconds": 60.0, "stopped": "budget",
                          "diverged": d, "max_steps": budget}
                         for m, r, s, e, d, budget in rows])


def _cell(frame, kind, units):
    return frame[(frame["kind"] == kind) & (frame["R"] == units)].iloc[0]


def test_cells_are_judged_per_seed_with_diverged_runs_apart():
    runs = _runs([("fast_weights", 50, 0, 0.0049, False, 30000),
                  ("fast_weights", 50, 1, 0.0056, False, 30000),
                  ("fast_weights", 50, 2, 0.1727, False, 30000),
                  ("lstm", 20, 0, 0.0454, False, 60000), ("lstm", 20, 1, 0.05, False, 60000),
                  ("irnn", 100, 0, math.nan, True, 10000),
                  ("irnn", 100, 1, 0.6185, False, 10000)])
    frame = table.table1(runs)
    assert len(frame) == 12
    fast = _cell(frame, "fast_weights", 50)
    assert fast["verdict"] == verdicts.MIXED and fast["seeds"] == 3
    assert fast["agreement"] == "1 of 3 seeds within, 2 worse"  # 0.56 is above the 0.5 band
    assert fast["per_seed"] == "0.49, 0.56, 17.27"
    assert _cell(frame, "lstm", 20)["verdict"] == verdicts.BETTER
    irnn = _cell(frame, "irnn", 100)
    assert irnn["seeds"] == 1 and irnn["diverged"] == 1
    assert irnn["verdict"] == verdicts.NOT_REPRODUCED
    assert _cell(frame, "alstm", 20)["verdict"] == verdicts.NOT_RUN
    wide = table.table1_wide(frame)
    assert wide.loc["Fast weights", "R=50 ours"].startswith("6.11 ± 9.67 (1 of 3 seeds within")
    assert wide.loc["A-LSTM", "R=20 ours"] == "not run"


def test_budgets_below_the_minimum_are_too_short_to_judge():
    runs = _runs([("irnn", 50, 0, 0.61, False, table.MIN_JUDGE_STEPS - 500),
                  ("lstm", 50, 0, 0.02, False, table.MIN_JUDGE_STEPS)])
    frame = table.table1(runs)
    assert _cell(frame, "irnn", 50)["verdict"] == verdicts.TOO_SHORT
    assert _cell(frame, "lstm", 50)["verdict"] == verdicts.REPRODUCED


def test_eta_can_be_set_per_r_and_only_fast_weights_read_it():
    from fwlib.tasks.associative.plans import train_runs

    configs = train_runs(["fast_weights", "lstm"], [20, 100], [0], 1000, 3e-3, 500, 500, 128,
                         fast_lr={"default": 0.5, "fast_weights@100": 0.02})
    eta = {(c.model.kind, c.model.hidden_units): c.model.fast_lr for c in configs}
    assert eta[("fast_weights", 20)] == 0.5 and eta[("fast_weights", 100)] == 0.02
    plain = train_runs(["lstm"], [100], [0], 1000, 3e-3, 500, 500, 128)
    lstm = next(c for c in configs if c.model.kind == "lstm" and c.model.hidden_units == 100)
    assert lstm.run_id() == plain[0].run_id()
    with pytest.raises(ValueError, match="fast_lr key 'fw@100'"):
        train_runs(["fast_weights"], [100], [0], 1000, 3e-3, 500, 500, 128,
                   fast_lr={"default": 0.5, "fw@100": 0.02})


def test_the_eta_search_says_whether_table1_uses_the_eta_it_chose(tmp_path):
    from fwlib.tasks.associative.report import deviations_markdown, fast_lr_selection_markdown

    assert "has not been tried" in fast_lr_selection_markdown(tmp_path)
    pd.DataFrame({"R": [20, 20, 100, 100], "fast_lr": [0.5, 0.02, 0.02, 0.5],
                  "learning_rate": 3e-3, "seeds": 3, "valid_error_mean": [0.01, 0.02, 0.01, 0.3],
                  "valid_error_per_seed": "", "on_plateau": 0, "updates_mean": 1000.0,
                  "chosen": [True, False, True, False]}).to_csv(tmp_path / "summary.csv",
                                                                 index=False)
    runs = pd.DataFrame({"model": ["fast_weights", "fast_weights", "fast_weights", "lstm"],
                         "hidden_units": [20, 50, 100, 100], "fast_lr": [0.5, 0.5, 0.5, 0.5],
                         "learning_rate": 3e-3})
    text = fast_lr_selection_markdown(tmp_path, runs)
    assert ("R = 20: η = 0.5, the one chosen here; R = 50: η = 0.5, not searched; "
            "R = 100: η = 0.5, not the 0.02 chosen here.") in text
    assert "Fast weights' η in these runs: R = 20: 0.5; R = 50: 0.5; R = 100: 0.5." in \
        deviations_markdown(runs)
    clipped = runs.assign(clip_norm=[5.0, 5.0, 5.0, 1.0])
    assert ("Gradient clipping (global norm) in these runs: Fast weights: 5; LSTM: 1."
            in deviations_markdown(clipped))


def test_runs_that_ended_on_the_initial_plateau_are_counted_per_cell():
    from fwlib.tasks.associative.report import cell_details_markdown, summary_markdown

    runs = _runs([("fast_weights", 100, 0, 0.004, False, 30000),
                  ("fast_weights", 100, 1, 0.61, False, 30000),
                  ("fast_weights", 100, 2, math.nan, True, 30000),
                  ("irnn", 20, 0, 0.62, False, 60000), ("irnn", 20, 1, 0.36, False, 60000)])
    runs["valid_error"] = runs["test_error"]
    frame = table.table1(runs)
    assert _cell(frame, "fast_weights", 100)["on_plateau"] == 1  # the diverged run apart
    assert _cell(frame, "irnn", 20)["on_plateau"] == 1
    assert _cell(frame, "lstm", 50)["on_plateau"] == 0
    text = summary_markdown(frame, runs)
    assert ("ended on the initial plateau (best validation error above 50 %): **2 of 4** "
            "(IRNN R=20: 1 of 2; Fast weights R=100: 1 of 2)") in text
    assert "| on the plateau |" in cell_details_markdown(frame)


def test_patience_and_the_step_size_half_life_can_be_set_per_cell():
    from fwlib.tasks.associative.plans import train_runs

    configs = train_runs(["fast_weights", "lstm"], [20, 50], [0], 1000, 3e-3, 500,
                         {"default": 600, "fast_weights@20": 1500}, 128,
                         lr_half_life={"default": 0, "fast_weights@20": 2000})
    cells = {(c.model.kind, c.model.hidden_units): c for c in configs}
    assert cells["fast_weights", 20].budget.patience == 1500
    assert cells["fast_weights", 20].optim.lr_half_life == 2000
    assert cells["fast_weights", 50].budget.patience == 600
    assert cells["lstm", 20].optim.lr_half_life == 0
    with pytest.raises(ValueError, match="patience key 'fw'"):
        train_runs(["fast_weights"], [20], [0], 1000, 3e-3, 500, {"fw": 600}, 128)


def _copy_runs(source: Path, target: Path, names: list[str], test_errors=None, code=None):
    import json
    import shutil

    for i, name in enumerate(names):
        folder = target / "runs" / name
        folder.mkdir(parents=True)
        for file in ("config.json", "metrics.json"):
            shutil.copy(source / name / file, folder / file)
        metrics = json.loads((folder / "metrics.json").read_text())
        if test_errors is not None:
            metrics["test_error"] = test_errors[i]
        if code is not None:
            metrics["code_version"] = code
        (folder / "metrics.json").write_text(json.dumps(metrics))


def test_the_rounding_check_compares_the_same_runs_trained_again(tmp_path):
    from fwlib.run.store import load_runs
    from fwlib.tasks.associative.report import rounding_check_markdown

    source = Path(__file__).resolve().parents[3] / "results" / "benchmarks" / \
        "idle_seeds_table1" / "seeds" / "runs"
    names = ["fast_weights_R20_seed0_5b6e4314", "lstm_R20_seed0_0d0831a9"]
    _copy_runs(source, tmp_path / "first", names, test_errors=[0.03, 0.05], code="old")
    _copy_runs(source, tmp_path / "second", names + ["irnn_R20_seed0_8582512f"],
               test_errors=[0.04, 0.02, 0.3], code="new")
    runs = load_runs(tmp_path / "first" / "runs")
    text = rounding_check_markdown(runs, tmp_path / "second")
    assert "2 of this table's runs were trained a second time" in text  # the IRNN is not here
    assert "other rounding (code new; these runs: 1 code version(s))" in text
    assert "moved by 2.00 points at the median and by up to 3.00" in text
    assert "lstm_R20_seed0_0d0831a9: 5.00 % here, 2.00 % there" in text
    assert "| 20 | not judged (one seed) | fast weights 4.00 %; best baseline LSTM 2.00 % |" in text
    assert rounding_check_markdown(runs, tmp_path / "absent") == ""
    same = rounding_check_markdown(load_runs(tmp_path / "second" / "runs"), tmp_path / "second")
    assert "trained some of these runs too" in same and "by up to 0.00" in same
