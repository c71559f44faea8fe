import pandas as pd
import pytest

from fwlib.tasks.associative import ablations


def _name(planned, study, value, seed=0, units=20):
    row = planned[(planned["study"] == study) & (planned["value"] == value)
                  & (planned["seed"] == seed) & (planned["R"] == units)]
    return row["run"].iloc[0]


def test_plan_shares_the_baseline_between_studies():
    planned = ablations.plan(["layer_norm", "control", "indexing", "decay"], [20], [0, 1], 1000,
                             decays=[0.0, 0.95])
    baseline = planned[(planned["study"] == "layer_norm") & (planned["value"] == "on")]
    assert len(set(baseline["run"])) == 2
    same = planned[planned["run"] == _name(planned, "layer_norm", "on")]
    assert set(same["study"]) == {"layer_norm", "control", "indexing", "decay"}
    assert set(same["value"]) == {"on", "Fast weights", "current", "0.95"}
    control = planned[planned["study"] == "control"]
    assert set(control["model"]) == {"fast_weights", "rnn_ln"}
    assert planned["run"].nunique() == 2 * 5  # baseline, LN off, RNN+LN, previous, λ=0


def test_inner_steps_variants():
    planned = ablations.plan(["inner_steps"], [20, 50], [0], 1000)
    steps = planned[planned["study"] == "inner_steps"]
    assert len(steps) == 3 * 2 * 2  # S × LN × R
    configs = {row.run: row.config for row in steps.itertuples()}
    assert {(c.model.inner_steps, c.model.layer_norm) for c in configs.values()} == {
        (s, ln) for s in (1, 2, 3) for ln in (True, False)}


@pytest.mark.parametrize("kwargs, name", [
    ({"studies": ["dropout"]}, "studies"), ({"studies": []}, "studies"),
    ({"decays": [1.5]}, "decay"), ({"fast_lrs": [-1.0]}, "fast_lr"),
    ({"inner_steps": [0]}, "inner_steps"), ({"max_steps": 1234}, "max_steps"),
    ({"studies": ["capacity"]}, "studies"),
])
def test_bad_values_are_named(kwargs, name):
    args = {"studies": ["decay", "fast_lr", "inner_steps"], "hidden_units": [20],
            "seeds": [0], "max_steps": 1000}
    options = {k: v for k, v in kwargs.items() if k not in args}
    args.update({k: v for k, v in kwargs.items() if k in args})
    with pytest.raises(ValueError, match=name):
        ablations.plan(args.pop("studies"), args.pop("hidden_units"), args.pop("seeds"),
                       args.pop("max_steps"), **options)


PLAN = ablations.plan(["layer_norm", "inner_steps", "control"], [20], [0, 1], 10_000)


def _results(errors: dict, budget: int = 10_000, diverged=()) -> pd.DataFrame:
    """``errors``: (study, value) -> test error for both seeds."""
    rows = []
    for (study, value), error in errors.items():
        for seed in (0, 1):
            run = _name(PLAN, study, value, seed)
            rows.append({"run": run, "test_error": error, "valid_error": error,
                         "steps": budget, "wall_seconds": 1.0,
                         "stopped": "diverged" if (study, value) in diverged else "budget",
                         "diverged": (study, value) in diverged, "max_steps": budget})
    runs = pd.DataFrame(rows).drop_duplicates("run")
    return ablations.attach_results(PLAN, runs)


GOOD, BAD = 0.02, 0.62
CONFIRMING = {("layer_norm", "on"): GOOD, ("layer_norm", "off"): BAD,
              ("inner_steps", "S=2, LN off"): BAD, ("inner_steps", "S=3, LN off"): BAD,
              ("inner_steps", "S=2, LN on"): GOOD, ("inner_steps", "S=3, LN on"): GOOD,
              ("control", "RNN+LN (control)"): BAD}


