from dataclasses import replace

import pytest

from fwlib.run.config import RunConfig
from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask, plans
from fwlib.tasks.mnist_glimpses.spec import GlimpseModelSpec

GRID = dict(models=["fast_weights", "convnet"], hidden_units=[50], seeds=[0],
            max_steps={"default": 100}, learning_rate={"default": 0.001}, eval_every=50,
            patience=500, batch_size=32, order="coarse_fine", train_examples=256)


def test_the_grid_and_its_run_identity():
    configs = plans.train_runs(**GRID)
    assert [c.model.kind for c in configs] == ["fast_weights", "convnet"]
    assert configs[0].run_name().startswith("fast_weights_R50_seed0_")
    # order and training-set size are part of a run's identity
    other = plans.train_runs(**{**GRID, "order": "fine_centre"})
    assert configs[0].run_id() != other[0].run_id()
    fewer = plans.train_runs(**{**GRID, "train_examples": 128})
    assert configs[0].run_id() != fewer[0].run_id()
    # fast-weight settings do not tell LSTM or ConvNet runs apart
    conv = RunConfig(task=configs[1].task, model=GlimpseModelSpec(kind="convnet", decay=0.5))
    assert conv.identity()["model"] == {"kind": "convnet", "hidden_units": 100}
    lstm = RunConfig(task=configs[1].task, model=GlimpseModelSpec(kind="lstm", decay=0.5))
    assert lstm.identity()["model"] == {"kind": "lstm", "hidden_units": 100, "encoder_units": 100}
    assert RunConfig.from_dict(configs[0].to_dict()) == configs[0]


