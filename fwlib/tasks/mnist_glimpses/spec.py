"""The model part of a Table 2 run's config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from fwlib.cores import CORE_LABELS, CoreSpec, check_choice, check_positive_int

MODEL_KINDS = ("irnn", "lstm", "fast_weights", "convnet")
RECURRENT_KINDS = ("irnn", "lstm", "fast_weights")
MAX_SHIFT = 7  # pixels: a glimpse's side
MODEL_LABELS = {**{k: CORE_LABELS[k] for k in RECURRENT_KINDS}, "convnet": "ConvNet"}


@dataclass(frozen=True)
class GlimpseModelSpec:
    """One model of Table 2: its kind, its number of hidden units and its core's settings."""

    kind: str = "fast_weights"  # irnn, lstm, fast_weights (glimpse readers) or convnet
    hidden_units: int = 100  # R of the core; the ConvNet's last hidden layer
    decay: float = 0.95  # λ, fast-weight decay
    fast_lr: float = 0.5  # η, fast-weight learning rate
    inner_steps: int = 1  # S, inner-loop steps per glimpse
    layer_norm: bool = True  # layer norm in the fast-weights inner loop
    encoder_units: int = 100  # ReLUs applied to each glimpse before the core; 0: none
    dropout: float = 0.0  # rate on the core's input and last state (ConvNet: hidden layer)
    # each training image moved by a random whole number of pixels, at most this many, along
    # each axis, the uncovered border left at 0 (a fresh draw per image and update); 0: none
    shift: int = 0
    # TensorFlow: the training step compiled by XLA; False: TensorFlow's own kernels (oneDNN
    # on a CPU), which run the ConvNet's convolutions faster there
    # (``benchmarks/xla_speed.py``). The rounding differs, so it is part of a run's identity.
    # JAX compiles every step with XLA whatever this says.
    xla: bool = True

    NEUTRAL: ClassVar[dict[str, Any]] = {"dropout": 0.0, "xla": True, "shift": 0}

    USED_BY: ClassVar[dict[str, tuple[str, ...]]] = {
        "decay": ("fast_weights",), "fast_lr": ("fast_weights",),
        "inner_steps": ("fast_weights",), "layer_norm": ("fast_weights",),
        "encoder_units": RECURRENT_KINDS,
    }

    def core(self) -> CoreSpec:
        """The :class:`fwlib.cores.CoreSpec` of a recurrent kind."""
        return CoreSpec(kind=self.kind, hidden_units=self.hidden_units, decay=self.decay,
                        fast_lr=self.fast_lr, inner_steps=self.inner_steps,
                        layer_norm=self.layer_norm)

    def validate(self) -> GlimpseModelSpec:
        check_choice("kind", self.kind, MODEL_KINDS)
        check_positive_int("hidden_units", self.hidden_units)
        if (isinstance(self.encoder_units, bool) or not isinstance(self.encoder_units, int)
                or self.encoder_units < 0):
            raise ValueError(f"encoder_units must be a non-negative integer "
                             f"(got {self.encoder_units!r})")
        if (isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float)
                or not 0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout must be a number in [0, 1) (got {self.dropout!r})")
        if (isinstance(self.shift, bool) or not isinstance(self.shift, int)
                or not 0 <= self.shift <= MAX_SHIFT):
            raise ValueError(f"shift must be an integer in 0..{MAX_SHIFT} (got {self.shift!r})")
        if not isinstance(self.xla, bool):
            raise ValueError(f"xla must be true or false (got {self.xla!r})")
        if self.kind in RECURRENT_KINDS:
            self.core().validate()
        else:
            CoreSpec(hidden_units=self.hidden_units, decay=self.decay, fast_lr=self.fast_lr,
                     inner_steps=self.inner_steps, layer_norm=self.layer_norm).validate()
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.kind]
