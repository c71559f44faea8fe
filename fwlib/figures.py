"""Saving figures: PNG for the report, SVG for print."""

from __future__ import annotations

import os
from pathlib import Path


def save(fig, directory: str | os.PathLike, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` under ``directory``; return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths
