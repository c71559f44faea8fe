"""Table 2 of the paper beside ours, judged by the rule of :mod:`fwlib.verdicts`, and the
paper's claim about it judged by a stated rule."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fwlib import paper, verdicts
from fwlib.cores import check_choice
from fwlib.run.config import RunConfig
from fwlib.tasks.mnist_glimpses.data import SPLIT_SIZES
from fwlib.tasks.mnist_glimpses.plans import TABLE2_MODELS, TABLE2_UNITS
from fwlib.tasks.mnist_glimpses.spec import MODEL_LABELS

# The smallest update budget whose runs are judged against the paper (about five passes over
# the 50,000 training images at batch 128): below it every model is still far from where it
# settles, and a "not reproduced" would say nothing about the paper. Runs on a subset of the
# training set (``train_examples`` < 50,000) are never judged.
MIN_JUDGE_STEPS = 2_000

# A run "still improving at the budget" ran out of updates with its best validation error in
# the last LATE_FRACTION of its updates; otherwise it stopped on a plateau.
LATE_FRACTION = 0.2
STILL_IMPROVING, PLATEAU = "still improving", "plateau"


def judgeable(cell: pd.DataFrame) -> bool:
    """A cell is judged only when every one of its runs had a budget of at least
    ``MIN_JUDGE_STEPS`` updates on the whole training set."""
    budgets = pd.to_numeric(cell.get("max_steps", pd.Series(dtype=float)), errors="coerce")
    examples = pd.to_numeric(cell.get("train_examples", pd.Series(dtype=float)),
                             errors="coerce")
    return (bool(len(budgets.dropna())) and float(budgets.min()) >= MIN_JUDGE_STEPS
            and len(examples.dropna()) == len(cell)
            and float(examples.min()) >= SPLIT_SIZES["train"])


def trend(stopped: str, best_step: float, steps: float) -> str:
    """``still improving`` when a run ran out of budget with its best validation error in the
    last ``LATE_FRACTION`` of its updates; ``plateau`` otherwise."""
    if stopped == "budget" and best_step > (1.0 - LATE_FRACTION) * steps:
        return STILL_IMPROVING
    return PLATEAU


def _counts(values) -> str:
    counts = pd.Series(list(values)).value_counts()
    return ", ".join(f"{k} ×{n}" for k, n in counts.items())


def table2(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, R) cell of Table 2: the paper's error, ours over seeds (mean, std,
    min, max, per-seed agreement), diverged runs apart, updates, minutes, why the runs
    stopped and whether they were still improving, and the verdict."""
    rows = []
    for model in TABLE2_MODELS:
        for units in TABLE2_UNITS:
            reference = paper.TABLE2[(model, units)]
            cell = runs if runs.empty else runs[(runs["model"] == model)
                                                & (runs["hidden_units"] == units)]
            diverged = cell["diverged"].astype(bool) if len(cell) else pd.Series(dtype=bool)
            kept = cell[~diverged] if len(cell) else cell
            errors = (100.0 * pd.to_numeric(kept["test_error"], errors="coerce")
                      if len(kept) else pd.Series(dtype=float))
            result = verdicts.judge(reference, errors, diverged=int(diverged.sum()),
                                    judgeable=judgeable(cell) if len(cell) else True)
            trends = ([trend(r["stopped"], r["best_step"], r["steps"])
                       for _, r in kept.iterrows()] if len(kept) else [])
            rows.append({
                "model": MODEL_LABELS[model], "kind": model, "R": units,
                "paper_error": reference, "paper_source": paper.TABLE2_SOURCE,
                "ours_mean": result["mean"], "ours_std": result["std"],
                "ours_min": result["min"], "ours_max": result["max"],
                "seeds": result["seeds"], "diverged": result["diverged"],
                "per_seed": ", ".join(f"{e:.2f}" for e in errors.dropna()),
                "agreement": result["agreement"],
                "budget": int(cell["max_steps"].max()) if len(cell) else None,
                "steps_mean": float(cell["steps"].mean()) if len(cell) else None,
                "minutes_mean": float(cell["wall_seconds"].mean()) / 60 if len(cell) else None,
                "stopped": _counts(cell["stopped"]) if len(cell) else None,
                "trend": _counts(trends) if trends else None,
                "verdict": result["verdict"],
            })
    return pd.DataFrame(rows)


