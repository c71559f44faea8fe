"""Reproduce a profile from scratch and compare with the committed results.

    python -m fwlib.pipeline.verify --profile default [--workers N]

Runs the whole pipeline of the profile in ``results/verify/<profile>/`` (never in the
committed ``results/<profile>/``), so every run trains afresh; then writes, and prints, a table
of each run's committed metric beside the new one: identical, or how far apart and why (another
machine, another library version, another code version).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from fwlib.markdown import to_markdown
from fwlib.pipeline.profiles import PipelineError, profile_path
from fwlib.pipeline.runner import run
from fwlib.run.provenance import REPO_ROOT

COMPARED = ("test_error", "valid_error", "best_step", "steps", "stopped", "diverged",
            "catch_rate", "greedy_catch_rate")
WHY = ("device", "backend", "code_version")


def _metrics(root: Path) -> dict[str, dict]:
    """relative run folder -> metrics, for every finished run under ``root``."""
    return {str(p.parent.relative_to(root)): json.loads(p.read_text())
            for p in sorted(root.rglob("metrics.json"))}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _why(old: dict, new: dict) -> str:
    reasons = [f"{key}: {old.get(key)} → {new.get(key)}" for key in WHY
               if old.get(key) != new.get(key)]
    old_packages, new_packages = old.get("packages", {}), new.get("packages", {})
    reasons += [f"{name} {old_packages.get(name)} → {new_packages.get(name)}"
                for name in sorted(set(old_packages) | set(new_packages))
                if old_packages.get(name) != new_packages.get(name)]
    return "; ".join(reasons) or "same machine, packages and code: the run is not deterministic"


def compare(committed: Path, fresh: Path) -> pd.DataFrame:
    """One row per run of the fresh results: its committed metrics beside the new ones."""
    old_runs, new_runs = _metrics(committed), _metrics(fresh)
    rows = []
    for name, new in new_runs.items():
        old = old_runs.get(name)
        row = {"run": name}
        if old is None:
            row.update(status="no committed run", differences="", why="")
        else:
            keys = [k for k in COMPARED if k in old or k in new]
            differ = [k for k in keys if not _same(old.get(k), new.get(k))]
            row.update(status="identical" if not differ else "differs",
                       differences="; ".join(f"{k}: {old.get(k)} → {new.get(k)}"
                                             for k in differ),
                       why=_why(old, new) if differ else "")
        for key in ("test_error", "catch_rate"):
            if key in new:
                row[f"committed {key}"] = None if old is None else old.get(key)
                row[f"new {key}"] = new.get(key)
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fwlib.pipeline.verify",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None)
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT")
    args = parser.parse_args(argv)
    try:
        name = profile_path(args.profile).stem
        root = REPO_ROOT / "results" / "verify"
        fresh = root / name
        if fresh.exists() and any(fresh.rglob("metrics.json")):
            print(f"{fresh} holds runs of an earlier verification: they are reused; delete "
                  "the folder to train every run afresh")
        run(args.profile, results_root=root, workers=args.workers, scheduler=args.scheduler)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = compare(REPO_ROOT / "results" / name, fresh)
    text = to_markdown(table) if len(table) else "(no finished runs)"
    (fresh / "verification.md").write_text(text + "\n")
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    print(f"\nCommitted results/{name} against a fresh run in {fresh}:\n\n{text}\n\n"
          + ", ".join(f"{n} {status}" for status, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
