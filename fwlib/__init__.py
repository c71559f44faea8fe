"""fast-weights-repro: a reproducibility report of Ba et al. (NIPS 2016), "Using Fast Weights
to Attend to the Recent Past", in TensorFlow with Keras 3."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing on CPU machines) hides real output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
