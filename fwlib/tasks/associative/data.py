"""The associative-retrieval task of Section 4.1.

A sequence holds ``num_pairs`` key-value pairs, then ``??``, then a query key; the target is
the value that was paired with the query. ``c9k8j3f1??c`` -> ``9``.

- Keys are distinct letters within a sequence; values are digits drawn with replacement, so
  chance level is 10 %.
- The query is one of the sequence's keys, chosen uniformly.
- Symbols are ``a``-``z``, ``0``-``9`` and ``?``: 37 ids, letters first.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
VOCAB: tuple[str, ...] = tuple(LETTERS + DIGITS + "?")
VOCAB_SIZE = len(VOCAB)
QUERY_MARK = VOCAB.index("?")
FIRST_DIGIT = VOCAB.index("0")
_INDEX = {symbol: i for i, symbol in enumerate(VOCAB)}

SPLIT_SIZES = {"train": 100_000, "valid": 10_000, "test": 20_000}
MAX_PAIRS = len(LETTERS)


def encode(text: str) -> np.ndarray:
    """Symbol string -> int32 ids. Raises ``ValueError`` on a symbol outside ``VOCAB``."""
    unknown = sorted({c for c in text if c not in _INDEX})
    if unknown:
        raise ValueError(f"text may only contain a-z, 0-9 and '?' (got {unknown!r})")
    return np.array([_INDEX[c] for c in text], dtype=np.int32)


def decode(ids) -> str:
    """Int ids -> symbol string."""
    return "".join(VOCAB[int(i)] for i in np.asarray(ids).reshape(-1))


def sequence_length(num_pairs: int) -> int:
    """Length of one input sequence: the pairs, ``??`` and the query."""
    return 2 * num_pairs + 3


def _check_num_pairs(num_pairs: int) -> None:
    if not isinstance(num_pairs, int | np.integer) or not 1 <= num_pairs <= MAX_PAIRS:
        raise ValueError(f"num_pairs must be an integer in 1..{MAX_PAIRS} (got {num_pairs!r})")


def _generate(n: int, num_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Distinct keys: the first num_pairs letters of a random permutation of the alphabet.
    keys = np.argsort(rng.random((n, len(LETTERS))), axis=1)[:, :num_pairs].astype(np.int32)
    values = rng.integers(0, len(DIGITS), size=(n, num_pairs), dtype=np.int32) + FIRST_DIGIT
    query_slot = rng.integers(0, num_pairs, size=n)
    rows = np.arange(n)

    x = np.empty((n, sequence_length(num_pairs)), dtype=np.int32)
    x[:, 0 : 2 * num_pairs : 2] = keys
    x[:, 1 : 2 * num_pairs : 2] = values
    x[:, 2 * num_pairs] = QUERY_MARK
    x[:, 2 * num_pairs + 1] = QUERY_MARK
    x[:, 2 * num_pairs + 2] = keys[rows, query_slot]
    y = values[rows, query_slot].astype(np.int32)
    return x, y


def generate(n: int, num_pairs: int = 4, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples: ``x`` int32 ``[n, 2*num_pairs+3]`` and ``y`` int32 ``[n]`` (the answer's id).

    ``seed`` is anything ``numpy.random.default_rng`` accepts (an int or a ``SeedSequence``).
    """
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer (got {n!r})")
    _check_num_pairs(num_pairs)
    return _generate(int(n), int(num_pairs), np.random.default_rng(seed))


def default_cache_dir() -> Path:
    """Where split caches live: ``$FWLIB_DATA_DIR``, else ``~/.cache/fwlib``."""
    env = os.environ.get("FWLIB_DATA_DIR")
    return Path(env) if env else Path.home() / ".cache" / "fwlib"


def _build_splits(num_pairs: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    streams = np.random.SeedSequence([seed, num_pairs]).spawn(len(SPLIT_SIZES))
    return {
        name: _generate(size, num_pairs, np.random.default_rng(stream))
        for (name, size), stream in zip(SPLIT_SIZES.items(), streams, strict=True)
    }


def generator_key(num_pairs: int, seed: int) -> str:
    """A digest of the generator's code and parameters: the cache file's key, so that a change
    to how the data are made never reads a stale cache."""
    source = inspect.getsource(_generate) + inspect.getsource(_build_splits)
    text = json.dumps({"source": source, "sizes": SPLIT_SIZES, "vocab": "".join(VOCAB),
                       "num_pairs": int(num_pairs), "seed": int(seed)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def splits_digest(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """SHA-256 of the split arrays: what a run records as the data it trained on."""
    return _digest(splits)


def _digest(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    h = hashlib.sha256()
    for name in SPLIT_SIZES:
        for array in splits[name]:
            h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _read_cache(path: Path, meta_path: Path):
    try:
        meta = json.loads(meta_path.read_text())
        with np.load(path) as archive:
            splits = {n: (archive[f"{n}_x"], archive[f"{n}_y"]) for n in SPLIT_SIZES}
    except Exception:  # any unreadable or truncated file means: rebuild
        return None
    if meta.get("sha256") != _digest(splits):
        return None
    return splits


def load_splits(
    num_pairs: int = 4, seed: int = 0, cache_dir: str | os.PathLike | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The train / valid / test splits (100,000 / 10,000 / 20,000 examples).

    Deterministic from ``seed``; the three splits come from independent random streams. The
    arrays are cached on disk under a key made from the generator's code and parameters
    (:func:`generator_key`), with a SHA-256 checksum of the arrays; a cache that is missing,
    truncated or altered is rebuilt, never used.
    """
    _check_num_pairs(num_pairs)
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed!r})")
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stem = f"associative_k{num_pairs}_seed{seed}_{generator_key(num_pairs, seed)}"
    path, meta_path = directory / f"{stem}.npz", directory / f"{stem}.json"

    if path.exists() and meta_path.exists():
        cached = _read_cache(path, meta_path)
        if cached is not None:
            return cached

    splits = _build_splits(int(num_pairs), int(seed))
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{stem}.{os.getpid()}.tmp.npz"
    arrays = {f"{name}_{part}": array for name, (x, y) in splits.items()
              for part, array in (("x", x), ("y", y))}
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    meta = {"num_pairs": num_pairs, "seed": seed, "sha256": _digest(splits),
            "sizes": {n: len(splits[n][1]) for n in SPLIT_SIZES}}
    tmp_meta = meta_path.with_suffix(f".{os.getpid()}.tmp")
    tmp_meta.write_text(json.dumps(meta, indent=2))
    os.replace(tmp_meta, meta_path)
    return splits
