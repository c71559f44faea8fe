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
