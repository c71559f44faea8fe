"""Text blocks of the rendered report, made from recorded runs and tables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fwlib import pipeline
from fwlib.provenance import environment
from fwlib.tables import MODEL_LABELS, PARTLY_WITHIN, REPRODUCED_WITHIN, to_markdown

# Every place where the paper is silent and a choice was made (A items of the project's
# notes on the paper), and every place where the project differs on purpose.
DEVIATIONS = [
    ("Fast-weight indexing", "A",
     "The matrix used to compute h(t+1) already holds h(t): A(t) = λA(t-1) + η h(t)h(t)ᵀ, "
     "then h_{s+1}(t+1) = f(LN[W h(t) + C x(t) + A(t) h_s(t+1)]). The paper's printed Eq. 3 "
     "is off by one against this; the other reading (A(t-1)) is implemented as "
     "`indexing=\"previous\"` for the ablations."),
    ("Slow recurrent weights", "A", "W starts at 0.05·I, as the 2016 reimplementations did."),
    ("Other initial weights", "A",
     "The input-to-hidden matrix C of the fast-weights layer is uniform in ±1/√H (Appendix "
     "A.1 of v3 gives the scale; which matrices it covers is not stated). Embedding and "
     "decoder layers use the Keras defaults."),
    ("Bias", "A", "A bias b is added to W h(t) + C x(t)."),
    ("Preliminary state", "A",
     "h_0(t+1) = f(W h(t) + C x(t) + b) without layer norm; LN is applied inside the inner "
     "loop only. LN has a learned gain (1) and bias (0), ε = 1e-5 inside the square root, over "
     "the H units of each example."),
    ("Task", "A",
     "K = 4 key-value pairs (sequence length 11), 37 symbols, keys distinct letters, values "
     "digits drawn with replacement (chance: 10 % accuracy). Splits 100,000 / 10,000 / 20,000 "
     "generated here from independent random streams of data seed 0, fixed across training "
     "seeds."),
    ("Classifier", "A", "A learned 100-d embedding per symbol; the recurrent core; one layer "
     "of 100 ReLUs; 37 logits; softmax cross-entropy."),
    ("Fast-weight hyper-parameters", "S/A",
     "λ = 0.95 (one secondary source; the 2016 reimplementations used 0.9), η = 0.5, S = 1."),
    ("Optimiser", "A",
     "Adam, batch 128, gradient clipping at global norm 5. The learning rate was chosen per "
     "model on the validation split from {0.001, 0.003} at R = 50 with 15,000 updates "
     "(`python -m fwlib.lr_search`, table below); the A-LSTM, added later, uses 0.003 without "
     "a search of its own. The paper grid-searched on the validation set but does not give "
     "the values."),
    ("Training length", "A",
     "The paper gives no number of updates. Each profile sets a budget per model and R; a run "
     "stops early when the validation error reaches 0 or has not improved for `patience` "
     "updates. Budgets of the `smoke` and `default` profiles are far below what the paper "
     "may have used, so cells that learn slowly can miss the paper's number for that reason "
     "alone: the Table 1 steps column says how long each cell trained."),
    ("Model selection", "project",
     "Validation error every `eval_every` updates; the weights with the lowest validation "
     "error are kept and evaluated once on the test split."),
    ("IRNN", "A", "ReLU RNN, recurrent weights initialised to the identity, biases 0, input "
     "weights N(0, 0.001²) (Le, Jaitly & Hinton 2015)."),
    ("LSTM", "A", "`keras.layers.LSTM` with its defaults (forget-gate bias 1)."),
    ("A-LSTM", "A",
     "Danihelka et al. (2016), Section 5, as written in `fwlib/alstm.py`; choices of this "
     "project where that paper leaves them open: R counts real hidden values, so R/2 complex "
     "units (real and imaginary halves), as `keras.layers.LSTM(R)` counts R units; 4 memory "
     "copies under fixed random permutations of the keys (P_1 the identity, the others drawn "
     "from seed 0), averaged on read; the read key used as it is (the network learns the "
     "inverse key); bound(z) = z / max(1, |z|) on keys, input and read; initialisation as "
     "`keras.layers.LSTM` (forget-gate bias 1). Parameters: 4.5 R (D + R + 1) in the layer "
     "against 4 R (D + R + 1) for the LSTM at the same R (D = 100: 46,512 against 42,737 for "
     "the whole classifier at R = 50)."),
    ("Figure 2", "A", "Validation error against updates at R = 50 (the paper's axis and R are "
     "not known for sure)."),
    ("Verdicts", "project",
     f"reproduced: within {REPRODUCED_WITHIN:g} percentage points of the paper's test error; "
     f"partly: within {PARTLY_WITHIN:g}; not: further away."),
    ("Other experiments", "project",
     "Tables 2 and 3 and Figure 5 are outside this report (Table 3's data set cannot be "
     "obtained offline)."),
]


def read_pipeline_log(out_dir: str | os.PathLike) -> dict:
    """The runner's record (profile, per-notebook wall-clock), or {} when run by hand."""
    path = Path(out_dir) / "pipeline.json"
    return json.loads(path.read_text()) if path.exists() else {}


