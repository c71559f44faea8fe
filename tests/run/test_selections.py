"""The η choices read recorded runs and pick on validation errors only."""

import json

import pandas as pd
import pytest

from fwlib.tasks.associative import fast_lr_search
from fwlib.tasks.mnist_glimpses import plans, selection


def record(root, config, valid_errors, test_error, eval_every=500):
    """A finished run folder: config, metrics and a history with these validation errors."""
    run_dir = root / config.run_name()
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict()))
    steps = [eval_every * (i + 1) for i in range(len(valid_errors))]
    (run_dir / "metrics.json").write_text(json.dumps({
        "test_error": test_error, "valid_error": min(valid_errors), "steps": steps[-1],
        "best_step": steps[valid_errors.index(min(valid_errors))], "wall_seconds": 1.0}))
    pd.DataFrame({"step": steps, "train_loss": 0.1, "valid_loss": 0.2,
                  "valid_error": valid_errors, "wall_seconds": 1.0}).to_csv(
        run_dir / "history.csv", index=False)


def test_mnist_eta_is_chosen_on_validation_within_the_compared_updates(tmp_path):
    configs = selection.selection_grid(fast_lrs=(0.5, 0.02), hidden_units=(50, 200),
                                       max_steps=1000)
    assert sorted({c.model.fast_lr for c in configs}) == [0.02, 0.5]
    for config in configs:
        good = config.model.fast_lr == 0.02
        # η = 0.5 gets better only after the compared updates; its test error is the best
        errors = [0.05, 0.03, 0.001] if not good else [0.04, 0.02, 0.02]
        record(tmp_path, config, errors, test_error=0.0 if not good else 0.5)
    summary = selection.summarise(tmp_path, configs, compare_steps=1000)
    assert set(summary.loc[summary["chosen"], "fast_lr"]) == {0.02}
    assert (summary["updates_compared"] == 1000).all()
    assert sorted(summary["valid_error"]) == [0.02, 0.02, 0.03, 0.03]


def test_associative_eta_is_ranked_by_mean_validation_error_over_seeds(tmp_path):
    configs = fast_lr_search.search_grid(100, (0.5, 0.02), [0, 1], max_steps=1000,
                                         learning_rate=3e-3, patience=500)
    assert [(c.model.fast_lr, c.seed) for c in configs] == [(0.5, 0), (0.5, 1), (0.02, 0),
                                                            (0.02, 1)]
    valid = {(0.5, 0): 0.01, (0.5, 1): 0.62, (0.02, 0): 0.05, (0.02, 1): 0.04}
    for config in configs:
        error = valid[config.model.fast_lr, config.seed]
        record(tmp_path, config, [error], test_error=0.0)  # the test error plays no part
    summary = fast_lr_search.summarise(tmp_path, configs)
    chosen = summary[summary["chosen"]].iloc[0]
    assert chosen["fast_lr"] == 0.02 and chosen["valid_error_per_seed"] == "5.00, 4.00"
    assert summary.set_index("fast_lr").loc[0.5, "on_plateau"] == 1


def test_associative_eta_is_chosen_at_each_r(tmp_path):
    configs = fast_lr_search.search_grid([20, 100], (0.5, 0.02), [0], max_steps=1000,
                                         learning_rate=3e-3, patience=500)
    valid = {(20, 0.5): 0.01, (20, 0.02): 0.03, (100, 0.5): 0.40, (100, 0.02): 0.02}
    for config in configs:
        record(tmp_path, config, [valid[config.model.hidden_units, config.model.fast_lr]],
               test_error=0.0)
    summary = fast_lr_search.summarise(tmp_path, configs)
    assert summary[["R", "fast_lr", "chosen"]].values.tolist() == [
        [20, 0.5, True], [20, 0.02, False], [100, 0.02, True], [100, 0.5, False]]
    assert fast_lr_search.chosen_fast_lr(summary) == {"fast_weights@20": 0.5,
                                                      "fast_weights@100": 0.02}


