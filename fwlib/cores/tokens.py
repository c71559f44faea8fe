"""Cores that read a sequence of tokens through an embedding, with the embedding and the
input projection taken as one table.

A core reading x_t = E[k_t], the embedding of token k_t, first computes the input part of
its pre-activations, x_t W + b, for every step and example: T·B products with the D × K
matrix W, and as many again for each of the two gradients. That input part is a function of
the token alone::

    x_t W + b = E[k_t] W + b = (E W + b)[k_t]

so the V × K table E W + b (V symbols in the vocabulary) is computed once per call and its
rows are gathered: the same function of the same weights E, W and b. On the
associative-retrieval task (V = 37, D = 100, T = 11, B = 128) that leaves little more than
the recurrence's own products.

A core is called as ``core(embedded, tokens=tokens, table=E)``: ``embedded`` is E[tokens]
(it fixes the layer's input size, and without ``tokens`` and ``table`` the core reads it as
any other input) and E, the embedding's weights, enters the graph as
``embedding(Vocabulary(V)(tokens))``. The model's layers, and so its weights files, are those
of the plain embedding-then-core model; XLA drops the unused lookup.

- :func:`token_projection`: the gathered table, time-major.
- :class:`Vocabulary`: the ids 0 .. V-1, to look the whole table up.
- :class:`LSTM` and :class:`SimpleRNN`: ``keras.layers.LSTM`` and ``keras.layers.SimpleRNN``
  that compute the same recurrence from the table. They keep Keras's class names because
  Keras names a layer's entry in a weights file after its class: weights files are
  interchangeable with those of Keras's layers.
"""

from __future__ import annotations

import keras
from keras import ops


def token_projection(table, kernel, bias, tokens):
    """(E W + b)[k] for every token k of ``tokens`` [B, T], time-major: [T, B, K].

    ``table`` is E [V, D], ``kernel`` W [D, K] and ``bias`` b [K] (or None)."""
    projected = ops.matmul(table, kernel)
    if bias is not None:
        projected = projected + bias
    return ops.take(projected, ops.transpose(ops.cast(tokens, "int32")), axis=0)


def check_token_call(layer, tokens, table) -> None:
    """Raise ``ValueError`` unless ``tokens`` and ``table`` are given together or not at all."""
    if (tokens is None) != (table is None):
        raise ValueError(f"layer {layer.name!r} needs tokens and table together (the tokens "
                         "and the embedding's weights), or neither")


@keras.saving.register_keras_serializable(package="fwlib")
class Vocabulary(keras.layers.Layer):
    """The ids 0 .. ``size`` - 1, whatever the input: ``embedding(Vocabulary(V)(tokens))`` is
    the embedding's whole table, [V, D], as a tensor of the model's graph."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive integer (got {size!r})")
        self.size = size

    def call(self, tokens):
        return ops.arange(self.size, dtype="int32")

    def compute_output_shape(self, input_shape):
        return (self.size,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(size=self.size)
        return config


def _check_plain(layer, initial_state, mask) -> None:
    cell = layer.cell
    is_lstm = isinstance(layer, keras.layers.LSTM)
    unsupported = {
        "initial_state": initial_state is not None, "mask": mask is not None,
        "dropout": cell.dropout > 0, "recurrent_dropout": cell.recurrent_dropout > 0,
        "go_backwards": layer.go_backwards, "stateful": layer.stateful,
        "return_state": layer.return_state,
        "activation": is_lstm and cell.activation is not keras.activations.tanh,
        "recurrent_activation": is_lstm
        and cell.recurrent_activation is not keras.activations.sigmoid,
    }
    found = [name for name, used in unsupported.items() if used]
    if found:
        raise ValueError(f"layer {layer.name!r} reads tokens only with Keras's default "
                         f"settings, not with {', '.join(found)}")


def _stack_or_last(outputs, return_sequences: bool):
    return ops.stack(outputs, axis=1) if return_sequences else outputs[-1]


class _TokenTableRNN:
    """What the token path of :class:`LSTM` and :class:`SimpleRNN` shares: without ``tokens``
    the Keras layer's own call; with them the refusal of settings it does not cover, the
    table's rows for every step, the recurrent product (skipped at the first step, where
    h = 0) and the outputs. Each class gives one step, ``_token_step(z, state)``, with
    ``state`` None at the first step and h first in the state it returns."""

    def call(self, sequences, tokens=None, table=None, initial_state=None, mask=None,
             training=False):
        check_token_call(self, tokens, table)
        if tokens is None:
            return super().call(sequences, initial_state=initial_state, mask=mask,
                                training=training)
        _check_plain(self, initial_state, mask)
        cell = self.cell
        state = None
        outputs = []
        for z in ops.unstack(token_projection(table, cell.kernel, cell.bias, tokens), axis=0):
            if state is not None:
                z = z + ops.matmul(state[0], cell.recurrent_kernel)
            state = self._token_step(z, state)
            outputs.append(state[0])
        return _stack_or_last(outputs, self.return_sequences)


@keras.saving.register_keras_serializable(package="fwlib")
class LSTM(_TokenTableRNN, keras.layers.LSTM):
    """``keras.layers.LSTM``; given ``tokens`` and ``table``, it computes its recurrence from
    the token table.

    With z_t = (E W + b)[k_t] + U h_{t-1} split into four parts (Keras's order i, f, c, o)::

        i, f, o = σ(z_i), σ(z_f), σ(z_o)
        c_t     = f ⊙ c_{t-1} + i ⊙ tanh(z_c)
        h_t     = o ⊙ tanh(c_t)                      h_0 = c_0 = 0

    which is what ``keras.layers.LSTM`` computes with its default activations and no
    dropout; other settings are refused with tokens. W, U and b are the layer's own
    ``cell.kernel``, ``cell.recurrent_kernel`` and ``cell.bias``.
    """

    def _token_step(self, z, state):
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_f), ops.sigmoid(z_o)
        c = i * ops.tanh(z_c) if state is None else f * state[1] + i * ops.tanh(z_c)
        return o * ops.tanh(c), c


@keras.saving.register_keras_serializable(package="fwlib")
class SimpleRNN(_TokenTableRNN, keras.layers.SimpleRNN):
    """``keras.layers.SimpleRNN``; given ``tokens`` and ``table``,
    h_t = f((E W + b)[k_t] + U h_{t-1}), h_0 = 0, f the layer's activation (no dropout),
    from the token table."""

    def _token_step(self, z, state):
        return (self.cell.activation(z),)
