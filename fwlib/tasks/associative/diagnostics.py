"""Why fast weights can get worse as R grows: the fast-weight read against the slow term.

For each fast-weights run of a grid, on the first ``examples`` validation sequences: the norms
of the slow pre-activation ‖W h(t) + C x(t) + b‖ and of the fast-weight read ‖A(t) h_0(t+1)‖ at
every step, once with the run's initial weights (rebuilt from its seed, exactly as training
started) and once with its best weights (the ones Table 1 reports). After layer norm the
state's squared norm grows with R and the ReLU states all point the same way, so at
initialisation the read grows with R while the slow term's share does not; where the read
dominates, the new input barely moves the state. See
:func:`fwlib.cores.diagnostics.fast_slow_norms`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fwlib.cores.diagnostics import core_inputs, fast_slow_norms, find_fast_weights_layer
from fwlib.run.folder import RunFolder
from fwlib.run.seeding import seed_everything

STAGES = ("initial", "trained")


def run_norms(run_dir: str | os.PathLike, examples: int = 512) -> pd.DataFrame:
    """One row per (stage, step) for the run in ``run_dir``: mean, median and maximum over
    the examples of the fast and slow norms and of their ratio."""
    run_dir = Path(run_dir)
    folder = RunFolder(run_dir)
    config = folder.recorded_config()
    if config is None:
        raise FileNotFoundError(f"{run_dir} holds no recorded run (no config.json)")
    config = config.validate()
    if config.model.kind != "fast_weights":
        raise ValueError(f"run {run_dir.name} is a {config.model.kind} run, not fast_weights")
    x_valid = config.task.splits()["valid"][0][:examples]
    seed_everything(config.seed)
    model = config.task.build_model(config.model)  # the weights training started from
    layer = find_fast_weights_layer(model)
    rows = []
    for stage in STAGES:
        if stage == "trained":
            best = folder.best_weights()
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
                         "state_norm": norms["state_norm"][:, t].mean(),
                         "cosine": norms["cosine"][:, t].mean(),
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


def per_run(norms: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its test error and, with the initial and with the trained weights,
    medians over steps 1..T-1 of the mean read-to-slow ratio, of the cosine between the state
    h(t) and the new preliminary state h_0(t+1), and of ‖h(t)‖."""
    later = norms[norms["step"] > 0]
    rows = []
    for _, group in later.groupby("run", sort=False):
        stages = {stage: part for stage, part in group.groupby("stage")}
        row = {"R": int(group["hidden_units"].iloc[0]), "seed": int(group["seed"].iloc[0])}
        if "fast_lr" in group:
            row["η"] = float(group["fast_lr"].iloc[0])
        row["test error (%)"] = 100 * float(group["test_error"].iloc[0])
        for stage in STAGES:
            if stage in stages:
                part = stages[stage]
                row[f"{stage} ratio"] = float(part["ratio_mean"].median())
                row[f"{stage} cosine"] = float(part["cosine"].median())
                row[f"{stage} ‖h‖"] = float(part["state_norm"].median())
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values(["R", "seed"]).reset_index(drop=True) if len(frame) else frame


def findings_markdown(runs_table: pd.DataFrame) -> str:
    """What the measurement shows, in sentences made from ``runs_table`` (:func:`per_run`)."""
    if runs_table.empty:
        return "No fast-weights runs to measure."

    def span(low, high, digits=0):
        a, b = f"{low:.{digits}f}", f"{high:.{digits}f}"
        return a if a == b else f"{a}–{b}"

    lines = []
    keys = ["R", "η"] if "η" in runs_table else ["R"]
    initial = runs_table.groupby(keys).agg(
        ratio_min=("initial ratio", "min"), ratio_max=("initial ratio", "max"),
        cos_min=("initial cosine", "min"), cos_max=("initial cosine", "max"),
        norm=("initial ‖h‖", "mean")).reset_index()

    def where(r):
        return f"R = {int(r['R'])}" + (f", η = {r['η']:g}" if "η" in r else "")

    growing = initial["ratio_max"].is_monotonic_increasing and initial["R"].is_unique
    lines.append("With the initial weights the fast-weight read is " + "; ".join(
        f"{span(r.ratio_min, r.ratio_max)}× the slow term at {where(r)} (cosine between h(t) "
        f"and h_0(t+1) {span(r.cos_min, r.cos_max, 2)}, ‖h‖ {r.norm:.1f})"
        for _, r in initial.iterrows())
        + ": the ReLU states all point the same way and their norm grows with R, so the read "
        "outweighs the input"
        + (", more so as R grows. " if growing else
           "; the read is proportional to η, and a smaller η at a larger R keeps it from "
           "growing with R here. ")
        + "Layer norm makes the first inner step blind to the slow term's scale (the read is "
        "linear in h_0 = f(slow)), so larger input weights alone cannot restore the input's "
        "share; only smaller stored states (a smaller η) or a new state less aligned with "
        "them can.")
    if "trained ratio" in runs_table:
        trained = runs_table.dropna(subset=["trained ratio"])
        swamped = trained[trained["trained ratio"] > 1.0]
        fine = trained[trained["trained ratio"] <= 1.0]
        if len(fine):
            ratios = span(fine["trained ratio"].min(), fine["trained ratio"].max(), 3)
            cosines = span(fine["trained cosine"].min(), fine["trained cosine"].max(), 3)
            lines.append(
                f"In {len(fine)} of {len(trained)} trained runs the read fell below the slow "
                f"term (median ratio {ratios}), with the cosine down to {cosines}: "
                "training made each new state nearly orthogonal to the stored ones. Per run, "
                "ratio and cosine (test error): " + ", ".join(
                    f"R = {int(r['R'])} seed {int(r['seed'])} {r['trained ratio']:.3f} and "
                    f"{r['trained cosine']:.3f} ({r['test error (%)']:.2f} %)"
                    for _, r in fine.iterrows()) + ".")
        if len(swamped):
            lines.append("In " + ", ".join(
                f"R = {int(r['R'])} seed {int(r['seed'])} ({r['test error (%)']:.2f} % test "
                f"error, cosine {r['trained cosine']:.3f})" for _, r in swamped.iterrows())
                + " the read still exceeds the slow term after training (median ratio "
                + ", ".join(f"{v:.1f}" for v in swamped["trained ratio"])
                + "): the memory swamps each new input, the failure seen in Table 1.")
        else:
            lines.append("No trained run is left with the read above the slow term.")
    return " ".join(lines)