def generated_line(runs: pd.DataFrame) -> str:
    if runs.empty:
        return "no finished runs yet"
    versions = sorted(set(runs["code_version"]))
    return (f"{len(runs)} finished runs · code version {', '.join(versions)} · "
            f"last run finished {max(runs['finished_at'])}")


def summary_markdown(table: pd.DataFrame, runs: pd.DataFrame) -> str:
    """What was reproduced and what was not, in sentences."""
    counts = table["verdict"].value_counts()
    lines = [f"Of the 12 cells of Table 1: **{counts.get('reproduced', 0)} reproduced**, "
             f"{counts.get('partly', 0)} partly, {counts.get('not', 0)} not reproduced, "
             f"{counts.get('not run', 0)} not run."]
    for verdict in ("reproduced", "partly", "not", "not run"):
        cells = table[table["verdict"] == verdict]
        if cells.empty:
            continue
        items = []
        for _, row in cells.iterrows():
            ours = ("no run" if pd.isna(row["ours_mean"])
                    else f"ours {row['ours_mean']:.2f} % over {int(row['seeds'])} seed(s)")
            items.append(f"{row['model']} R={row['R']} (paper {row['paper_error']:.2f} %, {ours})")
        lines.append(f"- **{verdict}**: " + "; ".join(items) + ".")
    fast = table[(table["kind"] == "fast_weights") & table["ours_mean"].notna()]
    if not fast.empty:
        others = table[(table["kind"] != "fast_weights") & table["ours_mean"].notna()]
        best = {r: others[others["R"] == r]["ours_mean"].min() for r in fast["R"]}
        beats = [int(r) for r, m in zip(fast["R"], fast["ours_mean"], strict=True)
                 if pd.notna(best[r]) and m <= best[r]]
        lines.append(f"\nThe paper's main claim, that fast weights beat every baseline at small "
                     f"R, holds in our runs at R = {', '.join(map(str, beats)) or 'none'}"
                     f" (fast weights' mean error at most the best baseline's).")
    total = runs["wall_seconds"].sum() / 60 if not runs.empty else 0
    lines.append(f"\nTraining wall-clock of all runs: {total:.1f} min.")
    return "\n".join(lines)


def cell_details_markdown(table: pd.DataFrame) -> str:
    """Steps and wall-clock per cell."""
    detail = table[["model", "R", "seeds", "steps_mean", "minutes_mean", "stopped",
                    "paper_error", "ours_mean", "ours_std", "verdict"]].copy()
    detail = detail.rename(columns={"steps_mean": "updates (mean)", "minutes_mean":
                                    "minutes (mean)", "paper_error": "paper %",
                                    "ours_mean": "ours %", "ours_std": "std"})
    return (to_markdown(detail.round(2)) + "\n\n*stopped*: why each run ended: `budget` (its "
            "update budget ran out: more updates might have helped), `patience` (no better "
            "validation error for `patience` updates) or `target` (validation error 0).")