def test_claims_confirmed_refuted_and_inconclusive_from_the_numbers():
    verdicts = ablations.claims(_results(CONFIRMING))
    assert list(verdicts["verdict"]) == ["confirmed", "confirmed", "confirmed"]
    assert "62.00" in verdicts.loc[0, "evidence"]

    refuting = {**CONFIRMING, ("layer_norm", "off"): 0.03, ("inner_steps", "S=2, LN off"): 0.04,
                ("control", "RNN+LN (control)"): 0.05}
    assert list(ablations.claims(_results(refuting))["verdict"]) == ["refuted"] * 3

    # S > 1 with layer norm on the plateau too: the budget cannot tell, whatever LN off did
    plateau = {**CONFIRMING, ("inner_steps", "S=2, LN on"): BAD,
               ("inner_steps", "S=3, LN on"): BAD}
    assert ablations.claims(_results(plateau))["verdict"].tolist()[1] == "inconclusive"

    nothing_learns = {**CONFIRMING, ("layer_norm", "on"): BAD}
    assert ablations.claims(_results(nothing_learns))["verdict"].tolist()[0] == "inconclusive"


def test_a_diverged_arm_counts_as_not_converging_and_is_left_out_of_means():
    errors = {**CONFIRMING, ("inner_steps", "S=3, LN off"): None}
    results = _results(errors, diverged={("inner_steps", "S=3, LN off")})
    verdicts = ablations.claims(results)
    assert verdicts["verdict"].tolist()[1] == "confirmed"
    assert "2 diverged" in verdicts.loc[1, "evidence"]
    summary = ablations.summary(results)
    row = summary[summary["value"] == "S=3, LN off"].iloc[0]
    assert row["seeds"] == 0 and row["diverged"] == 2


def test_claims_without_an_arm_are_not_tested_and_short_budgets_are_not_judged():
    verdicts = ablations.claims(_results({}))
    assert set(verdicts["verdict"]) == {"not tested"}
    only_off = {k: v for k, v in CONFIRMING.items() if not k[1].endswith("LN on")}
    verdicts = ablations.claims(_results(only_off))
    assert verdicts["verdict"].tolist()[1] == "not tested"
    assert "S=2, LN on" in verdicts.loc[1, "evidence"]
    short = ablations.claims(_results(CONFIRMING, budget=3000))
    assert set(short["verdict"]) == {"too short to judge"}


def test_summary_mean_and_std_over_seeds():
    results = _results({("layer_norm", "on"): 0.10})
    results.loc[results["seed"] == 1, "test_error_pct"] = 20.0
    summary = ablations.summary(results)
    row = summary[(summary["study"] == "layer_norm") & (summary["value"] == "on")].iloc[0]
    assert row["mean"] == pytest.approx(15.0) and row["seeds"] == 2
    assert row["std"] == pytest.approx(7.0710678, rel=1e-6)


def test_one_seed_per_arm_gives_no_verdict():
    results = _results(CONFIRMING)
    one_seed = results[results["seed"] == 0]
    verdicts = ablations.claims(one_seed)
    assert set(verdicts["verdict"]) == {"not judged (one seed)"}
    assert verdicts["evidence"].str.contains("1 seed").all()


def test_a_study_may_run_at_its_own_r_with_settings_per_r():
    planned = ablations.plan(["layer_norm", "inner_steps"],
                             {"default": [20], "inner_steps": [20, 50]}, [0],
                             {"default": 1000, 50: 3000}, learning_rate={"default": 3e-3, 50: 1e-3},
                             fast_lr={"default": 0.5, "50": 0.1})
    assert set(planned.loc[planned["study"] == "layer_norm", "R"]) == {20}
    assert set(planned.loc[planned["study"] == "inner_steps", "R"]) == {20, 50}
    for row in planned.itertuples():
        config = row.config
        wide = row.R == 50
        assert config.budget.max_steps == (3000 if wide else 1000)
        assert config.optim.learning_rate == row.learning_rate == (1e-3 if wide else 3e-3)
        assert config.model.fast_lr == row.fast_lr == (0.1 if wide else 0.5)
    # the R = 20 runs are those of a plan that sets nothing per R
    plain = ablations.plan(["layer_norm", "inner_steps"], [20], [0], 1000)
    assert set(plain["run"]) == set(planned.loc[planned["R"] == 20, "run"])


