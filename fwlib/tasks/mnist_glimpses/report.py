"""The MNIST-glimpses section of the report (Table 2), made from what its notebooks wrote."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from fwlib import paper, verdicts
from fwlib.markdown import distinct, to_markdown, values_per_model
from fwlib.run.provenance import REPO_ROOT
from fwlib.tasks.mnist_glimpses import data, glimpses
from fwlib.tasks.mnist_glimpses.model import CONV_FILTERS, CONV_KERNEL
from fwlib.tasks.mnist_glimpses.plans import FOLDER, task_dir
from fwlib.tasks.mnist_glimpses.spec import MODEL_LABELS
from fwlib.tasks.mnist_glimpses.table import (
    CLAIM,
    CLAIM_RULE,
    LATE_FRACTION,
    MIN_JUDGE_STEPS,
    PLATEAU,
    STILL_IMPROVING,
    TWIN_SETTINGS,
    claim_without,
    fit_at_best,
    setting_effect,
)

TITLE = "MNIST read as a sequence of glimpses (Section 4.2: Table 2)"

# Every place where the paper is silent and a choice was made, and every place where this
# experiment differs on purpose.
DEVIATIONS = [
    ("Data", "A",
     f"MNIST from the PyPI package `{data.DISTRIBUTION}=={data.VERSION}` (its SHA-256 is "
     "checked): the classic 50,000 training / 10,000 validation / 10,000 test split, pixels "
     "in [0, 1). Model selection on the validation split; the test split is read once per "
     "run."),
    ("Training images", "A",
     "The paper says nothing of augmentation. With `shift` > 0 each training image is moved "
     "by a random whole number of pixels, up to `shift` along each axis, the uncovered border "
     "left at 0, with a fresh move per image and update; validation and test images are read "
     "as they are. The same for every model, as the input is. The value these runs use is "
     "listed under this table; how it was chosen is under *Moved training images*."),
    ("Glimpse order", "A",
     "Default `coarse_fine`: for each 14×14 quadrant in reading order (TL, TR, BL, BR), the "
     "quadrant averaged over 2×2 blocks to 7×7 (coarse glimpse), then its four 7×7 patches "
     "in reading order (fine glimpses): 20 glimpses. The paper says coarse quadrants then "
     "the fine patches inside each, not the exact order."),
    ("Other glimpse order", "S?/A",
     "`fine_centre`, as one secondary source describes it: the 16 fine patches quadrant by "
     "quadrant, then the four 7×7 patches that straddle the centre (offsets (7,7), (7,14), "
     "(14,7), (14,14)), then those four again: 24 glimpses. Those four are the inner fine "
     "patches, so the order revisits them. Whether each is repeated at once or after the "
     "other three is not stated; we repeat the group."),
    ("Glimpse input", "A",
     f"Each step reads the glimpse's 49 pixels and a one-hot code of which of "
     f"{glimpses.NUM_GLIMPSES} glimpses it is (16 fine, 4 coarse: position and scale), "
     f"{glimpses.STEP_FEATURES} numbers, then a glimpse encoder of 100 ReLUs (one Dense "
     "layer, the same at every step), then the core. In short trials on the validation "
     "split (fast weights, R = 100, 1,500 updates) the encoder lowered the validation "
     "error from 7.4 % to 4.9 %."),
    ("Classifier", "A", "The core's last hidden state -> 10 logits; softmax cross-entropy."),
    ("ConvNet", "A",
     f"LeNet-like: {CONV_KERNEL}×{CONV_KERNEL} convolution with {CONV_FILTERS[0]} ReLU maps, "
     f"2×2 max-pool, {CONV_KERNEL}×{CONV_KERNEL} convolution with {CONV_FILTERS[1]} ReLU "
     "maps, 2×2 max-pool, then the table's width (50, 100 or 200) of ReLUs as its last "
     "hidden layer, then 10 logits. The paper does not describe its ConvNet; ours is sized "
     "to train in minutes on one CPU core. Under TensorFlow its training step runs on "
     "TensorFlow's own kernels rather than XLA (`xla: false` in the profiles): on a CPU "
     "they run its convolutions faster (`results/benchmarks/xla_speed.md`). The function "
     "is the same; only the rounding differs, and the setting is part of the run's "
     "identity."),
    ("Fast weights", "S/A",
     "The same layer as Table 1 (`fwlib.cores`): λ = 0.95, S = 1, layer norm, A(t) holding "
     "h(t)."),
    ("Fast-weight learning rate η", "deviation",
     "The paper's η = 0.5 makes the fast-weight read dozens of times the slow term at "
     "initialisation, more so as R grows (see the diagnosis in the associative-retrieval "
     "section). η was chosen on the validation split (tables below): first among 0.5, "
     "0.1, 0.02 and 0.005 at R = 50 and R = 200 within 5,000 updates, where 0.02 came "
     "first; then 0.005 against 0.02 at every width over 15,000 updates, where 0.005 was "
     "as good or better at every width and was chosen (the shorter search had stopped "
     "before the smaller η caught up). The value used by each profile's runs is listed "
     "under this table."),
    ("IRNN, LSTM", "A",
     "As in Table 1: ReLU RNN with identity recurrent weights (Le et al. 2015); "
     "`keras.layers.LSTM` with its defaults."),
    ("Optimiser", "A",
     "Adam, batch 128, gradient clipping at global norm 5; learning rates per model chosen "
     "by short trials on the validation split (listed below). The paper gives none."),
    ("Training length", "A",
     "The paper gives no number of updates. Each profile sets a budget per model and R, "
     "with early stopping on the validation error (`patience`). The default profile's "
     "budgets fit a 2-core CPU in about half an hour, far less than the paper may have "
     f"used: the cell details say whether each run was still improving (best validation "
     f"error in the last {LATE_FRACTION:.0%} of its updates) when its budget ran out."),
]


def summary_markdown(table: pd.DataFrame, runs: pd.DataFrame) -> str:
    seeds = sorted(set(runs["seed"])) if len(runs) else []
    lines = []
    judged = table[~table["verdict"].isin([verdicts.TOO_SHORT, verdicts.NOT_RUN])]
    if len(judged) == 0 and len(runs):
        lines.append(f"**Too short to judge.** Every cell that ran had budgets below "
                     f"{MIN_JUDGE_STEPS:,} updates or trained on part of the training set: "
                     "these runs check that the code runs; they say nothing about the paper.")
    lines.append(f"Seeds: {', '.join(map(str, seeds)) or 'none'}"
                 + (" (one seed per cell: each cell is one run, not what the model does in "
                    "general; the `seeds` profile has three)." if len(seeds) == 1 else "."))
    counts = table["verdict"].value_counts()
    lines.append("Of the 12 cells of Table 2: " + ", ".join(
        f"**{n} {v}**" for v, n in counts.items()) + ".")
    improving = table["trend"].fillna("").str.contains(STILL_IMPROVING)
    if improving.any():
        cells = ", ".join(f"{r['model']} {r['R']}" for _, r in table[improving].iterrows())
        lines.append(f"Runs still improving when their budget ran out: {cells}; their "
                     "numbers are upper bounds on what longer training would give.")
    total = runs["wall_seconds"].sum() / 60 if not runs.empty else 0
    lines.append(f"Training wall-clock of the grid's runs: {total:.1f} min (summed over "
                 "runs; runs train in parallel).")
    return "\n\n".join(lines)


def cell_details_markdown(table: pd.DataFrame) -> str:
    detail = table[["model", "R", "seeds", "diverged", "per_seed", "budget", "steps_mean",
                    "minutes_mean", "stopped", "trend", "paper_error", "verdict"]].copy()
    for column in ("budget", "steps_mean"):
        detail[column] = detail[column].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    detail = detail.rename(columns={"per_seed": "ours per seed (%)",
                                    "steps_mean": "updates (mean)",
                                    "minutes_mean": "minutes (mean)", "paper_error": "paper %"})
    return (to_markdown(detail.round(2)) + "\n\n*stopped*: `budget` (the update budget ran "
            "out), `patience` (no better validation error for `patience` updates), "
            "`diverged` (loss NaN or infinite). *trend*: `" + STILL_IMPROVING + "` when the "
            f"budget ran out with the best validation error in the last {LATE_FRACTION:.0%} "
            f"of the updates, `{PLATEAU}` otherwise.")


def deviations_markdown(runs: pd.DataFrame) -> str:
    text = to_markdown(pd.DataFrame(DEVIATIONS, columns=["what", "marked", "choice"]))
    text += values_per_model(runs, "learning_rate", "Learning rates used in these runs")
    if not runs.empty and "fast_lr" in runs and (runs["model"] == "fast_weights").any():
        etas = distinct(runs.loc[runs["model"] == "fast_weights", "fast_lr"])
        text += f" Fast-weight η in these runs: {etas}."
    for column, what in (("weight_decay", "weight decay"), ("dropout", "dropout")):
        if not runs.empty and column in runs:
            if (runs[column] == 0).all():
                text += f" No {what} in these runs."
            else:
                text += values_per_model(runs, column, f"{what.capitalize()} in these runs")
                if column == "dropout":
                    text += (" Dropout acts on the core's input at every step and on its last "
                             "state (the ConvNet: on its last hidden layer's input and "
                             "output), with a fresh mask at every update.")
    if not runs.empty and "shift" in runs:
        shifts = distinct(runs["shift"])
        text += (" Training images not moved in these runs." if (runs["shift"] == 0).all()
                 else f" Training images moved by up to {shifts} pixels in these runs.")
    return text


SHIFT_SELECTION = "_shift"  # the folder, beside the other searches, of the moves' choice


def shift_selection_markdown(directory: str | os.PathLike) -> str:
    """How the moves of the training images were chosen: the two grids side by side on the
    validation split (:mod:`fwlib.tasks.mnist_glimpses.compare`), or nothing if not run."""
    summary = Path(directory) / "summary.md"
    if not summary.exists():
        return ""
    return ("### Moved training images\n\nThe default profile's Table 2 grid (seed 0, its "
            "budgets and settings) beside the same grid with every training image moved by up "
            "to 2 pixels along each axis, for every model: best validation error and test "
            "error in %, the lower validation error in bold. The rule, set before these runs: "
            "the moves are adopted, for every model and profile, if they lower the best "
            "validation error in more than half of the 12 cells. Test errors are shown, not "
            "used (`python -m fwlib.tasks.mnist_glimpses.compare`).\n\n" + summary.read_text())


def _searched(kind: str) -> tuple[str, str]:
    """How a search's text names the model searched, and that model's runs."""
    if kind == "fast_weights":
        return "fast weights", "fast-weights"
    return f"the {MODEL_LABELS[kind]}", MODEL_LABELS[kind]


def _held_fixed(runs_dir, summary: pd.DataFrame) -> str:
    """The weight decay or dropout that every run of a search used, where not zero and not
    already a column of its summary."""
    from fwlib.run.store import load_runs  # noqa: PLC0415

    if not runs_dir.is_dir() or not len(runs := load_runs(runs_dir)):
        return ""
    held = [f"{what} {runs[column].iloc[0]:g}"
            for column, what in (("weight_decay", "weight decay"), ("dropout", "dropout"))
            if column in runs and what not in summary and runs[column].nunique() == 1
            and runs[column].iloc[0]]
    return f" Every run of this search used {' and '.join(held)}." if held else ""


def selection_markdown(directory: str | os.PathLike,
                       table_runs: pd.DataFrame | None = None) -> str:
    """The choice of η (or of the learning rate and η) on the validation split, if made; with
    ``table_runs``, also what Table 2's runs of the model searched (fast weights unless the
    summary names another) at the searched widths use, of the weight decay, dropout, η, λ and
    S that the search varied."""
    from pathlib import Path  # noqa: PLC0415

    path = Path(directory) / "summary.csv"
    if not path.exists():
        return ("The choice of η has not been run "
                "(`python -m fwlib.tasks.mnist_glimpses.selection`).")
    summary = pd.read_csv(path)
    kind = summary["model"].iloc[0] if "model" in summary else "fast_weights"
    summary = summary.drop(columns="model", errors="ignore")
    summary["valid_error"] = (100 * summary["valid_error"]).round(2)
    decays = "lr_half_life" in summary and bool(summary["lr_half_life"].any())
    if decays:
        summary["lr_half_life"] = summary["lr_half_life"].map(
            lambda v: f"{v:,.0f}" if v else "constant")
    else:
        summary = summary.drop(columns="lr_half_life", errors="ignore")
    inputs = [name for column, name in (("order", "glimpse order"),
                                        ("encoder_units", "glimpse encoder"))
              if column in summary]
    summary = summary.rename(columns={"valid_error": "best validation error (%)",
                                      "fast_lr": "η", "learning_rate": "learning rate",
                                      "at_step": "at update",
                                      "lr_half_life": "step size halved every",
                                      "weight_decay": "weight decay", "dropout": "dropout",
                                      "order": "glimpse order",
                                      "encoder_units": "encoder ReLUs (0: none)",
                                      "decay": "λ", "inner_steps": "S"})
    rates = summary["learning rate"].nunique() > 1
    varied = [name for name, varies in (
        ("the learning rate", rates), ("its schedule" if rates else "the step-size schedule",
                                       decays), ("the weight decay", "weight decay" in summary),
        ("the dropout rate", "dropout" in summary),
        ("η", "η" in summary and summary["η"].nunique() > 1), ("λ", "λ" in summary),
        ("S", "S" in summary)) if varies]
    varied = varied or ["η"]
    what = varied[0] if len(varied) == 1 else ", ".join(varied[:-1]) + " and " + varied[-1]
    heading = f"Choice of {what}"
    named, runs_of = _searched(kind)
    if kind != "fast_weights":
        heading += f" for {named}"
    elif "η" not in varied:
        heading += f" at η = {summary['η'].iloc[0]:g}"
    note = ""
    if inputs:
        heading = f"Fast weights with another {' and '.join(inputs)}"
        note = (" Table 2 reads every model's glimpses the same way (its deviations name how),"
                " so an input that suits fast weights alone is shown here, not adopted: it "
                "would be chosen on one model's validation error and need every model trained "
                "again.")
    note += _held_fixed(Path(directory) / "runs", summary)
    used_by_table = []  # what Table 2's runs of the model use, of what this search varied
    for column, what in (("weight_decay", "weight decay"), ("dropout", "dropout"),
                         ("fast_lr", "η"), ("decay", "λ"), ("inner_steps", "S")):
        if (what in summary and summary[what].nunique() > 1 and table_runs is not None
                and column in table_runs):
            used = table_runs.loc[(table_runs["model"] == kind)
                                  & table_runs["hidden_units"].isin(summary["R"]), column]
            if len(used):
                used_by_table.append(f"{what} {distinct(used)}"
                                     + (" (0: none)" if column in ("weight_decay",
                                                                   "dropout") else ""))
    if used_by_table:
        note += f" Table 2's {runs_of} runs use {' and '.join(used_by_table)}."
    return (f"**{heading}** ({named}, validation split only, seed 0, best "
            f"validation error within the first {int(summary['updates_compared'].max()):,} "
            f"updates; `chosen` marks the setting with the best mean rank over R; "
            f"`{Path(directory).name}`).{note}\n\n"
            + to_markdown(summary.drop(columns=["updates_compared"])))


# Each setting of TWIN_SETTINGS in the report's words: the section's title, what a run with it
# does, the runs without it, what else the twins share, when the setting was adopted, and its
# name at the head of a sentence.
TWIN_TEXT = {
    "dropout": ("What dropout changed", "uses dropout", "without dropout",
                "the same seed, budget, learning rate and η", "the rates were adopted",
                "Dropout"),
    "shift": ("What the moved training images changed", "moves its training images",
              "without moves", "the same seed, budget, learning rate, η and dropout",
              "the moves were adopted", "The moves"),
}


def twin_markdown(pairs: pd.DataFrame, setting: str = "dropout", judgeable: bool = True) -> str:
    """What a setting changed (dropout, or the moves of the training images): each cell's
    runs beside their twins without it
    (:func:`~fwlib.tasks.mnist_glimpses.table.setting_pairs`), and the paper's claim judged
    on the twins as on Table 2's runs."""
    effect = setting_effect(pairs, setting)
    lower, total = int((pairs["change"] < 0).sum()), len(pairs)
    result = claim_without(pairs, judgeable=judgeable)
    title, uses, without, same, adopted, name = TWIN_TEXT[setting]
    return (f"### {title}\n\n" + to_markdown(effect.round(2))
            + f"\n\nEach run of Table 2 that {uses} beside the run of the same config ({same}) "
            f"{without}, trained before {adopted}; test error in %, mean over the seeds "
            f"paired; the change is with minus without. {name} gave a lower test error in "
            f"{lower} of {total} pairs. On the runs {without}, the paper's claim "
            f"**{result['verdict']}** ({result['reason']}): " + "; ".join(result["comparisons"])
            + f". Per run: `tables/{setting}_pairs.csv`.")


