import pandas as pd
import pytest

from fwlib import paper, verdicts
from fwlib.tasks.mnist_glimpses import table
from fwlib.tasks.mnist_glimpses.plans import TABLE2_MODELS, TABLE2_UNITS


def _runs(errors: dict, max_steps=table.MIN_JUDGE_STEPS, train_examples=50_000,
          stopped="budget", best_step=None, steps=None):
    rows = []
    for (kind, units), values in errors.items():
        for seed, error in enumerate(values):
            rows.append({"model": kind, "hidden_units": units, "seed": seed,
                         "test_error": error / 100, "diverged": False,
                         "max_steps": max_steps, "train_examples": train_examples,
                         "steps": steps or max_steps, "best_step": best_step or max_steps,
                         "stopped": stopped, "wall_seconds": 60.0, "run": f"{kind}{units}{seed}"})
    return pd.DataFrame(rows)


def test_paper_numbers_reproduce_themselves_and_the_table_has_12_cells():
    result = table.table2(_runs(table.paper_errors()))
    assert len(result) == 12
    assert set(result["verdict"]) == {verdicts.REPRODUCED}
    wide = table.table2_wide(result)
    assert list(wide.index) == ["IRNN", "LSTM", "ConvNet", "Fast weights"]
    assert list(wide.columns) == [f"{r} {w}" for r in TABLE2_UNITS for w in ("paper", "ours")]
    assert wide.loc["Fast weights", "200 paper"] == "0.85"


def test_verdicts_at_the_tolerance_boundary():
    # fast weights at 200: paper 0.85 %, band ± 0.5 pp
    within = table.table2(_runs({("fast_weights", 200): [1.35]}))
    worse = table.table2(_runs({("fast_weights", 200): [1.36]}))
    pick = lambda t: t[(t["kind"] == "fast_weights") & (t["R"] == 200)].iloc[0]  # noqa: E731
    assert pick(within)["verdict"] == verdicts.REPRODUCED
    assert pick(worse)["verdict"] == verdicts.NOT_REPRODUCED
    missing = within[(within["kind"] == "irnn")]
    assert set(missing["verdict"]) == {verdicts.NOT_RUN}


def test_short_budgets_and_subsets_are_not_judged():
    errors = {("convnet", 200): [0.9]}
    assert table.table2(_runs(errors, max_steps=table.MIN_JUDGE_STEPS - 1)).query(
        "kind == 'convnet' and R == 200")["verdict"].item() == verdicts.TOO_SHORT
    assert table.table2(_runs(errors, train_examples=49_999)).query(
        "kind == 'convnet' and R == 200")["verdict"].item() == verdicts.TOO_SHORT


def test_trend_boundary():
    assert table.trend("budget", 801, 1000) == table.STILL_IMPROVING
    assert table.trend("budget", 800, 1000) == table.PLATEAU
    assert table.trend("patience", 1000, 1000) == table.PLATEAU
    result = table.table2(_runs({("lstm", 50): [3.0, 4.0]}, best_step=1000, steps=5000))
    assert result.query("kind == 'lstm' and R == 50")["trend"].item() == "plateau ×2"


def _all_cells(value=2.0):
    return {(k, r): [value, value + 0.1] for k in TABLE2_MODELS for r in TABLE2_UNITS}


def test_the_claim_holds_on_the_paper_numbers():
    assert table.claim(table.paper_errors(), min_seeds=1)["verdict"] == table.HOLDS


def test_the_claim_rule_at_its_boundaries():
    errors = _all_cells(2.0)
    for units in TABLE2_UNITS:
        errors[("fast_weights", units)] = [1.0, 1.1]
    errors[("convnet", 200)] = [0.5, 0.7]  # mean 0.6, band 0.5: close when FW mean <= 1.1
    errors[("fast_weights", 200)] = [1.0, 1.2]  # mean 1.1: close (at the boundary)
    assert table.claim(errors)["verdict"] == table.HOLDS
    errors[("fast_weights", 200)] = [1.0, 1.22]  # mean 1.11: not close
    assert table.claim(errors)["verdict"] == table.DOES_NOT_HOLD
    errors[("fast_weights", 200)] = [1.0, 1.1]
    errors[("lstm", 50)] = [1.05, 3.0]  # overlaps with fast weights' 1.0 to 1.1
    assert table.claim(errors)["verdict"] == table.UNCLEAR
    errors[("lstm", 50)] = [0.5, 0.9]  # every fast-weights seed above every LSTM seed
    assert table.claim(errors)["verdict"] == table.DOES_NOT_HOLD


def test_the_claim_is_not_judged_without_seeds_cells_or_budget():
    errors = {k: v[:1] for k, v in _all_cells().items()}
    assert "seed" in table.claim(errors)["reason"]
    assert table.claim(errors)["verdict"] == table.NOT_JUDGED
    partial = _all_cells()
    del partial[("irnn", 50)]
    result = table.claim(partial)
    assert result["verdict"] == table.NOT_JUDGED and "IRNN R=50" in result["reason"]
    assert table.claim(_all_cells(), judgeable=False)["verdict"] == table.NOT_JUDGED


