import keras
import numpy as np
import pytest

from fwlib.cores import CoreSpec, FastWeightsRNN
from fwlib.cores.diagnostics import core_inputs, fast_slow_norms, find_fast_weights_layer
from fwlib.tasks.associative.model import build_classifier


def layer_on(inputs, units, **kwargs):
    keras.utils.set_random_seed(3)
    layer = FastWeightsRNN(units, **kwargs)
    layer(inputs)
    return layer


@pytest.mark.parametrize("inner_steps,layer_norm", [(1, True), (2, True), (1, False)])
def test_the_replay_ends_in_the_layers_own_state(inner_steps, layer_norm):
    x = np.random.default_rng(0).normal(size=(4, 7, 5)).astype("float32")
    layer = layer_on(x, 6, inner_steps=inner_steps, layer_norm=layer_norm)
    norms = fast_slow_norms(layer, x)
    np.testing.assert_allclose(norms["state"], np.asarray(layer(x)), rtol=1e-4, atol=1e-5)
    assert norms["fast"].shape == norms["slow"].shape == norms["ratio"].shape == (4, 7)


def test_norms_by_hand_on_the_first_two_steps():
    x = np.random.default_rng(1).normal(size=(2, 2, 3)).astype("float32")
    layer = layer_on(x, 4, decay=0.9, fast_lr=0.5)
    c, w, b = (np.asarray(v, dtype=np.float64) for v in
               (layer.input_kernel, layer.recurrent_kernel, layer.bias))
    norms = fast_slow_norms(layer, x)
    slow0 = x[:, 0] @ c + b  # h(0) = 0, A(0) = 0
    np.testing.assert_allclose(norms["slow"][:, 0], np.linalg.norm(slow0, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(norms["fast"][:, 0], 0.0)
    g = np.asarray(layer.ln_gain, dtype=np.float64)
    beta = np.asarray(layer.ln_bias, dtype=np.float64)
    pre = slow0
    ln = (pre - pre.mean(-1, keepdims=True)) / np.sqrt(pre.var(-1, keepdims=True) + 1e-5)
    h1 = np.maximum(ln * g + beta, 0)
    slow1 = x[:, 1] @ c + b + h1 @ w
    read = 0.5 * h1 * (h1 * np.maximum(slow1, 0)).sum(-1, keepdims=True)  # A(1) h_0(2)
    np.testing.assert_allclose(norms["slow"][:, 1], np.linalg.norm(slow1, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(norms["fast"][:, 1], np.linalg.norm(read, axis=-1), rtol=1e-6)


def test_without_fast_weights_the_read_is_zero():
    x = np.random.default_rng(2).normal(size=(3, 5, 4)).astype("float32")
    norms = fast_slow_norms(layer_on(x, 8, fast_lr=0.0), x)
    assert np.all(norms["fast"] == 0.0)


def test_at_initialisation_the_read_outgrows_the_slow_term_as_r_grows():
    x = np.random.default_rng(4).normal(size=(64, 9, 16)).astype("float32")
    medians = [np.median(fast_slow_norms(layer_on(x, units), x)["ratio"][:, 1:])
               for units in (10, 40, 160)]
    assert medians[0] < medians[1] < medians[2]
    assert medians[2] > 10


def test_the_layer_is_found_in_a_classifier_and_fed_its_embedding():
    model = build_classifier(CoreSpec("fast_weights", 8))
    layer = find_fast_weights_layer(model)
    tokens = np.zeros((2, 11), dtype="int32")
    assert core_inputs(model, layer, tokens).shape == (2, 11, 100)
    with pytest.raises(ValueError, match="no FastWeightsRNN"):
        find_fast_weights_layer(build_classifier(CoreSpec("lstm", 8)))


def test_previous_indexing_is_refused():
    x = np.zeros((1, 3, 2), dtype="float32")
    with pytest.raises(ValueError, match="indexing"):
        fast_slow_norms(layer_on(x, 4, indexing="previous"), x)
