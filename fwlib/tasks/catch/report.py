"""The Catch section of the report, made from the tables and figure that ``02_figures``
writes under ``<results_dir>/catch``."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from fwlib import paper
from fwlib.markdown import to_markdown
from fwlib.run.provenance import REPO_ROOT
from fwlib.tasks.catch import TITLE
from fwlib.tasks.catch.agents import AGENT_LABELS
from fwlib.tasks.catch.results import CONTROL_GAP, MIN_JUDGE_FRAMES

# Every place where the paper is silent and a choice was made (A), and every place where
# this experiment differs on purpose.
DEVIATIONS = [
    ("Game", "A",
     "The ball starts in a random column of the top row, falls one row per step and moves dx "
     "∈ {−1, 0, +1} columns per step (drawn at the start), bouncing off the side walls. The "
     "paddle is 3 pixels wide, starts at a random position in the bottom row and moves one "
     "column left, none or one right per step, stopping at the walls. An episode lasts N − 1 "
     "steps and ends when the ball reaches the bottom row: reward +1 for a catch, −1 for a "
     "miss, 0 otherwise."),
    ("Observation", "A",
     "The N×N binary screen (ball and paddle), flattened. Partially observed: the first M "
     "frames (counting the one after reset) are shown, then blank screens; the paddle is "
     "blanked too. Fully observed control: no blanking (N = 16). The agent's input at each "
     "step is the screen and the one-hot action it took before (zeros at the start): without "
     "it an agent that samples its actions cannot know where its paddle went once the screen "
     "is blank (in trials without it, agents plateaued far below a full catch rate)."),
    ("Agents", "A",
     "One encoder for every agent (a layer of 128 ReLUs on the screen), then the memory, "
     "then a softmax policy over the 3 actions and a linear value. Memory: ReLU RNN with "
     "identity recurrent weights (IRNN), `keras.layers.LSTM`, or the project's fast-weights "
     "cell (λ = 0.95, S = 1, layer norm; η per profile, chosen below), all with the same "
     "number of hidden units; the feed-forward control has a layer of ReLUs in place of the "
     "memory."),
    ("A2C instead of A3C", "project",
     "The paper trains with asynchronous advantage actor-critic (A3C). Here it is the "
     "synchronous version (A2C): a batch of games played in step, one update per batch of "
     "whole episodes, Adam instead of shared RMSProp, gradient clipping at global norm 5."),
    ("A2C settings", "A",
     "n-step returns (n = 20, longer than an episode: Monte-Carlo returns with a value "
     "baseline), γ = 0.99, value cost 0.5, entropy cost 0.01; the learning rate and the batch "
     "of games per update are set per profile. The default's 16 games per update and "
     "Monte-Carlo returns were chosen by short trials of the fast-weights agent on N = 16, "
     "M = 3 (8, 16, 32 and 64 games per update; n = 5 against Monte Carlo), recorded under "
     "`results/selection/catch/trials/`: fewer games per update give more updates per frame "
     "and learned faster per frame, and 16 learned fastest per second of training. Each "
     "agent's learning rate (and the fast-weights agent's η) is chosen on the evaluation "
     "games of N = 16, M = 3 (the selection table below) and used on N = 24, M = 5 as well, "
     "where nothing was selected."),
    ("Evaluation and test games", "A",
     "Every run is evaluated greedily on a fixed set of 200 evaluation games (never used for "
     "training) at regular frame counts: its learning curve and its validation split. A2C's "
     "policy swings by tens of points between evaluations, so a run keeps the weights of "
     "its best evaluation, as the supervised tasks keep those of their best validation "
     "error, and the table's catch rate is those weights' greedy catch rate over 1,000 fresh "
     "games with seeds of their own (the test split). The last weights' catch rate on the "
     "same games is shown beside it. The paper's axes and its choice of agent are not "
     "known."),
    ("Budget", "A",
     "The paper's number of frames is not known; each profile sets one per game and agent. "
     "Budgets of the `smoke` and `default` profiles are short, so a slow learner may miss a "
     "target for that reason alone."),
]


def selection_markdown(directory: str | os.PathLike) -> str:
    """The learning rates and η tried on N = 16, M = 3 and the ones chosen, if recorded."""
    path = Path(directory) / "summary.csv"
    if not path.exists():
        return ("The learning rates and η have not been selected on the evaluation games "
                "(`python -m fwlib.tasks.catch.selection`).")
    summary = pd.read_csv(path)
    shown = pd.DataFrame({
        "agent": summary["agent"].map(lambda k: AGENT_LABELS.get(k, k)),
        "learning rate": summary["learning_rate"].map(lambda v: f"{v:g}"),
        "η": summary["fast_lr"].map(lambda v: "" if pd.isna(v) else f"{v:g}"),
        "best evaluation (%)": (100 * summary["best_eval_catch_rate"]).round(1),
        "at (M frames)": (summary["best_frames"] / 1e6).round(1),
        "last evaluation (%)": (100 * summary["last_eval_catch_rate"]).round(1),
        "final games (%)": (100 * summary["test_catch_rate"]).round(1),
        "chosen": summary["chosen"].map({True: "yes", False: ""})})
    return ("**Settings chosen on the evaluation games** (N = 16, M = 3, seed 0, the default "
            "profile's budget; `python -m fwlib.tasks.catch.selection`, "
            "`results/selection/catch/settings/`). Each agent's setting with the highest best "
            "evaluation catch rate is chosen, ties going to the one that got there in fewer "
            "frames; the final games' catch rate is shown and plays no part.\n\n"
            + to_markdown(shown))


def deviations_markdown() -> str:
    frame = pd.DataFrame(DEVIATIONS, columns=["item", "mark", "choice"])
    return to_markdown(frame) + f"\n\nMarks: {paper.source_note('A')}; project: a deliberate " \
        "difference from the paper."


def claims_markdown(claims: pd.DataFrame) -> str:
    shown = claims[["claim", "verdict", "detail"]]
    rule = (f"*Rule:* speed of learning is the area under a run's learning curve (its mean "
            "greedy catch rate over the evaluations). Fast weights *learn fastest* on a game "
            "when their area is the larger in every seed against every other recurrent agent, "
            "*not* when it is the smaller in every seed against one of them, *mixed* "
            "otherwise; *more clearly on the larger game* when the mean margin over the best "
            "other agent is larger there. The feed-forward control *stays far below* when its "
            f"final catch rate trails every recurrent agent's by at least {CONTROL_GAP:.0%} in "
            f"every seed. Runs shorter than {MIN_JUDGE_FRAMES:,} frames are *too short to "
            "judge*.")
    return to_markdown(shown) + "\n\n" + rule


def summary_markdown(table: pd.DataFrame, claims: pd.DataFrame) -> str:
    seeds = int(table["seeds"].max()) if len(table) else 0
    lines = [f"Greedy catch rate of every agent (the weights of its best evaluation) over "
             f"{int(table['episodes'].max()):,} fresh games, {seeds} seed{'s' * (seeds > 1)} "
             "per agent"
             + (" (one seed: no spread between seeds is known)" if seeds == 1 else "") + "."]
    for _, row in claims.iterrows():
        lines.append(f"- {row['claim']}: **{row['verdict']}** ({row['detail']}).")
    return "\n".join(lines)


def section(out_dir: str | os.PathLike, profile: str) -> None:
    """Display this experiment's section of the report."""
    from IPython.display import Image, Markdown, display  # noqa: PLC0415

    root = Path(out_dir) / "catch"
    display(Markdown(f"## {TITLE}"))
    table_path = root / "tables" / "catch_rates.csv"
    if not table_path.exists():
        display(Markdown("Not run in this profile: run `catch/01_train`, then "
                         "`catch/02_figures`, to make Figure 5 and its table."))
        display(Markdown("### Deviations and assumptions\n\n" + deviations_markdown()))
        return
    table = pd.read_csv(table_path)
    claims = pd.read_csv(root / "tables" / "claims.csv")
    display(Markdown(f"Profile `{profile}`. The paper reports learning curves only, no "
                     "numbers: the comparison is with its stated picture."))
    display(Markdown("### Summary\n\n" + summary_markdown(table, claims)))
    display(Markdown("### Greedy catch rate (%)\n\n" + (root / "tables" /
                                                         "catch_rates.md").read_text()))
    display(Markdown("Catch rate over 1,000 fresh games (the test split) with the weights of "
                     "each run's best evaluation (the validation split); *last weights*: the "
                     "weights at the end of the budget, on the same games."))
    display(Markdown(selection_markdown(REPO_ROOT / "results" / "selection" / "catch" /
                                        "settings")))
    display(Markdown("### Figure 5: learning curves"))
    figure = root / "figures" / "figure5.png"
    if figure.exists():
        display(Image(filename=str(figure)))
    display(Markdown("Greedy catch rate on the fixed evaluation games against environment "
                     "frames; the line is the mean over seeds, the band the range of the "
                     "seeds where there are several."))
    display(Markdown("### The paper's claim, judged\n\n" + claims_markdown(claims)))
    display(Markdown("### Deviations and assumptions\n\n" + deviations_markdown()))