def test_claim_table_compares_paper_and_ours():
    runs = _runs(_all_cells(), max_steps=100)
    claims = table.claim_table(runs, table.table2(runs))
    assert list(claims["numbers"]) == ["paper", "ours"]
    assert claims.iloc[0]["verdict"] == table.HOLDS
    assert claims.iloc[1]["verdict"] == table.NOT_JUDGED
    assert "too short" in claims.iloc[1]["reason"]


@pytest.mark.parametrize("key", list(paper.TABLE2))
def test_paper_table_matches_the_paper_notes(key):
    text = paper.DOC_PATH.read_text()
    assert f"{paper.TABLE2[key]:.2f}" in text


def test_fit_at_best_reads_each_runs_best_update():
    histories = pd.DataFrame({
        "run": ["a"] * 3 + ["b"] * 2, "model": ["fast_weights"] * 3 + ["irnn"] * 2,
        "hidden_units": [50] * 3 + [100] * 2, "seed": [0] * 5,
        "step": [500, 1000, 1500, 500, 1000],
        "valid_error": [0.1, 0.05, 0.07, 0.3, 0.2], "train_loss": [1.0, 0.1, 0.05, 2.0, 1.5],
        "valid_loss": [1.1, 0.3, 0.4, 2.1, 1.5]})
    fit = table.fit_at_best(histories)
    assert list(fit["model"]) == ["IRNN", "Fast weights"]  # the paper's row order
    fast = fit[fit["model"] == "Fast weights"].iloc[0]
    assert fast["best update"] == 1000 and fast["valid / train loss"] == pytest.approx(3.0)
    assert table.fit_at_best(histories.iloc[:0]).empty


@pytest.mark.parametrize("without, says", [
    ((0.85, 0.90), "Every run relies on its fast weights: without them its validation error "
                   "rises by 83.0 to 88.0 points"),
    ((0.025, 0.021), "No run uses its fast weights to any effect"),
    ((0.85, 0.025), "The runs differ"),
])
def test_the_fast_weights_check_says_only_what_the_runs_show(without, says):
    from fwlib.tasks.mnist_glimpses.report import without_fast_weights_markdown

    table = pd.DataFrame({"hidden_units": [50, 200], "seed": [0, 0],
                          "valid_error": [0.02, 0.02],
                          "valid_error_without_fast_weights": list(without)})
    text = without_fast_weights_markdown(table)
    assert says in text
    assert ("not because a small η" in text) == says.startswith("Every run")


def test_the_deviations_name_the_learning_rates_eta_weight_decay_and_dropout_used():
    from fwlib.tasks.mnist_glimpses.report import deviations_markdown

    runs = pd.DataFrame({"model": ["fast_weights", "lstm"], "learning_rate": [3e-3, 1e-3],
                         "fast_lr": [0.005, 0.5], "weight_decay": [0.0, 0.0],
                         "dropout": [0.0, 0.0], "shift": [0, 0]})
    text = deviations_markdown(runs)
    assert "Learning rates used in these runs: fast_weights: 0.003; lstm: 0.001." in text
    assert "Fast-weight η in these runs: 0.005." in text
    assert "No weight decay in these runs." in text
    decayed = deviations_markdown(runs.assign(weight_decay=[0.01, 0.0]))
    assert "Weight decay in these runs: fast_weights: 0.01; lstm: 0." in decayed
    assert "No weight decay" not in decayed
    assert "No dropout in these runs." in text and "No dropout in these runs." in decayed
    dropped = deviations_markdown(runs.assign(dropout=[0.3, 0.0]))
    assert "Dropout in these runs: fast_weights: 0.3; lstm: 0." in dropped
    assert "on the core's input at every step and on its last state" in dropped
    assert "fresh mask" not in text
    assert "No dropout" not in dropped and "No weight decay in these runs." in dropped
    assert "Training images not moved in these runs." in text
    moved = deviations_markdown(runs.assign(shift=[2, 2]))
    assert "Training images moved by up to 2 pixels in these runs." in moved
    assert "not moved" not in moved


