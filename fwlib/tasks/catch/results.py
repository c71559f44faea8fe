"""Figure 5's data, the greedy catch-rate table and the paper's claim, from recorded runs.

**The claim** (Section 4.4): fast weights learn fastest, more clearly on the harder version
(N = 24, M = 5). Speed of learning is measured by the area under a run's learning curve: the
mean of its greedy evaluation catch rates over the evaluations of its budget (1 for a run
that catches every ball from the first evaluation on, the random policy's rate for one that
never learns). On each partially observed game, fast weights are compared with each other
recurrent agent seed by seed (same seed, same budget):

- *supported* when fast weights' area is the larger for every seed against every other agent;
- *not supported* when it is the smaller for every seed against some agent;
- *mixed* otherwise, with the count of seeds that agree.

"More clearly at N = 24" is *supported* when the margin (fast weights' area minus the best
other agent's, mean over seeds) is larger on the larger game, both games being judged.
The feed-forward control is *far below* when its final catch rate is at least
``CONTROL_GAP`` below every recurrent agent's on the same game, for every seed.
A game whose runs had fewer than ``MIN_JUDGE_FRAMES`` frames is *too short to judge*; a
claim resting on fewer than ``MIN_SEEDS`` seeds is *not judged (one seed)*: its numbers are
shown, no verdict is drawn from one run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from fwlib import verdicts
from fwlib.tasks.catch.agents import AGENT_LABELS

MIN_JUDGE_FRAMES = 500_000  # frames per run below which no claim is judged
CONTROL_GAP = 0.2  # catch rate by which the feed-forward control must trail
RECURRENT = ("fast_weights", "lstm", "irnn")
SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
TOO_SHORT, NOT_RUN = "too short to judge", "not run"
MIN_SEEDS, ONE_SEED = verdicts.MIN_SEEDS, verdicts.ONE_SEED


def load_grid_runs(out_dir: str | os.PathLike) -> pd.DataFrame:
    """The finished runs of the latest Catch grid, one row each (all runs when no grid is
    recorded), with their game ``version``."""
    from fwlib.run.store import load_runs  # noqa: PLC0415

    root = Path(out_dir) / "catch"
    runs = load_runs(root / "runs")
    grid_file = root / "grid.json"
    if grid_file.exists() and len(runs):
        runs = runs[runs["run"].isin(json.loads(grid_file.read_text()))]
    return runs.reset_index(drop=True)


def curves(runs: pd.DataFrame) -> pd.DataFrame:
    """Every run's history: version, model, seed, frames, eval_catch_rate, train_reward..."""
    frames = []
    for _, run in runs.iterrows():
        history = pd.read_csv(Path(run["run_dir"]) / "history.csv")
        history["version"], history["model"], history["seed"] = (run["version"], run["model"],
                                                                  run["seed"])
        frames.append(history)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["version", "model", "seed", "frames", "eval_catch_rate"])


def learning_speed(curve: pd.DataFrame) -> pd.DataFrame:
    """Area under each run's learning curve: mean greedy catch rate over its evaluations."""
    return (curve.groupby(["version", "model", "seed"])["eval_catch_rate"].mean()
            .rename("area").reset_index())


def _per_seed(values, scale: float = 100.0, digits: int = 1) -> str:
    """``"95.0, 88.5"``; runs recorded before a column existed show "—"."""
    return ", ".join("—" if pd.isna(v) else f"{scale * float(v):.{digits}f}" for v in values)


def _settings(group: pd.DataFrame) -> str:
    """The learning rate (and η for fast weights) of a cell's runs, e.g. "lr 0.001, η 0.02"."""
    if "learning_rate" not in group:
        return ""
    text = "lr " + "/".join(f"{v:g}" for v in sorted(group["learning_rate"].unique()))
    if group["model"].iloc[0] == "fast_weights" and "fast_lr" in group:
        text += ", η " + "/".join(f"{v:g}" for v in sorted(group["fast_lr"].unique()))
    return text


def catch_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (game, agent): greedy catch rate over fresh episodes with the weights of
    the best evaluation, mean ± std over seeds, each seed's, the frames those weights were
    kept at, the last weights' catch rate on the same games, settings, frames and
    wall-clock."""
    rows = []
    runs = runs.copy()
    for column in ("best_frames", "last_weights_catch_rate"):
        if column not in runs:
            runs[column] = np.nan
    for (version, model), group in runs.groupby(["version", "model"], sort=False):
        group = group.sort_values("seed")
        rates = 100 * group["catch_rate"].astype(float).dropna()
        rows.append({
            "game": version, "agent": AGENT_LABELS.get(model, model), "model": model,
            "seeds": len(group), "diverged": int(group["diverged"].sum()),
            "catch_rate_mean": rates.mean() if len(rates) else np.nan,
            "catch_rate_std": rates.std(ddof=1) if len(rates) > 1 else np.nan,
            "per_seed": ", ".join(f"{r:.1f}" for r in rates),
            "kept_at_mframes": _per_seed(group["best_frames"], 1e-6),
            "last_weights_per_seed": _per_seed(group["last_weights_catch_rate"]),
            "settings": _settings(group),
            "episodes": int(group["final_episodes"].max()),
            "frames": int(group["frames"].max()),
            "wall_minutes": round(float(group["wall_seconds"].mean()) / 60, 1)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {v: i for i, v in enumerate(sorted(table["game"].unique(), key=_game_order))}
    kinds = {k: i for i, k in enumerate(AGENT_LABELS)}
    return (table.assign(_g=table["game"].map(order), _k=table["model"].map(kinds))
            .sort_values(["_g", "_k"]).drop(columns=["_g", "_k"]).reset_index(drop=True))


def _game_order(version: str):
    size, seen = version.split("_")
    return (seen == "full", int(size[1:]))


def format_rate(row) -> str:
    if not np.isfinite(row["catch_rate_mean"]):
        return "—"
    spread = (f" ± {row['catch_rate_std']:.1f}" if np.isfinite(row["catch_rate_std"]) else "")
    seeds = int(row["seeds"])
    return f"{row['catch_rate_mean']:.1f}{spread} ({seeds} seed{'s' * (seeds > 1)})"


def judge_fastest(speed: pd.DataFrame, runs: pd.DataFrame, version: str) -> dict:
    """The verdict on "fast weights learn fastest" on one game (see the module docstring)."""
    game = runs[runs["version"] == version]
    if game.empty or "fast_weights" not in set(game["model"]):
        return {"game": version, "verdict": NOT_RUN, "detail": "no fast-weights run",
                "margin": np.nan}
    if int(game["frames"].min()) < MIN_JUDGE_FRAMES:
        return {"game": version, "verdict": TOO_SHORT, "margin": np.nan,
                "detail": f"runs of {int(game['frames'].min()):,} frames, below "
                          f"{MIN_JUDGE_FRAMES:,}"}
    areas = speed[speed["version"] == version].pivot(index="seed", columns="model",
                                                     values="area")
    others = [m for m in RECURRENT if m != "fast_weights" and m in areas]
    if not others:
        return {"game": version, "verdict": NOT_RUN, "detail": "no other recurrent agent",
                "margin": np.nan}
    wins = {m: int((areas["fast_weights"] > areas[m]).sum()) for m in others}
    seeds = len(areas)
    if seeds < MIN_SEEDS:
        verdict = ONE_SEED
    elif all(w == seeds for w in wins.values()):
        verdict = SUPPORTED
    elif any(w == 0 for w in wins.values()):
        verdict = NOT_SUPPORTED
    else:
        verdict = MIXED
    margin = float((areas["fast_weights"] - areas[others].max(axis=1)).mean())
    detail = "; ".join(f"beats {AGENT_LABELS[m]} in {w} of {seeds} seed{'s' * (seeds > 1)}"
                       for m, w in wins.items())
    return {"game": version, "verdict": verdict, "detail": detail, "margin": margin}


def judge_control(runs: pd.DataFrame, version: str) -> dict:
    """Is the feed-forward control far below every recurrent agent on ``version``?"""
    game = runs[runs["version"] == version]
    control = game[game["model"] == "feedforward"].set_index("seed")["catch_rate"]
    recurrent = game[game["model"].isin(RECURRENT)]
    if control.empty or recurrent.empty:
        return {"game": version, "verdict": NOT_RUN, "detail": "no control or no recurrent run"}
    if int(game["frames"].min()) < MIN_JUDGE_FRAMES:
        return {"game": version, "verdict": TOO_SHORT,
                "detail": f"runs below {MIN_JUDGE_FRAMES:,} frames"}
    worst = recurrent.groupby("seed")["catch_rate"].min()
    seeds = [s for s in control.index if s in worst.index]
    far = sum(bool(control[s] <= worst[s] - CONTROL_GAP) for s in seeds)
    verdict = SUPPORTED if far == len(seeds) else NOT_SUPPORTED if far == 0 else MIXED
    if len(seeds) < MIN_SEEDS:
        verdict = ONE_SEED
    return {"game": version, "verdict": verdict,
            "detail": f"{far} of {len(seeds)} seeds at least {CONTROL_GAP:.0%} below every "
                      "recurrent agent"}


def claims(runs: pd.DataFrame, speed: pd.DataFrame) -> pd.DataFrame:
    """Every claim of the section, judged: one row each."""
    games = sorted((v for v in runs["version"].unique() if not v.endswith("_full")),
                   key=_game_order)
    rows = []
    for version in games:
        result = judge_fastest(speed, runs, version)
        rows.append({"claim": f"fast weights learn fastest ({version})", **result})
    judged = [r for r in rows if r["verdict"] in (SUPPORTED, MIXED, NOT_SUPPORTED)]
    if len(judged) >= 2:
        small, large = judged[0], judged[-1]
        # "more clearly" needs fast weights to be fastest on the larger game in the first place
        clearer = large["verdict"] != NOT_SUPPORTED and large["margin"] > small["margin"]
        rows.append({"claim": f"more clearly on {large['game']} than on {small['game']}",
                     "game": large["game"], "verdict": SUPPORTED if clearer else NOT_SUPPORTED,
                     "detail": f"margin {large['margin']:+.3f} against {small['margin']:+.3f}",
                     "margin": large["margin"] - small["margin"]})
    elif len(rows) >= 2:
        rows.append({"claim": "more clearly on the larger game", "game": rows[-1]["game"],
                     "verdict": ONE_SEED if any(r["verdict"] == ONE_SEED for r in rows)
                     else NOT_RUN, "detail": "needs both games judged", "margin": np.nan})
    for version in games:
        rows.append({"claim": f"the feed-forward control stays far below ({version})",
                     **judge_control(runs, version), "margin": np.nan})
    return pd.DataFrame(rows, columns=["claim", "game", "verdict", "detail", "margin"])
