import numpy as np
import pytest

from fwlib.tasks.associative import data as ar


def test_vocab_and_round_trip():
    assert len(ar.VOCAB) == 37 and ar.VOCAB[-1] == "?"
    ids = ar.encode("c9k8j3f1??c")
    assert ids.dtype == np.int32 and ids.shape == (11,)
    assert ar.decode(ids) == "c9k8j3f1??c"
    with pytest.raises(ValueError, match="text"):
        ar.encode("ABC")


@pytest.mark.parametrize("num_pairs", [2, 4, 8])
def test_generate_invariants(num_pairs):
    x, y = ar.generate(5000, num_pairs=num_pairs, seed=3)
    assert x.dtype == np.int32 and y.dtype == np.int32
    assert x.shape == (5000, 2 * num_pairs + 3) and y.shape == (5000,)
    keys, values = x[:, 0 : 2 * num_pairs : 2], x[:, 1 : 2 * num_pairs : 2]
    assert (keys < 26).all(), "keys are letters"
    assert ((values >= ar.FIRST_DIGIT) & (values < ar.FIRST_DIGIT + 10)).all()
    assert all(len(set(row)) == num_pairs for row in keys), "keys distinct within a sequence"
    assert (x[:, 2 * num_pairs : 2 * num_pairs + 2] == ar.QUERY_MARK).all()
    query = x[:, -1]
    for row in range(len(y)):
        slot = list(keys[row]).index(query[row])  # the query is one of the keys
        assert y[row] == values[row, slot]


def test_values_with_replacement_and_uniform_query():
    x, y = ar.generate(20000, num_pairs=4, seed=1)
    values = x[:, 1:8:2]
    repeats = np.mean([len(set(r)) < 4 for r in values])
    assert abs(repeats - (1 - 10 * 9 * 8 * 7 / 10**4)) < 0.02  # 49.6 % of rows repeat a digit
    slots = np.argmax(x[:, 0:8:2] == x[:, -1:], axis=1)
    assert np.allclose(np.bincount(slots) / len(slots), 0.25, atol=0.015)
    assert np.allclose(np.bincount(y - ar.FIRST_DIGIT, minlength=10) / len(y), 0.1, atol=0.01)


def test_generate_is_deterministic():
    x, y = ar.generate(130_000, seed=0)
    x2, y2 = ar.generate(130_000, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, ar.generate(130_000, seed=1)[0])


def test_generate_rejects_bad_input():
    with pytest.raises(ValueError, match="num_pairs"):
        ar.generate(10, num_pairs=27)
    with pytest.raises(ValueError, match="n must"):
        ar.generate(-1)


def test_splits_sizes_determinism_and_independence(tmp_path):
    splits = ar.load_splits(seed=0, cache_dir=tmp_path)
    assert {k: len(v[1]) for k, v in splits.items()} == {"train": 100_000, "valid": 10_000,
                                                         "test": 20_000}
    again = ar.load_splits(seed=0, cache_dir=tmp_path / "other")
    for name in splits:
        assert np.array_equal(splits[name][0], again[name][0])
    # independent streams: the first validation rows are not the first training rows
    assert not np.array_equal(splits["train"][0][:100], splits["valid"][0][:100])
    assert not np.array_equal(splits["valid"][0][:100], splits["test"][0][:100])
    other_seed = ar.load_splits(seed=1, cache_dir=tmp_path)
    assert not np.array_equal(splits["test"][0], other_seed["test"][0])


@pytest.mark.parametrize("damage", ["truncate", "flip", "checksum"])
def test_corrupted_cache_is_rebuilt(tmp_path, damage):
    reference = ar.load_splits(seed=2, cache_dir=tmp_path)
    key = ar.generator_key(4, 2)
    path = tmp_path / f"associative_k4_seed2_{key}.npz"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))
    else:
        meta = tmp_path / f"associative_k4_seed2_{key}.json"
        meta.write_text(meta.read_text().replace('"sha256": "', '"sha256": "0'))
    rebuilt = ar.load_splits(seed=2, cache_dir=tmp_path)
    for name in reference:
        assert np.array_equal(reference[name][0], rebuilt[name][0])
        assert np.array_equal(reference[name][1], rebuilt[name][1])
    assert ar.load_splits(seed=2, cache_dir=tmp_path)["test"][1].shape == (20_000,)


def test_the_cache_is_keyed_by_the_generator_code_and_parameters(tmp_path, monkeypatch):
    ar.load_splits(seed=2, cache_dir=tmp_path)
    key = ar.generator_key(4, 2)
    assert key != ar.generator_key(4, 3) and key != ar.generator_key(5, 2)
    assert (tmp_path / f"associative_k4_seed2_{key}.npz").exists()
    # a change to the generator's code gives another key: a stale cache is never read
    real = ar.inspect.getsource
    monkeypatch.setattr(ar.inspect, "getsource", lambda f: real(f) + "# changed")
    assert ar.generator_key(4, 2) != key


def test_the_data_digest_is_the_arrays_checksum(tmp_path):
    splits = ar.load_splits(seed=2, cache_dir=tmp_path)
    digest = ar.splits_digest(splits)
    assert len(digest) == 64 and digest == ar.splits_digest(ar.load_splits(seed=2,
                                                                            cache_dir=tmp_path))
    assert digest != ar.splits_digest(ar.load_splits(seed=3, cache_dir=tmp_path))
