"""Agents with memory on a partially observable Catch (Section 4.4 of the paper): Figure 5.

- :mod:`.env`: the game, a ``gymnasium.Env`` (``fwlib/Catch-v0``) and a batched version;
- :mod:`.agents`: the IRNN, LSTM, fast-weights and feed-forward agents;
- :mod:`.plans`: the runs that the training notebook plans;
- :mod:`.figures`, :mod:`.report`: Figure 5, the catch-rate table, the claim and the section.

Training is A2C (:mod:`fwlib.rl`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import ClassVar

from fwlib.rl.config import A2CSpec, RLBudget
from fwlib.tasks.catch.agents import AgentSpec
from fwlib.tasks.catch.env import ENV_ID, BatchedCatch, check_game

TITLE = "Agents with memory on a partially observable Catch (Figure 5)"


@dataclass(frozen=True)
class CatchTask:
    """The task part of a Catch run's config: the game."""

    size: int = 16  # N, the screen is N×N; an episode lasts N − 1 steps
    visible_frames: int | None = 3  # M, frames seen before the screen goes blank; None: all
    paddle_width: int = 3  # pixels, odd
    max_dx: int = 1  # the ball moves dx ∈ {−max_dx..max_dx} columns per step, bouncing

    name: ClassVar[str] = "catch"
    title: ClassVar[str] = TITLE
    trainer: ClassVar[str] = "rl"
    model_class: ClassVar[type] = AgentSpec
    optim_class: ClassVar[type] = A2CSpec
    budget_class: ClassVar[type] = RLBudget

    def validate(self) -> CatchTask:
        check_game(self.size, self.visible_frames, self.paddle_width, self.max_dx)
        return self

    @property
    def version(self) -> str:
        """``N16_M3``, or ``N16_full`` for the fully observed game."""
        seen = "full" if self.visible_frames is None else f"M{self.visible_frames}"
        return f"N{self.size}_{seen}"

    @property
    def episode_length(self) -> int:
        return self.size - 1

    def make_env(self, num_envs: int) -> BatchedCatch:
        return BatchedCatch(num_envs, self.size, self.visible_frames, self.paddle_width,
                            self.max_dx)

    def env_digest(self) -> str:
        """The game's identity: its id and settings."""
        text = json.dumps({"env": ENV_ID, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def build_agent(self, spec: AgentSpec):
        from fwlib.tasks.catch.agents import NUM_ACTIONS, CatchAgent  # noqa: PLC0415

        # the flattened screen and the one-hot previous action
        return CatchAgent(spec, self.size * self.size + NUM_ACTIONS)


TASK = CatchTask


def report_section(out_dir, profile: str) -> None:
    from fwlib.tasks.catch.report import section  # noqa: PLC0415

    section(out_dir, profile)


def index_entries(out_dir) -> list[tuple[str, str]]:
    return [("catch/tables/catch_rates.csv", "Catch: greedy catch rates (CSV)"),
            ("catch/tables/catch_rates.md", "Catch: greedy catch rates (Markdown)"),
            ("catch/tables/claims.csv", "Catch: the paper's claim, judged (CSV)"),
            ("catch/figures/figure5.png", "Figure 5 (PNG)"),
            ("catch/figures/figure5.svg", "Figure 5 (SVG)"),
            ("catch/runs", "Catch run records (config, history, metrics per run)")]