def test_the_control_keeps_its_default_eta_whatever_the_baseline_uses():
    planned = ablations.plan(["control"], [50], [0], 1000, fast_lr=0.1)
    rnn = planned[planned["model"] == "rnn_ln"].iloc[0]
    assert rnn["config"].model.fast_lr == 0.5 and pd.isna(rnn["fast_lr"])
    assert rnn["run"] == ablations.plan(["control"], [50], [0], 1000).query(
        "model == 'rnn_ln'")["run"].iloc[0]


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_units": {"dropout": [20]}}, "hidden_units key 'dropout'"),
    ({"hidden_units": {"layer_norm": [20]}}, "hidden_units has no R values for the control"),
    ({"hidden_units": {"default": []}}, "hidden_units must list"),
    ({"learning_rate": {100: 1e-3, "default": 3e-3}}, "learning_rate key 100"),
    ({"max_steps": {50: 1000}}, "max_steps has no value for R=20"),
    ({"fast_lr": {"default": -1.0}}, "fast_lr"),
])
def test_bad_per_study_or_per_r_settings_are_named(kwargs, message):
    args = {"hidden_units": [20, 50], "max_steps": 1000, **kwargs}
    with pytest.raises(ValueError, match=message):
        ablations.plan(["layer_norm", "control"], args.pop("hidden_units"), [0],
                       args.pop("max_steps"), **args)


def test_a_claim_is_listed_only_at_the_r_its_study_ran():
    plan = ablations.plan(["layer_norm", "inner_steps"],
                          {"default": [20], "inner_steps": [20, 50]}, [0, 1], 10_000)
    rows = []
    for row in plan.drop_duplicates("run").itertuples():
        bad = row.value.endswith("off")
        rows.append({"run": row.run, "test_error": BAD if bad else GOOD,
                     "valid_error": 0.1, "steps": 10_000, "wall_seconds": 1.0,
                     "stopped": "budget", "diverged": False, "max_steps": 10_000})
    verdicts = ablations.claims(ablations.attach_results(plan, pd.DataFrame(rows)))
    listed = list(zip(verdicts["claim"].str[:3], verdicts["R"], verdicts["verdict"],
                      strict=True))
    # layer norm's study ran at R = 20 only; the control's nowhere, so it is named at each R
    assert listed == [("(1)", 20, "confirmed"), ("(2)", 20, "confirmed"),
                      ("(3)", 20, "not tested"), ("(2)", 50, "confirmed"),
                      ("(3)", 50, "not tested")]


def test_the_report_names_the_settings_of_each_r(tmp_path):
    from fwlib.tasks.associative.report import ablation_settings, ablations_markdown

    plan = ablations.plan(["layer_norm", "inner_steps"],
                          {"default": [20], "inner_steps": [50]}, [0],
                          {"default": 25_000, 50: 60_000},
                          learning_rate={"default": 3e-3, 50: 1e-3},
                          fast_lr={50: 0.1, "default": 0.5})
    rows = [{"run": r.run, "test_error": 0.1, "valid_error": 0.1, "steps": 100,
             "wall_seconds": 60.0, "stopped": "budget", "diverged": False,
             "max_steps": r.config.budget.max_steps}
            for r in plan.drop_duplicates("run").itertuples()]
    results = ablations.attach_results(plan, pd.DataFrame(rows))
    lines = ablation_settings(results)
    assert ("- R = 20 (layer_norm): step size 0.003, baseline η 0.5, at most 25,000 updates"
            in lines)
    assert ("- R = 50 (inner_steps): step size 0.001, baseline η 0.1, at most 60,000 updates"
            in lines)
    assert ablation_settings(results.drop(columns="fast_lr")) == []
    tables = tmp_path / "tables"
    tables.mkdir()
    results.to_csv(tables / "ablation_runs.csv", index=False)
    ablations.summary(results).to_csv(tables / "ablations.csv", index=False)
    ablations.claims(results).to_csv(tables / "ablation_claims.csv", index=False)
    assert "Settings per R:" in ablations_markdown(tmp_path)
