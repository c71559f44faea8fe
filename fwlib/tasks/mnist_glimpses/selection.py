"""Settings of Table 2's models (η, λ, S, Adam's step size and its schedule, weight decay,
dropout, the glimpse input), compared on the validation split: fast weights', or another
model's.

At initialisation the fast-weight read A(t)h grows with R (after layer norm ‖h‖² grows with
R) and swamps the new glimpse (see :mod:`fwlib.cores.diagnostics`). The paper's η = 0.5 is
therefore compared with smaller values, fast weights at R = 50 and R = 200, one seed, Adam at
3e-3; each setting is judged by its best **validation** error within the first
``compare_steps`` updates, and the η with the best mean rank over the R tried is chosen (on
a tie, the one with the lower mean of those errors).
Finished runs are reused, and so is a finished run trained under another budget (a longer
one, say) that covers the updates compared: it is planned with the budget it had, and its
history is cut at ``compare_steps``. With several ``--learning-rates``,
``--lr-half-lives`` (updates over which Adam's step size halves; 0: constant),
``--weight-decays`` (decoupled decay of the weight matrices; 0: none), ``--dropouts`` (the
rate on the core's input and last state; 0: none), glimpse ``--orders`` or
``--encoder-units`` (ReLUs per glimpse before the core; 0: none), fast-weight ``--decays``
(λ) or ``--inner-steps`` (S) every combination is a setting, ranked the same way.
``--model`` compares the settings of another of Table 2's models (``lstm``, ``irnn`` or
``convnet``) the same way; η, λ and S are then not settings.

    python -m fwlib.tasks.mnist_glimpses.selection --out results/selection/mnist_glimpses
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.02 \
        --learning-rates 0.001 0.003 --max-steps 15000 --out results/selection/mnist_glimpses_lr
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.02 --learning-rates 0.003 \
        --lr-half-lives 0 3000 --units 200 50 --max-steps 15000 \
        --out results/selection/mnist_glimpses_schedule
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.005 0.02 \
        --units 200 100 50 --max-steps 15000 --out results/selection/mnist_glimpses_eta
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.005 --units 200 \
        --orders coarse_fine fine_centre --encoder-units 100 0 --max-steps 15000 \
        --out results/selection/mnist_glimpses_input
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.005 --units 200 100 50 \
        --weight-decays 0 0.01 0.1 --max-steps 15000 --out results/selection/mnist_glimpses_wd
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.005 --units 200 100 50 \
        --dropouts 0 0.1 0.3 --max-steps 15000 --out results/selection/mnist_glimpses_dropout
    python -m fwlib.tasks.mnist_glimpses.selection --model lstm --learning-rates 0.001 \
        --units 200 100 50 --dropouts 0 0.1 0.3 --max-steps 10000 \
        --out results/selection/mnist_glimpses_dropout_lstm
    python -m fwlib.tasks.mnist_glimpses.selection --fast-lrs 0.005 --units 200 \
        --dropouts 0.1 --decays 0.9 0.95 0.99 --inner-steps 1 2 --max-steps 15000 \
        --out results/selection/mnist_glimpses_decay
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fwlib.cores import check_choice
from fwlib.run.folder import RunFolder
from fwlib.run.parallel import run_grid
from fwlib.run.provenance import REPO_ROOT
from fwlib.run.store import load_histories, load_runs
from fwlib.tasks.mnist_glimpses import MnistGlimpsesTask
from fwlib.tasks.mnist_glimpses.plans import table2_grid
from fwlib.tasks.mnist_glimpses.spec import MODEL_KINDS, MODEL_LABELS, GlimpseModelSpec

FAST_LRS = (0.5, 0.1, 0.02, 0.005)
DEFAULT_ORDER = MnistGlimpsesTask().order
DEFAULT_ENCODER = GlimpseModelSpec().encoder_units
DEFAULT_DECAY = GlimpseModelSpec().decay
DEFAULT_INNER_STEPS = GlimpseModelSpec().inner_steps
UNITS = (50, 200)
COMPARE_STEPS = 5000


def selection_grid(fast_lrs=FAST_LRS, hidden_units=UNITS, max_steps: int = COMPARE_STEPS,
                   learning_rate=3e-3, seed: int = 0, lr_half_lives=(0,),
                   orders=(DEFAULT_ORDER,), encoder_units=(DEFAULT_ENCODER,),
                   weight_decays=(0.0,), dropouts=(0.0,), model: str = "fast_weights",
                   decays=(DEFAULT_DECAY,), inner_steps=(DEFAULT_INNER_STEPS,)):
    """``model`` (fast weights unless named) at every R for every η, λ and S (fast weights
    only), every learning rate (one value or several), every step-size half-life, every
    weight decay, every dropout rate, every glimpse order and every glimpse encoder width."""
    check_choice("model", model, MODEL_KINDS)
    if model != "fast_weights":
        if tuple(fast_lrs) not in (FAST_LRS, (GlimpseModelSpec.fast_lr,)):
            raise ValueError(f"fast_lrs: η is a setting of fast weights only (model {model!r})")
        for name, values, default in (("decays", decays, DEFAULT_DECAY),
                                      ("inner_steps", inner_steps, DEFAULT_INNER_STEPS)):
            if tuple(values) != (default,):
                raise ValueError(f"{name}: a setting of fast weights only (model {model!r})")
        fast_lrs = (GlimpseModelSpec.fast_lr,)
    rates = [learning_rate] if isinstance(learning_rate, int | float) else list(learning_rate)
    return [c for lr in rates for half_life in lr_half_lives for decay in weight_decays
            for rate in dropouts for eta in fast_lrs for order in orders
            for encoder in encoder_units for lam in decays for steps in inner_steps
            for c in table2_grid([model], hidden_units, [seed], max_steps,
                                 lr, lr_half_life=half_life, fast_lr=eta,
                                 weight_decay=decay, dropout=rate, patience=max_steps,
                                 order=order,
                                 encoder_units=encoder, decay=lam, inner_steps=steps)]


def reuse_recorded(configs, runs_dir: str | Path, compare_steps: int) -> list:
    """Each planned config, or, where ``runs_dir`` holds the same run finished under another
    budget with at least ``compare_steps`` updates, that run's recorded config (so it is
    reused, not refused: its first ``compare_steps`` updates are the same either way). A run
    that stopped before ``compare_steps`` stays planned as asked, and the grid refuses its
    folder with the reason."""
    out = []
    for config in configs:
        folder = RunFolder(Path(runs_dir) / config.run_name())
        recorded = folder.recorded_config() if folder.finished() else None
        covers = (recorded is not None and recorded.run_id() == config.run_id()
                  and folder.metrics()["steps"] >= compare_steps)
        out.append(recorded if covers else config)
    return out


def summarise(runs_dir: str | Path, configs, compare_steps: int = COMPARE_STEPS) -> pd.DataFrame:
    """One row per setting and R: its best validation error within ``compare_steps`` updates,
    the update it was reached at, and whether its setting (learning rate, half-life, η, and
    weight decay, dropout, glimpse order, encoder width, λ and S where the runs differ in
    them) is the one chosen, by mean rank over the R."""
    runs = load_runs(runs_dir)
    runs = runs[runs["run"].isin({c.run_name() for c in configs})]
    histories = load_histories(runs_dir, runs)
    histories = histories[histories["step"] <= compare_steps]
    rows = []
    for name, history in histories.groupby("run"):
        run = runs[runs["run"] == name].iloc[0]
        best = history.loc[history["valid_error"].idxmin()]
        rows.append({"R": int(run["hidden_units"]), "fast_lr": float(run["fast_lr"]),
                     "learning_rate": float(run["learning_rate"]),
                     "lr_half_life": int(run["lr_half_life"]),
                     "weight_decay": float(run["weight_decay"]),
                     "dropout": float(run["dropout"]),
                     "order": run["order"], "encoder_units": int(run["encoder_units"]),
                     "decay": float(run["decay"]), "inner_steps": int(run["inner_steps"]),
                     "valid_error": float(best["valid_error"]), "at_step": int(best["step"]),
                     "updates_compared": int(history["step"].max())})
    summary = pd.DataFrame(rows).sort_values(["R", "valid_error"]).reset_index(drop=True)
    kinds = sorted(runs["model"].unique())
    if kinds != ["fast_weights"]:  # another model: named, and without η
        if len(kinds) > 1:
            raise ValueError(f"a search compares settings of one model (got {kinds})")
        summary = summary.drop(columns="fast_lr")
        summary.insert(0, "model", kinds[0])
    # shown only where the runs differ
    optional = ("weight_decay", "dropout", "order", "encoder_units", "decay", "inner_steps")
    varied = [column for column in optional if summary[column].nunique() > 1]
    summary = summary.drop(columns=[c for c in optional if c not in varied])
    mean_rank = summary.assign(rank=summary.groupby("R")["valid_error"].rank())
    setting = ["learning_rate", "lr_half_life", *(["fast_lr"] if "fast_lr" in summary else []),
               *varied]
    scores = mean_rank.groupby(setting).agg(rank=("rank", "mean"), error=("valid_error", "mean"))
    chosen = scores.sort_values(["rank", "error"]).index[0]  # ties: the lower mean error
    summary["chosen"] = [tuple(row) == chosen
                         for row in summary[setting].itertuples(index=False)]
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fast_weights", choices=MODEL_KINDS)
    parser.add_argument("--fast-lrs", type=float, nargs="+", default=list(FAST_LRS))
    parser.add_argument("--units", type=int, nargs="+", default=list(UNITS))
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[3e-3])
    parser.add_argument("--lr-half-lives", type=int, nargs="+", default=[0])
    parser.add_argument("--weight-decays", type=float, nargs="+", default=[0.0])
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.0])
    parser.add_argument("--orders", nargs="+", default=[DEFAULT_ORDER])
    parser.add_argument("--encoder-units", type=int, nargs="+", default=[DEFAULT_ENCODER])
    parser.add_argument("--decays", type=float, nargs="+", default=[DEFAULT_DECAY])
    parser.add_argument("--inner-steps", type=int, nargs="+", default=[DEFAULT_INNER_STEPS])
    parser.add_argument("--max-steps", type=int, default=COMPARE_STEPS)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "results" / "selection" / "mnist_glimpses")
    args = parser.parse_args(argv)
    try:  # every setting checked before anything is trained or written
        configs = selection_grid(args.fast_lrs, args.units, args.max_steps, args.learning_rates,
                                 lr_half_lives=args.lr_half_lives, orders=args.orders,
                                 encoder_units=args.encoder_units,
                                 weight_decays=args.weight_decays, dropouts=args.dropouts,
                                 model=args.model, decays=args.decays,
                                 inner_steps=args.inner_steps)
    except ValueError as error:
        parser.error(str(error))
    configs = reuse_recorded(configs, args.out / "runs", args.max_steps)
    run_grid(configs, args.out / "runs", workers=args.workers,
             title=f"{MODEL_LABELS[args.model]} settings")
    summary = summarise(args.out / "runs", configs, args.max_steps)
    summary.to_csv(args.out / "summary.csv", index=False)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
