"""The models of Table 2: a glimpse classifier around a recurrent core, and a ConvNet.

- Both, with ``shift`` > 0, first move each training image by a random whole number of
  pixels (at most ``shift``) along each axis, the uncovered border left at 0; at evaluation
  the image is read as it is.
- Glimpse classifier: image -> fixed glimpse sequence [T, 69] (:mod:`.glimpses`, no weights)
  -> a glimpse encoder (one layer of ReLUs, the same at every step; 100 by default) -> core
  (IRNN, LSTM or fast weights, R = ``hidden_units``) -> last state -> 10 logits.
  With ``dropout`` > 0, dropout (the same rate) on the core's input at every step and on
  its last state.
- ConvNet (sees the whole image), LeNet-like: 5×5 conv, 16 ReLU maps -> 2×2 max-pool -> 5×5
  conv, 32 ReLU maps -> 2×2 max-pool -> ``hidden_units`` ReLUs (its last hidden layer, the
  table's column) -> 10 logits; with ``dropout`` > 0, dropout on that layer's input and
  output. Its layout is an assumption (the paper does not give it), sized so that it trains
  in minutes on one CPU core.
"""

from __future__ import annotations

import numpy as np

from fwlib.cores import build_core
from fwlib.tasks.mnist_glimpses import glimpses
from fwlib.tasks.mnist_glimpses.data import IMAGE_SIDE, NUM_CLASSES

CONV_FILTERS = (16, 32)
CONV_KERNEL = 5


def _glimpse_layer_class():
    import keras  # noqa: PLC0415

    class GlimpseSequence(keras.layers.Layer):
        """images [B, 28, 28] -> glimpse sequences [B, T, 69], as
        :func:`fwlib.tasks.mnist_glimpses.glimpses.extract` computes them (no weights)."""

        def __init__(self, order: str = "coarse_fine", **kwargs):
            super().__init__(**kwargs)
            ids = glimpses.order_ids(order)
            self.order = order
            self.index = glimpses.index_table()[ids].reshape(-1)  # [T * 49 * 4]
            self.codes = np.eye(glimpses.NUM_GLIMPSES, dtype="float32")[ids]  # [T, 20]
            self.steps = len(ids)

        def call(self, images):
            from keras import ops  # noqa: PLC0415

            flat = ops.reshape(images, (-1, IMAGE_SIDE * IMAGE_SIDE))
            pixels = ops.take(flat, ops.convert_to_tensor(self.index), axis=1)
            pixels = ops.mean(ops.reshape(pixels, (-1, self.steps, glimpses.PIXELS, 4)), -1)
            codes = ops.broadcast_to(ops.convert_to_tensor(self.codes)[None],
                                     (ops.shape(pixels)[0], self.steps, glimpses.NUM_GLIMPSES))
            return ops.concatenate([pixels, codes], axis=-1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.steps, glimpses.STEP_FEATURES)

        def get_config(self):
            return {**super().get_config(), "order": self.order}

    return GlimpseSequence


def glimpse_layer(order: str = "coarse_fine", name: str = "glimpses"):
    return _glimpse_layer_class()(order, name=name)


def _shift_layer_class():
    import keras  # noqa: PLC0415

    class RandomShift(keras.layers.Layer):
        """images [B, 28, 28] -> the same images, each moved (in training only) by whole
        pixels ``(dy, dx)`` drawn uniformly from ``-shift..shift``: ``out[b, i, j] =
        image[b, i - dy, j - dx]``, 0 where that pixel lies outside the image. The moves are
        products with 0/1 matrices, so the pixel values are copied exactly. No weights."""

        def __init__(self, shift: int, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
                raise ValueError(f"shift must be a non-negative integer (got {shift!r})")
            self.shift = shift
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=False):
            from keras import ops  # noqa: PLC0415

            if not training or not self.shift:
                return images
            moves = keras.random.randint((ops.shape(images)[0], 2), -self.shift,
                                         self.shift + 1, seed=self.seed_generator)
            return shift_images(images, moves[:, 0], moves[:, 1])

        def get_config(self):
            return {**super().get_config(), "shift": self.shift, "seed": self.seed}

    return RandomShift


