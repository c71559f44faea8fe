import pandas as pd
import pytest

from fwlib.tasks.mnist_glimpses import compare


def grid(valid, test=None, seed=0):
    cells = [("fast_weights", 200), ("lstm", 200), ("convnet", 200), ("irnn", 50)]
    return pd.DataFrame({
        "model": [m for m, _ in cells], "hidden_units": [r for _, r in cells],
        "seed": seed, "run": [f"{m}_R{r}" for m, r in cells], "valid_error": valid,
        "test_error": test if test is not None else valid, "best_step": 100, "steps": 200})


def test_pairs_are_matched_by_cell_and_judged_on_validation_only():
    before = grid([0.015, 0.013, 0.008, 0.020], test=[0.016, 0.013, 0.006, 0.022])
    # lower on validation in 3 of 4 cells; the test errors all go the other way
    after = grid([0.014, 0.012, 0.007, 0.021], test=[0.030, 0.030, 0.030, 0.010])
    pairs = compare.compare(before, after)
    assert list(pairs["model"]) == ["irnn", "lstm", "fast_weights", "convnet"]
    assert list(pairs["lower_on_validation"]) == [False, True, True, True]
    assert pairs.loc[2, "valid_error_before"] == pytest.approx(1.5)
    assert compare.verdict(pairs) == (
        True, "lower validation error in 3 of 4 cells: adopted (the rule: more than half)")
    assert "**1.40**" in compare.markdown(pairs)


def test_half_the_cells_is_not_enough_and_unmatched_runs_are_left_out():
    before = grid([0.015, 0.013, 0.008, 0.020])
    after = pd.concat([grid([0.014, 0.012, 0.009, 0.021]),
                       grid([0.001] * 4, seed=1)])  # seed 1: nothing to compare with
    pairs = compare.compare(before, after)
    assert len(pairs) == 4
    assert compare.verdict(pairs)[0] is False
    with pytest.raises(ValueError, match="share no"):
        compare.compare(before, grid([0.01] * 4, seed=2))


def test_a_folder_without_runs_is_named(tmp_path):
    with pytest.raises(ValueError, match="no Table 2 runs under"):
        compare.grid_runs(tmp_path)
