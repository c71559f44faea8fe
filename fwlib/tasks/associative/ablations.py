"""Ablations of the fast-weights model on associative retrieval, and the three claims that
earlier reimplementations made from single runs, checked with seeds.

Each study is a list of variants of the fast-weights baseline (LN on, S = 1, λ = 0.95,
η = 0.5, A(t) holding h(t), K = 4). A variant that equals the baseline is the same run, so it
is trained once and shared between studies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from fwlib import verdicts
from fwlib.cores import CORE_LABELS, CoreSpec
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.grid import check_nonempty
from fwlib.tasks.associative import AssociativeTask

STUDIES = ("layer_norm", "inner_steps", "decay", "fast_lr", "indexing", "control")
DECAYS = (0.0, 0.5, 0.9, 0.95, 0.99)
FAST_LRS = (0.1, 0.25, 0.5, 1.0)
INNER_STEPS = (1, 2, 3)

# Thresholds of the verdicts, in percentage points of test error.
MUCH_WORSE = 10.0
NOT_CONVERGED = 50.0  # a run ending above this error has not learned the task (chance: 90)
# The smallest budget whose runs may support or refute a claim: below it, a run on the
# initial plateau (about 62 % error) says nothing about the model.
MIN_JUDGE_STEPS = 5_000


def variants(study: str, *, decays: Iterable[float] = DECAYS,
             fast_lrs: Iterable[float] = FAST_LRS,
             inner_steps: Iterable[int] = INNER_STEPS) -> list[dict]:
    """The config changes of one study, each with the value it varies (``value``)."""
    if study == "layer_norm":
        return [{"layer_norm": ln, "value": "on" if ln else "off"} for ln in (True, False)]
    if study == "inner_steps":
        return [{"inner_steps": s, "layer_norm": ln, "value": f"S={s}, LN {'on' if ln else 'off'}"}
                for ln in (True, False) for s in inner_steps]
    if study == "decay":
        return [{"decay": float(d), "value": f"{d:g}"} for d in decays]
    if study == "fast_lr":
        return [{"fast_lr": float(e), "value": f"{e:g}"} for e in fast_lrs]
    if study == "indexing":
        return [{"indexing": i, "value": i} for i in ("current", "previous")]
    if study == "control":
        return [{"kind": m, "value": CORE_LABELS[m]} for m in ("fast_weights", "rnn_ln")]
    raise ValueError(f"studies must be drawn from {', '.join(STUDIES)} (got {study!r})")


def plan(studies: Iterable[str], hidden_units: Iterable[int], seeds: Iterable[int],
         max_steps: int, *, learning_rate: float = 3e-3, eval_every: int = 500,
         patience: int = 6000, plateau_error: float = 1.0, **study_options) -> pd.DataFrame:
    """One row per (study, variant, R, seed) with its validated :class:`RunConfig`.

    Raises ``ValueError`` naming the parameter before anything runs.
    """
    studies, hidden_units, seeds = list(studies), list(hidden_units), list(seeds)
    check_nonempty(studies=studies, hidden_units=hidden_units, seeds=seeds)
    optim = OptimSpec(learning_rate=learning_rate)
    budget = Budget(max_steps=max_steps, eval_every=eval_every, patience=patience,
                    plateau_error=plateau_error)
    task = AssociativeTask()
    rows = []
    for study in studies:
        for change in variants(study, **study_options):
            change = dict(change)
            value = change.pop("value")
            kind = change.pop("kind", "fast_weights")
            for units in hidden_units:
                for seed in seeds:
                    config = RunConfig(task=task,
                                       model=CoreSpec(kind=kind, hidden_units=units, **change),
                                       optim=optim, budget=budget, seed=seed).validate()
                    rows.append({"study": study, "value": value, "R": units, "seed": seed,
                                 "model": kind, "num_pairs": task.num_pairs, "config": config,
                                 "run": config.run_name()})
    return pd.DataFrame(rows)


def attach_results(planned: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The plan with each run's test error (%), steps and end; unfinished runs get NaN.
    A diverged run's error is left out (NaN) and it is flagged ``diverged``."""
    columns = ["run", "test_error", "valid_error", "steps", "wall_seconds", "stopped",
               "diverged", "max_steps"]
    runs = runs.reindex(columns=columns) if len(runs) else pd.DataFrame(columns=columns)
    merged = planned.drop(columns="config").merge(runs, on="run", how="left")
    merged["diverged"] = merged["diverged"].astype("boolean").fillna(False).astype(bool)
    errors = 100 * pd.to_numeric(merged["test_error"], errors="coerce")
    merged["test_error_pct"] = errors.where(~merged["diverged"])
    merged["model_label"] = merged["model"].map(CORE_LABELS)
    return merged


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of test error (%) over seeds per (study, value, R), diverged runs apart."""
    grouped = results.groupby(["study", "value", "R"], sort=False)
    out = grouped["test_error_pct"].agg(mean="mean", std="std", seeds="count").reset_index()
    out["diverged"] = grouped["diverged"].sum().to_numpy().astype(int)
    return out


def _arm(results: pd.DataFrame, study: str, value, units: int) -> pd.DataFrame:
    part = results[(results["study"] == study) & (results["value"] == value)
                   & (results["R"] == units)]
    return part[part["stopped"].notna()]  # finished runs only


def _fmt(arm: pd.DataFrame) -> str:
    if arm.empty:
        return "no run"
    errors = arm["test_error_pct"].dropna()
    diverged = int(arm["diverged"].sum())
    text = []
    if len(errors):
        spread = f" ± {errors.std(ddof=1):.2f}" if len(errors) > 1 else ""
        text.append(f"{errors.mean():.2f}{spread} % ({len(errors)} "
                    f"seed{'s' if len(errors) > 1 else ''})")
    if diverged:
        text.append(f"{diverged} diverged")
    return ", ".join(text)


def _learned(arm: pd.DataFrame) -> bool:
    """Every run of the arm learned the task (finite error below NOT_CONVERGED)."""
    return bool(len(arm)) and bool((arm["test_error_pct"] < NOT_CONVERGED).all())


def _failed(arm: pd.DataFrame) -> bool:
    """Every run of the arm failed to learn: diverged, or ended above NOT_CONVERGED."""
    return bool(len(arm)) and bool(
        (arm["diverged"] | (arm["test_error_pct"].fillna(math.inf) > NOT_CONVERGED)).all())


def _short(*arms: pd.DataFrame) -> bool:
    budgets = pd.concat([a["max_steps"] for a in arms]).dropna()
    return bool(len(budgets)) and float(budgets.min()) < MIN_JUDGE_STEPS


def _gap_claim(better: pd.DataFrame, worse: pd.DataFrame) -> str:
    """confirmed / refuted / inconclusive for 'worse is much worse than better'."""
    if not _learned(better):
        return "inconclusive"
    gap = worse["test_error_pct"].fillna(100.0).mean() - better["test_error_pct"].mean()
    return "confirmed" if gap > MUCH_WORSE else "refuted"


def claims(results: pd.DataFrame) -> pd.DataFrame:
    """The three claims, each judged on every arm it speaks of: *confirmed*, *refuted*,
    *inconclusive* (the arm that should learn did not, so the budget cannot tell), *too short
    to judge* (budgets below MIN_JUDGE_STEPS), *not judged (one seed)* (an arm with fewer than
    ``verdicts.MIN_SEEDS`` runs) or *not tested* (an arm is missing)."""
    rows = []

    def add(claim, units, arms, rule, decide):
        if any(a.empty for a in arms.values()):
            missing = [name for name, a in arms.items() if a.empty]
            verdict, evidence = "not tested", f"missing: {', '.join(missing)}"
        else:
            evidence = "; ".join(f"{name}: {_fmt(a)}" for name, a in arms.items())
            if _short(*arms.values()):
                verdict = "too short to judge"
            elif min(len(a) for a in arms.values()) < verdicts.MIN_SEEDS:
                verdict = verdicts.ONE_SEED
            else:
                verdict = decide()
        rows.append({"claim": claim, "R": units, "verdict": verdict, "evidence": evidence,
                     "rule": rule})

    for units in sorted(results["R"].unique()):
        on = _arm(results, "layer_norm", "on", units)
        off = _arm(results, "layer_norm", "off", units)
        add("(1) layer norm is crucial for training fast weights", units,
            {"LN on": on, "LN off": off},
            f"LN on learns (every seed below {NOT_CONVERGED:g} %) and LN off is worse by more "
            f"than {MUCH_WORSE:g} points; inconclusive when LN on does not learn",
            lambda on=on, off=off: _gap_claim(on, off))

        arms = {}
        for s in (2, 3):
            arms[f"S={s}, LN off"] = _arm(results, "inner_steps", f"S={s}, LN off", units)
            arms[f"S={s}, LN on"] = _arm(results, "inner_steps", f"S={s}, LN on", units)
        # every S whose LN-off arm ran is judged with its LN-on arm (a missing one is named)
        ran = [s for s in (2, 3) if not arms[f"S={s}, LN off"].empty] or [2, 3]
        present = {k: v for k, v in arms.items() if int(k[2]) in ran}

        def decide_s(present=present):
            off_arms = [a for k, a in present.items() if k.endswith("off")]
            on_arms = [a for k, a in present.items() if k.endswith("on")]
            if not all(_failed(a) for a in off_arms):
                return "refuted"
            return "confirmed" if all(_learned(a) for a in on_arms) else "inconclusive"

        add("(2) without layer norm, S > 1 does not converge", units, present,
            f"every LN-off run with S > 1 fails (diverges or ends above {NOT_CONVERGED:g} %) "
            "while the same S with LN on learns; inconclusive when S > 1 with LN on does not "
            "learn either", decide_s)

        fast = _arm(results, "control", CORE_LABELS["fast_weights"], units)
        slow = _arm(results, "control", CORE_LABELS["rnn_ln"], units)
        add("(3) with layer norm, slow weights alone are much worse than fast weights", units,
            {"fast weights": fast, "RNN+LN": slow},
            f"fast weights learn and RNN+LN is worse by more than {MUCH_WORSE:g} points",
            lambda fast=fast, slow=slow: _gap_claim(fast, slow))
    return pd.DataFrame(rows, columns=["claim", "R", "verdict", "evidence", "rule"])
