"""n-step returns and advantages of a batch of whole episodes."""

from __future__ import annotations

import numpy as np


def n_step_returns(rewards: np.ndarray, values: np.ndarray, n_steps: int,
                   discount: float) -> np.ndarray:
    """R(t) = Σ_{k<n} γ^k r(t+k) + γ^n V(s(t+n)), the sum cut at the episode's end (no
    bootstrap past the last step). ``rewards`` and ``values`` are ``[T, batch]``; ``values[t]``
    is V(s(t)), the value of the state in which the action of step t was taken."""
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    steps = len(rewards)
    returns = np.zeros_like(rewards)
    for t in range(steps):
        end = min(t + n_steps, steps)
        total = sum(discount ** (k - t) * rewards[k] for k in range(t, end))
        if end < steps:
            total = total + discount ** (end - t) * values[end]
        returns[t] = total
    return returns


def advantages(returns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A(t) = R(t) − V(s(t))."""
    return np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
