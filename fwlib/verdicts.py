"""How our numbers are compared with the paper's: one rule for every table of the report.

Errors are in %. The paper gives single numbers; we have one number per seed.

- **Tolerance** around the paper's number: ``max(0.5, 0.25 × paper)`` percentage points. A
  paper's 0 % is matched by at most 0.5 % (2 % does not reproduce 0 %); a paper's 60 %
  (a model that fails to learn) by 45–75 %.
- **Each seed** is *within* the tolerance, *better* (lower error than paper − tolerance) or
  *worse* (higher than paper + tolerance).
- **The cell**: *reproduced* when every seed is within; *better than paper* when every seed
  is better; *not reproduced* when every seed is worse; *mixed* otherwise, with the count per
  kind ("2 of 3 seeds within, 1 worse"): a mean over seeds that disagree describes no run.
- Diverged runs (loss NaN or infinite) are left out of means and counts, and counted apart.
- *too short to judge*: the cell's runs had budgets below the task's minimum for a verdict
  (a profile that checks that the code runs, not what it finds); *not run*: no finished run.
- A claim of the paper (one model beats another, an ablation matters) stands on seeds, never
  on one run: with fewer than ``MIN_SEEDS`` runs in a cell or arm it speaks of, it is *not
  judged (one seed)*, its numbers shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

ABSOLUTE_TOLERANCE = 0.5  # percentage points
RELATIVE_TOLERANCE = 0.25  # of the paper's number

REPRODUCED, BETTER, NOT_REPRODUCED, MIXED = ("reproduced", "better than paper",
                                             "not reproduced", "mixed")
NOT_RUN, TOO_SHORT, ALL_DIVERGED = "not run", "too short to judge", "all runs diverged"
MIN_SEEDS = 2  # runs per cell or arm that a claim needs
ONE_SEED = "not judged (one seed)"

RULE = (f"Each seed is within the paper's number ± max({ABSOLUTE_TOLERANCE:g}, "
        f"{RELATIVE_TOLERANCE:g} × paper) percentage points, better (lower error) or worse. "
        "A cell is *reproduced* when every seed is within, *better than paper* when every seed "
        "is better, *not reproduced* when every seed is worse, and *mixed* otherwise (with the "
        "count of each). Diverged runs are left out and counted apart. Cells whose runs had "
        "budgets below the task's minimum for a verdict are *too short to judge*.")


def tolerance(paper: float) -> float:
    """Half-width, in percentage points, of the band that reproduces ``paper`` (in %)."""
    return max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(paper))


def seed_standing(paper: float, ours: float) -> str:
    """``within``, ``better`` or ``worse`` for one seed's error (both in %)."""
    band = tolerance(paper)
    if ours < paper - band:
        return "better"
    if ours > paper + band:
        return "worse"
    return "within"


def _finite(values: Iterable) -> list[float]:
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out.append(number)
    return out


def judge(paper: float | None, errors: Iterable, diverged: int = 0,
          judgeable: bool = True) -> dict:
    """The verdict of one cell from its seeds' test errors (in %; NaN and None are skipped).

    Returns ``verdict``, ``agreement`` (e.g. "2 of 3 seeds within, 1 worse"), ``seeds``
    (finished, not diverged), ``diverged``, ``mean``, ``std`` (sample; None for one seed),
    ``min``, ``max``.
    """
    errors = _finite(errors)
    n = len(errors)
    mean = sum(errors) / n if n else None
    std = (math.sqrt(sum((e - mean) ** 2 for e in errors) / (n - 1)) if n > 1 else None)
    out = {"seeds": n, "diverged": int(diverged), "mean": mean, "std": std,
           "min": min(errors) if n else None, "max": max(errors) if n else None}
    if n == 0:
        verdict = ALL_DIVERGED if diverged else NOT_RUN
        return {**out, "verdict": verdict, "agreement": ""}
    if paper is None or not math.isfinite(float(paper)):
        return {**out, "verdict": NOT_RUN, "agreement": "no paper number"}
    standings = [seed_standing(float(paper), e) for e in errors]
    counts = {k: standings.count(k) for k in ("within", "better", "worse")}
    parts = [f"{counts['within']} of {n} seed{'s' if n > 1 else ''} within"]
    parts += [f"{counts[k]} {k}" for k in ("better", "worse") if counts[k]]
    if diverged:
        parts.append(f"{diverged} diverged")
    agreement = ", ".join(parts)
    if not judgeable:
        verdict = TOO_SHORT
    elif counts["within"] == n:
        verdict = REPRODUCED
    elif counts["better"] == n:
        verdict = BETTER
    elif counts["worse"] == n:
        verdict = NOT_REPRODUCED
    else:
        verdict = MIXED
    return {**out, "verdict": verdict, "agreement": agreement}


def compare_seeds(first: Iterable[float], second: Iterable[float]) -> str:
    """How two cells' seeds stand, for a claim that one model beats another: ``below`` when
    every error of ``first`` is lower than every error of ``second``, ``above`` when every
    one is higher, ``overlap`` otherwise."""
    first, second = list(first), list(second)
    if max(first) < min(second):
        return "below"
    if min(first) > max(second):
        return "above"
    return "overlap"


def format_cell(result: dict) -> str:
    """``4.98 ± 1.45 (3 seeds: 1 of 3 within, 2 worse; mixed)`` and the like."""
    if result["seeds"] == 0:
        return result["verdict"]
    spread = f" ± {result['std']:.2f}" if result["std"] is not None else ""
    detail = result["agreement"] or f"{result['seeds']} seed(s)"
    return f"{result['mean']:.2f}{spread} ({detail}; {result['verdict']})"
