"""Associative LSTM (Danihelka, Wayne, Uria, Kalchbrenner & Graves, ICML 2016), the A-LSTM
baseline of Ba et al. (2016), Table 1.

- :class:`AssociativeLSTM`: the layer, over a whole sequence.
- :func:`key_permutations`: the fixed random permutations P_s of its redundant memory copies.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from fwlib.cores.tokens import check_token_call, token_projection

FORGET_BIAS = 1.0


def key_permutations(num_complex: int, num_copies: int, seed: int = 0) -> np.ndarray:
    """The permutations P_1 .. P_{N_copies} of the N complex positions, as an int array
    [num_copies, num_complex]: (P_s r)_k = r_{perm[s, k]}. P_1 is the identity; the others are
    drawn from ``numpy.random.default_rng(seed)``, so the same seed gives the same memory."""
    rng = np.random.default_rng(seed)
    perms = [np.arange(num_complex)]
    perms += [rng.permutation(num_complex) for _ in range(num_copies - 1)]
    return np.stack(perms).astype("int32")


def _check_params(units, num_copies, permutation_seed) -> None:
    if isinstance(units, bool) or not isinstance(units, int) or units < 2 or units % 2:
        raise ValueError("units must be a positive even integer (the real and imaginary halves "
                         f"of units // 2 complex units; got {units!r})")
    if isinstance(num_copies, bool) or not isinstance(num_copies, int) or num_copies < 1:
        raise ValueError(f"num_copies must be a positive integer (got {num_copies!r})")
    if (isinstance(permutation_seed, bool) or not isinstance(permutation_seed, int)
            or permutation_seed < 0):
        raise ValueError(f"permutation_seed must be a non-negative integer "
                         f"(got {permutation_seed!r})")


def _bound(z):
    """bound(z)_k = z_k / max(1, |z_k|) for complex z held as [..., 2, N] (real, imaginary):
    numbers with modulus above 1 are scaled back to the unit circle. max(1, |z|) is computed
    as √max(1, |z|²), which equals it and keeps the gradient finite at z = 0."""
    return z / ops.sqrt(ops.maximum(1.0, ops.sum(ops.square(z), axis=-2, keepdims=True)))


def _complex_mul(a, b):
    """a ⊛ b, the elementwise complex product, for [..., 2, N] (real, imaginary) operands.

    The parts are taken apart with ``unstack`` rather than sliced: the gradient of a slice is a
    padded copy of the whole operand, which XLA on CPU does not fold away.
    """
    a_real, a_imag = ops.unstack(a, axis=-2)
    b_real, b_imag = ops.unstack(b, axis=-2)
    return ops.stack([a_real * b_real - a_imag * b_imag, a_real * b_imag + a_imag * b_real],
                     axis=-2)


@keras.saving.register_keras_serializable(package="fwlib")
class AssociativeLSTM(keras.layers.Layer):
    r"""Associative LSTM (Danihelka et al. 2016, Section 5) over a whole sequence.

    Complex vectors of N = ``units`` // 2 entries are held as real and imaginary halves. For
    each example, with h_0 = 0 and c_{s,0} = 0, for t = 1 .. T::

        ĝ_f, ĝ_i, ĝ_o, r̂_i, r̂_o = W_xh x_t + W_hh h_{t-1} + b_h
        û                    = W_xu x_t + W_hu h_{t-1} + b_u
        g_f, g_i, g_o        = σ(ĝ_f), σ(ĝ_i), σ(ĝ_o)              (real, N each)
        r_i, r_o, u          = bound(r̂_i), bound(r̂_o), bound(û)   (complex, N each)
        r_{i,s}, r_{o,s}     = P_s r_i, P_s r_o                       s = 1 .. N_copies
        c_{s,t}              = g_f ⊙ c_{s,t-1} + r_{i,s} ⊛ (g_i ⊙ u)
        h_t                  = g_o ⊙ bound( (1/N_copies) Σ_s r_{o,s} ⊛ c_{s,t} )

    bound(z)_k = z_k / max(1, |z_k|); ⊛ is the elementwise complex product; a real gate
    multiplies the real and the imaginary part of its complex unit alike. h_t is the real part
    followed by the imaginary part: ``units`` = 2N real values. N_copies = ``num_copies``.
    The read uses r_{o,s} as it is, with no conjugate: to read what was stored under r_i the
    network learns r_o ≈ r_i⁻¹ (= conj(r_i) on the unit circle). W_hu is kept, as written.

    P_s are fixed (not trained) permutations of the N complex positions, the same for real
    and imaginary parts: P_1 is the identity and the others are drawn from
    ``permutation_seed`` (see :func:`key_permutations`). With one copy this is a single
    holographic trace; more copies average out the cross-talk between stored items.

    R, the size the paper's tables name, is ``units``: the number of real hidden values in h,
    as for ``keras.layers.LSTM(R)``. The pre-activations take 3N + 3·2N = 4.5 R columns, so
    with input size D the layer has 4.5 R (D + R + 1) parameters, against 4 R (D + R + 1) for
    ``keras.layers.LSTM(R)``; the memory holds N_copies · R real values per example, at no
    cost in parameters.

    Initialisation follows ``keras.layers.LSTM``: input weights Glorot-uniform, recurrent
    weights orthogonal, biases 0 except the forget gate's, 1. The sequence length must be
    static.

    Called as ``layer(embedded, tokens=tokens, table=E)``, where ``embedded`` is E[tokens],
    the layer computes the input part from the table E [W_xh, W_xu] + b
    (:mod:`fwlib.cores.tokens`): the same function, with less work.
    """

    def __init__(self, units: int, num_copies: int = 4, return_sequences: bool = False,
                 permutation_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        _check_params(units, num_copies, permutation_seed)
        self.units = units
        self.num_copies = num_copies
        self.return_sequences = bool(return_sequences)
        self.permutation_seed = permutation_seed
        self.num_complex = units // 2
        self.permutations = key_permutations(self.num_complex, num_copies, permutation_seed)

    def build(self, input_shape) -> None:
        # Columns, N each: ĝ_f, ĝ_i, ĝ_o, Re r̂_i, Im r̂_i, Re r̂_o, Im r̂_o, Re û, Im û.
        n = self.num_complex
        self.kernel = self.add_weight(  # [W_xh, W_xu]
            name="kernel", shape=(int(input_shape[-1]), 9 * n),
            initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(  # [W_hh, W_hu]
            name="recurrent_kernel", shape=(self.units, 9 * n), initializer="orthogonal")
        self.bias = self.add_weight(  # [b_h, b_u]
            name="bias", shape=(9 * n,), initializer="zeros")
        self.bias.assign(np.concatenate([np.full(n, FORGET_BIAS), np.zeros(8 * n)]))

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def _column_index(self) -> np.ndarray:
        """Columns of the pre-activations with the keys already permuted for every copy.

        bound acts on each complex number alone, so P_s bound(r̂) = bound(P_s r̂), and P_s r̂ is
        r̂ computed from the permuted columns of W and b. Gathering the columns once per call
        gives all N_copies permuted keys from one matmul per step, with no gather in the loop.
        The result: [ĝ_f, ĝ_i, ĝ_o], then for s = 1 .. N_copies [Re, Im of P_s r̂_i, P_s r̂_o],
        then [Re û, Im û]: 3N + 4N·N_copies + 2N columns.
        """
        n = self.num_complex
        keys = np.concatenate([self.permutations + (3 + k) * n for k in range(4)], axis=1)
        return np.concatenate([np.arange(3 * n), keys.reshape(-1), np.arange(7 * n, 9 * n)])

    def call(self, inputs, tokens=None, table=None):
        steps = inputs.shape[1]
        if steps is None:
            raise ValueError("AssociativeLSTM needs a static sequence length (got None)")
        check_token_call(self, tokens, table)
        n, copies = self.num_complex, self.num_copies
        columns = self._column_index()
        kernel = ops.take(self.kernel, columns, axis=1)
        recurrent_kernel = ops.take(self.recurrent_kernel, columns, axis=1)
        bias = ops.take(self.bias, columns)
        # Time-major, one 2-D matrix product for every step's input part: written as a batched
        # product ("btd,dk->btk"), its gradient with respect to the kernel is formed per example
        # ([B, D, K]) and then summed, a large part of an update's time on CPU. Every
        # per-step part is taken with unstack or split, whose gradients are concatenations, not
        # padded copies.
        if tokens is None:
            flat = ops.reshape(ops.transpose(inputs, (1, 0, 2)), (-1, inputs.shape[-1]))
            projected = ops.reshape(ops.matmul(flat, kernel) + bias,
                                    (steps, -1, kernel.shape[-1]))
        else:
            projected = token_projection(table, kernel, bias, tokens)
        keys_end = 3 * n + 4 * n * copies
        # Complex vectors are [..., 2, N]: real part, imaginary part.
        h = cells = None
        outputs = []
        for z in ops.unstack(projected, axis=0):
            if h is not None:
                z = z + ops.matmul(h, recurrent_kernel)
            z_gates, z_keys, z_u = ops.split(z, [3 * n, keys_end], axis=-1)
            gates = ops.sigmoid(ops.reshape(z_gates, (-1, 3, 1, n)))
            g_f, g_i, g_o = ops.unstack(gates, axis=1)  # [B, 1, N] each
            keys = _bound(ops.reshape(z_keys, (-1, copies, 2, 2, n)))
            input_keys, output_keys = ops.unstack(keys, axis=2)  # r_{i,s}, r_{o,s}: [B, S, 2, N]
            u = _bound(ops.reshape(z_u, (-1, 1, 2, n)))
            written = _complex_mul(input_keys, g_i[:, None] * u)  # [B, S, 2, N]
            cells = written if cells is None else g_f[:, None] * cells + written
            read = _bound(ops.mean(_complex_mul(output_keys, cells), axis=1))  # [B, 2, N]
            h = ops.reshape(g_o * read, (-1, 2 * n))  # real part, then imaginary part
            outputs.append(h)
        return ops.stack(outputs, axis=1) if self.return_sequences else h

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(units=self.units, num_copies=self.num_copies,
                      return_sequences=self.return_sequences,
                      permutation_seed=self.permutation_seed)
        return config
