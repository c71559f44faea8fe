"""The capacity study: how test error grows with the number of key-value pairs K to hold,
for fast weights beside the best baseline at each R, every model at Table 1's settings.

A cell is a model at one R (``"fast_weights@20"``); each is trained at every K with the
settings Table 1 gives it (budget, patience, learning rate, η, ...), so the K = 4 runs are
Table 1's own runs. Sequences hold 2K + 3 symbols.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from fwlib import verdicts
from fwlib.cores import CORE_KINDS, CORE_LABELS, check_choice
from fwlib.run.config import RunConfig
from fwlib.run.grid import check_nonempty
from fwlib.tasks.associative.grid import table1_grid
from fwlib.tasks.associative.table import MIN_JUDGE_STEPS, PLATEAU, cell_runs, on_plateau

TABLE1_PAIRS = 4  # Table 1's K


def parse_cells(cells: Iterable[str]) -> list[tuple[str, int]]:
    """``["fast_weights@20", ...]`` as ``[("fast_weights", 20), ...]``; a malformed cell is
    named with what is allowed."""
    parsed = []
    for cell in cells:
        model, _, units = str(cell).partition("@")
        if not units.isdigit() or int(units) < 1:
            raise ValueError(f"cells must be 'model@R' with R a positive integer "
                             f"(got {cell!r})")
        check_choice("cells", model, CORE_KINDS)
        parsed.append((model, int(units)))
    if len(set(parsed)) != len(parsed):
        raise ValueError(f"cells lists the same cell twice (got {list(cells)})")
    return parsed


def check_pairs(num_pairs: Iterable[int]) -> list[int]:
    """The K values, each once (each K is checked by the task when its runs are planned)."""
    values = list(num_pairs)
    if len(set(values)) != len(values):
        raise ValueError(f"num_pairs lists the same K twice (got {values})")
    return values


def plan(cells: Iterable[str], num_pairs: Iterable[int], seeds: Iterable[int],
         max_steps, learning_rate=3e-3, **settings) -> list[RunConfig]:
    """Every cell × K × seed, each with Table 1's settings for its model and R (``settings``
    as :func:`~fwlib.tasks.associative.grid.table1_grid` takes them, per cell where
    wanted). No K (``num_pairs=[]``) plans nothing: the study is not run."""
    pairs = check_pairs(num_pairs)
    if not pairs:
        return []
    parsed, seeds = parse_cells(cells), list(seeds)
    check_nonempty(cells=parsed, seeds=seeds)
    return [config for k in pairs for model, units in parsed
            for config in table1_grid([model], [units], seeds, max_steps, learning_rate,
                                      num_pairs=k, **settings)]


def plateau_level(num_pairs: int) -> float:
    """The best validation error above which a run at K pairs is counted as still on the
    initial plateau: Table 1's :data:`PLATEAU` at K = 4, scaled with the error of answering
    one of the K stored values at random, 1 - 1/K."""
    return PLATEAU * (1 - 1 / num_pairs) / (1 - 1 / TABLE1_PAIRS)


def table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, R, K): test error (%) over seeds (diverged runs apart), runs that
    ended on the initial plateau, updates, minutes and why the runs stopped."""
    columns = ["model", "kind", "R", "K", "seeds", "mean", "std", "min", "max", "per_seed",
               "diverged", "on_plateau", "budget", "steps_mean", "minutes_mean", "stopped"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (model, units, k), cell in runs.groupby(["model", "hidden_units", "num_pairs"]):
        shown = cell_runs(cell)
        errors = shown.pop("errors").dropna()
        rows.append({
            "model": CORE_LABELS[model], "kind": model, "R": int(units), "K": int(k),
            "seeds": len(errors),
            "mean": errors.mean() if len(errors) else float("nan"),
            "std": errors.std(ddof=1) if len(errors) > 1 else float("nan"),
            "min": errors.min() if len(errors) else float("nan"),
            "max": errors.max() if len(errors) else float("nan"),
            "on_plateau": on_plateau(cell, plateau_level(int(k))), **shown})
    return pd.DataFrame(rows, columns=columns).sort_values(["R", "K", "kind"],
                                                           ignore_index=True)


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Per (R, K): fast weights against each other model trained there, by the main claim's
    rule: *lower* when every fast-weights seed is below every seed of the other model,
    *higher* when every one is above, *overlap* otherwise; not judged with fewer than
    ``verdicts.MIN_SEEDS`` seeds on either side or a budget below ``MIN_JUDGE_STEPS``."""
    rows = []
    for (units, k), part in table.groupby(["R", "K"]):
        fast = part[part["kind"] == "fast_weights"]
        for _, other in part[part["kind"] != "fast_weights"].iterrows():
            if fast.empty or not fast.iloc[0]["seeds"] or not other["seeds"]:
                verdict = "not judged (missing runs)"
                evidence = ""
            else:
                f = fast.iloc[0]
                evidence = (f"fast weights {f['per_seed']} %; {other['model']} "
                            f"{other['per_seed']} %")
                if min(f["budget"], other["budget"]) < MIN_JUDGE_STEPS:
                    verdict = "not judged (budgets too short)"
                elif min(f["seeds"], other["seeds"]) < verdicts.MIN_SEEDS:
                    verdict = verdicts.ONE_SEED
                else:
                    verdict = {"below": "fast weights lower", "above": "fast weights higher",
                               "overlap": "overlap"}[verdicts.compare_seeds(
                                   [f["min"], f["max"]], [other["min"], other["max"]])]
            rows.append({"R": int(units), "K": int(k), "baseline": other["model"],
                         "verdict": verdict, "evidence": evidence})
    return pd.DataFrame(rows, columns=["R", "K", "baseline", "verdict", "evidence"])


def best_baselines(table1_runs: pd.DataFrame) -> pd.DataFrame:
    """Per R, the baselines of Table 1 ranked by their mean best **validation** error over
    seeds (test errors play no part): which baseline the capacity study should set beside
    fast weights."""
    runs = table1_runs[(table1_runs["model"] != "fast_weights")
                       & ~table1_runs["diverged"].astype(bool)]
    if "num_pairs" in runs:
        runs = runs[runs["num_pairs"] == TABLE1_PAIRS]
    if runs.empty:
        return pd.DataFrame(columns=["R", "model", "kind", "valid_error_mean", "seeds",
                                     "rank"])
    ranked = (runs.groupby(["hidden_units", "model"])["valid_error"]
              .agg(valid_error_mean="mean", seeds="count").reset_index()
              .rename(columns={"hidden_units": "R", "model": "kind"}))
    ranked["valid_error_mean"] = 100 * ranked["valid_error_mean"]
    ranked["model"] = ranked["kind"].map(CORE_LABELS)
    ranked = ranked.sort_values(["R", "valid_error_mean"], ignore_index=True)
    ranked["rank"] = ranked.groupby("R").cumcount() + 1
    return ranked[["R", "model", "kind", "valid_error_mean", "seeds", "rank"]]
