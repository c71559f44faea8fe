import numpy as np
import pytest

from fwlib.rl.returns import advantages, n_step_returns
from fwlib.rl.train import sample_actions


def test_n_step_returns_match_a_hand_computed_example():
    # One episode of 4 steps, γ = 0.5, n = 2: R(t) = r(t) + γ r(t+1) + γ² V(s(t+2)).
    rewards = np.array([[0.0], [1.0], [0.0], [-1.0]])
    values = np.array([[0.1], [0.2], [0.4], [0.8]])
    returns = n_step_returns(rewards, values, n_steps=2, discount=0.5)
    expected = [0.0 + 0.5 * 1.0 + 0.25 * 0.4,  # 0.6
                1.0 + 0.5 * 0.0 + 0.25 * 0.8,  # 1.2
                0.0 + 0.5 * -1.0,              # the episode ends: no bootstrap
                -1.0]
    np.testing.assert_allclose(returns[:, 0], expected)
    np.testing.assert_allclose(advantages(returns, values)[:, 0],
                               [0.5, 1.0, -0.9, -1.8])


def test_a_long_n_gives_monte_carlo_returns_and_n_1_gives_td():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    mc = n_step_returns(rewards, values, n_steps=50, discount=0.9)
    np.testing.assert_allclose(mc[-1], rewards[-1])
    np.testing.assert_allclose(mc[:-1], rewards[:-1] + 0.9 * mc[1:])
    td = n_step_returns(rewards, values, n_steps=1, discount=0.9)
    np.testing.assert_allclose(td[:-1], rewards[:-1] + 0.9 * values[1:])


def test_sampled_actions_follow_the_policy():
    logits = np.log(np.array([[0.2, 0.3, 0.5]] * 20000))
    actions = sample_actions(logits, np.random.default_rng(0).random(20000))
    assert np.bincount(actions, minlength=3) / 20000 == pytest.approx([0.2, 0.3, 0.5], abs=0.01)
