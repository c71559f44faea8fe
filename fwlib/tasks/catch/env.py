"""Catch on an N×N binary screen, fully or partially observed (Ba et al. 2016, Section 4.4).

A ball starts in a random column of the top row and falls one row per step; it also moves
``dx`` columns per step, ``dx`` drawn from ``{-max_dx, ..., max_dx}`` at the start, and bounces
off the side walls. A paddle ``paddle_width`` pixels wide sits in the bottom row, in a random
position at the start; each step it moves one column left, stays, or moves one column right
(actions 0, 1, 2), stopping at the walls, then the ball moves. The episode ends when the ball
reaches the bottom row, after ``N - 1`` steps: reward +1 if the ball lands on the paddle, −1 if
not, 0 on every other step.

Partially observable: the agent sees the screen for the first ``visible_frames`` frames of an
episode (the frame after ``reset`` counts as the first) and blank screens afterwards.
``visible_frames=None`` is the fully observed game.

- :class:`CatchEnv`: one game, a ``gymnasium.Env`` registered as ``fwlib/Catch-v0``;
- :class:`BatchedCatch`: many games in step, in NumPy, for training; for the same seeds and
  actions it gives the same observations, rewards and ends as :class:`CatchEnv`.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium.utils import seeding

ENV_ID = "fwlib/Catch-v0"
ACTIONS = ("left", "stay", "right")


def check_game(size, visible_frames, paddle_width, max_dx) -> None:
    """Raise ``ValueError`` naming the parameter when a game setting is out of range."""
    def is_int(value):
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if not is_int(size) or size < 4:
        raise ValueError(f"size must be an integer >= 4 (got {size!r})")
    if visible_frames is not None and (not is_int(visible_frames) or visible_frames < 1):
        raise ValueError("visible_frames must be a positive integer, or None for the fully "
                         f"observed game (got {visible_frames!r})")
    if not is_int(paddle_width) or paddle_width < 1 or paddle_width % 2 == 0 \
            or paddle_width >= size:
        raise ValueError(f"paddle_width must be an odd integer in 1..{size - 1} "
                         f"(got {paddle_width!r})")
    if not is_int(max_dx) or not 0 <= max_dx < size:
        raise ValueError(f"max_dx must be an integer in 0..{size - 1} (got {max_dx!r})")


def initial_state(rng: np.random.Generator, size: int, paddle_width: int, max_dx: int):
    """(ball column, ball dx, paddle centre) of a new game, drawn from ``rng``."""
    half = paddle_width // 2
    ball_x = int(rng.integers(size))
    ball_dx = int(rng.integers(-max_dx, max_dx + 1))
    paddle_x = int(rng.integers(half, size - half))
    return ball_x, ball_dx, paddle_x


def bounce(x: np.ndarray, dx: np.ndarray, size: int):
    """Move columns ``x`` by ``dx`` (``|dx| < size``), reflecting off the walls at 0 and
    ``size - 1``; the new columns and velocities."""
    moved = x + dx
    low, high = moved < 0, moved > size - 1
    new_x = np.where(low, -moved, np.where(high, 2 * (size - 1) - moved, moved))
    new_dx = np.where(low | high, -dx, dx)
    return new_x, new_dx


class BatchedCatch:
    """``num_envs`` games of Catch played in step (all episodes last ``size - 1`` steps)."""

    def __init__(self, num_envs: int, size: int = 16, visible_frames: int | None = 3,
                 paddle_width: int = 3, max_dx: int = 1):
        check_game(size, visible_frames, paddle_width, max_dx)
        self.num_envs, self.size = num_envs, size
        self.visible_frames, self.paddle_width, self.max_dx = visible_frames, paddle_width, max_dx
        self.episode_length = size - 1

    def reset(self, seeds) -> np.ndarray:
        """Start one game per seed (``len(seeds) == num_envs``); the first observations."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"seeds must hold {self.num_envs} values (got {len(seeds)})")
        starts = np.array([initial_state(seeding.np_random(int(s))[0], self.size,
                                         self.paddle_width, self.max_dx) for s in seeds])
        self.ball_x, self.ball_dx, self.paddle_x = (starts[:, i].astype(np.int64)
                                                    for i in range(3))
        self.ball_y = np.zeros(self.num_envs, dtype=np.int64)
        self.frame = 0
        return self.observe()

    def observe(self) -> np.ndarray:
        """The screens, ``[num_envs, size, size]`` float32 in {0, 1}; blank after M frames."""
        screens = np.zeros((self.num_envs, self.size, self.size), dtype=np.float32)
        if self.visible_frames is not None and self.frame >= self.visible_frames:
            return screens
        rows = np.arange(self.num_envs)
        screens[rows, self.ball_y, self.ball_x] = 1.0
        half = self.paddle_width // 2
        for offset in range(-half, half + 1):
            screens[rows, self.size - 1, self.paddle_x + offset] = 1.0
        return screens

    def step(self, actions):
        """Move the paddles, then the balls; (observations, rewards, done)."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or np.any((actions < 0) | (actions > 2)):
            raise ValueError(f"actions must be {self.num_envs} values in 0, 1, 2 (left, stay, "
                             f"right); got {actions!r}")
        if self.ball_y[0] >= self.size - 1:
            raise RuntimeError("the episodes have ended: call reset first")
        half = self.paddle_width // 2
        self.paddle_x = np.clip(self.paddle_x + actions - 1, half, self.size - 1 - half)
        self.ball_x, self.ball_dx = bounce(self.ball_x, self.ball_dx, self.size)
        self.ball_y = self.ball_y + 1
        self.frame += 1
        done = bool(self.ball_y[0] == self.size - 1)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        if done:
            caught = np.abs(self.ball_x - self.paddle_x) <= half
            rewards = np.where(caught, 1.0, -1.0).astype(np.float32)
        return self.observe(), rewards, done


class CatchEnv(gymnasium.Env):
    """One game of Catch as a ``gymnasium.Env`` (see the module's docstring)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 10}

    def __init__(self, size: int = 16, visible_frames: int | None = 3, paddle_width: int = 3,
                 max_dx: int = 1, render_mode: str | None = None):
        self.game = BatchedCatch(1, size, visible_frames, paddle_width, max_dx)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, (size, size), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(3)
        self.render_mode = render_mode
        self._ended = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # One draw from the env's generator seeds the game, as BatchedCatch.reset(seeds) does.
        game_seed = seed if seed is not None else int(self.np_random.integers(2**31))
        self._ended = False
        return self.game.reset([game_seed])[0], {}

    def step(self, action):
        if self._ended:
            raise RuntimeError("the episode has ended: call reset first")
        observations, rewards, done = self.game.step(np.array([int(action)]))
        self._ended = done
        info = {"caught": bool(rewards[0] > 0)} if done else {}
        return observations[0], float(rewards[0]), done, False, info

    def render(self):
        g = self.game
        rows = [["."] * g.size for _ in range(g.size)]
        half = g.paddle_width // 2
        for x in range(int(g.paddle_x[0]) - half, int(g.paddle_x[0]) + half + 1):
            rows[g.size - 1][x] = "="
        rows[int(g.ball_y[0])][int(g.ball_x[0])] = "o"
        return "\n".join("".join(r) for r in rows)


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point=CatchEnv)