RELIES = 10.0  # percentage points of validation error that η = 0 adds, at least, on every run


def without_fast_weights_markdown(without: pd.DataFrame) -> str:
    """The fast weights' share of each width's validation error: per R, mean over seeds with
    η as trained and with η = 0 at test time (:mod:`.diagnostics`), and what the runs show:
    every run relies on its fast weights when η = 0 adds at least ``RELIES`` points to its
    validation error; none does when it adds less than 1 point to every run's."""
    by_r = without.groupby("hidden_units").agg(
        seeds=("seed", "count"), valid_error=("valid_error", "mean"),
        without=("valid_error_without_fast_weights", "mean")).reset_index()
    shown = pd.DataFrame({
        "R": by_r["hidden_units"], "seeds": by_r["seeds"],
        "validation error, as trained (%)": (100 * by_r["valid_error"]).round(2),
        "with η = 0 at test time (%)": (100 * by_r["without"]).round(2)})
    rise = 100 * (without["valid_error_without_fast_weights"] - without["valid_error"])
    if rise.min() >= RELIES:
        verdict = (f"Every run relies on its fast weights: without them its validation error "
                   f"rises by {rise.min():.1f} to {rise.max():.1f} points. Where fast weights "
                   "fall short of the paper here, it is not because a small η switched them "
                   "off.")
    elif rise.max() < 1.0:
        verdict = (f"No run uses its fast weights to any effect: without them its validation "
                   f"error changes by at most {rise.abs().max():.2f} points, so these runs are "
                   "in effect the same network without fast weights (η too small to matter).")
    else:
        verdict = (f"The runs differ: without fast weights the validation error rises by "
                   f"{rise.min():.1f} to {rise.max():.1f} points, run by run.")
    return ("### Do the fast-weights models use their fast weights?\n\n"
            + to_markdown(shown) + "\n\nEach fast-weights run's kept weights on the validation "
            "split, as trained and with the fast-weight learning rate η set to 0 at test time "
            "(A(t) stays 0, so each step sees only the slow weights); mean over seeds. "
            + verdict + " Per run: `tables/without_fast_weights.csv`.")