def _fmt_ours(row) -> str:
    if int(row["seeds"]) == 0:
        return row["verdict"]
    return verdicts.format_cell({"seeds": int(row["seeds"]), "verdict": row["verdict"],
                                 "mean": row["ours_mean"], "agreement": row["agreement"],
                                 "std": None if pd.isna(row["ours_std"]) else row["ours_std"]})


def table2_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Table 2 laid out as in the paper, models as rows: per R, the paper's error beside ours."""
    out = {}
    for units in TABLE2_UNITS:
        part = table[table["R"] == units].set_index("model")
        out[f"{units} paper"] = part["paper_error"].map(lambda v: f"{v:.2f}")
        out[f"{units} ours"] = part.apply(_fmt_ours, axis=1)
    wide = pd.DataFrame(out)
    wide.index.name = "model"
    return wide.loc[[MODEL_LABELS[m] for m in TABLE2_MODELS]]


# ------------------------------------------------------------------------ the paper's claim

CLAIM = ("fast weights beat the IRNN and the LSTM at every width, and come close to the "
         "ConvNet")
CLAIM_RULE = (
    "Per width R: fast weights *beat* a baseline when every fast-weights seed has a lower "
    "test error than every seed of that baseline, *lose* when every one is higher, and the "
    "comparison is *unclear* when the seeds overlap. At the largest width (200), fast weights "
    "are *close to the ConvNet* when their mean error is at most the ConvNet's mean plus "
    "max(0.5, 0.25 × ConvNet) percentage points (the band of the verdict rule). The claim "
    "*holds* when fast weights beat both baselines at every width and are close to the "
    "ConvNet at 200; it *does not hold* when any comparison is lost or they are not close; "
    "otherwise it is *unclear*. It is *not judged* when a cell is missing, when a cell has "
    "budgets too short to judge, or with fewer than 2 seeds per cell (one run per cell shows "
    "one run, not a model); the comparisons are listed anyway.")
HOLDS, DOES_NOT_HOLD, UNCLEAR, NOT_JUDGED = "holds", "does not hold", "unclear", "not judged"


def compare(fast: list[float], other: list[float]) -> str:
    """``beats``, ``loses`` or ``unclear``: every fast-weights seed below (above) every seed of
    the other model, or overlapping."""
    return {"below": "beats", "above": "loses",
            "overlap": "unclear"}[verdicts.compare_seeds(fast, other)]


