"""The fast-weights recurrence of Ba et al. (2016), Section 3, as Keras 3 layers.

- :class:`FastWeightsRNN`: over a whole sequence, in the attention form (default) or with the
  explicit fast-weight matrix A (the reference).
- :class:`FastWeightsCell`: one step at a time (explicit A as state), for
  ``keras.layers.RNN`` on sequences of any length or for step-by-step use (an agent acting
  in an environment, say).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from fwlib.cores.tokens import check_token_call, token_projection

IMPLEMENTATIONS = ("attention", "matrix")
INDEXINGS = ("current", "previous")
LN_EPSILON = 1e-5
SLOW_RECURRENT_INIT = 0.05


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))} (got {value!r})")


def check_fast_weight_params(
    units: int, decay: float, fast_lr: float, inner_steps: int, indexing: str = "current",
    implementation: str = "attention",
) -> None:
    """Raise ``ValueError`` naming the parameter when a fast-weights setting is out of range."""
    if not isinstance(units, int) or units < 1:
        raise ValueError(f"units must be a positive integer (got {units!r})")
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1] (got {decay!r})")
    if not fast_lr >= 0.0:
        raise ValueError(f"fast_lr must be >= 0 (got {fast_lr!r})")
    if not isinstance(inner_steps, int) or inner_steps < 1:
        raise ValueError(f"inner_steps must be an integer >= 1 (got {inner_steps!r})")
    _check_choice("indexing", indexing, INDEXINGS)
    _check_choice("implementation", implementation, IMPLEMENTATIONS)


class _FastWeightsBase(keras.layers.Layer):
    """Weights and the inner loop shared by the sequence layer and the cell."""

    def __init__(self, units: int, decay: float = 0.95, fast_lr: float = 0.5,
                 inner_steps: int = 1, layer_norm: bool = True, indexing: str = "current",
                 **kwargs):
        super().__init__(**kwargs)
        check_fast_weight_params(units, decay, fast_lr, inner_steps, indexing)
        self.units = units
        self.decay = float(decay)
        self.fast_lr = float(fast_lr)
        self.inner_steps = inner_steps
        self.layer_norm = bool(layer_norm)
        self.indexing = indexing

    @property
    def uses_fast_weights(self) -> bool:
        return self.fast_lr > 0.0

    def _build_weights(self, input_dim: int) -> None:
        scale = 1.0 / math.sqrt(self.units)
        self.input_kernel = self.add_weight(  # C
            name="input_kernel", shape=(input_dim, self.units),
            initializer=keras.initializers.RandomUniform(-scale, scale))
        self.recurrent_kernel = self.add_weight(  # W
            name="recurrent_kernel", shape=(self.units, self.units),
            initializer=keras.initializers.Identity(gain=SLOW_RECURRENT_INIT))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        if self.layer_norm:
            self.ln_gain = self.add_weight(name="ln_gain", shape=(self.units,), initializer="ones")
            self.ln_bias = self.add_weight(name="ln_bias", shape=(self.units,), initializer="zeros")

    def _normalise(self, v):
        """LN over the hidden units of each example (last axis), never over the batch."""
        mean = ops.mean(v, axis=-1, keepdims=True)
        var = ops.mean(ops.square(v - mean), axis=-1, keepdims=True)
        return (v - mean) / ops.sqrt(var + LN_EPSILON) * self.ln_gain + self.ln_bias

    def _inner_loop(self, slow, fast_read):
        """h_0 = f(slow); h_{s+1} = f(LN[slow + A h_s]) for s < S; returns h_S.

        ``slow`` is W h(t) + C x(t) + b, fixed through the loop; ``fast_read(v)`` is A v.
        """
        h = ops.relu(slow)
        for _ in range(self.inner_steps):
            pre = slow + fast_read(h) if fast_read is not None else slow
            h = ops.relu(self._normalise(pre) if self.layer_norm else pre)
        return h

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(units=self.units, decay=self.decay, fast_lr=self.fast_lr,
                      inner_steps=self.inner_steps, layer_norm=self.layer_norm,
                      indexing=self.indexing)
        return config


@keras.saving.register_keras_serializable(package="fwlib")
class FastWeightsRNN(_FastWeightsBase):
    r"""Fast-weights RNN (Ba et al. 2016, Section 3) over a whole sequence.

    For each example, with h(0) = 0 and A(0) = 0, for t = 0 .. T-1::

        A(t)       = λ A(t-1) + η h(t) h(t)ᵀ                      (fast weights, reset per sequence)
        h_0(t+1)   = f(W h(t) + C x(t) + b)                       (preliminary state)
        h_{s+1}(t+1) = f(LN[W h(t) + C x(t) + b + A(t) h_s(t+1)])   s = 0 .. S-1
        h(t+1)     = h_S(t+1)

    f is ReLU; LN normalises over the H hidden units of each example (gain 1, bias 0 at
    start, ε = 1e-5 inside the square root). λ = ``decay``, η = ``fast_lr``, S = ``inner_steps``.

    Indexing: with ``indexing="current"`` (default) the matrix used for h(t+1) already holds
    h(t), as the recurrence above is written. ``indexing="previous"`` uses A(t-1) instead (the
    paper's printed Eq. 3 read literally); it is offered as an ablation.

    ``implementation="attention"`` (default) never forms A: it uses the paper's Eq. 4,
    A(t) v = η Σ_{τ≤t} λ^{t-τ} h(τ) (h(τ)ᵀ v), with memory B·T·H. ``"matrix"`` keeps the
    explicit B×H×H matrix A and is the reference. Both compute the same function.

    ``fast_lr = 0`` gives A = 0: the layer-normalised ReLU recurrence with slow weights only
    (the RNN+LN control).

    Weights: C uniform in ±1/√H, W = 0.05·I, b = 0. The sequence length must be static.

    Called as ``layer(embedded, tokens=tokens, table=E)``, where ``embedded`` is E[tokens],
    the layer computes C x(t) + b from the table E C + b (:mod:`fwlib.cores.tokens`): the
    same function, with less work.
    """

    def __init__(self, units: int, decay: float = 0.95, fast_lr: float = 0.5,
                 inner_steps: int = 1, layer_norm: bool = True, return_sequences: bool = False,
                 implementation: str = "attention", indexing: str = "current", **kwargs):
        super().__init__(units, decay, fast_lr, inner_steps, layer_norm, indexing, **kwargs)
        _check_choice("implementation", implementation, IMPLEMENTATIONS)
        self.return_sequences = bool(return_sequences)
        self.implementation = implementation

    def build(self, input_shape) -> None:
        self._build_weights(int(input_shape[-1]))

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def call(self, inputs, tokens=None, table=None):
        steps = inputs.shape[1]
        if steps is None:
            raise ValueError("FastWeightsRNN needs a static sequence length; for sequences of "
                             "varying length use keras.layers.RNN(FastWeightsCell(...))")
        check_token_call(self, tokens, table)
        if tokens is None:
            projected = ops.einsum("btd,dh->bth", inputs, self.input_kernel) + self.bias
            projected = ops.transpose(projected, (1, 0, 2))
        else:
            projected = token_projection(table, self.input_kernel, self.bias, tokens)
        # Time-major, each step taken with unstack: the gradient of a slice per step would be
        # a zero-padded copy of the whole sequence.
        projected = ops.unstack(projected, axis=0)
        h = ops.zeros_like(projected[0])
        outputs = []
        if self.implementation == "matrix":
            a = ops.expand_dims(h, -1) * ops.zeros((1, 1, self.units), dtype=h.dtype)  # A(0) = 0
        memory = []  # h(1), h(2), ... for the attention form
        for t in range(steps):
            slow = projected[t] + ops.matmul(h, self.recurrent_kernel)
            fast_read = None
            if self.uses_fast_weights and self.implementation == "matrix":
                outer = ops.einsum("bi,bj->bij", h, h)
                if self.indexing == "current":
                    a = self.decay * a + self.fast_lr * outer
                    fast_read = _matrix_reader(a)
                else:
                    fast_read = _matrix_reader(a)
                    a = self.decay * a + self.fast_lr * outer
            elif self.uses_fast_weights:
                stored = memory + [h] if self.indexing == "current" else memory
                if stored:
                    fast_read = self._attention_reader(stored)
                memory.append(h)
            h = self._inner_loop(slow, fast_read)
            outputs.append(h)
        return ops.stack(outputs, axis=1) if self.return_sequences else h

    def _attention_reader(self, stored):
        """v -> η Σ_τ λ^{age(τ)} h(τ) (h(τ)ᵀ v), ages counted back from the newest entry."""
        keys = ops.stack(stored, axis=1)  # [B, m, H]
        m = len(stored)
        weights = ops.convert_to_tensor(
            [self.fast_lr * self.decay ** (m - 1 - i) for i in range(m)], dtype=keys.dtype)

        def read(v):
            scores = ops.einsum("bmh,bh->bm", keys, v) * weights
            return ops.einsum("bm,bmh->bh", scores, keys)

        return read

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(return_sequences=self.return_sequences,
                      implementation=self.implementation)
        return config


def _matrix_reader(a):
    return lambda v: ops.einsum("bij,bj->bi", a, v)


@keras.saving.register_keras_serializable(package="fwlib")
class FastWeightsCell(_FastWeightsBase):
    """One step of :class:`FastWeightsRNN` with the explicit matrix A carried as state.

    State: ``[h(t), A]`` with A flattened to H·H values (A(t-1) on entry). Use it with
    ``keras.layers.RNN(FastWeightsCell(H))`` for sequences of varying length, or step by step.
    """

    def __init__(self, units: int, decay: float = 0.95, fast_lr: float = 0.5,
                 inner_steps: int = 1, layer_norm: bool = True, indexing: str = "current",
                 **kwargs):
        super().__init__(units, decay, fast_lr, inner_steps, layer_norm, indexing, **kwargs)
        self.state_size = [units, units * units]
        self.output_size = units

    def build(self, input_shape) -> None:
        self._build_weights(int(input_shape[-1]))

    def call(self, inputs, states):
        h, a_flat = states[0], states[1]
        a = ops.reshape(a_flat, (-1, self.units, self.units))
        slow = (ops.matmul(inputs, self.input_kernel) + self.bias
                + ops.matmul(h, self.recurrent_kernel))
        updated = self.decay * a + self.fast_lr * ops.einsum("bi,bj->bij", h, h)
        read_from = updated if self.indexing == "current" else a
        fast_read = _matrix_reader(read_from) if self.uses_fast_weights else None
        h_next = self._inner_loop(slow, fast_read)
        return h_next, [h_next, ops.reshape(updated, (-1, self.units * self.units))]
