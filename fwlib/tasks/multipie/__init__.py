"""Facial expressions on Multi-PIE (Section 4.3, Table 3): not reproduced, and why.

The data set is licensed and cannot be obtained offline, so this experiment has no runs; its
section of the report states the paper's numbers and that they are not reproduced.
"""

from __future__ import annotations

from fwlib import paper

TASK = None
TITLE = "Facial expressions on Multi-PIE (Table 3)"
LABELS = {"irnn": "IRNN", "lstm": "LSTM", "convnet": "ConvNet", "fast_weights": "Fast weights"}


def section_markdown() -> str:
    import pandas as pd  # noqa: PLC0415

    from fwlib.markdown import to_markdown  # noqa: PLC0415

    rows = [{"model": LABELS[k], "paper accuracy (%)": f"{v:.2f}", "ours": "not run"}
            for k, v in paper.TABLE3.items()]
    return (f"## {TITLE}\n\n**Not reproduced.** The paper classifies 6 facial expressions in "
            "48×48 grey images of the Multi-PIE data set, seen from 3 viewpoints. Multi-PIE "
            "is licensed and no copy can be obtained offline, so no run was made and no "
            "verdict is given. The paper's numbers, for reference (mark "
            f"{paper.source_note(paper.TABLE3_SOURCE)}):\n\n" + to_markdown(pd.DataFrame(rows)))


def report_section(out_dir, profile: str) -> None:
    from IPython.display import Markdown, display  # noqa: PLC0415

    display(Markdown(section_markdown()))


def index_entries(out_dir) -> list[tuple[str, str]]:
    return []
