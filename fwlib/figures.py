"""Figures made from recorded run histories, saved as PNG and SVG."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from fwlib.tables import MODEL_LABELS

MODEL_ORDER = ("fast_weights", "lstm", "alstm", "irnn", "rnn_ln")


def learning_curves(histories: pd.DataFrame, hidden_units: int = 50, ax=None,
                    title: str | None = None):
    """Validation error (%) against updates at one R, one line per model, a band (± 1 std)
    over seeds where there are several."""
    data = histories[histories["hidden_units"] == hidden_units].copy()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    if data.empty:
        ax.text(0.5, 0.5, f"no finished runs at R = {hidden_units}", ha="center",
                transform=ax.transAxes)
        return ax
    data["validation error (%)"] = 100 * data["valid_error"]
    data["model"] = data["model"].map(MODEL_LABELS)
    order = [MODEL_LABELS[m] for m in MODEL_ORDER if MODEL_LABELS[m] in set(data["model"])]
    sns.lineplot(data=data, x="step", y="validation error (%)", hue="model", hue_order=order,
                 errorbar="sd", ax=ax)
    ax.set_xlabel("parameter updates")
    ax.set_ylim(0, 100)
    ax.axhline(90, color="grey", lw=0.8, ls=":")
    ax.text(ax.get_xlim()[1], 90, " chance", va="center", fontsize=8, color="grey")
    seeds = data.groupby("model")["seed"].nunique()
    counts = ", ".join(f"{m}: {n} seed{'s' if n > 1 else ''}" for m, n in seeds.items())
    ax.set_title(title or f"Associative retrieval, R = {hidden_units} ({counts})", fontsize=9)
    return ax


def save(fig, directory: str | os.PathLike, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` under ``directory``; return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths
