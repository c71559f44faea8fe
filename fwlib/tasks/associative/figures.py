"""Figure 2 and the other learning curves, made from recorded run histories."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from fwlib.cores import CORE_LABELS as MODEL_LABELS

MODEL_ORDER = ("fast_weights", "lstm", "alstm", "irnn", "rnn_ln")


def learning_curves(histories: pd.DataFrame, hidden_units: int = 50, ax=None,
                    title: str | None = None, note: str = ""):
    """Validation error (%) against updates at one R, one line per model, a band (± 1 std)
    over seeds where there are several; ``note`` is added to the title (a budget too short
    to judge, say)."""
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
    title = title or f"Associative retrieval, R = {hidden_units} ({counts})"
    ax.set_title(f"{title}\n{note}" if note else title, fontsize=9)
    return ax


def fast_slow_ratio(norms: pd.DataFrame, axes=None):
    """The fast-weight read over the slow term, ‖A h‖ / ‖W h + C x + b‖ (mean over validation
    sequences, log scale), at each step of the sequence; one line per R, one panel per stage
    (initial weights, trained weights); a band over seeds where there are several."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    data = norms[norms["step"] > 0].copy()
    data["R"] = data["hidden_units"].astype(int).astype(str)
    data["ratio_mean"] = data["ratio_mean"].clip(lower=1e-6)  # a zero read, on a log axis
    for ax, stage in zip(axes, ("initial", "trained"), strict=True):
        part = data[data["stage"] == stage]
        if part.empty:
            ax.text(0.5, 0.5, f"no {stage} weights", ha="center", transform=ax.transAxes)
            continue
        sns.lineplot(data=part, x="step", y="ratio_mean", hue="R", errorbar=("pi", 100),
                     estimator="median", marker="o", ax=ax)
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("step of the sequence (the query is the last)")
        ax.set_ylabel("‖A(t) h‖ / ‖W h + C x + b‖")
        seeds = part["seed"].nunique()
        spread = (f"{seeds} seeds: line the median, band the range" if seeds > 1
                  else "1 seed")
        ax.set_title(f"{stage} weights ({spread}; ratios below 1e-6 drawn at 1e-6)",
                     fontsize=9)
    return axes
