"""Ablations of the fast-weights model on associative retrieval, and the three claims that
earlier reimplementations made from single runs, checked with seeds.

Each study is a list of variants of the fast-weights baseline (LN on, S = 1, λ = 0.95,
η = 0.5 unless set, A(t) holding h(t), K = 4). A variant that equals the baseline is the same
run, so it is trained once and shared between studies. Each study may run at R values of its
own, and the budget, Adam's step size and the baseline's η may be set per R.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from fwlib import verdicts
from fwlib.cores import CORE_LABELS, CoreSpec
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.grid import check_nonempty, setting
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


def units_per_study(studies: Iterable[str], hidden_units) -> dict[str, list[int]]:
    """The R values of each study: one list for every study, or a mapping from a study (or
    ``"default"``) to its list."""
    studies = list(studies)
    if not isinstance(hidden_units, Mapping):
        hidden_units = {"default": hidden_units}
    for key in hidden_units:
        if key != "default" and key not in studies:
            raise ValueError(f"hidden_units key {key!r} must be 'default' or a study of this "
                             f"plan ({', '.join(studies)})")
    out = {}
    for study in studies:
        if study not in hidden_units and "default" not in hidden_units:
            raise ValueError(f"hidden_units has no R values for the {study} study: give a "
                             "'default' entry or one named after the study")
        out[study] = list(hidden_units.get(study, hidden_units.get("default")))
        check_nonempty(hidden_units=out[study])
    return out


def per_r(name: str, values, units: int):
    """A setting per R (``{R: value, "default": value}``; R as a number or a string), or
    one value for every R."""
    return setting(name, values, (units, str(units), "default"),
                   f"R={units}: give a 'default' entry or one keyed by that R")


def check_r_keys(name: str, values, units: Iterable[int]) -> None:
    """Raise ``ValueError`` naming ``name`` when a per-R key is not an R of the plan."""
    if not isinstance(values, Mapping):
        return
    allowed = sorted(set(units))
    for key in values:
        if key != "default" and str(key) not in {str(u) for u in allowed}:
            raise ValueError(f"{name} key {key!r} must be 'default' or an R of hidden_units "
                             f"({', '.join(map(str, allowed))})")


def plan(studies: Iterable[str], hidden_units, seeds: Iterable[int], max_steps, *,
         learning_rate=3e-3, fast_lr=0.5, eval_every: int = 500, patience: int = 6000,
         plateau_error: float = 1.0, **study_options) -> pd.DataFrame:
    """One row per (study, variant, R, seed) with its validated :class:`RunConfig`.

    ``hidden_units`` is a list of R for every study, or a mapping from a study (or
    ``"default"``) to its list; ``max_steps``, ``learning_rate`` and ``fast_lr`` (the
    baseline's η; the η study varies it) are one value, or a mapping from R (or
    ``"default"``) to a value. Raises ``ValueError`` naming the parameter before anything
    runs.
    """
    studies, seeds = list(studies), list(seeds)
    check_nonempty(studies=studies, seeds=seeds)
    units_of = units_per_study(studies, hidden_units)
    every_r = [u for units in units_of.values() for u in units]
    for name, values in (("max_steps", max_steps), ("learning_rate", learning_rate),
                         ("fast_lr", fast_lr)):
        check_r_keys(name, values, every_r)
    task = AssociativeTask()
    rows = []
    for study in studies:
        for change in variants(study, **study_options):
            change = dict(change)
            value = change.pop("value")
            kind = change.pop("kind", "fast_weights")
            for units in units_of[study]:
                optim = OptimSpec(learning_rate=per_r("learning_rate", learning_rate, units))
                budget = Budget(max_steps=per_r("max_steps", max_steps, units),
                                eval_every=eval_every, patience=patience,
                                plateau_error=plateau_error)
                # η is a fast-weights setting: the control's RNN+LN leaves it at its default
                eta = per_r("fast_lr", fast_lr, units)
                base = {"fast_lr": eta} if kind == "fast_weights" else {}
                for seed in seeds:
                    config = RunConfig(task=task,
                                       model=CoreSpec(kind=kind, hidden_units=units,
                                                      **{**base, **change}),
                                       optim=optim, budget=budget, seed=seed).validate()
                    rows.append({"study": study, "value": value, "R": units, "seed": seed,
                                 "model": kind, "num_pairs": task.num_pairs,
                                 "learning_rate": optim.learning_rate,
                                 "fast_lr": config.model.fast_lr if kind == "fast_weights"
                                 else math.nan,
                                 "config": config, "run": config.run_name()})
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
    ``verdicts.MIN_SEEDS`` runs) or *not tested* (an arm is missing). A claim is not listed
    at an R where its study was not planned while it was at another R."""
    rows = []

    def add(claim, study, units, arms, rule, decide):
        planned_at = set(results.loc[results["study"] == study, "R"])
        if planned_at and units not in planned_at:
            return
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
        add("(1) layer norm is crucial for training fast weights", "layer_norm", units,
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

        add("(2) without layer norm, S > 1 does not converge", "inner_steps", units, present,
            f"every LN-off run with S > 1 fails (diverges or ends above {NOT_CONVERGED:g} %) "
            "while the same S with LN on learns; inconclusive when S > 1 with LN on does not "
            "learn either", decide_s)

        fast = _arm(results, "control", CORE_LABELS["fast_weights"], units)
        slow = _arm(results, "control", CORE_LABELS["rnn_ln"], units)
        add("(3) with layer norm, slow weights alone are much worse than fast weights",
            "control", units, {"fast weights": fast, "RNN+LN": slow},
            f"fast weights learn and RNN+LN is worse by more than {MUCH_WORSE:g} points",
            lambda fast=fast, slow=slow: _gap_claim(fast, slow))
    return pd.DataFrame(rows, columns=["claim", "R", "verdict", "evidence", "rule"])