def test_catch_settings_are_chosen_on_the_evaluation_games(tmp_path):
    from fwlib.tasks.catch import selection as catch_selection

    configs = catch_selection.selection_grid(agents=("fast_weights", "lstm"),
                                             max_frames=400_000)
    assert [(c.model.kind, c.optim.learning_rate, c.model.fast_lr) for c in configs] == [
        ("fast_weights", 1e-3, 0.5), ("fast_weights", 1e-3, 0.02),
        ("fast_weights", 3e-3, 0.5), ("fast_weights", 3e-3, 0.02),
        ("lstm", 1e-3, 0.5), ("lstm", 3e-3, 0.5)]
    # (best evaluation catch rate, frames it was reached at, final games' catch rate)
    outcomes = {("fast_weights", 1e-3, 0.5): (0.80, 200_000, 0.99),
                ("fast_weights", 1e-3, 0.02): (0.95, 400_000, 0.50),
                ("fast_weights", 3e-3, 0.5): (0.95, 200_000, 0.10),
                ("fast_weights", 3e-3, 0.02): (0.90, 200_000, 0.90),
                ("lstm", 1e-3, 0.5): (0.70, 200_000, 0.70),
                ("lstm", 3e-3, 0.5): (0.60, 200_000, 0.99)}
    for config in configs:
        best, frames, test = outcomes[config.model.kind, config.optim.learning_rate,
                                      config.model.fast_lr]
        run_dir = tmp_path / config.run_name()
        run_dir.mkdir()
        (run_dir / "config.json").write_text(json.dumps(config.to_dict()))
        (run_dir / "metrics.json").write_text(json.dumps({
            "best_eval_catch_rate": best, "best_frames": frames, "catch_rate": test,
            "last_eval_catch_rate": best, "frames": 400_000}))
    summary = catch_selection.summarise(tmp_path, configs)
    assert summary["agent"].tolist()[:4] == ["fast_weights"] * 4
    # the tie at 0.95 goes to the setting that got there in fewer frames; test plays no part
    assert catch_selection.chosen_settings(summary) == {
        "fast_weights": {"learning_rate": 3e-3, "fast_lr": 0.5},
        "lstm": {"learning_rate": 1e-3}}


def test_mnist_learning_rate_and_eta_pairs_are_ranked_together(tmp_path):
    configs = selection.selection_grid(fast_lrs=(0.02,), hidden_units=(50, 200),
                                       max_steps=1000, learning_rate=(1e-3, 3e-3))
    assert sorted({(c.optim.learning_rate, c.model.fast_lr) for c in configs}) == [
        (1e-3, 0.02), (3e-3, 0.02)]
    for config in configs:
        slow = config.optim.learning_rate == 1e-3
        record(tmp_path, config, [0.05, 0.02] if slow else [0.03, 0.025], test_error=0.0)
    summary = selection.summarise(tmp_path, configs, compare_steps=1000)
    assert set(summary.loc[summary["chosen"], "learning_rate"]) == {1e-3}


