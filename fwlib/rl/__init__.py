"""Reinforcement learning on the project's run machinery: advantage actor-critic.

- :mod:`.config`: :class:`A2CSpec` (the optimisation part of a run's config) and
  :class:`RLBudget` (environment frames, evaluations);
- :mod:`.returns`: n-step returns and advantages;
- :mod:`.train`: the training loop, ``train(config, run_dir)``, on a :class:`RunFolder`
  (resume, divergence, provenance), as :mod:`fwlib.supervised.fit` does for supervised tasks.

The task gives the game (``config.task.make_env(num_envs)``, a batched environment whose
episodes all last ``episode_length`` steps) and the agent (``config.task.build_agent(
config.model)``, whose input is the flattened screen and the one-hot previous action).
"""

from fwlib.rl.config import A2CSpec, RLBudget
from fwlib.rl.returns import n_step_returns

__all__ = ["A2CSpec", "RLBudget", "n_step_returns"]