DROPOUT_FIT_NOTE = (" These runs train with dropout: their training loss is measured with dropout "
                    "acting and their validation loss without it, so the ratio is not "
                    "comparable with that of runs without dropout.")
SHIFT_FIT_NOTE = (" These runs move their training images: the training loss is that of the moved "
                  "images, the validation loss that of images read as they are.")


def section(out_dir: str | os.PathLike, profile: str) -> None:
    """Display this experiment's section of the report."""
    from IPython.display import Image, Markdown, display  # noqa: PLC0415

    from fwlib.run.store import load_histories, load_runs  # noqa: PLC0415
    from fwlib.tasks.mnist_glimpses.plans import table2_runs  # noqa: PLC0415

    folder = task_dir(out_dir)
    display(Markdown(f"## {TITLE}"))
    display(Markdown("Each 28×28 digit is read as a fixed sequence of 7×7 glimpses at two "
                     "scales; the recurrent models classify it from their last state, the "
                     "ConvNet sees the whole image. The paper's claim: " + CLAIM + "."))
    figure = folder / "figures" / "glimpses.png"
    if figure.exists():
        display(Image(filename=str(figure)))
        display(Markdown("One validation digit and its glimpses, in the order the models "
                         "read them (top: the default order; bottom: the other order)."))
    table_path = folder / "tables" / "table2.csv"
    if not table_path.exists():
        display(Markdown(f"**Not run in this profile ({profile}):** run "
                         "`mnist_glimpses/02_grid` and `mnist_glimpses/03_table2` (after "
                         "`01_glimpses`) to make Table 2."))
        display(Markdown("### Deviations and assumptions\n\n" + deviations_markdown(
            pd.DataFrame())))
        return
    table = pd.read_csv(table_path)
    runs = table2_runs(out_dir, load_runs(folder / "runs"))
    display(Markdown("### Summary\n\n" + summary_markdown(table, runs)))
    display(Markdown("### Table 2: MNIST test error (%)\n\n"
                     + (folder / "tables" / "table2.md").read_text()))
    display(Markdown(f"*Verdict rule:* {verdicts.RULE} A cell is judged only when each of "
                     f"its runs had at least {MIN_JUDGE_STEPS:,} updates on the whole "
                     "training set. The paper's numbers are marked "
                     f"{paper.source_note(paper.TABLE2_SOURCE)}."))
    display(Markdown(cell_details_markdown(table)))
    claim_path = folder / "tables" / "table2_claim.csv"
    if claim_path.exists():
        display(Markdown(f"### The paper's claim: {CLAIM}\n\n{CLAIM_RULE}\n\n"
                         + to_markdown(pd.read_csv(claim_path).fillna(""))))
    judged = not (table["verdict"] == verdicts.TOO_SHORT).any()
    for setting in TWIN_SETTINGS:
        pairs_path = folder / "tables" / f"{setting}_pairs.csv"
        if pairs_path.exists() and len(pairs := pd.read_csv(pairs_path)):
            display(Markdown(twin_markdown(pairs, setting, judgeable=judged)))
    histories = load_histories(folder / "runs", runs)
    if len(histories):
        display(Markdown("### Fit at the best update\n\n" + to_markdown(
            fit_at_best(histories).round(3)) + "\n\nTraining loss (mean over the updates "
            "before the evaluation) and validation loss where each run's validation error was "
            "lowest: a validation loss well above the training loss means the model already "
            "fits its training images better than new ones, so further updates mostly "
            "improve that fit."
            + (DROPOUT_FIT_NOTE if "dropout" in runs and (runs["dropout"] > 0).any() else "")
            + (SHIFT_FIT_NOTE if "shift" in runs and (runs["shift"] > 0).any() else "")))
    without_path = folder / "tables" / "without_fast_weights.csv"
    if without_path.exists() and len(without := pd.read_csv(without_path)):
        display(Markdown(without_fast_weights_markdown(without)))
    curves = folder / "figures" / "table2_curves.png"
    if curves.exists():
        display(Markdown("### Learning curves"))
        display(Image(filename=str(curves)))
        display(Markdown("Validation error (log scale) against parameter updates, one panel "
                         "per width; the band is ± 1 std over seeds where there are several."))
    display(Markdown("### Deviations and assumptions\n\n" + deviations_markdown(runs)))
    display(Markdown(selection_markdown(REPO_ROOT / "results" / "selection" / FOLDER)))
    # the learning rate, its schedule, η at length, the learning rate at that η, the input,
    # the weight decay, dropout, η and the step size again with dropout, λ and S, small η
    for suffix in ("_lr", "_schedule", "_eta", "_eta_lr", "_input", "_wd", "_dropout",
                   "_dropout_lstm", "_dropout_irnn", "_dropout_convnet", "_dropout_recheck",
                   "_decay", "_eta_dropout"):
        searched = REPO_ROOT / "results" / "selection" / f"{FOLDER}{suffix}"
        if (searched / "summary.csv").exists():
            display(Markdown(selection_markdown(searched, runs)))
    moved = shift_selection_markdown(REPO_ROOT / "results" / "selection" / f"{FOLDER}"
                                     f"{SHIFT_SELECTION}")
    if moved:
        display(Markdown(moved))
