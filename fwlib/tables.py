"""Table 1 of the paper beside ours, with a stated verdict rule."""

from __future__ import annotations

import pandas as pd

MODEL_LABELS = {"irnn": "IRNN", "lstm": "LSTM", "alstm": "A-LSTM", "fast_weights": "Fast weights",
                "rnn_ln": "RNN+LN (control)"}
TABLE1_MODELS = ("irnn", "lstm", "alstm", "fast_weights")
TABLE1_UNITS = (20, 50, 100)

# Classification error on the test set, %, as quoted by secondary sources (marked S in
# PAPER.md: the paper's PDF itself could not be read here).
PAPER_TABLE1 = {
    ("irnn", 20): 62.11, ("irnn", 50): 60.23, ("irnn", 100): 0.34,
    ("lstm", 20): 60.81, ("lstm", 50): 1.85, ("lstm", 100): 0.0,
    ("alstm", 20): 60.13, ("alstm", 50): 1.62, ("alstm", 100): 0.0,
    ("fast_weights", 20): 1.81, ("fast_weights", 50): 0.0, ("fast_weights", 100): 0.0,
}
PAPER_SOURCE = "S"

REPRODUCED_WITHIN = 2.0  # percentage points
PARTLY_WITHIN = 10.0
VERDICT_RULE = (f"reproduced: our mean test error is within {REPRODUCED_WITHIN:g} percentage "
                f"points of the paper's; partly: within {PARTLY_WITHIN:g} points; not: further "
                "away; not run: no finished run.")


def verdict(paper: float, ours: float | None) -> str:
    """The verdict for one cell, both errors in %."""
    if ours is None or pd.isna(ours):
        return "not run"
    gap = abs(ours - paper)
    if gap <= REPRODUCED_WITHIN:
        return "reproduced"
    if gap <= PARTLY_WITHIN:
        return "partly"
    return "not"


def table1(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, R) cell of Table 1: the paper's error, ours as mean ± std over
    seeds, the number of seeds, mean updates, mean wall-clock and the verdict.

    Only runs with the paper's defaults enter (K = 4, λ, η, S and LN as configured for Table 1);
    ``runs`` is what :func:`fwlib.results.load_runs` returns.
    """
    rows = []
    for model in TABLE1_MODELS:
        for units in TABLE1_UNITS:
            paper = PAPER_TABLE1[(model, units)]
            if runs.empty:
                cell = runs
            else:
                cell = runs[(runs["model"] == model) & (runs["hidden_units"] == units)]
            errors = 100.0 * cell["test_error"].astype(float) if len(cell) else pd.Series([])
            mean = float(errors.mean()) if len(errors) else None
            std = float(errors.std(ddof=1)) if len(errors) > 1 else None
            rows.append({
                "model": MODEL_LABELS[model], "kind": model, "R": units,
                "paper_error": paper, "paper_source": PAPER_SOURCE,
                "ours_mean": mean, "ours_std": std, "seeds": len(cell),
                "steps_mean": float(cell["steps"].mean()) if len(cell) else None,
                "minutes_mean": float(cell["wall_seconds"].mean()) / 60 if len(cell) else None,
                "stopped": ", ".join(f"{reason} ×{count}" for reason, count in
                                     cell["stopped"].value_counts().items()) if len(cell)
                else None,
                "verdict": verdict(paper, mean),
            })
    return pd.DataFrame(rows)


def _fmt_ours(row) -> str:
    if row["ours_mean"] is None or pd.isna(row["ours_mean"]):
        return "not run"
    spread = "" if pd.isna(row["ours_std"]) else f" ± {row['ours_std']:.2f}"
    seeds = int(row["seeds"])
    return (f"{row['ours_mean']:.2f}{spread} ({seeds} seed{'s' if seeds > 1 else ''}, "
            f"{row['verdict']})")


def table1_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 laid out as in the paper, models as rows: per R, the paper's error beside ours
    (mean ± std, seeds, verdict)."""
    out = {}
    for units in TABLE1_UNITS:
        part = table[table["R"] == units].set_index("model")
        out[f"R={units} paper"] = part["paper_error"].map(lambda v: f"{v:.2f}")
        out[f"R={units} ours"] = part.apply(_fmt_ours, axis=1)
    wide = pd.DataFrame(out)
    wide.index.name = "model"
    return wide.loc[[MODEL_LABELS[m] for m in TABLE1_MODELS]]


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    frame = frame.reset_index() if frame.index.name else frame
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