def test_the_choice_of_moved_images_is_shown_where_it_was_made(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import shift_selection_markdown

    assert shift_selection_markdown(tmp_path) == ""
    (tmp_path / "summary.md").write_text("| model |\n\nlower validation error in 7 of 12")
    text = shift_selection_markdown(tmp_path)
    assert text.startswith("### Moved training images")
    assert "more than half of the 12 cells" in text and text.endswith("in 7 of 12")


def test_a_runs_dropout_twin_is_the_run_a_grid_without_dropout_plans(tmp_path):
    import json

    from fwlib.tasks.mnist_glimpses.plans import table2_grid

    settings = dict(models=["fast_weights", "convnet"], hidden_units=[50], seeds=[1],
                    max_steps=2000, fast_lr=0.005)
    dropped = table2_grid(**settings, dropout={"default": 0.1, "convnet": 0.3})
    plain = table2_grid(**settings)
    for config, twin in zip(dropped, plain, strict=True):
        (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
        assert table.twin_name(tmp_path, "dropout") == twin.run_name() != config.run_name()


def _pair_runs(with_errors: dict, without_errors: dict, dropout=0.1):
    """Table 2's runs with dropout, and the runs folder: those and their twins without."""
    dropped = _runs(with_errors).assign(dropout=dropout)
    dropped["run_dir"] = dropped["run"]
    twins = _runs(without_errors).assign(dropout=0.0)
    twins["run"] = "twin_" + twins["run"]
    return dropped, pd.concat([dropped, twins], ignore_index=True)


def test_dropout_pairs_pair_each_run_with_its_twin_of_the_same_budget():
    dropped, everything = _pair_runs({("fast_weights", 200): [1.5, 1.6, 1.7]},
                                     {("fast_weights", 200): [1.8, 1.5, 1.9]})
    pairs = table.setting_pairs(dropped, everything, "dropout", lambda d: f"twin_{d}")
    assert list(pairs["seed"]) == [0, 1, 2]
    assert pairs["change"].round(6).tolist() == [-0.3, 0.1, -0.2]
    effect = table.setting_effect(pairs, "dropout").iloc[0]
    assert effect["model"] == "Fast weights" and effect["R"] == 200
    assert effect["dropout"] == "0.1" and effect["seeds"] == 3
    assert effect["lower with dropout"] == "2 of 3"
    assert round(effect["change (points)"], 6) == round((-0.3 + 0.1 - 0.2) / 3, 6)
    # a missing twin, a diverged twin and a twin of another budget are left out
    everything = everything[everything["run"] != "twin_fast_weights2000"].copy()
    everything.loc[everything["run"] == "twin_fast_weights2001", "diverged"] = True
    everything.loc[everything["run"] == "twin_fast_weights2002", "max_steps"] = 4000
    assert table.setting_pairs(dropped, everything, "dropout", lambda d: f"twin_{d}").empty
    # runs without dropout have no pair
    assert table.setting_pairs(dropped.assign(dropout=0.0), everything, "dropout",
                               lambda d: f"twin_{d}").empty


def test_the_claim_without_dropout_is_judged_on_the_twins():
    from fwlib.tasks.mnist_glimpses.report import twin_markdown

    without = _all_cells(2.0)
    for units in TABLE2_UNITS:
        without[("fast_weights", units)] = [1.0, 1.1]
    without[("convnet", 200)] = [0.5, 0.7]
    dropped, everything = _pair_runs(_all_cells(1.5), without)
    pairs = table.setting_pairs(dropped, everything, "dropout", lambda d: f"twin_{d}")
    assert len(pairs) == 24
    assert table.claim_without(pairs)["verdict"] == table.HOLDS
    assert table.claim(table.errors_by_cell(dropped))["verdict"] == table.UNCLEAR
    text = twin_markdown(pairs, "dropout")
    assert "claim **holds**" in text and "lower test error in 16 of 24 pairs" in text
    assert text.startswith("### What dropout changed")
    assert "claim **not judged**" in twin_markdown(pairs, "dropout", judgeable=False)


def test_moved_images_are_compared_with_their_twins_without_moves(tmp_path):
    import json

    from fwlib.tasks.mnist_glimpses.plans import table2_grid
    from fwlib.tasks.mnist_glimpses.report import twin_markdown

    moved, plain = (table2_grid(["fast_weights"], [200], [0], 1000, dropout=0.1, shift=s)[0]
                    for s in (2, 0))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(moved.to_dict()))
    assert table.twin_name(tmp_path / "run", "shift") == plain.run_name()
    assert table.without_setting(moved, "shift") == plain
    with pytest.raises(ValueError, match="setting must be one of dropout, shift"):
        table.without_setting(moved, "order")
    dropped, everything = _pair_runs({("fast_weights", 200): [1.5, 1.6, 1.7]},
                                     {("fast_weights", 200): [1.8, 1.5, 1.9]})
    dropped = dropped.assign(shift=2)
    everything = everything.assign(shift=[2] * 3 + [0] * 3)
    pairs = table.setting_pairs(dropped, everything, "shift", lambda d: f"twin_{d}")
    assert list(pairs["shift"]) == [2, 2, 2]
    effect = table.setting_effect(pairs, "shift").iloc[0]
    assert effect["shift"] == "2" and effect["lower with moves"] == "2 of 3"
    assert table.setting_pairs(dropped.assign(shift=0), everything, "shift",
                               lambda d: f"twin_{d}").empty
    text = twin_markdown(pairs, "shift")
    assert text.startswith("### What the moved training images changed")
    assert "The moves gave a lower test error in 2 of 3 pairs" in text
    assert "`tables/shift_pairs.csv`" in text
