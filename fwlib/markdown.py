"""Markdown tables for the report and the README."""

from __future__ import annotations

import pandas as pd


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; ``|`` inside a cell is escaped."""
    frame = frame.reset_index() if frame.index.name else frame
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def distinct(values) -> str:
    """The distinct numbers of ``values``, ascending, as ``"0.001, 0.003"``."""
    return ", ".join(f"{v:g}" for v in sorted(set(values)))


def values_per_model(runs: pd.DataFrame, column: str, what: str,
                     labels: dict | None = None) -> str:
    """``"\\n\\n<what>: <model>: v1, v2; ..."``, the distinct values of ``column`` per model
    in ``runs`` (models named through ``labels`` where given); "" without such runs."""
    if runs.empty or column not in runs:
        return ""
    values = runs.groupby("model")[column].agg(distinct)
    if labels:
        values = values.rename(index=labels)
    return f"\n\n{what}: " + "; ".join(f"{m}: {v}" for m, v in values.items()) + "."
