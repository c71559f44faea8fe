"""Figure 5: greedy catch rate against environment frames, one panel per game."""

from __future__ import annotations

import os

import pandas as pd

from fwlib.figures import save
from fwlib.tasks.catch.agents import AGENT_LABELS
from fwlib.tasks.catch.results import _game_order

COLOURS = {"fast_weights": "tab:red", "lstm": "tab:blue", "irnn": "tab:green",
           "feedforward": "tab:gray"}


def figure5(curve: pd.DataFrame, directory: str | os.PathLike | None = None):
    """One panel per game; per agent the mean over seeds, the band spans the seeds' range."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    games = sorted(curve["version"].unique(), key=_game_order)
    fig, axes = plt.subplots(1, max(len(games), 1), figsize=(4.5 * max(len(games), 1), 3.6),
                             squeeze=False)
    for ax, game in zip(axes[0], games, strict=False):
        for model in AGENT_LABELS:
            rows = curve[(curve["version"] == game) & (curve["model"] == model)]
            if rows.empty:
                continue
            stats = rows.groupby("frames")["eval_catch_rate"].agg(["mean", "min", "max",
                                                                   "count"])
            seeds = rows["seed"].nunique()
            ax.plot(stats.index, 100 * stats["mean"], color=COLOURS[model],
                    label=f"{AGENT_LABELS[model]} ({seeds} seed{'s' * (seeds > 1)})")
            if seeds > 1:
                ax.fill_between(stats.index, 100 * stats["min"], 100 * stats["max"],
                                color=COLOURS[model], alpha=0.2, linewidth=0)
        ax.set_title(game.replace("_", ", ").replace("full", "fully observed"))
        ax.set_xlabel("environment frames")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel("greedy catch rate (%)")
    fig.tight_layout()
    if directory is not None:
        save(fig, directory, "figure5")
    return fig
