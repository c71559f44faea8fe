import math

import pytest

from fwlib import verdicts


@pytest.mark.parametrize("paper, band", [(0.0, 0.5), (1.81, 0.5), (2.0, 0.5), (7.21, 1.8025),
                                         (60.0, 15.0)])
def test_tolerance(paper, band):
    assert verdicts.tolerance(paper) == pytest.approx(band)


@pytest.mark.parametrize("paper, ours, standing", [
    (0.0, 0.5, "within"), (0.0, 0.51, "worse"), (0.0, 2.0, "worse"),
    (1.81, 1.31, "within"), (1.81, 1.30, "better"), (1.81, 2.31, "within"),
    (1.81, 2.32, "worse"), (60.81, 4.62, "better"), (60.0, 45.0, "within"),
    (60.0, 75.0, "within"), (60.0, 75.01, "worse"),
])
def test_each_seed_at_the_boundaries(paper, ours, standing):
    assert verdicts.seed_standing(paper, ours) == standing


def test_two_percent_does_not_reproduce_zero():
    assert verdicts.judge(0.0, [2.0, 2.1, 1.9])["verdict"] == verdicts.NOT_REPRODUCED


def test_better_than_paper_is_told_apart_from_worse():
    assert verdicts.judge(60.81, [4.54, 4.62, 5.12])["verdict"] == verdicts.BETTER
    assert verdicts.judge(0.34, [61.5, 61.9])["verdict"] == verdicts.NOT_REPRODUCED


def test_seeds_that_disagree_are_shown_per_seed():
    result = verdicts.judge(0.0, [0.49, 0.56, 17.27])
    assert result["verdict"] == verdicts.MIXED
    assert result["agreement"] == "1 of 3 seeds within, 2 worse"
    assert result["mean"] == pytest.approx(6.1066667)
    result = verdicts.judge(0.0, [0.0, 0.3, 0.5])
    assert result["verdict"] == verdicts.REPRODUCED and result["agreement"] == "3 of 3 seeds within"


def test_missing_nan_and_diverged_values():
    assert verdicts.judge(1.0, [])["verdict"] == verdicts.NOT_RUN
    assert verdicts.judge(1.0, [None, math.nan], diverged=2)["verdict"] == verdicts.ALL_DIVERGED
    result = verdicts.judge(1.0, [1.2, math.nan, None, "x"], diverged=1)
    assert result["seeds"] == 1 and result["std"] is None
    assert result["agreement"] == "1 of 1 seed within, 1 diverged"
    assert verdicts.judge(None, [1.0])["verdict"] == verdicts.NOT_RUN


def test_budgets_too_short_give_no_verdict():
    result = verdicts.judge(60.0, [61.0], judgeable=False)
    assert result["verdict"] == verdicts.TOO_SHORT and result["mean"] == 61.0


def test_format_cell():
    text = verdicts.format_cell(verdicts.judge(0.0, [0.49, 0.56, 17.27]))
    assert text == "6.11 ± 9.67 (1 of 3 seeds within, 2 worse; mixed)"
    assert verdicts.format_cell(verdicts.judge(0.0, [])) == "not run"
