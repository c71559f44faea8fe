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
], ids=lambda s: f"{s.kind}-{s.implementation}-S{s.inner_steps}")
def test_formula_matches_the_traced_graph(spec):
    layer = build_core(spec)
    layer(tf.zeros((1, STEPS, DIM)))
    traced = traced_multiply_adds(layer.call, tf.TensorSpec((1, STEPS, DIM)))
    assert core_multiply_adds(spec, STEPS, DIM) == traced


def test_the_traced_count_reads_transposed_products():
    a, b = tf.zeros((3, 4)), tf.zeros((5, 4))
    count = traced_multiply_adds(lambda x: tf.matmul(x, b, transpose_b=True),
                                 tf.TensorSpec(a.shape))
    assert count == 3 * 4 * 5
