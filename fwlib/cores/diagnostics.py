"""How much of a fast-weights state comes from the memory and how much from the new input.

At each step the first inner-loop iteration adds the fast-weight read A(t) h_0(t+1) to the
slow pre-activation W h(t) + C x(t) + b, and layer norm then rescales the sum: when the read is
many times larger than the slow term, the new input barely moves the state, whatever its
size. :func:`fast_slow_norms` replays a trained (or freshly initialised) layer in NumPy on a
batch of its inputs and returns both norms at every step; the replay's final state is checked
against the layer's own output, so the numbers describe exactly the function being trained.
"""

from __future__ import annotations

import numpy as np


def _relu(v):
    return np.maximum(v, 0.0)


def _layer_norm(v, gain, bias, epsilon):
    mean = v.mean(axis=-1, keepdims=True)
    var = np.square(v - mean).mean(axis=-1, keepdims=True)
    return (v - mean) / np.sqrt(var + epsilon) * gain + bias


def fast_slow_norms(layer, inputs) -> dict[str, np.ndarray]:
    """Replay ``layer`` (a :class:`fwlib.cores.FastWeightsRNN` with ``indexing="current"``)
    on ``inputs`` ``[B, T, D]`` (what the layer receives).

    Returns ``slow`` and ``fast``, ``[B, T]``: ‖W h(t) + C x(t) + b‖ and ‖A(t) h_0(t+1)‖ at each
    step t (the first inner-loop read; zero at t = 0 only when A(0) h is zero), ``ratio`` =
    fast / slow, ``state_norm`` ‖h(t)‖ and ``cosine``, the cosine between h(t) and the
    preliminary state h_0(t+1) (``[B, T]`` each), and ``state``, the final hidden state.

    With layer norm the first inner step does not depend on the slow term's scale: the read
    is linear in h_0 = f(slow), so ``ratio`` is η Σ λ^(t−τ) (h(τ)·ĥ_0) ‖h(τ)‖ along h(τ), set by
    how large the stored states are and how well the new preliminary state aligns with them.
    """
    from fwlib.cores.fast_weights import LN_EPSILON  # noqa: PLC0415

    if layer.indexing != "current":
        raise ValueError("fast_slow_norms replays indexing='current' only "
                         f"(got {layer.indexing!r})")
    x = np.asarray(inputs, dtype=np.float64)
    c = np.asarray(layer.input_kernel, dtype=np.float64)
    w = np.asarray(layer.recurrent_kernel, dtype=np.float64)
    b = np.asarray(layer.bias, dtype=np.float64)
    gain = np.asarray(layer.ln_gain, dtype=np.float64) if layer.layer_norm else None
    ln_bias = np.asarray(layer.ln_bias, dtype=np.float64) if layer.layer_norm else None
    batch, steps, _ = x.shape
    h = np.zeros((batch, layer.units))
    a = np.zeros((batch, layer.units, layer.units))
    slow_norm, fast_norm = np.zeros((batch, steps)), np.zeros((batch, steps))
    state_norm, cosine = np.zeros((batch, steps)), np.zeros((batch, steps))
    for t in range(steps):
        slow = x[:, t] @ c + b + h @ w
        a = layer.decay * a + layer.fast_lr * np.einsum("bi,bj->bij", h, h)
        h_s = _relu(slow)
        for s in range(layer.inner_steps):
            read = np.einsum("bij,bj->bi", a, h_s)
            if s == 0:
                fast_norm[:, t] = np.linalg.norm(read, axis=-1)
                slow_norm[:, t] = np.linalg.norm(slow, axis=-1)
                state_norm[:, t] = np.linalg.norm(h, axis=-1)
                cosine[:, t] = (h * h_s).sum(-1) / np.maximum(
                    np.linalg.norm(h, axis=-1) * np.linalg.norm(h_s, axis=-1), 1e-12)
            pre = slow + read
            h_s = _relu(_layer_norm(pre, gain, ln_bias, LN_EPSILON) if layer.layer_norm else pre)
        h = h_s
    ratio = fast_norm / np.maximum(slow_norm, 1e-12)
    return {"slow": slow_norm, "fast": fast_norm, "ratio": ratio, "state_norm": state_norm,
            "cosine": cosine, "state": h}


def core_inputs(model, layer, inputs) -> np.ndarray:
    """What ``layer`` (inside the functional ``model``) receives as its sequence for the
    model's ``inputs`` (the first of its inputs, where it also reads tokens and a table)."""
    import keras  # noqa: PLC0415

    sources = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    received = layer.input
    probe = keras.Model(sources, received[0] if isinstance(received, list | tuple) else received)
    return np.asarray(probe(inputs))


def find_fast_weights_layer(model):
    """The model's :class:`fwlib.cores.FastWeightsRNN` (``ValueError`` when it has none)."""
    from fwlib.cores.fast_weights import FastWeightsRNN  # noqa: PLC0415

    found = [lay for lay in model.layers if isinstance(lay, FastWeightsRNN)]
    if not found:
        raise ValueError(f"model {model.name!r} has no FastWeightsRNN layer")
    return found[0]
