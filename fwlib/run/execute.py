"""One run, start to end, in whatever process it lands: the unit of work of every grid.

:func:`execute` takes plain data (the config as a dict, the folder as a string), so a Dask
worker on another machine can run it; it holds the run's lock while it trains, so two
processes never train the same run at once (the second waits, then finds it finished).
"""

from __future__ import annotations

import os
import warnings
from importlib import metadata
from pathlib import Path

from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder

_THREADS_SET = False
# JAX's CUDA plugins: where one is installed, JAX trains on the GPU
JAX_CUDA_PLUGINS = ("jax-cuda12-plugin", "jax-cuda13-plugin")


def configure_threads(threads: int = 1) -> bool:
    """One thread per run (a run is as fast with one as with two on these models, and its
    numbers then do not depend on how many cores the machine has): TensorFlow's thread pools,
    or XLA's CPU flags under JAX. On a GPU also deterministic operations, memory taken as
    needed rather than all at once (so that the pipeline's workers share one device), and
    under JAX a compilation cache on disk (see :func:`jax_gpu_settings`). Returns False when
    the backend had already started in this process with other settings."""
    global _THREADS_SET
    if _THREADS_SET:
        return True
    import keras  # noqa: PLC0415

    backend = keras.backend.backend()
    if backend == "jax":
        _jax_gpu()
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
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:  # a CPU's runs keep the kernels they were trained with
        tf.config.experimental.enable_op_determinism()
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # the device is already in use in this process
                pass
    return True


def default_cache_dir() -> Path:
    """Where compiled programs are kept: ``$XDG_CACHE_HOME`` (or ``~/.cache``), then
    ``fast-weights-repro/jax``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "fast-weights-repro" / "jax"


def jax_gpu_installed() -> bool:
    """Whether one of JAX's CUDA plugins is installed (looked up without starting JAX)."""
    for name in JAX_CUDA_PLUGINS:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return True
    return False


def jax_gpu_settings(environ) -> tuple[dict[str, str], str | None]:
    """What a run under JAX on a GPU sets, given the environment: the variables (XLA's
    deterministic GPU operations added to ``XLA_FLAGS``; ``XLA_PYTHON_CLIENT_PREALLOCATE``
    false, so that each process takes memory as it needs it instead of 75 % of the device at
    once) and the compilation cache folder (:func:`default_cache_dir`). Compiling the
    fast-weights step took about 113 s on an H200 at R = 100, far longer than a short run's
    training, and every run of a grid that differs only in seed or budget compiles the same
    program. What the environment already sets is kept (``JAX_COMPILATION_CACHE_DIR`` set
    empty: no cache)."""
    updates = {}
    flags = environ.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        updates["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    if "XLA_PYTHON_CLIENT_PREALLOCATE" not in environ:
        updates["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    # set, even empty (no cache), it is JAX's to read
    cache = None if "JAX_COMPILATION_CACHE_DIR" in environ else str(default_cache_dir())
    return updates, cache


def mps_running(environ) -> bool:
    """Whether NVIDIA's Multi-Process Service control daemon is up: its ``control`` pipe in
    ``CUDA_MPS_PIPE_DIRECTORY`` (``/tmp/nvidia-mps`` unless set)."""
    folder = environ.get("CUDA_MPS_PIPE_DIRECTORY") or "/tmp/nvidia-mps"
    return (Path(folder) / "control").exists()


def gpu_sharing_notice(workers: int, environ, backend: str | None = None) -> str | None:
    """A line for a person when several local workers would share one GPU under JAX without
    the Multi-Process Service: on an H200, four runs side by side then did 1.4 times the
    updates of one, and under the service 2.8 times (eight: 5.4 times;
    ``results/benchmarks/gpu/``). None otherwise, and where a device mask gives the workers
    no GPU (``CUDA_VISIBLE_DEVICES`` empty)."""
    import keras  # noqa: PLC0415

    backend = backend or keras.backend.backend()
    if (workers < 2 or backend != "jax" or not jax_gpu_installed()
            or environ.get("CUDA_VISIBLE_DEVICES") == "" or mps_running(environ)):
        return None
    return (f"{workers} workers will share the GPU, whose kernels then run in turns: start "
            "NVIDIA's Multi-Process Service first (nvidia-cuda-mps-control -d) to let them run "
            "at once, or pass --workers 1")


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


def _jax_gpu() -> None:
    """:func:`jax_gpu_settings` put in force, before JAX starts its backends; in the
    environment too, for the processes this one starts."""
    import jax  # noqa: PLC0415
    from jax._src import xla_bridge  # noqa: PLC0415

    if xla_bridge.backends_are_initialized() or not jax_gpu_installed():
        return
    updates, cache = jax_gpu_settings(os.environ)
    os.environ.update(updates)
    if cache is not None:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
        jax.config.update("jax_compilation_cache_dir", cache)


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
