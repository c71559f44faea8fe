import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from fwlib.tasks.catch.env import ENV_ID, BatchedCatch, CatchEnv, bounce


def _ball(screen):
    rows, cols = np.nonzero(screen[:-1])
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def test_the_registered_env_passes_gymnasiums_checker():
    env = gymnasium.make(ENV_ID, size=8, visible_frames=3)
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env.unwrapped, CatchEnv)


def test_the_ball_falls_one_row_per_step_and_bounces_off_the_walls():
    x, dx = bounce(np.array([0, 7, 6, 1, 3]), np.array([-1, 1, 1, -1, 0]), 8)
    assert x.tolist() == [1, 6, 7, 0, 3] and dx.tolist() == [1, -1, 1, -1, 0]
    game = BatchedCatch(1, size=8, visible_frames=None)
    game.reset([0])
    game.ball_x, game.ball_dx = np.array([5]), np.array([1])
    path = []
    for _ in range(7):
        screen, _, _ = game.step(np.array([1]))
        path.append(_ball(screen[0]) or [(7, int(game.ball_x[0]))])
    assert [p[0] for p in path] == [(1, 6), (2, 7), (3, 6), (4, 5), (5, 4), (6, 3), (7, 2)]


def test_the_paddle_moves_and_stops_at_the_walls():
    game = BatchedCatch(2, size=8, visible_frames=None, paddle_width=3)
    game.reset([0, 1])
    game.paddle_x = np.array([1, 6])
    screen, _, _ = game.step(np.array([0, 2]))  # push both into their walls
    assert game.paddle_x.tolist() == [1, 6]
    assert screen[0, 7, :3].tolist() == [1, 1, 1] and screen[1, 7, 5:].tolist() == [1, 1, 1]
    game.step(np.array([2, 0]))
    assert game.paddle_x.tolist() == [2, 5]
    with pytest.raises(ValueError, match="actions must be"):
        game.step(np.array([3, 0]))


def test_the_screen_goes_blank_after_m_frames_and_the_episode_lasts_n_minus_1_steps():
    game = BatchedCatch(3, size=10, visible_frames=3)
    screens = [game.reset([1, 2, 3])]
    ends = []
    for _ in range(9):
        screen, reward, done = game.step(np.ones(3, dtype=int))
        screens.append(screen)
        ends.append(done)
    assert [float(s.sum()) > 0 for s in screens] == [True] * 3 + [False] * 7
    assert all(s.sum() == 3 * 4 for s in screens[:3])  # one ball and a 3-pixel paddle each
    assert ends == [False] * 8 + [True]
    with pytest.raises(RuntimeError, match="reset"):
        game.step(np.ones(3, dtype=int))


def test_reward_is_plus_one_for_a_catch_minus_one_for_a_miss_zero_before():
    game = BatchedCatch(2, size=8, visible_frames=None, max_dx=0)
    game.reset([0, 1])
    game.ball_x = np.array([3, 3])
    game.paddle_x = np.array([3, 6])  # the first under the ball, the second far away
    rewards = []
    for _ in range(7):
        _, reward, _ = game.step(np.array([1, 1]))
        rewards.append(reward.tolist())
    assert rewards[:-1] == [[0.0, 0.0]] * 6 and rewards[-1] == [1.0, -1.0]
    game.reset([0, 1])
    game.ball_x, game.paddle_x = np.array([3, 3]), np.array([4, 5])  # edge of the paddle: caught
    for _ in range(7):
        _, reward, _ = game.step(np.array([1, 1]))
    assert reward.tolist() == [1.0, -1.0]


def test_batched_and_gymnasium_versions_agree_for_the_same_seeds_and_actions():
    seeds = [3, 14, 15, 92]
    batched = BatchedCatch(len(seeds), size=12, visible_frames=4)
    singles = [CatchEnv(size=12, visible_frames=4) for _ in seeds]
    observations = batched.reset(seeds)
    for env, seed, obs in zip(singles, seeds, observations, strict=True):
        single_obs, _ = env.reset(seed=seed)
        np.testing.assert_array_equal(single_obs, obs)
    actions = np.random.default_rng(0).integers(3, size=(11, len(seeds)))
    for step_actions in actions:
        observations, rewards, done = batched.step(step_actions)
        for i, env in enumerate(singles):
            obs, reward, terminated, truncated, _ = env.step(int(step_actions[i]))
            np.testing.assert_array_equal(obs, observations[i])
            assert reward == rewards[i] and terminated == done and not truncated
    assert done


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"size": 3}, "size must be"), ({"visible_frames": 0}, "visible_frames must be"),
    ({"paddle_width": 2}, "paddle_width must be"), ({"max_dx": -1}, "max_dx must be")])
def test_bad_game_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CatchEnv(**kwargs)
