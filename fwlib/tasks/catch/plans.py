"""The runs that the Catch training notebook plans, from its parameters.

The notebook and the pipeline's validation call the same function, so what the pipeline
checks before anything runs is exactly what the notebook will train.

Games are named by :attr:`CatchTask.version`: ``N16_M3`` (N = 16, blank after M = 3 frames),
``N24_M5``, and ``N16_full`` for the fully observed control.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from fwlib.rl.config import A2CSpec, RLBudget
from fwlib.run.config import RunConfig
from fwlib.tasks.catch import CatchTask
from fwlib.tasks.catch.agents import AGENT_KINDS, AgentSpec

_VERSION = re.compile(r"^N(\d+)_(?:M(\d+)|full)$")


def parse_version(version: str) -> CatchTask:
    """``"N16_M3"`` -> ``CatchTask(size=16, visible_frames=3)``; ``"N16_full"``: no blanking."""
    match = _VERSION.match(str(version))
    if not match:
        raise ValueError(f"games must be named N<size>_M<visible frames> or N<size>_full, "
                         f"e.g. N16_M3 (got {version!r})")
    size, frames = int(match.group(1)), match.group(2)
    return CatchTask(size=size, visible_frames=None if frames is None else int(frames)).validate()


def per_key(values, name: str, agent: str, version: str):
    """``values[f"{agent}@{version}"]``, else ``values[agent]``, else ``values[version]``, else
    ``values["default"]``; a plain value applies everywhere."""
    if not isinstance(values, dict):
        return values
    for key in (f"{agent}@{version}", agent, version, "default"):
        if key in values:
            return values[key]
    raise ValueError(f"{name} has no value for {agent} on {version}: give a 'default' key "
                     f"(got {values!r})")


def train_runs(games: Iterable[str], agents: Iterable[str], observed_games: Iterable[str],
               observed_agents: Iterable[str], seeds: Iterable[int], hidden_units: int,
               max_frames, learning_rate, num_envs: int = 32, n_steps: int = 20,
               entropy_cost: float = 0.01, eval_every: int = 50_000,
               eval_episodes: int = 200, fast_lr=0.5, **_) -> list[RunConfig]:
    """Notebook ``01_train``: every agent on every partially observed game, and the observed
    agents on the fully observed games, for every seed."""
    pairs = [(g, a) for g in games for a in agents]
    for game in observed_games:
        if parse_version(game).visible_frames is not None:
            raise ValueError(f"observed_games must be fully observed games, N<size>_full "
                             f"(got {game!r})")
    pairs += [(g, a) for g in observed_games for a in observed_agents]
    configs = []
    for version, agent in pairs:
        if agent not in AGENT_KINDS:
            raise ValueError(f"agents must be among {', '.join(AGENT_KINDS)} (got {agent!r})")
        task = parse_version(version)
        for seed in seeds:
            config = RunConfig(
                task=task, model=AgentSpec(kind=agent, hidden_units=hidden_units,
                                           fast_lr=per_key(fast_lr, "fast_lr", agent, version)),
                optim=A2CSpec(learning_rate=per_key(learning_rate, "learning_rate", agent,
                                                    version),
                              num_envs=num_envs, n_steps=n_steps, entropy_cost=entropy_cost),
                budget=RLBudget(max_steps=per_key(max_frames, "max_frames", agent, version),
                                eval_every=eval_every, eval_episodes=eval_episodes),
                seed=seed, labels={"version": task.version})
            configs.append(config.validate())
    if not configs:
        raise ValueError("games × agents plans no run: give at least one game and one agent")
    return configs


def write_grid(out_dir: str | os.PathLike, configs: list[RunConfig]) -> None:
    """Record the run names of the latest grid: the figures and tables use these only."""
    path = Path(out_dir) / "catch"
    path.mkdir(parents=True, exist_ok=True)
    (path / "grid.json").write_text(json.dumps([c.run_name() for c in configs], indent=2))


# notebook -> the function that plans its runs (for the pipeline's checks and estimates)
PLANS = {"01_train": train_runs}
# notebook -> the folder, under the profile's results folder, where its runs are trained
RUNS_DIRS = {"01_train": "catch/runs"}
