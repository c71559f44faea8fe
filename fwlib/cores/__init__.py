"""The recurrent cores of the paper's experiments, as Keras layers usable in any model.

- ``fast_weights``: :class:`FastWeightsRNN` (Ba et al. 2016, Section 3);
- ``rnn_ln``: the same recurrence with A = 0 (slow weights and layer norm only: the control);
- ``irnn``: ReLU RNN with identity-initialised recurrent weights (Le, Jaitly & Hinton 2015);
- ``lstm``: ``keras.layers.LSTM``;
- ``alstm``: :class:`AssociativeLSTM` (Danihelka et al. 2016).

On a sequence of tokens each core can compute its input projection from the embedding's table
(:mod:`fwlib.cores.tokens`; ``build_core(..., token_inputs=True)``).

:class:`CoreSpec` is the model part of a run's config: which core, its size and its settings,
each default stated once, here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from fwlib.cores.fast_weights import (
    IMPLEMENTATIONS,
    INDEXINGS,
    FastWeightsCell,
    FastWeightsRNN,
    check_fast_weight_params,
)

CORE_KINDS = ("fast_weights", "irnn", "lstm", "rnn_ln", "alstm")
CORE_LABELS = {"irnn": "IRNN", "lstm": "LSTM", "alstm": "A-LSTM", "fast_weights": "Fast weights",
               "rnn_ln": "RNN+LN (control)"}

__all__ = ["CORE_KINDS", "CORE_LABELS", "CoreSpec", "FastWeightsCell", "FastWeightsRNN",
           "build_core"]


def check_choice(name: str, value, allowed) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))} (got {value!r})")


def check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")


@dataclass(frozen=True)
class CoreSpec:
    """One recurrent core: its kind, its number of hidden units and its settings."""

    kind: str = "fast_weights"  # fast_weights, irnn, lstm, rnn_ln, alstm
    hidden_units: int = 50  # R (the paper's number of recurrent units)
    decay: float = 0.95  # λ, fast-weight decay
    fast_lr: float = 0.5  # η, fast-weight learning rate
    inner_steps: int = 1  # S, inner-loop steps per time step
    layer_norm: bool = True  # layer norm in the inner loop
    implementation: str = "attention"  # attention or matrix: the same function
    indexing: str = "current"  # does the A used for h(t+1) hold h(t)? current: yes
    num_copies: int = 4  # A-LSTM memory copies

    # Settings that only some kinds read: for the others they are left at their defaults and
    # do not tell runs apart.
    USED_BY: ClassVar[dict[str, tuple[str, ...]]] = {
        "decay": ("fast_weights",), "fast_lr": ("fast_weights",),
        "inner_steps": ("fast_weights",), "layer_norm": ("fast_weights", "rnn_ln"),
        "implementation": ("fast_weights",), "indexing": ("fast_weights",),
        "num_copies": ("alstm",),
    }

    def validate(self) -> CoreSpec:
        check_choice("kind", self.kind, CORE_KINDS)
        check_positive_int("hidden_units", self.hidden_units)
        check_fast_weight_params(self.hidden_units, self.decay, self.fast_lr, self.inner_steps,
                                 self.indexing, self.implementation)
        if not isinstance(self.layer_norm, bool):
            raise ValueError(f"layer_norm must be true or false (got {self.layer_norm!r})")
        check_positive_int("num_copies", self.num_copies)
        if self.kind == "alstm" and self.hidden_units % 2:
            raise ValueError("hidden_units must be even for the A-LSTM (real and imaginary "
                             f"halves; got {self.hidden_units})")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def label(self) -> str:
        return CORE_LABELS[self.kind]


def build_core(spec: CoreSpec, return_sequences: bool = False, name: str | None = None,
               token_inputs: bool = False):
    """The Keras layer of ``spec``; it returns the last hidden state (or every state).

    With ``token_inputs`` the layer can also be called as ``core(embedded, tokens=tokens,
    table=E)`` and then computes its input projection from the embedding's table
    (:mod:`fwlib.cores.tokens`): the same function, with less work. Every kind but the LSTM and
    the IRNN can always; for those two it selects the subclasses of Keras's layers that can.
    """
    import keras  # noqa: PLC0415

    from fwlib.cores import tokens  # noqa: PLC0415

    spec.validate()
    name = name or spec.kind
    units = spec.hidden_units
    if spec.kind == "fast_weights":
        return FastWeightsRNN(units, decay=spec.decay, fast_lr=spec.fast_lr,
                              inner_steps=spec.inner_steps, layer_norm=spec.layer_norm,
                              implementation=spec.implementation, indexing=spec.indexing,
                              return_sequences=return_sequences, name=name)
    if spec.kind == "rnn_ln":
        return FastWeightsRNN(units, decay=spec.decay, fast_lr=0.0, inner_steps=1,
                              layer_norm=spec.layer_norm, return_sequences=return_sequences,
                              name=name)
    if spec.kind == "irnn":
        # Le, Jaitly & Hinton (2015): ReLU RNN, identity recurrent weights, zero biases,
        # input weights N(0, 0.001²).
        layer = tokens.SimpleRNN if token_inputs else keras.layers.SimpleRNN
        return layer(
            units, activation="relu", recurrent_initializer=keras.initializers.Identity(),
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            return_sequences=return_sequences, name=name)
    if spec.kind == "lstm":
        layer = tokens.LSTM if token_inputs else keras.layers.LSTM
        return layer(units, return_sequences=return_sequences, name=name)
    from fwlib.cores.alstm import AssociativeLSTM  # noqa: PLC0415

    return AssociativeLSTM(units, num_copies=spec.num_copies,
                           return_sequences=return_sequences, name=name)


__all__ += ["IMPLEMENTATIONS", "INDEXINGS", "check_choice", "check_positive_int"]
