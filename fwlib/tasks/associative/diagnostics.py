"""Why fast weights can get worse as R grows: the fast-weight read against the slow term.

For each fast-weights run of a grid, on the first ``examples`` validation sequences: the norms
of the slow pre-activation ‖W h(t) + C x(t) + b‖ and of the fast-weight read ‖A(t) h_0(t+1)‖ at
every step, once with the run's initial weights (rebuilt from its seed, exactly as training
started) and once with its best weights (the ones Table 1 reports). After layer norm the
state's squared norm is about R, so at initialisation the read grows with R while the slow
term does not; where the read dominates, the new input barely moves the state until C and W
have grown to match it. See :func:`fwlib.cores.diagnostics.fast_slow_norms`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from fwlib.cores.diagnostics import core_inputs, fast_slow_norms, find_fast_weights_layer
from fwlib.run.config import RunConfig
from fwlib.run.seeding import seed_everything

STAGES = ("initial", "trained")


def _best_weights(run_dir: Path) -> Path | None:
    state_file = run_dir / "state.json"
    if state_file.exists():
        best = json.loads(state_file.read_text()).get("best_weights")
        if best:
            return run_dir / best
    found = sorted(run_dir.glob("best_*.weights.h5"))
    return found[-1] if found else None


def run_norms(run_dir: str | os.PathLike, examples: int = 512) -> pd.DataFrame:
    """One row per (stage, step) for the run in ``run_dir``: mean, median and maximum over
    the examples of the fast and slow norms and of their ratio."""
    run_dir = Path(run_dir)
    config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text())).validate()
    if config.model.kind != "fast_weights":
        raise ValueError(f"run {run_dir.name} is a {config.model.kind} run, not fast_weights")
    x_valid = config.task.splits()["valid"][0][:examples]
    seed_everything(config.seed)
    model = config.task.build_model(config.model)  # the weights training started from
    layer = find_fast_weights_layer(model)
    rows = []
    for stage in STAGES:
        if stage == "trained":
            best = _best_weights(run_dir)
            if best is None:
                break
            model.load_weights(best)
        inputs = core_inputs(model, layer, x_valid)
        norms = fast_slow_norms(layer, inputs)
        check = np.asarray(layer(inputs))
        if not np.allclose(norms["state"], check, atol=1e-3, rtol=1e-3):
            raise RuntimeError(f"the replay of {run_dir.name} does not match its layer")
        for t in range(inputs.shape[1]):
            ratio = norms["ratio"][:, t]
            rows.append({"run": run_dir.name, "hidden_units": config.model.hidden_units,
                         "seed": config.seed, "fast_lr": config.model.fast_lr, "stage": stage,
                         "step": t, "slow": norms["slow"][:, t].mean(),
                         "fast": norms["fast"][:, t].mean(), "ratio_mean": ratio.mean(),
                         "ratio_median": float(np.median(ratio)), "ratio_max": ratio.max()})
    return pd.DataFrame(rows)


def grid_norms(runs: pd.DataFrame, examples: int = 512) -> pd.DataFrame:
    """:func:`run_norms` for every fast-weights run in ``runs`` (a :func:`load_runs` frame),
    with each run's test error joined."""
    chosen = runs[runs["model"] == "fast_weights"]
    frames = []
    for _, run in chosen.iterrows():
        frame = run_norms(run["run_dir"], examples)
        frame["test_error"] = run["test_error"]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run", "hidden_units", "seed", "stage", "step"])
    return pd.concat(frames, ignore_index=True)


def summary(norms: pd.DataFrame) -> pd.DataFrame:
    """Per R and stage, over seeds and steps 1..T-1 (step 0 has an empty memory): the range of
    the per-step mean ratio, the mean slow and fast norms, and the test errors."""
    later = norms[norms["step"] > 0]
    rows = []
    for (units, stage), group in later.groupby(["hidden_units", "stage"], sort=True):
        per_run = group.groupby("run")
        rows.append({"R": int(units), "stage": stage, "runs": per_run.ngroups,
                     "ratio_min": group["ratio_mean"].min(),
                     "ratio_median": group["ratio_mean"].median(),
                     "ratio_max": group["ratio_mean"].max(),
                     "slow_norm": group["slow"].mean(), "fast_norm": group["fast"].mean(),
                     "test_errors_%": ", ".join(f"{100 * e:.2f}" for e in
                                                per_run["test_error"].first())})
    order = {s: i for i, s in enumerate(STAGES)}
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["R", "stage"], key=lambda c: c.map(order) if c.name == "stage"
                             else c).reset_index(drop=True)


def per_run(norms: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its test error, the median over steps 1..T-1 of the mean ratio with
    the initial and with the trained weights, and how many times the slow term grew."""
    later = norms[norms["step"] > 0]
    rows = []
    for _, group in later.groupby("run", sort=False):
        stages = {stage: part for stage, part in group.groupby("stage")}
        row = {"R": int(group["hidden_units"].iloc[0]), "seed": int(group["seed"].iloc[0]),
               "test error (%)": 100 * float(group["test_error"].iloc[0]),
               "initial ratio": float(stages["initial"]["ratio_mean"].median())}
        if "trained" in stages:
            row["trained ratio"] = float(stages["trained"]["ratio_mean"].median())
            row["slow term growth"] = float(stages["trained"]["slow"].mean()
                                            / stages["initial"]["slow"].mean())
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values(["R", "seed"]).reset_index(drop=True) if len(frame) else frame


def findings_markdown(runs_table: pd.DataFrame) -> str:
    """What the measurement shows, in sentences made from ``runs_table`` (:func:`per_run`)."""
    if runs_table.empty:
        return "No fast-weights runs to measure."
    lines = []
    initial = runs_table.groupby("R")["initial ratio"].agg(["min", "max"])
    lines.append("With the initial weights the fast-weight read is "
                 + "; ".join(f"{row['min']:.0f}–{row['max']:.0f}× the slow term at R = {r}"
                             for r, row in initial.iterrows())
                 + " (median over the steps of each run's mean ratio, range over seeds).")
    if "trained ratio" in runs_table:
        trained = runs_table.dropna(subset=["trained ratio"])
        swamped = trained[trained["trained ratio"] > 1.0]
        fine = trained[trained["trained ratio"] <= 1.0]
        if len(fine):
            lines.append(f"In {len(fine)} of {len(trained)} trained runs the slow term grew "
                         f"{fine['slow term growth'].min():.0f}–"
                         f"{fine['slow term growth'].max():.0f}× and the read fell below it "
                         f"(median ratio {fine['trained ratio'].min():.2f}–"
                         f"{fine['trained ratio'].max():.2f}); their test errors: "
                         + ", ".join(f"{e:.2f} %" for e in fine["test error (%)"]) + ".")
        if len(swamped):
            lines.append("In " + ", ".join(
                f"R = {r['R']} seed {r['seed']} ({r['test error (%)']:.2f} % test error)"
                for _, r in swamped.iterrows())
                + " the read still exceeds the slow term after training (median ratio "
                + ", ".join(f"{v:.1f}" for v in swamped["trained ratio"])
                + "): the memory swamps each new input, which is the failure seen in Table 1.")
        else:
            lines.append("No trained run is left with the read above the slow term.")
    return " ".join(lines)
