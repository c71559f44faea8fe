"""A digit as a fixed sequence of 7×7 glimpses at two scales (Section 4.2 of the paper).

The glimpses a sequence can hold (the catalogue, 20 in all, numbered as below):

- ``0-15`` fine: the 16 non-overlapping 7×7 patches of the 28×28 image, at full resolution;
  patch (i, j) covers rows 7i..7i+6 and columns 7j..7j+6, numbered 4i + j;
- ``16-19`` coarse: the four 14×14 quadrants (TL, TR, BL, BR), each averaged over 2×2 pixel
  blocks down to 7×7.

Two orders (the paper's own order is not known):

- ``coarse_fine`` (default, 20 glimpses): for each quadrant in reading order, the quadrant
  at coarse scale, then its four fine patches in reading order;
- ``fine_centre`` (24 glimpses, the order a secondary source describes): the 16 fine patches
  quadrant by quadrant (each quadrant's four in reading order), then the four patches that
  straddle the image centre, at offsets (7, 7), (7, 14), (14, 7) and (14, 14), then the same
  four again. Those four are the inner fine patches 5, 6, 9 and 10: the order revisits them.

Each step's input is the glimpse's 49 pixels followed by a one-hot code of which of the 20
glimpses it is (its position and scale): 69 numbers. Every glimpse pixel is the mean of four
image pixels (the same pixel four times at fine scale), so one index table ``[glimpses, 49,
4]`` defines every order, for NumPy here and for the model's input layer alike.
"""

from __future__ import annotations

import numpy as np

SIDE = 28
PATCH = 7
PIXELS = PATCH * PATCH
QUADRANTS = ("TL", "TR", "BL", "BR")
NUM_GLIMPSES = 20  # size of the catalogue, and of each step's one-hot code
STEP_FEATURES = PIXELS + NUM_GLIMPSES
FINE, COARSE = "fine", "coarse"
CENTRE_PATCHES = (5, 6, 9, 10)  # the fine patches at (7, 7), (7, 14), (14, 7), (14, 14)


def _fine_id(row: int, col: int) -> int:
    return 4 * row + col


def _quadrant_fine_ids(q: int) -> list[int]:
    top, left = 2 * (q // 2), 2 * (q % 2)
    return [_fine_id(top + r, left + c) for r in range(2) for c in range(2)]


ORDERS: dict[str, tuple[int, ...]] = {
    "coarse_fine": tuple(i for q in range(4) for i in (16 + q, *_quadrant_fine_ids(q))),
    "fine_centre": tuple([i for q in range(4) for i in _quadrant_fine_ids(q)]
                         + list(CENTRE_PATCHES) * 2),
}


def check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)} (got {order!r})")


def catalogue() -> list[dict]:
    """Every glimpse: its number, scale, top-left pixel, covered side and name."""
    out = []
    for i in range(16):
        row, col = divmod(i, 4)
        out.append({"id": i, "scale": FINE, "top": PATCH * row, "left": PATCH * col,
                    "side": PATCH, "name": f"fine {QUADRANTS[2 * (row // 2) + col // 2]} "
                                          f"({row},{col})"})
    for q in range(4):
        out.append({"id": 16 + q, "scale": COARSE, "top": 14 * (q // 2), "left": 14 * (q % 2),
                    "side": 14, "name": f"coarse {QUADRANTS[q]}"})
    return out


def index_table() -> np.ndarray:
    """``[20, 49, 4]`` int32: for each glimpse pixel, the flat indices of the four image
    pixels whose mean it is."""
    table = np.zeros((NUM_GLIMPSES, PATCH, PATCH, 4), dtype=np.int32)
    rows, cols = np.meshgrid(np.arange(PATCH), np.arange(PATCH), indexing="ij")
    for glimpse in catalogue():
        stride = glimpse["side"] // PATCH
        for k, (dr, dc) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            r = glimpse["top"] + stride * rows + (dr if stride == 2 else 0)
            c = glimpse["left"] + stride * cols + (dc if stride == 2 else 0)
            table[glimpse["id"], :, :, k] = SIDE * r + c
    return table.reshape(NUM_GLIMPSES, PIXELS, 4)


def order_ids(order: str) -> np.ndarray:
    """The glimpse numbers of ``order``, step by step."""
    check_order(order)
    return np.asarray(ORDERS[order], dtype=np.int32)


def sequence_length(order: str) -> int:
    return len(order_ids(order))


def extract(images: np.ndarray, order: str = "coarse_fine", chunk: int = 4096) -> np.ndarray:
    """images ``[N, 28, 28]`` -> glimpse sequences ``[N, T, 69]`` (49 pixels, then the
    glimpse's one-hot code), float32."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"images must have shape [N, {SIDE}, {SIDE}] (got {images.shape})")
    ids = order_ids(order)
    index = index_table()[ids]  # [T, 49, 4]
    codes = np.eye(NUM_GLIMPSES, dtype=np.float32)[ids]  # [T, 20]
    flat = images.reshape(len(images), SIDE * SIDE)
    out = np.empty((len(images), len(ids), STEP_FEATURES), dtype=np.float32)
    for start in range(0, len(images), chunk):
        part = flat[start:start + chunk]
        out[start:start + chunk, :, :PIXELS] = part[:, index].mean(axis=-1)
        out[start:start + chunk, :, PIXELS:] = codes
    return out
