"""The FLOP formulas against a count made from the layers' own computation graphs."""

import pytest
import tensorflow as tf

from fwlib.cores import CoreSpec, build_core
from fwlib.cores.flops import core_multiply_adds, traced_multiply_adds

STEPS, DIM = 7, 5


@pytest.mark.parametrize("spec", [
    CoreSpec("rnn_ln", 6),
    CoreSpec("fast_weights", 6),
    CoreSpec("fast_weights", 6, inner_steps=3),
    CoreSpec("fast_weights", 6, implementation="matrix"),
    CoreSpec("fast_weights", 6, implementation="matrix", inner_steps=2),
    CoreSpec("alstm", 6, num_copies=3),
], ids=lambda s: f"{s.kind}-{s.implementation}-S{s.inner_steps}")
def test_formula_matches_the_traced_graph(spec):
    layer = build_core(spec)
    layer(tf.zeros((1, STEPS, DIM)))
    traced = traced_multiply_adds(layer.call, tf.TensorSpec((1, STEPS, DIM)))
    assert core_multiply_adds(spec, STEPS, DIM) - elementwise(spec) == traced


def elementwise(spec: CoreSpec) -> int:
    """The A-LSTM's memory products, elementwise and so not in the traced count."""
    return STEPS * 8 * spec.num_copies * (spec.hidden_units // 2) if spec.kind == "alstm" else 0


@pytest.mark.parametrize("spec", [
    CoreSpec("rnn_ln", 6), CoreSpec("fast_weights", 6, inner_steps=2),
    CoreSpec("fast_weights", 6, implementation="matrix"), CoreSpec("irnn", 6),
    CoreSpec("lstm", 6), CoreSpec("alstm", 6, num_copies=3),
], ids=lambda s: f"{s.kind}-{s.implementation}-S{s.inner_steps}")
@pytest.mark.parametrize("batch", [1, 4])
def test_formula_with_token_inputs_matches_the_traced_graph(spec, batch):
    vocab = 9
    layer = build_core(spec, token_inputs=True)
    layer.build((None, STEPS, DIM))
    table = tf.zeros((vocab, DIM))

    def call(tokens):
        return layer.call(tf.zeros((batch, STEPS, DIM)), tokens=tokens, table=table)

    traced = traced_multiply_adds(call, tf.TensorSpec((batch, STEPS), tf.int32))
    per_example = core_multiply_adds(spec, STEPS, DIM, table_rows=vocab, batch_size=batch)
    assert (per_example - elementwise(spec)) * batch == traced


def test_the_traced_count_reads_transposed_products():
    a, b = tf.zeros((3, 4)), tf.zeros((5, 4))
    count = traced_multiply_adds(lambda x: tf.matmul(x, b, transpose_b=True),
                                 tf.TensorSpec(a.shape))
    assert count == 3 * 4 * 5