def test_the_mnist_selection_table_names_what_was_chosen(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    assert "has not been run" in selection_markdown(tmp_path)
    rows = {"R": [200, 200], "fast_lr": [0.02, 0.02], "learning_rate": [1e-3, 3e-3],
            "valid_error": [0.012, 0.019], "at_step": [15000, 7500],
            "updates_compared": 15000, "chosen": [True, False]}
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert "Choice of the learning rate at η = 0.02" in text and "first 15,000 updates" in text
    assert "| 200 | 0.02 | 0.001 | 1.2 | 15000 | True |" in text
    assert "| R | η | learning rate | best validation error (%) |" in text
    rows["fast_lr"] = [0.005, 0.02]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    assert "Choice of the learning rate and η" in selection_markdown(tmp_path)
    rows["learning_rate"] = [3e-3, 3e-3]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    assert "Choice of η" in selection_markdown(tmp_path)


def test_a_decaying_mnist_step_size_is_a_setting_of_its_own(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(fast_lrs=(0.02,), hidden_units=(50, 200),
                                       max_steps=1000, learning_rate=3e-3,
                                       lr_half_lives=(0, 300))
    assert sorted({c.optim.lr_half_life for c in configs}) == [0, 300]
    for config in configs:
        decays = config.optim.lr_half_life > 0
        record(tmp_path / "runs", config, [0.03, 0.015 if decays else 0.02], test_error=0.0)
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    assert set(summary.loc[summary["chosen"], "lr_half_life"]) == {300}
    summary.to_csv(tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert "Choice of the step-size schedule at η = 0.02" in text
    assert "| 50 | 0.02 | 0.003 | 300 | 1.5 |" in text
    assert "| 50 | 0.02 | 0.003 | constant | 2.0 |" in text


def test_a_tie_in_mean_rank_goes_to_the_lower_mean_validation_error(tmp_path):
    configs = selection.selection_grid(fast_lrs=(0.02,), hidden_units=(50, 200),
                                       max_steps=1000, learning_rate=(1e-3, 3e-3))
    errors = {(50, 1e-3): 0.019, (50, 3e-3): 0.0174, (200, 1e-3): 0.0178, (200, 3e-3): 0.0191}
    for config in configs:
        record(tmp_path, config, [errors[config.model.hidden_units, config.optim.learning_rate]],
               test_error=0.0)
    summary = selection.summarise(tmp_path, configs, compare_steps=1000)
    assert set(summary.loc[summary["chosen"], "learning_rate"]) == {3e-3}


def test_associative_learning_rate_and_clipping_are_chosen_per_model_and_r(tmp_path):
    from fwlib.tasks.associative import lr_search

    configs = lr_search.search_grid(["irnn", "lstm"], [20, 100], (1e-3, 3e-4), (5.0, 1.0),
                                    [0, 1], max_steps=1000, patience=500)
    assert len(configs) == 2 * 2 * 2 * 2 * 2
    assert {(c.optim.learning_rate, c.optim.clip_norm) for c in configs} == {
        (1e-3, 5.0), (1e-3, 1.0), (3e-4, 5.0), (3e-4, 1.0)}
    for config in configs:
        lr, clip, r = config.optim.learning_rate, config.optim.clip_norm, config.model.hidden_units
        if config.model.kind == "irnn":  # only the smaller rate with clipping at 1 learns at R=100
            error = 0.02 if (r == 100 and lr == 3e-4 and clip == 1.0) else 0.62
        else:  # every setting equal: the first listed wins
            error = 0.10
        record(tmp_path, config, [error + 0.001 * config.seed], test_error=0.0)
    summary = lr_search.summarise(tmp_path, configs)
    chosen = lr_search.chosen_settings(summary)
    assert chosen["learning_rate"]["irnn@100"] == 3e-4 and chosen["clip_norm"]["irnn@100"] == 1.0
    assert chosen["learning_rate"]["lstm@20"] == 1e-3 and chosen["clip_norm"]["lstm@20"] == 5.0
    row = summary[(summary["model"] == "irnn") & (summary["R"] == 20)].iloc[0]
    assert row["on_plateau"] == 2 and row["valid_error_per_seed"] == "62.00, 62.10"
    # every IRNN setting at R = 20 stayed on the plateau: none is chosen there
    assert "irnn@20" not in chosen["learning_rate"]
    assert summary["chosen"].sum() == 3


def test_learning_rate_search_refuses_bad_settings_before_training(tmp_path, capsys):
    from fwlib.tasks.associative import lr_search

    with pytest.raises(SystemExit) as exit_info:
        lr_search.main(["--clip-norms", "5", "-1", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "clip_norm must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_learning_rate_search_in_the_report_says_whether_table1_uses_its_choice(tmp_path):
    from fwlib.tasks.associative import lr_search
    from fwlib.tasks.associative.report import lr_search_markdown, lr_selection_markdown

    assert "No wider search" in lr_search_markdown(tmp_path)
    configs = lr_search.search_grid(["irnn"], [100], (1e-3, 3e-4), (5.0,), [0],
                                    max_steps=1000, patience=500)
    for config in configs:
        record(tmp_path / "runs", config, [0.02 if config.optim.learning_rate == 3e-4 else 0.6],
               test_error=0.0)
    lr_search.summarise(tmp_path / "runs", configs).to_csv(tmp_path / "summary.csv",
                                                           index=False)
    table1 = pd.DataFrame({"model": ["irnn", "irnn"], "hidden_units": [100, 100],
                           "learning_rate": [1e-3, 1e-3], "clip_norm": [5.0, 5.0],
                           "lr_half_life": [0, 0]})
    text = lr_search_markdown(tmp_path, table1)
    assert ("| IRNN | 100 | 0.0003 | 5 | 1,000 | 500 | from the start | 1 | 2.00 | 2.00 | 0 "
            "| 500 | 0.0 | **chosen** |") in text
    assert ("| IRNN | 100 | 0.001 | 5 | 1,000 | 500 | from the start | 1 | 60.00 | 60.00 | 1 "
            "| 500 | 0.0 |  |") in text
    assert "every setting of a model and R with the same budget and patience" in text
    assert "halved every" not in text  # no setting decayed its step size
    assert ("Table 1's IRNN at R = 100: learning rate 0.001 clipped at 5, not the chosen "
            "setting") in text
    plateau = lr_search.search_grid(["irnn"], [20], (1e-3,), (5.0,), [0],
                                    max_steps=1000, patience=500)
    for config in plateau:
        record(tmp_path / "plateau" / "runs", config, [0.61], test_error=0.0)
    summary_all_plateau = lr_search.summarise(tmp_path / "plateau" / "runs", plateau)
    summary_all_plateau.to_csv(tmp_path / "plateau" / "summary.csv", index=False)
    assert not summary_all_plateau["chosen"].any()
    assert ("IRNN at R = 20: no setting left the initial plateau, none is chosen"
            in lr_search_markdown(tmp_path / "plateau"))
    assert lr_selection_markdown(tmp_path) == lr_search_markdown(tmp_path)


def test_learning_rate_search_can_train_each_candidate_as_a_profile_trains_table1(tmp_path):
    from fwlib.tasks.associative import lr_search

    (tmp_path / "p.yaml").write_text(
        "notebooks:\n  associative/02_train:\n"
        "    max_steps: {default: 3000, fast_weights@20: 7000}\n"
        "    patience: 1500\n    fast_lr: {default: 0.5, fast_weights@100: 0.02}\n")
    budgets = lr_search.table1_budgets("p", tmp_path)
    configs = lr_search.search_grid(["fast_weights", "lstm"], [20, 100], (1e-3,), (5.0,), [0],
                                    **budgets)
    cells = {(c.model.kind, c.model.hidden_units): c for c in configs}
    assert cells["fast_weights", 20].budget.max_steps == 7000
    assert cells["fast_weights", 100].budget.max_steps == 3000
    assert cells["fast_weights", 20].model.fast_lr == 0.5
    assert cells["fast_weights", 100].model.fast_lr == 0.02
    assert {c.budget.patience for c in configs} == {1500}


def test_a_search_run_in_parts_is_summarised_whole(tmp_path):
    from fwlib.run.grid import unique_runs
    from fwlib.tasks.associative import lr_search

    first = lr_search.search_grid(["irnn"], [20], (1e-3,), (5.0,), [0], max_steps=1000,
                                  patience=500)
    later = lr_search.search_grid(["lstm"], [20], (1e-3, 3e-4), (5.0,), [0], max_steps=1000,
                                  patience=500)
    for config, error in zip([*first, *later], [0.3, 0.2, 0.1], strict=True):
        record(tmp_path, config, [error], test_error=0.0)
    recorded = lr_search.recorded_configs(tmp_path)
    assert {c.run_id() for c in recorded} == {c.run_id() for c in [*first, *later]}
    summary = lr_search.summarise(tmp_path, unique_runs([*later, *recorded]))
    assert summary[["model", "learning_rate", "chosen"]].values.tolist() == [
        ["irnn", 1e-3, True], ["lstm", 3e-4, True], ["lstm", 1e-3, False]]


def test_a_decaying_step_size_is_a_setting_of_its_own(tmp_path):
    from fwlib.tasks.associative import lr_search
    from fwlib.tasks.associative.report import lr_search_markdown

    configs = lr_search.search_grid(["fast_weights"], [20], (3e-3,), (5.0,), [0, 1],
                                    max_steps=4000, patience=2000, lr_half_lives=(0, 1000),
                                    plateau_error=0.5)
    assert {c.optim.lr_half_life for c in configs} == {0, 1000}
    for config in configs:
        decays = config.optim.lr_half_life > 0
        record(tmp_path / "runs", config, [0.02 if decays else 0.05], test_error=0.0)
    summary = lr_search.summarise(tmp_path / "runs", configs)
    assert lr_search.chosen_settings(summary)["lr_half_life"] == {"fast_weights@20": 1000}
    summary.to_csv(tmp_path / "summary.csv", index=False)
    table1 = pd.DataFrame({"model": ["fast_weights"], "hidden_units": [20],
                           "learning_rate": [3e-3], "clip_norm": [5.0], "lr_half_life": [0]})
    text = lr_search_markdown(tmp_path, table1, title="Longer training")
    assert text.startswith("**Longer training**")
    assert ("| Fast weights | 20 | 0.003 | 5 | 1,000 | 4,000 | 2,000 | below 50 % | 2 | 2.00 |"
            in text)
    assert ("Table 1's Fast weights at R = 20: learning rate 0.003 clipped at 5, not the "
            "chosen setting") in text


def test_only_the_settings_run_at_the_most_seeds_of_their_cell_can_be_chosen(tmp_path):
    from fwlib.tasks.associative import lr_search

    first = lr_search.search_grid(["fast_weights"], [20], (1e-4, 3e-4, 3e-3), (5.0,), [0],
                                  max_steps=1000, patience=500)
    second = lr_search.search_grid(["fast_weights"], [20], (1e-4, 3e-3), (5.0,), [1, 2],
                                   max_steps=1000, patience=500)
    errors = {(1e-4, 0): 0.017, (1e-4, 1): 0.18, (1e-4, 2): 0.024, (3e-4, 0): 0.01,
              (3e-3, 0): 0.045, (3e-3, 1): 0.04, (3e-3, 2): 0.065}
    for config in [*first, *second]:
        record(tmp_path, config, [errors[config.optim.learning_rate, config.seed]],
               test_error=0.0)
    summary = lr_search.summarise(tmp_path, [*first, *second])
    # 3e-4 has the lowest mean, at one seed; of the settings run at three, 3e-3 is best
    assert summary["learning_rate"].tolist() == [3e-4, 3e-3, 1e-4]
    assert summary["chosen"].tolist() == [False, True, False]
    assert lr_search.chosen_settings(summary)["learning_rate"] == {"fast_weights@20": 3e-3}


def test_runs_recorded_before_a_field_existed_are_read_with_its_default(tmp_path):
    from fwlib.run.store import load_runs
    from fwlib.tasks.associative import lr_search

    config = lr_search.search_grid(["lstm"], [20], (1e-3,), (5.0,), [0], max_steps=1000,
                                   patience=500)[0]
    record(tmp_path, config, [0.5, 0.4], test_error=0.4)
    path = tmp_path / config.run_name() / "config.json"
    old = json.loads(path.read_text())
    del old["optim"]["lr_half_life"], old["budget"]["plateau_error"]
    path.write_text(json.dumps(old))
    runs = load_runs(tmp_path)
    assert runs.loc[0, "lr_half_life"] == 0 and runs.loc[0, "plateau_error"] == 1.0
    assert runs.loc[0, "learning_rate"] == 1e-3 and runs.loc[0, "model"] == "lstm"


def test_mnist_runs_trained_longer_are_reused_and_shorter_ones_refused(tmp_path):
    import dataclasses

    from fwlib.run.folder import BudgetChanged
    from fwlib.run.parallel import run_grid

    longer, shorter, fresh = selection.selection_grid(fast_lrs=(0.5, 0.1, 0.02),
                                                      hidden_units=(50,), max_steps=1000)
    record(tmp_path, dataclasses.replace(
        longer, budget=dataclasses.replace(longer.budget, max_steps=1500, patience=1500)),
        [0.05, 0.03, 0.02], test_error=0.1)
    record(tmp_path, dataclasses.replace(
        shorter, budget=dataclasses.replace(shorter.budget, max_steps=500, patience=500)),
        [0.05], test_error=0.1)
    planned = selection.reuse_recorded([longer, shorter, fresh], tmp_path, compare_steps=1000)
    assert planned[0].budget.max_steps == 1500  # covers the 1,000 compared updates: reused
    assert planned[1] is shorter and planned[2] is fresh  # stopped before them; not run
    with pytest.raises(BudgetChanged, match="delete the folder"):
        run_grid(planned, tmp_path, workers=1, progress=False)
    summary = selection.summarise(tmp_path, planned[:1], compare_steps=1000)
    assert list(summary["updates_compared"]) == [1000]
    assert list(summary["valid_error"]) == [0.03]


def test_mnist_glimpse_inputs_are_settings_and_shown_as_not_adopted(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(200,), max_steps=1000,
                                       orders=("coarse_fine", "fine_centre"),
                                       encoder_units=(100, 0))
    inputs = {(c.task.order, c.model.encoder_units): c for c in configs}
    assert sorted(inputs) == [("coarse_fine", 0), ("coarse_fine", 100),
                              ("fine_centre", 0), ("fine_centre", 100)]
    assert len({c.run_name() for c in configs}) == 4
    # the default input is the run the plain search plans: one run, reused by both
    plain, = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(200,), max_steps=1000)
    assert inputs["coarse_fine", 100].run_name() == plain.run_name()
    errors = {("coarse_fine", 100): 0.02, ("coarse_fine", 0): 0.03,
              ("fine_centre", 100): 0.015, ("fine_centre", 0): 0.025}
    for key, config in inputs.items():
        record(tmp_path / "runs", config, [0.05, errors[key]], test_error=0.0)
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    chosen = summary[summary["chosen"]]
    assert chosen[["order", "encoder_units"]].values.tolist() == [["fine_centre", 100]]
    # a search that varies neither keeps its columns as before
    alone = selection.summarise(tmp_path / "runs", [plain], compare_steps=1000)
    assert "order" not in alone and "encoder_units" not in alone
    summary.to_csv(tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert "Fast weights with another glimpse order and glimpse encoder" in text
    assert "not adopted" in text
    assert "| 200 | 0.005 | 0.003 | fine_centre | 100 | 1.5 |" in text


@pytest.mark.parametrize("argument, column, part, heading, label", [
    ("weight_decays", "weight_decay", "optim", "the weight decay", "weight decay"),
    ("dropouts", "dropout", "model", "the dropout rate", "dropout"),
])
def test_an_mnist_regulariser_is_a_setting_of_its_own(tmp_path, argument, column, part,
                                                      heading, label):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(50, 200),
                                       max_steps=1000, **{argument: (0.0, 0.3)})
    assert sorted({getattr(getattr(c, part), column) for c in configs}) == [0.0, 0.3]
    plain = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(50, 200), max_steps=1000)
    assert {c.run_name() for c in plain} < {c.run_name() for c in configs}  # reused
    for config in configs:
        regularised = getattr(getattr(config, part), column) > 0
        record(tmp_path / "runs", config, [0.03, 0.015 if regularised else 0.02],
               test_error=0.0)
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    assert set(summary.loc[summary["chosen"], column]) == {0.3}
    assert column not in selection.summarise(tmp_path / "runs", plain, 1000)
    summary.to_csv(tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert f"Choice of {heading} at η = 0.005" in text
    assert f"| R | η | learning rate | {label} | best validation error (%) |" in text
    assert "| 200 | 0.005 | 0.003 | 0.3 | 1.5 |" in text
    assert "Table 2's fast-weights runs use" not in text
    table_runs = pd.DataFrame({"model": ["fast_weights", "lstm"], "hidden_units": 200,
                               column: [0.0, 0.3]})
    assert (f"Table 2's fast-weights runs use {label} 0 (0: none)."
            in selection_markdown(tmp_path, table_runs))


def test_another_model_s_dropout_is_searched_without_eta(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(hidden_units=(50, 200), max_steps=1000,
                                       learning_rate=1e-3, dropouts=(0.0, 0.3), model="lstm")
    assert {c.model.kind for c in configs} == {"lstm"} and len(configs) == 4
    table2 = plans.table2_grid(["lstm"], [50], [0], 1000, 1e-3, patience=1000)
    assert table2[0].run_name() in {c.run_name() for c in configs}  # Table 2's own run
    with pytest.raises(ValueError, match="fast_lrs: η is a setting of fast weights only"):
        selection.selection_grid(fast_lrs=(0.02,), model="lstm")
    with pytest.raises(ValueError, match="model must be one of"):
        selection.selection_grid(model="gru")
    for config in configs:
        dropped = config.model.dropout > 0
        record(tmp_path / "runs", config, [0.03, 0.015 if dropped else 0.02], test_error=0.0)
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    assert "fast_lr" not in summary and set(summary["model"]) == {"lstm"}
    assert set(summary.loc[summary["chosen"], "dropout"]) == {0.3}
    summary.to_csv(tmp_path / "summary.csv", index=False)
    table_runs = pd.DataFrame({"model": ["fast_weights", "lstm"], "hidden_units": 50,
                               "dropout": [0.3, 0.0]})
    text = selection_markdown(tmp_path, table_runs)
    assert "**Choice of the dropout rate for the LSTM** (the LSTM, validation split" in text
    assert "| R | learning rate | dropout | best validation error (%) |" in text
    assert "Table 2's LSTM runs use dropout 0 (0: none)." in text


def test_fast_weight_decay_and_inner_steps_are_settings_of_their_own(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(50, 200),
                                       max_steps=1000, decays=(0.9, 0.95), inner_steps=(1, 2))
    assert sorted({(c.model.decay, c.model.inner_steps) for c in configs}) == [
        (0.9, 1), (0.9, 2), (0.95, 1), (0.95, 2)]
    assert len({c.run_name() for c in configs}) == 8
    # λ = 0.95 with S = 1 is the default: the same run as a search that never named them
    plain = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(50, 200), max_steps=1000)
    assert {c.run_name() for c in plain} < {c.run_name() for c in configs}
    for config in configs:
        best = config.model.decay == 0.9 and config.model.inner_steps == 2
        record(tmp_path / "runs", config, [0.03, 0.012 if best else 0.02],
               test_error=0.5 if best else 0.0)  # the test error plays no part
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    chosen = summary[summary["chosen"]]
    assert set(zip(chosen["decay"], chosen["inner_steps"], strict=True)) == {(0.9, 2)}
    summary.to_csv(tmp_path / "summary.csv", index=False)
    text = selection_markdown(tmp_path)
    assert "Choice of λ and S at η = 0.005" in text
    assert "| R | η | learning rate | λ | S | best validation error (%) |" in text
    assert "| 50 | 0.005 | 0.003 | 0.9 | 2 | 1.2 | 1000 | True |" in text


@pytest.mark.parametrize("argv, message", [
    (["--decays", "0.9", "1.5"], "decay must be in [0, 1] (got 1.5)"),
    (["--inner-steps", "0"], "inner_steps must be an integer >= 1 (got 0)"),
    (["--model", "lstm", "--decays", "0.9"], "decays: a setting of fast weights only"),
    (["--model", "irnn", "--inner-steps", "2"], "inner_steps: a setting of fast weights only"),
])
def test_mnist_selection_refuses_bad_settings_before_training(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        selection.main([*argv, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_search_says_what_it_held_fixed_and_what_table_2_uses(tmp_path):
    from fwlib.tasks.mnist_glimpses.report import selection_markdown

    configs = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(200,), max_steps=1000,
                                       dropouts=(0.1,), decays=(0.9, 0.95))
    for config in configs:
        record(tmp_path / "runs", config, [0.03, 0.02], test_error=0.0)
    summary = selection.summarise(tmp_path / "runs", configs, compare_steps=1000)
    assert "dropout" not in summary  # the same in every run: no column
    summary.to_csv(tmp_path / "summary.csv", index=False)
    # Table 2's fast weights at the searched width, and others that must not be counted
    table = pd.DataFrame({"model": ["fast_weights", "fast_weights", "lstm"],
                          "hidden_units": [200, 50, 200], "decay": [0.95, 0.5, 0.7],
                          "inner_steps": [1, 3, 1], "dropout": [0.1, 0.0, 0.2]})
    text = selection_markdown(tmp_path, table)
    assert "Every run of this search used dropout 0.1." in text
    assert "Table 2's fast-weights runs use λ 0.95." in text
    assert " S " not in text.split("\n\n")[0]  # S was not varied: not said
    # without dropout, nothing is said to be held fixed
    plain = selection.selection_grid(fast_lrs=(0.005,), hidden_units=(200,), max_steps=1000)
    other = tmp_path / "plain"
    for config in plain:
        record(other / "runs", config, [0.03, 0.02], test_error=0.0)
    selection.summarise(other / "runs", plain, compare_steps=1000).to_csv(
        other / "summary.csv", index=False)
    assert "Every run" not in selection_markdown(other, table)