def claim(errors: dict[tuple[str, int], list[float]], judgeable: bool = True,
          min_seeds: int = verdicts.MIN_SEEDS) -> dict:
    """The claim's verdict from test errors in % per (kind, R): ``verdict``, ``reason`` and
    ``comparisons`` (one line per comparison)."""
    lines, outcomes = [], []
    missing = [f"{MODEL_LABELS[k]} R={r}" for k in TABLE2_MODELS for r in TABLE2_UNITS
               if not errors.get((k, r))]
    for units in TABLE2_UNITS:
        fast = errors.get(("fast_weights", units)) or []
        for baseline in ("irnn", "lstm"):
            other = errors.get((baseline, units)) or []
            if fast and other:
                outcome = compare(fast, other)
                outcomes.append(outcome)
                lines.append(f"R={units}: fast weights {outcome} {MODEL_LABELS[baseline]} "
                             f"({_mean(fast):.2f} vs {_mean(other):.2f} %)")
    top = max(TABLE2_UNITS)
    fast, conv = errors.get(("fast_weights", top)) or [], errors.get(("convnet", top)) or []
    close = None
    if fast and conv:
        band = verdicts.tolerance(_mean(conv))
        close = _mean(fast) <= _mean(conv) + band
        lines.append(f"R={top}: fast weights {_mean(fast):.2f} % vs ConvNet {_mean(conv):.2f} "
                     f"% (close when at most {_mean(conv) + band:.2f} %): "
                     f"{'close' if close else 'not close'}")
    seeds = min((len(v) for v in errors.values() if v), default=0)
    if missing:
        verdict, reason = NOT_JUDGED, "missing cells: " + ", ".join(missing)
    elif not judgeable:
        verdict, reason = NOT_JUDGED, "budgets too short to judge"
    elif seeds < min_seeds:
        verdict, reason = NOT_JUDGED, f"{seeds} seed per cell (at least {min_seeds} needed)"
    elif "loses" in outcomes or close is False:
        verdict, reason = DOES_NOT_HOLD, "a comparison is lost or fast weights are not close"
    elif all(o == "beats" for o in outcomes) and close:
        verdict, reason = HOLDS, "every comparison won and close to the ConvNet"
    else:
        verdict, reason = UNCLEAR, "seeds overlap in some comparison"
    return {"verdict": verdict, "reason": reason, "comparisons": lines}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def errors_by_cell(runs: pd.DataFrame) -> dict[tuple[str, int], list[float]]:
    """Test errors in % of the finished, non-diverged runs, per (kind, R)."""
    out: dict[tuple[str, int], list[float]] = {}
    if runs.empty:
        return out
    kept = runs[~runs["diverged"].astype(bool)]
    for _, row in kept.iterrows():
        value = pd.to_numeric(row["test_error"], errors="coerce")
        if pd.notna(value):
            out.setdefault((row["model"], int(row["hidden_units"])), []).append(100 * value)
    return out


def paper_errors() -> dict[tuple[str, int], list[float]]:
    """The paper's Table 2 in the same form (one number per cell)."""
    return {key: [value] for key, value in paper.TABLE2.items()}


