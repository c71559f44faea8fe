"""Small helpers that every notebook uses: where its results go, and what it needs first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fwlib.run.provenance import REPO_ROOT


def interactive() -> bool:
    """True when a person is watching: a terminal, or a notebook's kernel."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class MissingInput(FileNotFoundError):
    """A notebook's input is missing: the message names the notebook to run first."""


def results_folder(results_dir: str | os.PathLike) -> Path:
    """The notebook's output folder: ``results_dir``, relative to the repository root."""
    return (REPO_ROOT / results_dir).resolve()


def require(path: str | os.PathLike, made_by: str) -> Path:
    """``path``, or a :class:`MissingInput` that names the notebook which writes it."""
    path = Path(path)
    if not path.exists():
        try:
            shown = path.relative_to(REPO_ROOT)
        except ValueError:
            shown = path
        raise MissingInput(f"{shown} is missing: run the notebook {made_by} first, with the "
                           "same results_dir") from None
    return path
