import numpy as np
import pytest

from fwlib.tasks.mnist_glimpses import glimpses

# The two orders written out by hand from their definitions: (scale, top, left).
QUADRANT_CORNERS = [(0, 0), (0, 14), (14, 0), (14, 14)]


def _fine_patches_of(top, left):
    return [("fine", top + dr, left + dc) for dr in (0, 7) for dc in (0, 7)]


COARSE_FINE = [g for top, left in QUADRANT_CORNERS
               for g in [("coarse", top, left), *_fine_patches_of(top, left)]]
CENTRE = [("fine", 7, 7), ("fine", 7, 14), ("fine", 14, 7), ("fine", 14, 14)]
FINE_CENTRE = [g for top, left in QUADRANT_CORNERS for g in _fine_patches_of(top, left)]
FINE_CENTRE += CENTRE + CENTRE
EXPECTED = {"coarse_fine": COARSE_FINE, "fine_centre": FINE_CENTRE}


def _reference(image, order):
    """Each glimpse by explicit loops over its pixels (no index table)."""
    out = []
    for scale, top, left in EXPECTED[order]:
        patch = np.zeros((7, 7))
        for i in range(7):
            for j in range(7):
                if scale == "coarse":
                    block = image[top + 2 * i: top + 2 * i + 2, left + 2 * j: left + 2 * j + 2]
                    patch[i, j] = sum(float(v) for v in block.ravel()) / 4
                else:
                    patch[i, j] = image[top + i, left + j]
        out.append(patch.ravel())
    return np.array(out)


def _images():
    rows, cols = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    ramp = (rows * 28 + cols) / 784.0  # every pixel distinct and known
    checker = ((rows + cols) % 2).astype(float)  # coarse glimpses of it are all 0.5
    rng = np.random.default_rng(0)
    return np.stack([ramp, checker, rng.random((28, 28))]).astype(np.float32)


@pytest.mark.parametrize("order", ["coarse_fine", "fine_centre"])
def test_glimpses_match_an_explicit_computation(order):
    images = _images()
    sequences = glimpses.extract(images, order)
    assert sequences.shape == (3, len(EXPECTED[order]), 69)
    assert sequences.dtype == np.float32
    for image, sequence in zip(images, sequences, strict=True):
        np.testing.assert_allclose(sequence[:, :49], _reference(image, order), rtol=1e-6)
    if order == "coarse_fine":
        np.testing.assert_allclose(sequences[1, ::5, :49], 0.5)  # checkerboard, coarse


@pytest.mark.parametrize("order", ["coarse_fine", "fine_centre"])
def test_codes_name_position_and_scale(order):
    codes = glimpses.extract(_images()[:1], order)[0, :, 49:]
    assert codes.shape[1] == glimpses.NUM_GLIMPSES
    np.testing.assert_array_equal(codes.sum(axis=1), 1.0)
    ids = codes.argmax(axis=1)
    catalogue = {g["id"]: g for g in glimpses.catalogue()}
    for glimpse_id, (scale, top, left) in zip(ids, EXPECTED[order], strict=True):
        g = catalogue[int(glimpse_id)]
        assert (g["top"], g["left"]) == (top, left)
        assert g["scale"] == scale
    # the same glimpse gets the same code; different glimpses different codes
    places = [(s, t, left) for s, t, left in EXPECTED[order]]
    assert len(set(ids.tolist())) == len(set(places))


def test_lengths_determinism_and_chunks():
    images = np.random.default_rng(1).random((10, 28, 28)).astype(np.float32)
    assert glimpses.sequence_length("coarse_fine") == 20
    assert glimpses.sequence_length("fine_centre") == 24
    first = glimpses.extract(images, "coarse_fine", chunk=3)
    np.testing.assert_array_equal(first, glimpses.extract(images, "coarse_fine"))
    np.testing.assert_array_equal(first, glimpses.extract(images.copy(), "coarse_fine"))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="order must be one of coarse_fine, fine_centre"):
        glimpses.extract(_images(), "spiral")
    with pytest.raises(ValueError, match=r"images must have shape \[N, 28, 28\]"):
        glimpses.extract(np.zeros((2, 784)))


@pytest.mark.parametrize("order", ["coarse_fine", "fine_centre"])
def test_the_models_input_layer_computes_the_same_glimpses(order):
    from fwlib.tasks.mnist_glimpses.model import glimpse_layer

    images = _images()
    out = np.asarray(glimpse_layer(order)(images))
    np.testing.assert_allclose(out, glimpses.extract(images, order), rtol=1e-6, atol=1e-7)
