"""The associative-retrieval classifier: a learned embedding of each symbol, the recurrent
core, one layer of ReLUs and one logit per symbol."""

from __future__ import annotations

from fwlib.cores import CoreSpec, build_core, check_positive_int
from fwlib.cores.tokens import Vocabulary
from fwlib.tasks.associative.data import MAX_PAIRS, VOCAB_SIZE, sequence_length


def build_classifier(core: CoreSpec, num_pairs: int = 4, embedding_dim: int = 100,
                     decoder_units: int = 100, token_table: bool = True):
    """tokens [B, 2K+3] -> embedding (``embedding_dim``) -> core (R = ``core.hidden_units``)
    -> ``decoder_units`` ReLUs -> 37 logits.

    With ``token_table`` (the default) the core computes its input projection from the
    embedding's table rather than from the embedded sequence (:mod:`fwlib.cores.tokens`):
    the same function, weights and weights file, in about half the time per update.
    """
    import keras  # noqa: PLC0415

    core.validate()
    if not isinstance(num_pairs, int) or not 1 <= num_pairs <= MAX_PAIRS:
        raise ValueError(f"num_pairs must be an integer in 1..{MAX_PAIRS} (got {num_pairs!r})")
    check_positive_int("embedding_dim", embedding_dim)
    check_positive_int("decoder_units", decoder_units)
    tokens = keras.Input(shape=(sequence_length(num_pairs),), dtype="int32", name="tokens")
    embedding = keras.layers.Embedding(VOCAB_SIZE, embedding_dim, name="embedding")
    x = embedding(tokens)
    if token_table:
        table = embedding(Vocabulary(VOCAB_SIZE, name="vocabulary")(tokens))
        x = build_core(core, token_inputs=True)(x, tokens=tokens, table=table)
    else:
        x = build_core(core)(x)
    x = keras.layers.Dense(decoder_units, activation="relu", name="decoder")(x)
    logits = keras.layers.Dense(VOCAB_SIZE, name="logits")(x)
    return keras.Model(tokens, logits, name=core.kind)
