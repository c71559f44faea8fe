"""Cores reading tokens through the embedding's table compute what they compute on the
embedded sequence, with the same weights files."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fwlib.cores import CoreSpec, build_core
from fwlib.cores import tokens as token_cores
from fwlib.tasks.associative.model import build_classifier

KINDS = [CoreSpec("fast_weights", 12), CoreSpec("fast_weights", 12, inner_steps=2),
         CoreSpec("fast_weights", 12, implementation="matrix"), CoreSpec("rnn_ln", 12),
         CoreSpec("irnn", 12), CoreSpec("lstm", 12), CoreSpec("alstm", 12)]


def _ids(spec):
    return f"{spec.kind}-{spec.implementation}-S{spec.inner_steps}"


def _twins(spec, tmp_path, seed=3):
    """The classifier with the token table and without, holding the same weights, passed
    from one to the other through a weights file."""
    keras.utils.set_random_seed(seed)
    fused = build_classifier(spec, num_pairs=2, embedding_dim=16, decoder_units=8)
    plain = build_classifier(spec, num_pairs=2, embedding_dim=16, decoder_units=8,
                             token_table=False)
    path = tmp_path / "twin.weights.h5"
    fused.save_weights(path)
    plain.load_weights(path)
    return fused, plain


def _tokens(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, 37, size=(n, 7)).astype("int32")


def _loss_and_grads(model, x, y):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [np.asarray(tf.convert_to_tensor(g)) for g in grads]


@pytest.mark.parametrize("spec", KINDS, ids=_ids)
def test_outputs_and_gradients_match_the_embedded_sequence(spec, tmp_path):
    fused, plain = _twins(spec, tmp_path)
    x, y = _tokens(), np.arange(6) % 37
    # The weights were handed over through the file: every variable is equal.
    for a, b in zip(fused.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(plain(x)), atol=1e-6)
    loss_fused, grads_fused = _loss_and_grads(fused, x, y)
    loss_plain, grads_plain = _loss_and_grads(plain, x, y)
    assert loss_fused == pytest.approx(loss_plain, rel=1e-6)
    for g_fused, g_plain in zip(grads_fused, grads_plain, strict=True):
        scale = max(np.abs(g_plain).max(), 1e-12)
        np.testing.assert_allclose(g_fused / scale, g_plain / scale, atol=1e-5)


@pytest.mark.parametrize("spec", [CoreSpec("fast_weights", 12), CoreSpec("lstm", 12),
                                  CoreSpec("irnn", 12), CoreSpec("alstm", 12)], ids=_ids)
def test_training_under_xla_follows_the_same_path(spec, tmp_path):
    fused, plain = _twins(spec, tmp_path, seed=5)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 37, size=(32, 7)).astype("int32")
    y = rng.integers(0, 37, size=(32,)).astype("int32")
    losses = []
    # Plain gradient steps: Adam divides each gradient by its running size, which turns
    # rounding differences in near-zero gradients into differences of a whole step.
    for model in (fused, plain):
        model.compile(optimizer=keras.optimizers.SGD(0.5), jit_compile=True,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses.append([float(model.train_on_batch(x, y)) for _ in range(10)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]


def test_a_weights_file_of_the_plain_model_loads_into_the_token_model(tmp_path):
    keras.utils.set_random_seed(0)
    plain = build_classifier(CoreSpec("lstm", 12), num_pairs=2, token_table=False)
    plain.save_weights(tmp_path / "plain.weights.h5")
    keras.utils.set_random_seed(1)
    fused = build_classifier(CoreSpec("lstm", 12), num_pairs=2)
    fused.load_weights(tmp_path / "plain.weights.h5")
    x = _tokens()
    np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(plain(x)), atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "irnn"])
def test_keras_subclasses_match_keras_on_every_step(kind):
    spec = CoreSpec(kind, 5)
    keras_layer = build_core(spec, return_sequences=True)
    token_layer = build_core(spec, return_sequences=True, token_inputs=True)
    assert type(token_layer).__name__ == type(keras_layer).__name__  # weights-file names
    table = np.random.default_rng(2).normal(size=(9, 4)).astype("float32")
    tokens = np.random.default_rng(3).integers(0, 9, size=(3, 6)).astype("int32")
    embedded = table[tokens]
    keras_layer.build((None, 6, 4))
    token_layer.build((None, 6, 4))
    weights = [np.random.default_rng(4 + i).normal(scale=0.5, size=w.shape).astype("float32")
               for i, w in enumerate(keras_layer.get_weights())]
    keras_layer.set_weights(weights)
    token_layer.set_weights(weights)
    expected = np.asarray(keras_layer(embedded))
    np.testing.assert_allclose(np.asarray(token_layer(embedded)), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(token_layer(embedded, tokens=tokens, table=table)),
                               expected, atol=1e-5)


def test_tokens_without_a_table_are_refused():
    layer = build_core(CoreSpec("fast_weights", 4), token_inputs=True)
    with pytest.raises(ValueError, match="tokens and table together"):
        layer(np.zeros((1, 3, 2), "float32"), tokens=np.zeros((1, 3), "int32"))


def test_settings_the_token_path_does_not_cover_are_refused():
    layer = token_cores.LSTM(4, dropout=0.5)
    table = np.zeros((5, 2), "float32")
    with pytest.raises(ValueError, match="dropout"):
        layer(np.zeros((1, 3, 2), "float32"), tokens=np.zeros((1, 3), "int32"), table=table)


@pytest.mark.parametrize("size", [0, -1, 2.0, True])
def test_vocabulary_size_is_checked(size):
    with pytest.raises(ValueError, match="size must be a positive integer"):
        token_cores.Vocabulary(size)


def test_the_token_model_saves_and_loads_whole(tmp_path):
    model = build_classifier(CoreSpec("irnn", 8), num_pairs=2)
    x = _tokens()
    path = tmp_path / "irnn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
