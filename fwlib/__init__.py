"""fast-weights-repro: a reproducibility report of Ba et al. (NIPS 2016), "Using Fast Weights
to Attend to the Recent Past", in TensorFlow with Keras 3.

- :mod:`fwlib.cores`: the recurrent cores (fast weights and the baselines) as Keras layers;
- :mod:`fwlib.run`: run configs, run folders, the results store, provenance, parallel grids;
- :mod:`fwlib.supervised`: the training loop of the supervised tasks;
- :mod:`fwlib.tasks`: one package per experiment of the paper;
- :mod:`fwlib.verdicts`, :mod:`fwlib.paper`: the paper's numbers and how ours are judged;
- :mod:`fwlib.pipeline`: the notebooks run in order by profile, and the rendered report.
"""

import contextlib
import importlib.util
import os
import sys

# TensorFlow's C++ start-up chatter (oneDNN and CUDA probing on a CPU machine) is written
# straight to the process's standard error, where a notebook's kernel would show it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.2.0"


@contextlib.contextmanager
def quiet_stderr():
    """Send what C++ code writes to file descriptor 2 to /dev/null for a while."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if "keras" not in sys.modules:
    with quiet_stderr():
        import keras  # noqa: F401

        if keras.backend.backend() == "tensorflow":  # CUDA probing reports its failure once
            import tensorflow

            tensorflow.config.list_physical_devices()
        elif importlib.util.find_spec("tensorflow"):  # Keras's data adapters import it anyway
            import tensorflow  # noqa: F401
