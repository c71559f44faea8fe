from dataclasses import replace

import numpy as np
import pytest

from fwlib.run.config import RunConfig
from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask, plans
from fwlib.tasks.mnist_glimpses.model import _shift_layer_class, random_shift, shift_images
from fwlib.tasks.mnist_glimpses.spec import GlimpseModelSpec

GRID = dict(models=["fast_weights", "convnet"], hidden_units=[50], seeds=[0],
            max_steps={"default": 100}, learning_rate={"default": 0.001}, eval_every=50,
            patience=500, batch_size=32, order="coarse_fine", train_examples=256)


def moved_by_loops(image, dy, dx):
    """The image moved dy rows down and dx columns right, pixel by pixel, 0 outside."""
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            if 0 <= i - dy < image.shape[0] and 0 <= j - dx < image.shape[1]:
                out[i, j] = image[i - dy, j - dx]
    return out


def test_images_move_by_whole_pixels_with_zeros_moving_in():
    images = np.random.default_rng(0).random((6, 28, 28), dtype=np.float32)
    dy = np.array([0, 2, -2, 1, 7, -3])
    dx = np.array([0, -1, 2, -2, 0, 5])
    out = np.asarray(shift_images(images, dy, dx))
    for b in range(len(images)):
        np.testing.assert_array_equal(out[b], moved_by_loops(images[b], dy[b], dx[b]))
    # a known picture: one bright pixel lands where the move says
    dot = np.zeros((1, 28, 28), np.float32)
    dot[0, 10, 20] = 0.5
    moved = np.asarray(shift_images(dot, np.array([-2]), np.array([3])))
    assert moved[0, 8, 23] == 0.5 and moved.sum() == 0.5


def possible_moves(image, shift):
    return {(dy, dx): moved_by_loops(image, dy, dx)
            for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)}


def test_the_layer_moves_each_image_in_training_only_and_draws_every_move():
    rng = np.random.default_rng(1)
    images = rng.random((400, 28, 28), dtype=np.float32)
    layer = random_shift(2)
    np.testing.assert_array_equal(np.asarray(layer(images)), images)
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)
    out = np.asarray(layer(images, training=True))
    seen = []
    for image, moved in zip(images, out, strict=True):
        found = [move for move, expected in possible_moves(image, 2).items()
                 if np.array_equal(moved, expected)]
        assert len(found) == 1
        seen.append(found[0])
    # 25 moves, each drawn about 16 times in 400: every one appears, none dominates
    counts = {move: seen.count(move) for move in set(seen)}
    assert len(counts) == 25 and max(counts.values()) < 40


def test_the_moves_are_fresh_at_every_call_and_reproducible_from_the_seed():
    images = np.random.default_rng(2).random((32, 28, 28), dtype=np.float32)
    draws = []
    for _ in range(2):
        layer = _shift_layer_class()(3, seed=11)
        draws.append([np.asarray(layer(images, training=True)) for _ in range(2)])
    assert not np.array_equal(draws[0][0], draws[0][1])
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    with pytest.raises(ValueError, match="shift must be a non-negative integer"):
        random_shift(-1)
    again = _shift_layer_class().from_config(layer.get_config())
    assert (again.shift, again.seed) == (3, 11)


@pytest.mark.parametrize("kind", ["fast_weights", "lstm", "convnet"])
def test_a_shifting_model_has_the_same_weights_and_reads_test_images_unmoved(kind):
    task = MnistGlimpsesTask()
    spec = GlimpseModelSpec(kind=kind, hidden_units=16, encoder_units=8, fast_lr=0.05)
    plain = task.build_model(spec)
    assert not [layer for layer in plain.layers if "shift" in layer.name]
    model = task.build_model(replace(spec, shift=2))
    assert [layer.name for layer in model.layers if "shift" in layer.name] == ["random_shift"]
    assert [w.shape for w in model.get_weights()] == [w.shape for w in plain.get_weights()]
    model.set_weights(plain.get_weights())
    images = np.random.default_rng(3).random((4, 28, 28), dtype=np.float32)
    expected = np.asarray(plain(images, training=False))
    np.testing.assert_allclose(np.asarray(model(images, training=False)), expected, atol=1e-6)
    assert not np.allclose(np.asarray(model(images, training=True)), expected, atol=1e-3)


def test_the_shift_is_shared_by_every_model_and_none_keeps_the_identity():
    configs = plans.train_runs(**GRID)
    assert {c.model.shift for c in configs} == {0}
    assert all("shift" not in c.identity()["model"] for c in configs)
    shifted = plans.train_runs(**{**GRID, "shift": 2})
    assert [c.model.shift for c in shifted] == [2, 2]
    assert all(c.identity()["model"]["shift"] == 2 for c in shifted)
    assert not {c.run_id() for c in shifted} & {c.run_id() for c in configs}
    assert RunConfig.from_dict(shifted[0].to_dict()) == shifted[0]


@pytest.mark.parametrize("shift", [-1, 8, 1.5, True, "2"])
def test_a_bad_shift_is_named_before_anything_is_written(tmp_path, shift):
    with pytest.raises(ValueError, match=r"shift must be an integer in 0\.\.7"):
        plans.train_runs(**{**GRID, "shift": shift})
    assert not any(tmp_path.iterdir())
