"""The pipeline under the JAX backend: tests of this suite run again in a fresh process with
``KERAS_BACKEND=jax`` (Keras fixes its backend when it is first imported, so they cannot run
in this process beside the TensorFlow ones)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
JAX_TESTS = [
    # the fast-weight layer (attention form, matrix form, cell) against the NumPy loop
    "tests/cores/test_fast_weights.py::test_attention_equals_matrix_equals_numpy",
    # a short associative run, killed and resumed, ending as a straight run does
    "tests/supervised/test_fit.py::test_kill_and_resume_gives_identical_metrics",
    "tests/supervised/test_fit.py::test_a_run_is_not_resumed_under_another_backend",
    # a tiny A2C run on Catch, its best weights kept and tested
    "tests/rl/test_a2c_train.py::test_the_weights_of_the_best_evaluation_are_kept_and_tested",
    "tests/rl/test_a2c_train.py::test_a_run_is_not_resumed_under_another_backend",
]


@pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                    reason="jax is not installed (pip install 'jax[cpu]'), so the JAX "
                           "backend cannot be tested")
def test_the_pipeline_under_jax():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *JAX_TESTS], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "skipped" not in summary, summary
