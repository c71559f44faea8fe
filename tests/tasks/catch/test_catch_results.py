import numpy as np
import pandas as pd

from fwlib.tasks.catch import results


def _runs(rates, frames=1_000_000):
    rows = []
    for (version, model, seed), rate in rates.items():
        rows.append({"version": version, "model": model, "seed": seed, "catch_rate": rate,
                     "frames": frames, "diverged": False, "final_episodes": 1000,
                     "wall_seconds": 60.0})
    return pd.DataFrame(rows)


def _speed(areas):
    return pd.DataFrame([{"version": v, "model": m, "seed": s, "area": a}
                         for (v, m, s), a in areas.items()])


def test_learning_speed_is_the_mean_of_the_curve():
    curve = pd.DataFrame({"version": "N16_M3", "model": "lstm", "seed": 0,
                          "frames": [1, 2, 3, 4], "eval_catch_rate": [0.2, 0.4, 0.6, 0.8]})
    assert results.learning_speed(curve)["area"].tolist() == [0.5]


def test_the_fastest_learner_rule():
    keys = [(v, m, s) for v in ("N16_M3", "N24_M5") for m in ("fast_weights", "lstm", "irnn")
            for s in (0, 1)]
    areas = {k: {"fast_weights": 0.8, "lstm": 0.6, "irnn": 0.5}[k[1]] for k in keys}
    areas[("N24_M5", "fast_weights", 0)] = areas[("N24_M5", "fast_weights", 1)] = 0.9
    runs = _runs({k: 0.9 for k in keys})
    claims = results.claims(runs, _speed(areas)).set_index("claim")
    assert claims.loc["fast weights learn fastest (N16_M3)", "verdict"] == results.SUPPORTED
    assert claims.loc["more clearly on N24_M5 than on N16_M3", "verdict"] == results.SUPPORTED
    areas[("N16_M3", "fast_weights", 1)] = 0.55  # beats IRNN, not the LSTM, in seed 1
    verdict = results.judge_fastest(_speed(areas), runs, "N16_M3")
    assert verdict["verdict"] == results.MIXED and "LSTM in 1 of 2 seeds" in verdict["detail"]
    areas[("N16_M3", "fast_weights", 0)] = 0.55
    assert results.judge_fastest(_speed(areas), runs, "N16_M3")["verdict"] == \
        results.NOT_SUPPORTED
    short = _runs({k: 0.9 for k in keys}, frames=results.MIN_JUDGE_FRAMES - 1)
    assert results.judge_fastest(_speed(areas), short, "N16_M3")["verdict"] == results.TOO_SHORT


def test_the_control_rule_and_the_table():
    rates = {("N16_M3", "fast_weights", 0): 0.95, ("N16_M3", "lstm", 0): 0.9,
             ("N16_M3", "feedforward", 0): 0.5, ("N16_full", "fast_weights", 0): 0.99}
    runs = _runs(rates)
    assert results.judge_control(runs, "N16_M3")["verdict"] == results.ONE_SEED
    two = _runs({**rates, **{(v, m, 1): r for (v, m, _), r in rates.items()}})
    assert results.judge_control(two, "N16_M3")["verdict"] == results.SUPPORTED
    two.loc[two["model"] == "feedforward", "catch_rate"] = 0.8
    assert results.judge_control(two, "N16_M3")["verdict"] == results.NOT_SUPPORTED
    table = results.catch_table(runs)
    assert table["game"].tolist() == ["N16_M3"] * 3 + ["N16_full"]
    assert table["catch_rate_mean"].iloc[0] == 95.0 and np.isnan(table["catch_rate_std"].iloc[0])
    assert results.format_rate(table.iloc[0]) == "95.0 (1 seed)"
    assert table["kept_at_mframes"].iloc[0] == "—"  # recorded before best weights were kept
    runs = runs.assign(best_frames=2_400_000, last_weights_catch_rate=0.5,
                       learning_rate=1e-3, fast_lr=0.02)
    row = results.catch_table(runs).iloc[0]
    assert (row["kept_at_mframes"], row["last_weights_per_seed"]) == ("2.4", "50.0")
    assert row["settings"] == "lr 0.001, η 0.02"
    assert results.catch_table(runs)["settings"].iloc[1] == "lr 0.001"


def test_one_seed_gives_no_verdict():
    keys = [(v, m, 0) for v in ("N16_M3", "N24_M5") for m in ("fast_weights", "lstm", "irnn")]
    areas = {k: {"fast_weights": 0.8, "lstm": 0.6, "irnn": 0.5}[k[1]] for k in keys}
    claims = results.claims(_runs({k: 0.9 for k in keys}), _speed(areas))
    assert set(claims["verdict"]) <= {results.ONE_SEED, results.NOT_RUN}
    assert "more clearly on the larger game" in set(claims["claim"])
