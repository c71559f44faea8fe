"""Do the trained fast-weights models of Table 2 use their fast weights?

For each fast-weights run: its kept weights evaluated on the validation split twice, once as
trained and once with the fast-weight learning rate η set to 0 at test time (A(t) stays 0, so
every step sees only the slow weights). The first must give back the run's recorded
validation error; the gap to the second is what the fast weights contribute. A model whose
error barely moves without them has learned to do without them (an η so small that they
are switched off in effect); a large rise means the model relies on them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from fwlib.run.folder import RunFolder

COLUMNS = ("run", "hidden_units", "seed", "fast_lr", "valid_error_recorded", "valid_error",
           "valid_error_without_fast_weights")


def _errors(model, x, y, batch_size: int = 1000) -> float:
    logits = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                             for i in range(0, len(y), batch_size)])
    return float(np.mean(np.argmax(logits, axis=-1) != y))


def without_fast_weights(run_dir) -> dict:
    """One row (see ``COLUMNS``) for the finished fast-weights run in ``run_dir``."""
    folder = RunFolder(run_dir)
    config = folder.recorded_config()
    if config is None or not folder.finished():
        raise ValueError(f"{folder.path} holds no finished run")
    if config.model.kind != "fast_weights":
        raise ValueError(f"run {folder.path.name} is a {config.model.kind} run, "
                         "not fast_weights")
    best = folder.best_weights()
    if best is None:
        raise ValueError(f"run {folder.path.name} kept no weights (it diverged at once)")
    x, y = config.task.splits()["valid"]
    errors = {}
    for name, fast_lr in (("valid_error", config.model.fast_lr),
                          ("valid_error_without_fast_weights", 0.0)):
        model = config.task.build_model(dataclasses.replace(config.model, fast_lr=fast_lr))
        model.load_weights(best)
        errors[name] = _errors(model, x, y)
    return {"run": folder.path.name, "hidden_units": config.model.hidden_units,
            "seed": config.seed, "fast_lr": config.model.fast_lr,
            "valid_error_recorded": folder.metrics()["valid_error"], **errors}


def table(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`without_fast_weights` for every finished fast-weights run of ``runs`` (a
    :func:`fwlib.run.store.load_runs` frame), by R and seed."""
    chosen = runs[runs["model"] == "fast_weights"].sort_values(["hidden_units", "seed"])
    rows = [without_fast_weights(run_dir) for run_dir in chosen["run_dir"]]
    return pd.DataFrame(rows, columns=list(COLUMNS))
