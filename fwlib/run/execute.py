"""One run, start to end, in whatever process it lands: the unit of work of every grid.

:func:`execute` takes plain data (the config as a dict, the folder as a string), so a Dask
worker on another machine can run it; it holds the run's lock while it trains, so two
processes never train the same run at once (the second waits, then finds it finished).
"""

from __future__ import annotations

import os
import warnings

from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder

_THREADS_SET = False


def configure_threads(threads: int = 1) -> bool:
    """One thread per run (a run is as fast with one as with two on these models, and its
    numbers then do not depend on how many cores the machine has): TensorFlow's thread pools,
    or XLA's CPU flags under JAX. Returns False when the backend had already started in this
    process with other settings."""
    global _THREADS_SET
    if _THREADS_SET:
        return True
    import keras  # noqa: PLC0415

    backend = keras.backend.backend()
    started = (_jax_threads(threads) if backend == "jax"
               else _tensorflow_threads(threads) if backend == "tensorflow" else True)
    if started is not True:
        warnings.warn(f"{backend} started in this process with {started} intra-op threads, "
                      f"not {threads}: the last digits of a run's numbers may differ from the "
                      "pipeline's workers", stacklevel=2)
        return False
    _THREADS_SET = True
    return True


def _tensorflow_threads(threads: int) -> bool | str:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # noqa: PLC0415

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            return str(current or "all")
    return True


def _jax_threads(threads: int) -> bool | str:
    """XLA reads its flags when JAX starts its CPU client, at the first computation."""
    from jax._src import xla_bridge  # noqa: PLC0415

    wanted = (f"--xla_cpu_multi_thread_eigen={str(threads > 1).lower()} "
              f"intra_op_parallelism_threads={threads}")
    flags = os.environ.get("XLA_FLAGS", "")
    if wanted in flags:
        return True
    if xla_bridge.backends_are_initialized():
        return "its own number of"
    os.environ["XLA_FLAGS"] = f"{flags} {wanted}".strip()
    return True


def trainer(config: RunConfig):
    """The training function of the config's task: supervised or reinforcement learning."""
    if config.task.trainer == "supervised":
        from fwlib.supervised.fit import train  # noqa: PLC0415
    elif config.task.trainer == "rl":
        from fwlib.rl.train import train  # noqa: PLC0415
    else:
        raise ValueError(f"trainer must be supervised or rl (got {config.task.trainer!r})")
    return train


def execute(config: dict, run_dir: str, progress: bool | None = False) -> dict:
    """Train the run of ``config`` in ``run_dir`` (or reuse it, or resume it); its metrics."""
    configure_threads()
    run_config = RunConfig.from_dict(config).validate()
    folder = RunFolder(run_dir)
    with folder.lock():
        return trainer(run_config)(run_config, run_dir, progress=progress)
