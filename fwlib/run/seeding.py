"""Seeding a run so that its numbers depend on its seed alone, whatever else runs in its
process (a Dask worker's own threads, say)."""

from __future__ import annotations

import random


def seed_everything(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, and a random stream of the run's own for the
    seeds that Keras draws when a layer's initializer has none.

    Keras draws those from Python's global ``random`` module, which other threads of the
    process may also draw from (a Dask worker's heartbeats do): the weights would then depend
    on their timing. The stream given here starts where the global one does after
    ``random.seed(seed)``, so a run seeded here equals one seeded in a quiet process.
    """
    import keras  # noqa: PLC0415
    from keras.src.random import seed_generator  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    seed_generator.python_random = random.Random(seed)