def deviations_markdown(runs: pd.DataFrame) -> str:
    rows = pd.DataFrame(DEVIATIONS, columns=["what", "marked", "choice"])
    text = to_markdown(rows)
    if not runs.empty and "learning_rate" in runs:
        rates = (runs.groupby("model")["learning_rate"].agg(lambda s: ", ".join(
            f"{v:g}" for v in sorted(set(s)))).rename(index=MODEL_LABELS))
        text += "\n\nLearning rates used in these runs: " + "; ".join(
            f"{m}: {r}" for m, r in rates.items()) + "."
    text += ("\n\nMarks: **S** stated by a secondary source quoting the paper; **A** an "
             "assumption where the paper is silent; **project** a choice of this report.")
    return text


def ablations_markdown(out_dir: str | os.PathLike) -> str:
    """The three claims with their verdicts, then every study's mean test error."""
    tables_dir = Path(out_dir) / "tables"
    claims = pd.read_csv(tables_dir / "ablation_claims.csv")
    summary = pd.read_csv(tables_dir / "ablations.csv")
    runs = pd.read_csv(tables_dir / "ablation_runs.csv")
    steps = runs["steps"].dropna()
    budget = (f"{int(steps.max()):,} updates at most per run" if len(steps) else "no runs")
    text = [f"Studies run: {', '.join(dict.fromkeys(summary['study']))}; R = "
            f"{', '.join(map(str, sorted(summary['R'].unique())))}; "
            f"{runs['seed'].nunique()} seed(s); {budget}; "
            f"{runs.drop_duplicates('run')['wall_seconds'].sum() / 60:.1f} min of training.",
            "", to_markdown(claims), "",
            "Test error (%) per study and value, mean ± std over seeds:", "",
            to_markdown(summary.round(2))]
    return "\n".join(text)


def lr_selection_markdown(directory: str | os.PathLike) -> str:
    """The learning-rate search on the validation split, if it has been run."""
    path = Path(directory) / "summary.csv"
    if not path.exists():
        return "The learning-rate search has not been run (`python -m fwlib.lr_search`)."
    summary = pd.read_csv(path)
    summary["model"] = summary["model"].map(MODEL_LABELS)
    summary["valid_error"] = (100 * summary["valid_error"]).round(2)
    summary["wall_seconds"] = summary["wall_seconds"].round(0)
    summary = summary.rename(columns={"valid_error": "best validation error (%)"})
    return ("**Learning-rate selection** (validation split only, R = 50, seed 0):\n\n"
            + to_markdown(summary))


def environment_markdown(runs: pd.DataFrame, pipeline_log: dict) -> str:
    env = environment()
    lines = [f"- Device: {env['device']}", f"- Code version: {env['code_version']}",
             "- Packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items())]
    if not runs.empty:
        devices = sorted(set(runs["device"]))
        lines.append(f"- Runs trained on: {'; '.join(devices)}")
        lines.append(f"- Training wall-clock, all runs: {runs['wall_seconds'].sum() / 60:.1f} "
                     f"min; mean examples per second: {runs['examples_per_second'].mean():,.0f}")
    notebooks = pipeline_log.get("notebooks", {})
    if notebooks:
        lines.append("\nWall-clock per notebook, latest execution of each (s); a notebook "
                     "whose runs had already finished takes seconds, not the training time:\n")
        lines.append(to_markdown(pd.DataFrame(
            [{"notebook": k, "seconds": round(v["seconds"], 1), "status": v["status"]}
             for k, v in notebooks.items()])))
    executions = pipeline.executions(pipeline_log)
    if executions:
        lines.append("\nPipeline executions of this profile:\n")
        lines.append(to_markdown(pd.DataFrame(
            [{"started": e["started"], "notebooks": ", ".join(e["notebooks"]),
              "minutes": round(e["seconds"] / 60, 1), "code version": e["code_version"]}
             for e in executions])))
    return "\n".join(lines)