def shift_images(images, dy, dx):
    """images [B, H, W] moved by ``dy[b]`` rows and ``dx[b]`` columns (whole pixels; positive:
    down and right), 0 where nothing moves in: ``rows[b] @ image[b] @ cols[b]`` with 0/1
    matrices ``rows[b, i, k] = [k == i - dy[b]]`` and ``cols[b, k, j] = [k == j - dx[b]]``."""
    from keras import ops  # noqa: PLC0415

    height, width = images.shape[1], images.shape[2]

    def mover(size, moves, transpose):
        out_idx = ops.arange(size, dtype="int32")[None, :, None]
        in_idx = ops.arange(size, dtype="int32")[None, None, :]
        moves = ops.cast(moves, "int32")[:, None, None]
        if transpose:  # [b, k, j] = [k == j - move]
            return ops.cast(ops.equal(out_idx, in_idx - moves), images.dtype)
        return ops.cast(ops.equal(in_idx, out_idx - moves), images.dtype)  # [b, i, k]

    return ops.matmul(ops.matmul(mover(height, dy, False), images), mover(width, dx, True))


def random_shift(shift: int, name: str = "random_shift"):
    return _shift_layer_class()(shift, name=name)


DROPOUT_GENERATORS = ("philox", "keras")


def _dropout_layer_class():
    import keras  # noqa: PLC0415

    class Dropout(keras.layers.Dropout):
        """``keras.layers.Dropout`` whose mask, under TensorFlow, is drawn with the Philox
        generator named explicitly (``generator="philox"``). Keras leaves TensorFlow to pick
        the algorithm ("auto_select"), and XLA compiles that choice on CPU into a generator
        far slower than Philox: a 200-unit fast-weights update with dropout then takes about
        5× as long as one without (``benchmarks/dropout_speed.py``). The masks are the same
        either way; ``generator="keras"`` keeps Keras's own draw (the one other backends use
        here in any case)."""

        def __init__(self, rate, generator: str = "philox", **kwargs):
            super().__init__(rate, **kwargs)
            if generator not in DROPOUT_GENERATORS:
                raise ValueError(f"generator must be one of {', '.join(DROPOUT_GENERATORS)} "
                                 f"(got {generator!r})")
            self.generator = generator

        def call(self, inputs, training=False):
            if (not training or self.generator != "philox"
                    or keras.backend.backend() != "tensorflow"):
                return super().call(inputs, training=training)
            import tensorflow as tf  # noqa: PLC0415

            seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1),
                           tf.int32)
            keep = tf.random.stateless_uniform(tf.shape(inputs), seed=seed,
                                               alg="philox") >= self.rate
            return tf.where(keep, inputs / (1.0 - self.rate), tf.zeros_like(inputs))

        def get_config(self):
            return {**super().get_config(), "generator": self.generator}

    return Dropout


def _dropout(x, rate: float, name: str, generator: str = "philox"):
    return _dropout_layer_class()(rate, generator, name=name)(x) if rate else x


def build_glimpse_classifier(core, order: str = "coarse_fine", encoder_units: int = 0,
                             dropout: float = 0.0, dropout_generator: str = "philox",
                             shift: int = 0):
    """images [B, 28, 28] -> (in training, each moved by up to ``shift`` pixels, when > 0)
    -> glimpses -> (``encoder_units`` ReLUs per glimpse, when > 0) ->
    ``core`` (a :class:`fwlib.cores.CoreSpec`) -> 10 logits from the last hidden state, with
    ``dropout`` on the core's input and on that state (its mask drawn by
    ``dropout_generator``: see :func:`_dropout_layer_class`)."""
    import keras  # noqa: PLC0415

    glimpses.check_order(order)
    images = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="images")
    x = glimpse_layer(order)(random_shift(shift)(images) if shift else images)
    if encoder_units:
        x = keras.layers.Dense(encoder_units, activation="relu", name="encoder")(x)
    x = _dropout(x, dropout, "input_dropout", dropout_generator)
    x = build_core(core)(x)
    x = _dropout(x, dropout, "state_dropout", dropout_generator)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(images, logits, name=f"{core.kind}_glimpses")


def build_convnet(hidden_units: int, dropout: float = 0.0, dropout_generator: str = "philox",
                  shift: int = 0):
    """images [B, 28, 28] -> (in training, each moved by up to ``shift`` pixels, when > 0)
    -> two conv + max-pool stages -> ``hidden_units`` ReLUs -> 10
    logits, with ``dropout`` on that hidden layer's input and output."""
    import keras  # noqa: PLC0415

    images = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="images")
    x = random_shift(shift)(images) if shift else images
    x = keras.layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(x)
    for i, filters in enumerate(CONV_FILTERS):
        x = keras.layers.Conv2D(filters, CONV_KERNEL, padding="valid", activation="relu",
                                name=f"conv{i + 1}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = _dropout(keras.layers.Flatten()(x), dropout, "input_dropout", dropout_generator)
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    x = _dropout(x, dropout, "hidden_dropout", dropout_generator)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(images, logits, name="convnet")