@pytest.mark.parametrize("change, message", [
    ({"models": ["fw"]}, "models must be one of"),
    ({"order": "spiral"}, "order must be one of"),
    ({"train_examples": 0}, "train_examples must be an integer in 1..50000"),
    ({"batch_size": 512}, "batch_size must be at most train_examples=256"),
    ({"max_steps": {"gru": 10}}, "max_steps key 'gru'"),
    ({"fast_lr": {"fw@50": 0.1}}, "fast_lr key 'fw@50'"),
    ({"lr_half_life": {"default": -5}}, "lr_half_life must be a non-negative integer"),
    ({"weight_decay": {"default": 0.0, "convnet": -0.1}}, "weight_decay must be a number"),
    ({"weight_decay": {"gru": 0.1}}, "weight_decay key 'gru'"),
    ({"dropout": {"default": 1.0}}, r"dropout must be a number in \[0, 1\)"),
    ({"dropout": {"default": "0.1"}}, r"dropout must be a number in \[0, 1\)"),
    ({"dropout": {"gru": 0.1}}, "dropout key 'gru'"),
    ({"xla": {"default": "no"}}, "xla must be true or false"),
    ({"xla": {"gru": False}}, "xla key 'gru'"),
    ({"hidden_units": [0]}, "hidden_units must be a positive integer"),
    ({"seeds": []}, "seeds must list at least one value"),
])
def test_bad_parameters_are_named_before_anything_is_written(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        plans.train_runs(**{**GRID, **change})
    assert not any(tmp_path.iterdir())


def test_data_notebook_settings_are_checked():
    assert plans.check_data(orders=["coarse_fine"], examples_to_show=2) == []
    with pytest.raises(ValueError, match="examples_to_show must be a positive integer"):
        plans.check_data(orders=["coarse_fine"], examples_to_show=0)
    with pytest.raises(ValueError, match="order must be one of"):
        plans.check_data(orders=["zigzag"], examples_to_show=2)


def test_model_spec_checks():
    with pytest.raises(ValueError, match="kind must be one of irnn, lstm, fast_weights, convnet"):
        GlimpseModelSpec(kind="alstm").validate()
    with pytest.raises(ValueError, match="encoder_units must be a non-negative integer"):
        GlimpseModelSpec(encoder_units=-1).validate()
    with pytest.raises(ValueError, match="decay must be in"):
        GlimpseModelSpec(decay=2.0).validate()


def test_step_size_decay_and_eta_are_set_per_cell():
    configs = plans.train_runs(**{**GRID, "hidden_units": [50, 100],
                                  "fast_lr": {"default": 0.5, "fast_weights@100": 0.02},
                                  "lr_half_life": {"default": 0, "convnet": 300}})
    by_cell = {(c.model.kind, c.model.hidden_units): c for c in configs}
    assert by_cell["fast_weights", 50].model.fast_lr == 0.5
    assert by_cell["fast_weights", 100].model.fast_lr == 0.02
    assert by_cell["convnet", 50].optim.lr_half_life == 300
    assert by_cell["fast_weights", 50].optim.lr_half_life == 0
    assert {c.optim.weight_decay for c in configs} == {0.0}
    decayed = plans.train_runs(**{**GRID, "weight_decay": {"default": 0.0, "convnet@50": 0.01}})
    assert {(c.model.kind, c.model.hidden_units): c.optim.weight_decay
            for c in decayed} == {("fast_weights", 50): 0.0, ("convnet", 50): 0.01}


def test_dropout_is_set_per_cell_and_no_dropout_keeps_the_identity():
    configs = plans.train_runs(**GRID)
    assert {c.model.dropout for c in configs} == {0.0}
    assert all("dropout" not in c.identity()["model"] for c in configs)
    dropped = plans.train_runs(**{**GRID, "dropout": {"default": 0.0, "fast_weights@50": 0.2}})
    assert [c.model.dropout for c in dropped] == [0.2, 0.0]
    assert dropped[0].identity()["model"]["dropout"] == 0.2
    assert dropped[0].run_id() != configs[0].run_id()
    assert dropped[1].run_id() == configs[1].run_id()
    assert RunConfig.from_dict(dropped[0].to_dict()) == dropped[0]


def test_xla_is_set_per_model_and_with_xla_keeps_the_identity():
    configs = plans.train_runs(**GRID)
    assert {c.model.xla for c in configs} == {True}
    assert all("xla" not in c.identity()["model"] for c in configs)
    mixed = plans.train_runs(**{**GRID, "xla": {"default": True, "convnet": False}})
    assert [c.model.xla for c in mixed] == [True, False]
    assert mixed[0].run_id() == configs[0].run_id()
    assert mixed[1].run_id() != configs[1].run_id()
    assert mixed[1].identity()["model"]["xla"] is False
    assert RunConfig.from_dict(mixed[1].to_dict()) == mixed[1]


@pytest.mark.parametrize("xla", [True, False])
def test_the_training_step_is_compiled_as_the_spec_says(xla):
    import keras

    from fwlib.supervised.fit import build_compiled_model

    config = plans.train_runs(**{**GRID, "xla": {"default": True, "convnet": xla}})[1]
    model = build_compiled_model(config)
    assert model.jit_compile is (xla or keras.backend.backend() != "tensorflow")


@pytest.mark.parametrize("kind, names", [
    ("fast_weights", ["input_dropout", "state_dropout"]),
    ("lstm", ["input_dropout", "state_dropout"]),
    ("convnet", ["input_dropout", "hidden_dropout"]),
])
def test_dropout_acts_in_training_only(kind, names):
    import numpy as np

    task = MnistGlimpsesTask()
    spec = GlimpseModelSpec(kind=kind, hidden_units=16, encoder_units=8, fast_lr=0.05)
    plain = task.build_model(spec)
    assert not [layer for layer in plain.layers if "dropout" in layer.name]
    model = task.build_model(replace(spec, dropout=0.5))
    assert [layer.name for layer in model.layers if "dropout" in layer.name] == names
    model.set_weights(plain.get_weights())
    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    expected = np.asarray(plain(images, training=False))
    np.testing.assert_allclose(np.asarray(model(images, training=False)), expected, atol=1e-6)
    assert not np.allclose(np.asarray(model(images, training=True)), expected, atol=1e-3)


def test_the_dropout_mask_is_philox_drawn_scaled_and_reproducible():
    import keras
    import numpy as np

    from fwlib.tasks.mnist_glimpses.model import _dropout_layer_class

    layer_class = _dropout_layer_class()
    with pytest.raises(ValueError, match="generator must be one of philox, keras"):
        layer_class(0.3, "auto")
    ones = np.ones((64, 20, 100), np.float32)
    draws = []
    for _ in range(2):
        layer = layer_class(0.3, seed=7)
        draws.append([np.asarray(layer(ones, training=True)) for _ in range(2)])
    first = draws[0][0]
    np.testing.assert_allclose(np.unique(first), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((first == 0).mean() - 0.3) < 0.01
    assert not np.array_equal(draws[0][0], draws[0][1])  # a new mask at every call
    np.testing.assert_array_equal(draws[0][0], draws[1][0])  # the same seed, the same masks
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    np.testing.assert_array_equal(np.asarray(layer(ones, training=False)), ones)
    again = layer_class.from_config(layer.get_config())
    assert again.generator == "philox" and again.rate == 0.3
    if keras.backend.backend() == "tensorflow":
        # outside XLA, TensorFlow's own choice on a CPU is Philox: Keras's draw, run eagerly,
        # gives the same masks (compiled by XLA, it is another generator, and far slower)
        keras_layer = layer_class(0.3, "keras", seed=7)
        np.testing.assert_array_equal(np.asarray(keras_layer(ones, training=True)), first)
        # and compiled by XLA, as training compiles it, the two draws agree too
        import tensorflow as tf

        compiled = {}
        for generator in ("philox", "keras"):
            layer = layer_class(0.3, generator, seed=7)
            step = tf.function(lambda x, layer=layer: layer(x, training=True),
                               jit_compile=True)
            compiled[generator] = np.asarray(step(ones[:8]))
        np.testing.assert_array_equal(compiled["philox"], compiled["keras"])
        assert 0 < (compiled["philox"] == 0).mean() < 0.5