def claim_table(runs: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The claim judged on the paper's own numbers and on ours, side by side."""
    judged = not (table["verdict"] == verdicts.TOO_SHORT).any()
    rows = []
    for source, result in (("paper", claim(paper_errors(), min_seeds=1)),
                           ("ours", claim(errors_by_cell(runs), judgeable=judged))):
        rows.append({"numbers": source, "verdict": result["verdict"],
                     "reason": result["reason"], "comparisons": "; ".join(result["comparisons"])})
    return pd.DataFrame(rows)


def fit_at_best(histories: pd.DataFrame) -> pd.DataFrame:
    """Per run, at the update of its best validation error: the training loss (mean over the
    updates since the evaluation before) beside the validation loss. A training loss far
    below the validation loss means the model fits its training images much better than new
    ones (over-fitting); both high means it has not learned the task yet."""
    rows = []
    for _, history in histories.groupby("run", sort=False):
        best = history.loc[history["valid_error"].idxmin()]
        rows.append({"model": MODEL_LABELS.get(best["model"], best["model"]),
                     "R": int(best["hidden_units"]), "seed": int(best["seed"]),
                     "best update": int(best["step"]),
                     "valid error (%)": 100 * float(best["valid_error"]),
                     "train loss": float(best["train_loss"]),
                     "valid loss": float(best["valid_loss"]),
                     "valid / train loss": float(best["valid_loss"])
                     / max(float(best["train_loss"]), 1e-12)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {MODEL_LABELS[m]: i for i, m in enumerate(TABLE2_MODELS)}
    return frame.sort_values(["model", "R", "seed"], key=lambda c: c.map(order)
                             if c.name == "model" else c).reset_index(drop=True)


# A twin is compared only when it had the same budget (the budget is not part of a run's name).
BUDGET_COLUMNS = ("max_steps", "patience", "eval_every")


# The settings a run is compared with its twin on, and their value in the twin (the value the
# runs had before the setting was adopted). Each: the words of its tables.
TWIN_SETTINGS = {"dropout": 0.0, "shift": 0}
TWIN_WORDS = {"dropout": ("with dropout", "dropout"), "shift": ("with moves", "shift")}


def without_setting(config: RunConfig, setting: str = "dropout") -> RunConfig:
    """``config``'s twin: the same task, model, optimiser, budget and seed, with ``setting``
    (dropout, or the moves of the training images) at its value before it was adopted."""
    check_choice("setting", setting, tuple(TWIN_SETTINGS))
    return dataclasses.replace(config, model=dataclasses.replace(
        config.model, **{setting: TWIN_SETTINGS[setting]}))


def twin_name(run_dir: str | os.PathLike, setting: str = "dropout") -> str:
    """The folder name of the run with the config in ``run_dir`` but ``setting`` as before
    (so the same name as a grid planned with that value gives)."""
    config = RunConfig.from_dict(json.loads((Path(run_dir) / "config.json").read_text()))
    return without_setting(config, setting).run_name()


def setting_pairs(runs: pd.DataFrame, all_runs: pd.DataFrame, setting: str = "dropout",
                  name_of: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Each finished run of ``runs`` that uses ``setting`` beside its twin in ``all_runs``,
    the run of the same config without it (``name_of`` maps a run's folder to its twin's
    name; by default :func:`twin_name`): model, R, seed, the setting's value, test error
    with and without it (%) and the change. Runs whose twin is not there, diverged or had
    another budget are left out."""
    check_choice("setting", setting, tuple(TWIN_SETTINGS))
    name_of = name_of or functools.partial(twin_name, setting=setting)
    columns = ["model", "hidden_units", "seed", setting, "test_error_with",
               "test_error_without", "change", "twin"]
    if runs.empty or setting not in runs or all_runs.empty:
        return pd.DataFrame(columns=columns)
    kept = all_runs[~all_runs["diverged"].astype(bool)].set_index("run")
    rows = []
    using = (runs[setting] != TWIN_SETTINGS[setting]) & ~runs["diverged"].astype(bool)
    for _, run in runs[using].iterrows():
        twin = name_of(run["run_dir"])
        if twin not in kept.index or any(
                column in run and run[column] != kept.loc[twin, column]
                for column in BUDGET_COLUMNS):
            continue
        with_, without = 100 * float(run["test_error"]), 100 * float(kept.loc[twin, "test_error"])
        rows.append({"model": run["model"], "hidden_units": int(run["hidden_units"]),
                     "seed": int(run["seed"]), setting: run[setting],
                     "test_error_with": with_, "test_error_without": without,
                     "change": with_ - without, "twin": twin})
    return pd.DataFrame(rows, columns=columns)


def setting_effect(pairs: pd.DataFrame, setting: str = "dropout") -> pd.DataFrame:
    """Per cell of Table 2, from :func:`setting_pairs`: the setting's value, the seeds
    paired, mean test error with and without it (%), the mean change and on how many seeds
    it was lower."""
    with_words, column = TWIN_WORDS[setting]
    rows = []
    for model in TABLE2_MODELS:
        for units in TABLE2_UNITS:
            cell = pairs[(pairs["model"] == model) & (pairs["hidden_units"] == units)]
            if cell.empty:
                continue
            rows.append({"model": MODEL_LABELS[model], "R": units,
                         column: ", ".join(f"{v:g}" for v in sorted(set(cell[setting]))),
                         "seeds": len(cell), f"{with_words} (%)": cell["test_error_with"].mean(),
                         "without (%)": cell["test_error_without"].mean(),
                         "change (points)": cell["change"].mean(),
                         f"lower {with_words}": f"{int((cell['change'] < 0).sum())} of "
                                                f"{len(cell)}"})
    return pd.DataFrame(rows)


def claim_without(pairs: pd.DataFrame, judgeable: bool = True) -> dict:
    """The paper's claim judged on the twins of :func:`setting_pairs` (the same runs without
    the setting), as :func:`claim` judges it."""
    errors: dict[tuple[str, int], list[float]] = {}
    for _, pair in pairs.iterrows():
        errors.setdefault((pair["model"], int(pair["hidden_units"])), []).append(
            float(pair["test_error_without"]))
    return claim(errors, judgeable=judgeable)
