"""The optimisation and budget parts of a reinforcement-learning run's config."""

from __future__ import annotations

from dataclasses import dataclass

from fwlib.cores import check_positive_int


@dataclass(frozen=True)
class A2CSpec:
    """Synchronous advantage actor-critic (A2C): ``num_envs`` games in step, one update per
    batch of whole episodes, n-step returns with a value baseline and an entropy bonus, Adam.

    loss = −mean(log π(a|s) · (R − V(s))) + value_cost · ½ mean((R − V(s))²)
           − entropy_cost · mean(H(π(·|s))),
    with R the n-step return Σ_{k<n} γ^k r(t+k) + γ^n V(s(t+n)) (no bootstrap past the end).
    """

    learning_rate: float = 1e-3  # Adam's step size
    num_envs: int = 32  # games played in step; one update per batch of whole episodes
    n_steps: int = 5  # n of the n-step return (a value above the episode length: Monte Carlo)
    discount: float = 0.99  # γ
    entropy_cost: float = 0.01  # weight of the policy's entropy bonus
    value_cost: float = 0.5  # weight of the value loss
    clip_norm: float = 5.0  # global gradient-norm clipping; 0 turns it off

    def validate(self) -> A2CSpec:
        if not 0.0 < self.learning_rate < 1.0:
            raise ValueError(f"learning_rate must be in (0, 1) (got {self.learning_rate!r})")
        check_positive_int("num_envs", self.num_envs)
        check_positive_int("n_steps", self.n_steps)
        if not 0.0 <= self.discount <= 1.0:
            raise ValueError(f"discount must be in [0, 1] (got {self.discount!r})")
        for name in ("entropy_cost", "value_cost", "clip_norm"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0 (got {value!r})")
        return self


@dataclass(frozen=True)
class RLBudget:
    """How long a reinforcement-learning run trains and how it is evaluated, in frames (agent
    steps summed over all games)."""

    max_steps: int = 1_000_000  # environment frames at most
    eval_every: int = 50_000  # frames between evaluations (and checkpoints)
    eval_episodes: int = 200  # greedy episodes per evaluation (the same games each time)
    final_episodes: int = 1000  # fresh greedy episodes for the final catch rate

    def validate(self) -> RLBudget:
        for name in ("max_steps", "eval_every", "eval_episodes", "final_episodes"):
            check_positive_int(name, getattr(self, name))
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps must be a multiple of eval_every={self.eval_every} "
                             f"(got {self.max_steps})")
        return self
