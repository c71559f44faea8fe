"""The figures of Table 2: one digit and its glimpses in order, and learning curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from fwlib.tasks.mnist_glimpses import glimpses
from fwlib.tasks.mnist_glimpses.spec import MODEL_KINDS, MODEL_LABELS

SCALE_COLOURS = {glimpses.FINE: "tab:orange", glimpses.COARSE: "tab:blue"}


def glimpse_strip(image: np.ndarray, order: str, axes_row) -> None:
    """The image with the glimpse regions outlined, then each glimpse in order (as the model
    sees its 49 pixels), titled with its step and name, on ``axes_row`` (1 + T axes)."""
    sequence = glimpses.extract(image[None], order)[0]
    names = {g["id"]: g for g in glimpses.catalogue()}
    ids = glimpses.order_ids(order)
    first = axes_row[0]
    first.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    for glimpse_id in sorted(set(ids.tolist())):
        g = names[glimpse_id]
        first.add_patch(Rectangle((g["left"] - 0.5, g["top"] - 0.5), g["side"], g["side"],
                                  fill=False, lw=1.2, color=SCALE_COLOURS[g["scale"]]))
    first.set_title(f"{order}: {len(ids)} glimpses", fontsize=8)
    for step, (ax, glimpse_id) in enumerate(zip(axes_row[1:], ids, strict=True)):
        g = names[int(glimpse_id)]
        ax.imshow(sequence[step, :glimpses.PIXELS].reshape(7, 7), cmap="gray_r", vmin=0,
                  vmax=1)
        ax.set_title(f"{step + 1}\n{g['name']}", fontsize=6,
                     color=SCALE_COLOURS[g["scale"]])
    for ax in axes_row:
        ax.set_xticks([])
        ax.set_yticks([])


def glimpse_figure(image: np.ndarray, orders=tuple(glimpses.ORDERS)):
    """One row per order: the digit, then its glimpses in order."""
    columns = 1 + max(glimpses.sequence_length(o) for o in orders)
    fig, axes = plt.subplots(len(orders), columns, figsize=(0.9 * columns, 1.5 * len(orders)),
                             squeeze=False)
    for row, order in zip(axes, orders, strict=True):
        glimpse_strip(image, order, row[: 1 + glimpses.sequence_length(order)])
        for ax in row[1 + glimpses.sequence_length(order):]:
            ax.set_visible(False)
    fig.tight_layout()
    return fig


def learning_curves(histories: pd.DataFrame, hidden_units: int, ax=None, note: str = ""):
    """Validation error (%, log scale) against updates at one width, one line per model, a
    band (± 1 std) over seeds where there are several."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    data = (histories[histories["hidden_units"] == hidden_units].copy() if len(histories)
            else pd.DataFrame())
    if data.empty:
        ax.text(0.5, 0.5, f"no finished runs at {hidden_units} units", ha="center",
                transform=ax.transAxes)
        return ax
    data["validation error (%)"] = 100 * data["valid_error"]
    data["model"] = data["model"].map(MODEL_LABELS)
    order = [MODEL_LABELS[m] for m in MODEL_KINDS if MODEL_LABELS[m] in set(data["model"])]
    sns.lineplot(data=data, x="step", y="validation error (%)", hue="model", hue_order=order,
                 errorbar="sd", ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("parameter updates")
    seeds = data.groupby("model")["seed"].nunique()
    counts = ", ".join(f"{m}: {n} seed{'s' if n > 1 else ''}" for m, n in seeds.items())
    title = f"MNIST glimpses, {hidden_units} hidden units ({counts})"
    ax.set_title(f"{title}\n{note}" if note else title, fontsize=8)
    return ax
