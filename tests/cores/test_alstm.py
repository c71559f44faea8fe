import keras
import numpy as np
import pytest
import tensorflow as tf

from fwlib.cores import CoreSpec
from fwlib.cores.alstm import AssociativeLSTM, key_permutations
from fwlib.tasks.associative.model import build_classifier


def numpy_alstm(x, kernel, recurrent_kernel, bias, perms):
    """A plain loop written straight from the equations, one example at a time, in complex
    numbers. Returns h for every step, [B, T, 2N], and how many complex values bound() cut."""
    batch, steps, _ = x.shape
    n = perms.shape[1]
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    cut = 0

    def bound(z):
        nonlocal cut
        cut += int(np.sum(np.abs(z) > 1.0))
        return z / np.maximum(1.0, np.abs(z))

    out = np.zeros((batch, steps, 2 * n))
    for b in range(batch):
        h = np.zeros(2 * n)
        c = np.zeros((len(perms), n), dtype=complex)
        for t in range(steps):
            pre = x[b, t] @ kernel + h @ recurrent_kernel + bias
            g_f, g_i, g_o = (sigmoid(pre[k * n:(k + 1) * n]) for k in range(3))
            r_i, r_o, u = (bound(pre[k * n:(k + 1) * n] + 1j * pre[(k + 1) * n:(k + 2) * n])
                           for k in (3, 5, 7))
            for s, p in enumerate(perms):
                c[s] = g_f * c[s] + r_i[p] * (g_i * u)
            h_complex = g_o * bound(np.mean([r_o[p] * c[s] for s, p in enumerate(perms)], axis=0))
            h = np.concatenate([h_complex.real, h_complex.imag])
            out[b, t] = h
    return out, cut


def _inputs(batch=3, steps=7, dim=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, dim)).astype("float32")


@pytest.mark.parametrize("return_sequences", [False, True])
def test_shapes(return_sequences):
    layer = AssociativeLSTM(10, num_copies=2, return_sequences=return_sequences)
    out = layer(_inputs())
    expected = (3, 7, 10) if return_sequences else (3, 10)
    assert tuple(out.shape) == expected
    assert layer.compute_output_shape((3, 7, 5)) == expected


@pytest.mark.parametrize("num_copies", [1, 3])
def test_matches_numpy_reference(num_copies):
    x = _inputs()
    layer = AssociativeLSTM(8, num_copies=num_copies, return_sequences=True, permutation_seed=3)
    layer.build(x.shape)
    rng = np.random.default_rng(1)
    layer.set_weights([rng.normal(scale=0.8, size=w.shape).astype("float32")
                       for w in layer.get_weights()])
    got = keras.ops.convert_to_numpy(layer(x))
    weights = [w.astype("float64") for w in layer.get_weights()]
    want, cut = numpy_alstm(x.astype("float64"), *weights, layer.permutations)
    assert cut > 0, "the weights should be large enough for bound() to act"
    assert np.max(np.abs(got - want)) < 1e-5


def test_permutations_fixed_by_seed():
    perms = key_permutations(16, 4, seed=7)
    assert perms.shape == (4, 16)
    np.testing.assert_array_equal(perms[0], np.arange(16))
    for p in perms:
        np.testing.assert_array_equal(np.sort(p), np.arange(16))
    np.testing.assert_array_equal(perms, key_permutations(16, 4, seed=7))
    assert not np.array_equal(perms, key_permutations(16, 4, seed=8))
    assert len({p.tobytes() for p in perms}) == 4


def test_examples_are_independent():
    layer = AssociativeLSTM(12, num_copies=4)
    x = _inputs(batch=4)
    other = x.copy()
    other[1:] = _inputs(batch=3, seed=5)
    first = keras.ops.convert_to_numpy(layer(x))[0]
    again = keras.ops.convert_to_numpy(layer(other))[0]
    alone = keras.ops.convert_to_numpy(layer(x[:1]))[0]
    np.testing.assert_allclose(first, again, atol=1e-6)
    np.testing.assert_allclose(first, alone, atol=1e-6)


def test_gradients_reach_every_weight():
    layer = AssociativeLSTM(8, num_copies=3, return_sequences=True)
    x = tf.constant(_inputs())
    layer.build(x.shape)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x)))
    grads = tape.gradient(loss, layer.trainable_variables)
    assert len(grads) == 3
    for variable, grad in zip(layer.trainable_variables, grads, strict=True):
        assert grad is not None, variable.path
        assert np.all(np.isfinite(grad.numpy())), variable.path
        assert np.any(grad.numpy() != 0.0), variable.path


def test_zero_input_has_finite_gradients():
    """bound() at z = 0 must not give NaN gradients."""
    layer = AssociativeLSTM(6, num_copies=2)
    x = tf.zeros((2, 3, 4))
    layer.build(x.shape)
    layer.bias.assign(np.zeros(27, dtype="float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    for grad in tape.gradient(loss, layer.trainable_variables):
        assert np.all(np.isfinite(grad.numpy()))


def test_parameter_count():
    layer = AssociativeLSTM(20)
    layer.build((None, 11, 100))
    lstm = keras.layers.LSTM(20)
    lstm.build((None, 11, 100))
    assert layer.count_params() == 4.5 * 20 * (100 + 20 + 1)
    assert lstm.count_params() == 4 * 20 * (100 + 20 + 1)


def test_config_round_trip():
    layer = AssociativeLSTM(10, num_copies=3, return_sequences=True, permutation_seed=4)
    config = layer.get_config()
    clone = AssociativeLSTM.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone.permutations, layer.permutations)
    x = _inputs()
    layer.build(x.shape)
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(x)),
                               keras.ops.convert_to_numpy(layer(x)), atol=1e-6)


def test_model_saves_and_loads(tmp_path):
    model = build_classifier(CoreSpec("alstm", 20))
    tokens = np.random.default_rng(0).integers(0, 37, size=(4, 11)).astype("int32")
    before = model.predict(tokens, verbose=0)
    path = tmp_path / "alstm.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_layer("alstm").num_copies == 4
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0), before)


def test_trains_under_xla():
    keras.utils.set_random_seed(0)
    model = build_classifier(CoreSpec("alstm", 8), num_pairs=1, embedding_dim=8, decoder_units=8)
    model.compile(optimizer="adam", jit_compile=True,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 37, size=(8, 5)).astype("int32")
    targets = rng.integers(0, 37, size=(8,)).astype("int32")
    first = model.train_on_batch(tokens, targets)
    for _ in range(5):
        last = model.train_on_batch(tokens, targets)
    assert np.isfinite(last) and last < first


@pytest.mark.parametrize("kwargs, name", [
    (dict(units=7), "units"),
    (dict(units=0), "units"),
    (dict(units=8.0), "units"),
    (dict(units=8, num_copies=0), "num_copies"),
    (dict(units=8, num_copies=2.5), "num_copies"),
    (dict(units=8, num_copies=True), "num_copies"),
    (dict(units=8, permutation_seed=-1), "permutation_seed"),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AssociativeLSTM(**kwargs)
