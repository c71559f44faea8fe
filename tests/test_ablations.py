import pandas as pd
import pytest

from fwlib import ablations


def test_plan_shares_the_baseline_between_studies():
    planned = ablations.plan(["layer_norm", "control", "indexing", "decay"], [20], [0, 1], 1000)
    baseline = planned[(planned["study"] == "layer_norm") & (planned["value"] == "on")]
    assert set(baseline["run"]) == {"fast_weights_R20_seed0", "fast_weights_R20_seed1"}
    same = planned[planned["run"] == "fast_weights_R20_seed0"]
    assert set(same["study"]) == {"layer_norm", "control", "indexing", "decay"}
    assert "rnn_ln_R20_seed0" in set(planned["run"])
    assert "fast_weights_R20_decay0.0_seed0" in set(planned["run"])
    assert "fast_weights_R20_noLN_seed1" in set(planned["run"])


def test_inner_steps_and_capacity_variants():
    planned = ablations.plan(["inner_steps", "capacity"], [20, 50], [0], 1000,
                             capacity_pairs=[2, 8], capacity_models=["fast_weights", "lstm"])
    steps = planned[planned["study"] == "inner_steps"]
    assert len(steps) == 3 * 2 * 2  # S × LN × R
    assert "fast_weights_R50_S3_noLN_seed0" in set(steps["run"])
    capacity = planned[planned["study"] == "capacity"]
    assert set(capacity["run"]) >= {"lstm_R20_K8_seed0", "fast_weights_R50_K2_seed0"}
    assert all(c.num_pairs in (2, 8) for c in capacity["config"])


@pytest.mark.parametrize("kwargs, name", [
    ({"studies": ["dropout"]}, "studies"), ({"studies": []}, "studies"),
    ({"decays": [1.5]}, "decay"), ({"fast_lrs": [-1.0]}, "fast_lr"),
    ({"inner_steps": [0]}, "inner_steps"), ({"max_steps": 1234}, "max_steps"),
    ({"capacity_pairs": [30]}, "num_pairs"), ({"capacity_models": ["gru"]}, "model"),
])
def test_bad_values_are_named(kwargs, name):
    args = {"studies": ["decay", "fast_lr", "inner_steps", "capacity"], "hidden_units": [20],
            "seeds": [0], "max_steps": 1000}
    options = {k: v for k, v in kwargs.items() if k not in args}
    args.update({k: v for k, v in kwargs.items() if k in args})
    with pytest.raises(ValueError, match=name):
        ablations.plan(args.pop("studies"), args.pop("hidden_units"), args.pop("seeds"),
                       args.pop("max_steps"), **options)


def _results(errors: dict) -> pd.DataFrame:
    planned = ablations.plan(["layer_norm", "inner_steps", "control"], [20], [0, 1], 1000)
    runs = pd.DataFrame([{"run": run, "test_error": error, "valid_error": error, "steps": 1000,
                          "wall_seconds": 1.0, "stopped": "budget"}
                         for run, error in errors.items()])
    return ablations.attach_results(planned, runs)


def test_claims_confirmed_and_refuted_from_the_numbers():
    good, bad = 0.02, 0.62
    errors = {}
    for seed in (0, 1):
        errors.update({f"fast_weights_R20_seed{seed}": good,
                       f"fast_weights_R20_noLN_seed{seed}": bad,
                       f"fast_weights_R20_S2_noLN_seed{seed}": bad,
                       f"fast_weights_R20_S3_noLN_seed{seed}": bad,
                       f"rnn_ln_R20_seed{seed}": bad})
    verdicts = ablations.claims(_results(errors))
    assert list(verdicts["verdict"]) == ["confirmed", "confirmed", "confirmed"]
    assert "60" in verdicts.loc[0, "evidence"] or "62" in verdicts.loc[0, "evidence"]

    errors.update({"fast_weights_R20_noLN_seed0": 0.03, "fast_weights_R20_noLN_seed1": 0.03,
                   "fast_weights_R20_S2_noLN_seed1": 0.04, "rnn_ln_R20_seed0": 0.05,
                   "rnn_ln_R20_seed1": 0.05})
    verdicts = ablations.claims(_results(errors))
    assert list(verdicts["verdict"]) == ["refuted", "refuted", "refuted"]


def test_claims_not_tested_without_runs():
    verdicts = ablations.claims(_results({}))
    assert set(verdicts["verdict"]) == {"not tested"}


def test_summary_mean_and_std_over_seeds():
    errors = {"fast_weights_R20_seed0": 0.10, "fast_weights_R20_seed1": 0.20}
    summary = ablations.summary(_results(errors))
    row = summary[(summary["study"] == "layer_norm") & (summary["value"] == "on")].iloc[0]
    assert row["mean"] == pytest.approx(15.0) and row["seeds"] == 2
    assert row["std"] == pytest.approx(7.0710678, rel=1e-6)
