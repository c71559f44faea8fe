import pandas as pd
import pytest

from fwlib import pipeline
from fwlib.pipeline import catalog
from fwlib.tasks.associative import capacity

SETTINGS = {"max_steps": {"default": 8000, "lstm@20": 9000}, "learning_rate": 0.003,
            "eval_every": 500, "patience": 2000, "plateau_error": 0.3,
            "fast_lr": {"default": 0.5, "fast_weights@50": 0.1}}


def test_every_cell_is_planned_at_every_k_with_its_own_settings():
    configs = capacity.plan(["fast_weights@20", "lstm@20", "fast_weights@50"], [2, 8], [0, 1],
                            **SETTINGS)
    assert len(configs) == 3 * 2 * 2
    cells = {(c.model.kind, c.model.hidden_units, c.task.num_pairs, c.seed) for c in configs}
    assert len(cells) == len(configs)
    by_cell = {(c.model.kind, c.model.hidden_units, c.task.num_pairs): c for c in configs}
    assert by_cell[("lstm", 20, 8)].budget.max_steps == 9000
    assert by_cell[("fast_weights", 20, 2)].budget.max_steps == 8000
    assert by_cell[("fast_weights", 50, 2)].model.fast_lr == 0.1
    assert by_cell[("fast_weights", 20, 2)].model.fast_lr == 0.5
    assert {c.budget.plateau_error for c in configs} == {0.3}


def test_no_k_plans_nothing():
    assert capacity.plan(["fast_weights@20"], [], [0], **SETTINGS) == []


@pytest.mark.parametrize("cells, pairs, name", [
    (["fast_weights"], [2], "cells"), (["gru@20"], [2], "cells"), (["lstm@0"], [2], "cells"),
    (["lstm@20", "lstm@20"], [2], "cells"), ([], [2], "cells"),
    (["lstm@20"], [0], "num_pairs"), (["lstm@20"], [2, 2], "num_pairs"),
    (["lstm@20"], [2.5], "num_pairs"),
])
def test_bad_cells_and_k_are_named(cells, pairs, name):
    with pytest.raises(ValueError, match=name):
        capacity.plan(cells, pairs, [0], **SETTINGS)


def test_the_plateau_level_scales_with_the_chance_of_guessing_a_stored_value():
    assert capacity.plateau_level(4) == pytest.approx(0.5)
    assert capacity.plateau_level(2) == pytest.approx(0.5 * 0.5 / 0.75)
    assert capacity.plateau_level(2) < capacity.plateau_level(4) < capacity.plateau_level(8)


def _runs(errors: dict, budget: int = 10_000) -> pd.DataFrame:
    """``errors``: (model, R, K) -> test errors per seed (fractions)."""
    rows = []
    for (model, units, k), values in errors.items():
        for seed, error in enumerate(values):
            rows.append({"model": model, "hidden_units": units, "num_pairs": k, "seed": seed,
                         "test_error": error, "valid_error": error, "diverged": False,
                         "max_steps": budget, "steps": budget, "wall_seconds": 60.0,
                         "stopped": "budget"})
    return pd.DataFrame(rows)


def test_table_and_comparison_follow_the_main_claims_rule():
    runs = _runs({("fast_weights", 20, 2): [0.01, 0.02], ("lstm", 20, 2): [0.03, 0.04],
                  ("fast_weights", 20, 8): [0.30, 0.10], ("lstm", 20, 8): [0.20, 0.40],
                  ("fast_weights", 50, 8): [0.50, 0.60], ("alstm", 50, 8): [0.10, 0.20]})
    table = capacity.table(runs)
    row = table[(table["kind"] == "fast_weights") & (table["K"] == 2)].iloc[0]
    assert row["mean"] == pytest.approx(1.5) and row["seeds"] == 2
    assert row["per_seed"] == "1.00, 2.00"
    # K = 8: a best validation error of 60 % is above the plateau level there (58.3 %)
    assert table[(table["kind"] == "fast_weights") & (table["R"] == 50)]["on_plateau"].item() == 1
    compared = capacity.comparison(table).set_index(["R", "K"])["verdict"]
    assert compared[(20, 2)] == "fast weights lower"
    assert compared[(20, 8)] == "overlap"
    assert compared[(50, 8)] == "fast weights higher"


def test_one_seed_or_a_short_budget_gives_no_comparison():
    one = capacity.comparison(capacity.table(_runs({("fast_weights", 20, 2): [0.01],
                                                    ("lstm", 20, 2): [0.5]})))
    assert one["verdict"].item() == "not judged (one seed)"
    short = capacity.comparison(capacity.table(_runs({("fast_weights", 20, 2): [0.01, 0.02],
                                                      ("lstm", 20, 2): [0.5, 0.6]},
                                                     budget=1000)))
    assert short["verdict"].item() == "not judged (budgets too short)"


def test_best_baselines_are_ranked_on_validation_at_table_1s_k():
    runs = _runs({("lstm", 20, 4): [0.05, 0.07], ("alstm", 20, 4): [0.20, 0.30],
                  ("fast_weights", 20, 4): [0.01, 0.02], ("irnn", 20, 2): [0.0, 0.0]})
    runs["test_error"] = 0.9  # the test split plays no part
    ranked = capacity.best_baselines(runs)
    assert list(ranked["kind"]) == ["lstm", "alstm"]
    assert list(ranked["rank"]) == [1, 2]


@pytest.mark.parametrize("profile", pipeline.profiles())
def test_the_capacity_studys_k_4_runs_are_table_1s_own(profile):
    """Each profile trains its capacity cells with Table 1's settings: at K = 4 they are
    Table 1's runs, not new ones."""
    books = pipeline.load_profile(profile, catalog.notebooks())["notebooks"]
    table1 = {c.run_name(): c for c in catalog.planned_configs(
        "associative/02_train", books.get("associative/02_train") or {})}
    study = catalog.planned_configs("associative/05_capacity",
                                    books.get("associative/05_capacity") or {})
    cells = {(c.model.kind, c.model.hidden_units) for c in table1.values()}
    at_four = [c for c in study if c.task.num_pairs == 4
               and (c.model.kind, c.model.hidden_units) in cells]
    assert at_four or not study, profile
    for config in at_four:
        assert config.run_name() in table1, (profile, config.run_name())
