import keras
import numpy as np
import pytest
import tensorflow as tf

from fwlib.cores import CoreSpec, FastWeightsCell, FastWeightsRNN
from fwlib.tasks.associative.model import build_classifier


def build_model(kind, units, **core):
    return build_classifier(CoreSpec(kind=kind, hidden_units=units, **core))


def numpy_fast_weights(x, C, W, b, gain, beta, decay, fast_lr, inner_steps, layer_norm,
                       indexing="current"):
    """A plain loop written straight from the equations, one example at a time."""
    batch, steps, _ = x.shape
    units = W.shape[0]
    out = np.zeros((batch, steps, units))
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731

    def ln(v):
        return (v - v.mean()) / np.sqrt(v.var() + 1e-5) * gain + beta

    for n in range(batch):
        h = np.zeros(units)
        A = np.zeros((units, units))
        for t in range(steps):
            A_prev = A
            A = decay * A + fast_lr * np.outer(h, h)  # A(t) holds h(t)
            A_used = A if indexing == "current" else A_prev
            slow = h @ W + x[n, t] @ C + b
            hs = relu(slow)
            for _ in range(inner_steps):
                pre = slow + A_used @ hs
                hs = relu(ln(pre) if layer_norm else pre)
            h = hs
            out[n, t] = h
    return out


def _inputs(batch=3, steps=9, dim=5, scale=0.5, seed=0):
    return (np.random.default_rng(seed).normal(size=(batch, steps, dim)) * scale).astype("float32")


def _randomise(layer, seed=1, scale=0.2):
    rng = np.random.default_rng(seed)
    layer.set_weights([w + rng.normal(scale=scale, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


@pytest.mark.parametrize("inner_steps", [1, 3])
@pytest.mark.parametrize("layer_norm", [True, False])
@pytest.mark.parametrize("indexing", ["current", "previous"])
def test_attention_equals_matrix_equals_numpy(inner_steps, layer_norm, indexing):
    # Without LN the recurrence grows fast; smaller inputs keep it finite over 9 steps.
    x = _inputs(scale=0.5 if layer_norm else 0.15)
    kwargs = dict(decay=0.9, fast_lr=0.5, inner_steps=inner_steps, layer_norm=layer_norm,
                  indexing=indexing, return_sequences=True)
    attention = FastWeightsRNN(6, implementation="attention", **kwargs)
    attention.build(x.shape)
    _randomise(attention, scale=0.2 if layer_norm else 0.05)
    matrix = FastWeightsRNN(6, implementation="matrix", **kwargs)
    matrix.build(x.shape)
    matrix.set_weights(attention.get_weights())
    cell = keras.layers.RNN(FastWeightsCell(6, **{k: v for k, v in kwargs.items()
                                                  if k != "return_sequences"}),
                            return_sequences=True)
    cell.build(x.shape)
    cell.set_weights(attention.get_weights())

    weights = [w.astype("float64") for w in attention.get_weights()]
    C, W, b = weights[:3]
    gain, beta = (weights[3], weights[4]) if layer_norm else (1.0, 0.0)
    expected = numpy_fast_weights(x.astype("float64"), C, W, b, gain, beta, 0.9, 0.5,
                                  inner_steps, layer_norm, indexing)
    assert np.isfinite(expected).all()
    assert np.abs(expected).max() > 0.01, "the test must exercise non-trivial activations"
    assert np.abs(expected).max() < 1e4
    for layer in (attention, matrix, cell):
        np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-4)


def test_indexings_differ_and_fast_lr_zero_is_slow_only():
    x = _inputs()
    current = FastWeightsRNN(6, indexing="current")
    current.build(x.shape)
    _randomise(current)
    previous = FastWeightsRNN(6, indexing="previous")
    previous.build(x.shape)
    previous.set_weights(current.get_weights())
    assert np.abs(np.asarray(current(x)) - np.asarray(previous(x))).max() > 1e-3
    control = FastWeightsRNN(6, fast_lr=0.0)
    control.build(x.shape)
    control.set_weights(current.get_weights())
    w = [v.astype("float64") for v in current.get_weights()]
    expected = numpy_fast_weights(x.astype("float64"), *w, 0.95, 0.0, 1, True)[:, -1]
    np.testing.assert_allclose(np.asarray(control(x)), expected, rtol=1e-4, atol=1e-4)


def test_initialisation():
    layer = FastWeightsRNN(8)
    layer.build((None, 4, 3))
    np.testing.assert_allclose(layer.recurrent_kernel.numpy(), 0.05 * np.eye(8))
    assert np.abs(layer.input_kernel.numpy()).max() <= 1 / np.sqrt(8)
    np.testing.assert_array_equal(layer.ln_gain.numpy(), np.ones(8))


@pytest.mark.parametrize("kind", ["fast_weights", "rnn_ln", "irnn", "lstm"])
def test_per_example_independence(kind):
    """An example's output must not depend on the rest of its batch (catches LN over the
    batch axis, a broadcast without keepdims and an A shared across the batch)."""
    model = build_model(kind, 12)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 37, size=(6, 11)).astype("int32")
    other = batch.copy()
    other[1:] = rng.integers(0, 37, size=(5, 11))
    first = np.asarray(model(batch))[0]
    np.testing.assert_allclose(np.asarray(model(other))[0], first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(batch[:1]))[0], first, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["fast_weights", "rnn_ln", "irnn", "lstm"])
def test_gradients_reach_every_weight(kind):
    model = build_model(kind, 10)
    tokens = np.random.default_rng(0).integers(0, 37, size=(16, 11)).astype("int32")
    labels = np.random.default_rng(1).integers(26, 36, size=(16,))
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(labels, model(tokens),
                                                            from_logits=True)
    grads = tape.gradient(loss, model.trainable_variables)
    for variable, grad in zip(model.trainable_variables, grads, strict=True):
        assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0, variable.path


@pytest.mark.parametrize("kind", ["fast_weights", "rnn_ln", "irnn", "lstm"])
def test_save_load_round_trip(kind, tmp_path):
    model = build_model(kind, 10, decay=0.9, fast_lr=0.3, inner_steps=2)
    tokens = np.random.default_rng(0).integers(0, 37, size=(4, 11)).astype("int32")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(tokens)), np.asarray(model(tokens)))
    if kind == "fast_weights":
        config = loaded.get_layer("fast_weights").get_config()
        assert (config["decay"], config["fast_lr"], config["inner_steps"]) == (0.9, 0.3, 2)


def test_classifier_shape():
    model = build_model("fast_weights", 20)
    assert model.output_shape == (None, 37)
    assert [layer.name for layer in model.layers][1:] == ["vocabulary", "embedding",
                                                          "fast_weights", "decoder", "logits"]
    assert model.get_layer("embedding").output_dim == 100
    assert model.get_layer("decoder").units == 100


@pytest.mark.parametrize("kwargs, name", [
    ({"decay": 1.5}, "decay"), ({"fast_lr": -1.0}, "fast_lr"), ({"inner_steps": 0}, "inner_steps"),
    ({"indexing": "lagged"}, "indexing"), ({"implementation": "loop"}, "implementation"),
])
def test_bad_layer_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FastWeightsRNN(8, **kwargs)


def test_bad_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        build_model("fw", 20)


@pytest.mark.parametrize("kwargs, name", [
    ({"hidden_units": 0}, "hidden_units"), ({"layer_norm": "yes"}, "layer_norm"),
    ({"num_copies": 0}, "num_copies"), ({"kind": "alstm", "hidden_units": 7}, "even"),
])
def test_bad_core_spec_is_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CoreSpec(**kwargs).validate()
