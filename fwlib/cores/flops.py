"""FLOPs of the recurrent cores, counted from their shapes.

Counting rule: every multiply-add of a matrix product, einsum or accumulated product is
2 FLOPs, counted as the layer executes it; biases, activations, layer norm, gate products and
scalings by λ or η are not counted. A training step costs 3 × the forward pass (forward, and
two products of the same size per product in the backward pass).
"""

from __future__ import annotations

from fwlib.cores import CoreSpec


def core_multiply_adds(spec: CoreSpec, seq_len: int, input_dim: int,
                       table_rows: int | None = None, batch_size: int = 1) -> float:
    """Multiply-adds of one example's forward pass through the core.

    With T = ``seq_len``, D = ``input_dim``, R = ``hidden_units``, S = ``inner_steps``, and
    K the number of pre-activations the layer computes (R; 4 R for the LSTM; for the A-LSTM,
    with N = R/2 complex units, 3N gates, 4N per memory copy for its permuted keys, 2N for u:
    (5 + 4·N_copies)·N):

    - the input product: T·D·K; with token inputs (``table_rows`` = V, the vocabulary,
      :mod:`fwlib.cores.tokens`) the table's V·D·K instead, once per batch of ``batch_size``
      examples;
    - IRNN, RNN+LN: T·R·R recurrent (R·R fewer, the first step's, for the IRNN and the
      LSTM with token inputs, which skip the product with h = 0);
    - LSTM: 4·T·R·R recurrent (the same exception);
    - fast weights: T·R·R recurrent, plus the fast-weight reads: attention form, a read at
      step t with m = t stored states costs 2·m·R (scores hᵀv, then Σ score·h), S reads per
      step, S·R·T·(T + 1) in all; matrix form, the update A ← λA + η h hᵀ costs R² and each
      read A·v costs R², T·R²·(1 + S) in all;
    - A-LSTM: (T − 1)·R·K recurrent (skipped at the first step, where h = 0), and
      8·N_copies·N per step for the holographic memory (one complex multiply-add, 4 real
      ones, per copy and unit to write, and again to read).
    """
    spec.validate()
    t, d, r = seq_len, input_dim, spec.hidden_units
    tokens = table_rows is not None
    width = {"lstm": 4 * r, "alstm": (5 + 4 * spec.num_copies) * (r // 2)}.get(spec.kind, r)
    inputs = table_rows * d * width / batch_size if tokens else t * d * width
    recurrent_steps = t - 1 if spec.kind == "alstm" or (tokens and spec.kind in (
        "irnn", "lstm")) else t
    recurrent = recurrent_steps * r * width
    if spec.kind == "fast_weights" and spec.implementation == "attention":
        recurrent += spec.inner_steps * r * t * (t + 1)
    elif spec.kind == "fast_weights":
        recurrent += t * r * r * (1 + spec.inner_steps)
    elif spec.kind == "alstm":
        recurrent += t * 8 * spec.num_copies * (r // 2)
    return inputs + recurrent


def traced_multiply_adds(function, input_spec) -> int:
    """Multiply-adds of every matrix product and einsum that ``function`` executes on one
    input of ``input_spec`` (a ``tf.TensorSpec``), read from its traced TensorFlow graph:
    an independent count to check the formulas against. TensorFlow backend only (the tests
    and the training-speed benchmark use it; :func:`core_multiply_adds` works under any)."""
    import math  # noqa: PLC0415
    import re  # noqa: PLC0415

    import keras  # noqa: PLC0415

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("traced_multiply_adds reads a TensorFlow graph: run it with "
                           f"KERAS_BACKEND=tensorflow (this process runs "
                           f"{keras.backend.backend()})")
    import tensorflow as tf  # noqa: PLC0415

    graph = tf.function(function).get_concrete_function(input_spec).graph
    total = 0
    for op in graph.get_operations():
        if op.type in ("MatMul", "BatchMatMulV2"):
            a, b = ([int(d) for d in t.shape] for t in op.inputs)
            flags = ("transpose_a", "transpose_b") if op.type == "MatMul" else ("adj_x", "adj_y")
            rows, inner = (a[-1], a[-2]) if op.get_attr(flags[0]) else (a[-2], a[-1])
            cols = b[-2] if op.get_attr(flags[1]) else b[-1]
            total += math.prod(a[:-2]) * rows * inner * cols
        elif op.type == "Einsum":
            inputs = op.get_attr("equation").decode().split("->")[0].split(",")
            sizes = {}
            for letters, tensor in zip(inputs, op.inputs, strict=True):
                sizes.update(zip(re.sub(r"\W", "", letters), [int(d) for d in tensor.shape],
                                 strict=True))
            total += math.prod(sizes.values())
    return total
