"""The Catch agents: one observation encoder, one memory, a policy and a value head.

    e(t) = ReLU(W_e x(t) + b_e)              the encoder (x(t): the flattened screen and
                                             the one-hot action taken at t − 1)
    h(t) = core(e(t), h(t−1))                IRNN, LSTM or fast weights (a memory), or
    h(t) = ReLU(W_h e(t) + b_h)              the feed-forward control (no memory)
    π(·|t) = softmax(W_π h(t) + b_π),  V(t) = w_v · h(t) + b_v

The cores are the project's: ``irnn`` and ``lstm`` from :func:`fwlib.cores.build_core`,
``fast_weights`` from :class:`fwlib.cores.FastWeightsCell` (the explicit-matrix form of the
fast-weights recurrence, which carries A as state and so can be stepped one frame at a time).
The agent acts one frame at a time through the core's cell (:meth:`CatchAgent.step`) and
learns from whole episodes through the same cell wrapped in ``keras.layers.RNN``
(:meth:`CatchAgent.call`): the same weights, the same function.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from fwlib.cores import CoreSpec, check_choice, check_positive_int
from fwlib.cores.fast_weights import check_fast_weight_params

AGENT_KINDS = ("fast_weights", "lstm", "irnn", "feedforward")
AGENT_LABELS = {"fast_weights": "Fast weights", "lstm": "LSTM", "irnn": "IRNN",
                "feedforward": "Feed-forward (control)"}
NUM_ACTIONS = 3


@dataclass(frozen=True)
class AgentSpec:
    """The model part of a Catch run's config: the agent's memory and its sizes."""

    kind: str = "fast_weights"  # fast_weights, lstm, irnn, feedforward (no memory)
    hidden_units: int = 64  # units of the core (of the hidden layer for feedforward)
    encoder_units: int = 128  # ReLUs of the observation encoder, shared by every kind
    decay: float = 0.95  # λ, fast-weight decay
    fast_lr: float = 0.5  # η, fast-weight learning rate
    inner_steps: int = 1  # S, inner-loop steps per frame
    layer_norm: bool = True  # layer norm in the fast-weights inner loop

    USED_BY: ClassVar[dict[str, tuple[str, ...]]] = {
        "decay": ("fast_weights",), "fast_lr": ("fast_weights",),
        "inner_steps": ("fast_weights",), "layer_norm": ("fast_weights",),
    }

    def validate(self) -> AgentSpec:
        check_choice("kind", self.kind, AGENT_KINDS)
        check_positive_int("hidden_units", self.hidden_units)
        check_positive_int("encoder_units", self.encoder_units)
        check_fast_weight_params(self.hidden_units, self.decay, self.fast_lr, self.inner_steps,
                                 "current", "matrix")
        if not isinstance(self.layer_norm, bool):
            raise ValueError(f"layer_norm must be true or false (got {self.layer_norm!r})")
        return self

    @property
    def label(self) -> str:
        return AGENT_LABELS[self.kind]

    def core_spec(self) -> CoreSpec:
        """The :class:`CoreSpec` of a recurrent agent's core."""
        return CoreSpec(kind=self.kind, hidden_units=self.hidden_units, decay=self.decay,
                        fast_lr=self.fast_lr, inner_steps=self.inner_steps,
                        layer_norm=self.layer_norm, implementation="matrix")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _keras_model_base():
    import keras  # noqa: PLC0415

    return keras.Model


class CatchAgent(_keras_model_base()):
    """Encoder, memory and heads (see the module's docstring)."""

    def __init__(self, spec: AgentSpec, observation_size: int, **kwargs):
        import keras  # noqa: PLC0415

        from fwlib.cores import FastWeightsCell, build_core  # noqa: PLC0415

        super().__init__(**kwargs)
        spec.validate()
        self.spec, self.observation_size = spec, observation_size
        self.encoder = keras.layers.Dense(spec.encoder_units, activation="relu", name="encoder")
        if spec.kind == "feedforward":
            self.core, self.cell = keras.layers.Dense(spec.hidden_units, activation="relu",
                                                      name="hidden"), None
        elif spec.kind == "fast_weights":
            self.cell = FastWeightsCell(spec.hidden_units, decay=spec.decay,
                                        fast_lr=spec.fast_lr, inner_steps=spec.inner_steps,
                                        layer_norm=spec.layer_norm, name="fast_weights_cell")
            self.core = keras.layers.RNN(self.cell, return_sequences=True, name="fast_weights")
        else:
            self.core = build_core(spec.core_spec(), return_sequences=True)
            self.cell = self.core.cell
        self.policy = keras.layers.Dense(NUM_ACTIONS, name="policy")
        self.value = keras.layers.Dense(1, name="value")
        self(keras.ops.zeros((1, 1, observation_size)))  # build every weight

    def call(self, observations):
        """Whole episodes ``[batch, T, observation_size]`` -> (logits ``[batch, T, 3]``, values
        ``[batch, T]``)."""
        hidden = self.core(self.encoder(observations))
        return self.policy(hidden), self.value(hidden)[..., 0]

    def initial_state(self, batch: int) -> list:
        """The memory before the first frame: zeros (empty for the feed-forward agent)."""
        import keras  # noqa: PLC0415

        if self.cell is None:
            return []
        sizes = self.cell.state_size
        sizes = list(sizes) if isinstance(sizes, list | tuple) else [sizes]
        return [keras.ops.zeros((batch, size)) for size in sizes]

    def step(self, observation, state: list):
        """One frame ``[batch, observation_size]`` -> (logits, values, next state)."""
        encoded = self.encoder(observation)
        if self.cell is None:
            hidden, state = self.core(encoded), []
        else:
            hidden, state = self.cell(encoded, state)
            state = list(state) if isinstance(state, list | tuple) else [state]
        return self.policy(hidden), self.value(hidden)[..., 0], state
