"""Training: one validated config -> one run directory, resumable after any interruption.

A run directory holds ``config.json`` (what was asked), ``history.csv`` (one row per
evaluation), ``state.json`` plus checkpoint files while it runs, and ``metrics.json`` once it
has finished. A finished run is never trained again; an interrupted one resumes from its last
checkpoint and ends with the same numbers as a run that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fwlib.data import associative
from fwlib.models import IMPLEMENTATIONS, INDEXINGS, MODEL_KINDS
from fwlib.provenance import environment

HISTORY_COLUMNS = ("step", "train_loss", "valid_loss", "valid_error", "wall_seconds")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run. Validated by :meth:`validate` before any work."""

    model: str = "fast_weights"  # fast_weights, irnn, lstm, rnn_ln, alstm
    hidden_units: int = 50  # R
    decay: float = 0.95  # λ
    fast_lr: float = 0.5  # η
    inner_steps: int = 1  # S
    layer_norm: bool = True
    implementation: str = "attention"  # attention or matrix (same function)
    indexing: str = "current"  # does A used for h(t+1) hold h(t)? current: yes
    num_copies: int = 4  # A-LSTM memory copies
    num_pairs: int = 4  # K
    data_seed: int = 0
    learning_rate: float = 1e-3  # Adam
    clip_norm: float = 5.0  # global gradient-norm clipping; 0 turns it off
    batch_size: int = 128
    max_steps: int = 20_000  # parameter updates at most
    eval_every: int = 500  # updates between validation evaluations (and checkpoints)
    patience: int = 6_000  # stop after this many updates without a better validation error
    target_error: float = 0.0  # stop once validation error is at or below this
    steps_per_execution: int = 50
    seed: int = 0
    extra: dict = field(default_factory=dict)  # free-form labels, e.g. the ablation name

    def validate(self) -> TrainConfig:
        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer (got {value!r})")

        def choice(name: str, allowed) -> None:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)} "
                                 f"(got {getattr(self, name)!r})")

        choice("model", MODEL_KINDS)
        choice("implementation", IMPLEMENTATIONS)
        choice("indexing", INDEXINGS)
        for name in ("hidden_units", "inner_steps", "num_copies", "batch_size", "max_steps",
                     "eval_every", "patience", "steps_per_execution"):
            positive_int(name)
        if not isinstance(self.num_pairs, int) or not 1 <= self.num_pairs <= 26:
            raise ValueError(f"num_pairs must be an integer in 1..26 (got {self.num_pairs!r})")
        for name in ("seed", "data_seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer (got {value!r})")
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"decay must be in [0, 1] (got {self.decay!r})")
        if not self.fast_lr >= 0.0:
            raise ValueError(f"fast_lr must be >= 0 (got {self.fast_lr!r})")
        if not 0.0 < self.learning_rate < 1.0:
            raise ValueError(f"learning_rate must be in (0, 1) (got {self.learning_rate!r})")
        if not self.clip_norm >= 0.0:
            raise ValueError(f"clip_norm must be >= 0 (got {self.clip_norm!r})")
        if not 0.0 <= self.target_error < 1.0:
            raise ValueError(f"target_error must be in [0, 1) (got {self.target_error!r})")
        if not isinstance(self.layer_norm, bool):
            raise ValueError(f"layer_norm must be true or false (got {self.layer_norm!r})")
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps must be a multiple of eval_every={self.eval_every} "
                             f"(got {self.max_steps})")
        if self.batch_size > associative.SPLIT_SIZES["train"]:
            raise ValueError(f"batch_size must be at most {associative.SPLIT_SIZES['train']} "
                             f"(got {self.batch_size})")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training parameter(s) {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    def run_name(self) -> str:
        """A folder name that says what the run is: model, R, what differs from defaults, seed."""
        base = TrainConfig()
        parts = [self.model, f"R{self.hidden_units}"]
        labels = {"decay": "decay", "fast_lr": "eta", "inner_steps": "S", "num_pairs": "K",
                  "indexing": "idx", "implementation": "impl", "num_copies": "copies",
                  "learning_rate": "lr", "batch_size": "batch"}
        for name, label in labels.items():
            if getattr(self, name) != getattr(base, name):
                parts.append(f"{label}{getattr(self, name)}")
        if not self.layer_norm:
            parts.append("noLN")
        parts.append(f"seed{self.seed}")
        return "_".join(parts)


def _model_kwargs(config: TrainConfig) -> dict:
    return dict(decay=config.decay, fast_lr=config.fast_lr, inner_steps=config.inner_steps,
                layer_norm=config.layer_norm, implementation=config.implementation,
                indexing=config.indexing, num_copies=config.num_copies)


def build_compiled_model(config: TrainConfig):
    """The classifier of ``config``, compiled with Adam, XLA and ``steps_per_execution``."""
    import keras  # noqa: PLC0415

    from fwlib.models import build_model  # noqa: PLC0415

    model = build_model(config.model, config.hidden_units, num_pairs=config.num_pairs,
                        **_model_kwargs(config))
    optimizer = keras.optimizers.Adam(config.learning_rate,
                                      global_clipnorm=config.clip_norm or None)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=True,
                  steps_per_execution=math.gcd(config.steps_per_execution, config.eval_every))
    optimizer.build(model.trainable_variables)
    return model


def batch_order(num_examples: int, batch_size: int, num_steps: int, seed: int) -> np.ndarray:
    """Example indices for each update, ``[num_steps, batch_size]``: a fresh permutation of the
    training set per pass, dropping the incomplete last batch. Depends only on the seed."""
    per_pass = num_examples // batch_size
    passes = -(-num_steps // per_pass)
    rows = [np.random.default_rng([seed, p]).permutation(num_examples)[: per_pass * batch_size]
            for p in range(passes)]
    return np.concatenate(rows).reshape(-1, batch_size)[:num_steps].astype(np.int32)


def training_dataset(x, y, order: np.ndarray, block: int = 1):
    """``tf.data`` batches ``(x[order[i]], y[order[i]])`` for each row i of ``order``, in order.

    Rows are gathered ``block`` at a time (one gather per ``block`` updates), which keeps the
    input pipeline's cost to a few per cent of a training step on a CPU.
    """
    import tensorflow as tf  # noqa: PLC0415

    if len(order) % block:
        raise ValueError(f"block must divide the number of batches ({len(order)}); "
                         f"got {block}")
    x_const, y_const = tf.constant(x), tf.constant(y)
    blocks = order.reshape(-1, block, order.shape[-1])
    return (tf.data.Dataset.from_tensor_slices(blocks)
            .map(lambda idx: (tf.gather(x_const, idx), tf.gather(y_const, idx)))
            .unbatch()
            .prefetch(tf.data.AUTOTUNE))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_history(run_dir: Path, rows: list[dict]) -> None:
    lines = [",".join(HISTORY_COLUMNS)]
    lines += [",".join(repr(row[c]) if isinstance(row[c], float) else str(row[c])
                       for c in HISTORY_COLUMNS) for row in rows]
    _atomic_write(run_dir / "history.csv", "\n".join(lines) + "\n")


def _interactive() -> bool:
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def prepare_run_dir(config: TrainConfig, run_dir: Path) -> bool:
    """Check ``run_dir`` against ``config``; True when the run there has already finished."""
    config_path = run_dir / "config.json"
    if config_path.exists():
        recorded = json.loads(config_path.read_text())
        if recorded != config.to_dict():
            raise ValueError(f"run_dir {run_dir} holds a run with another config; "
                             "use another directory or delete it")
        return (run_dir / "metrics.json").exists()
    return False


def train(config: TrainConfig, run_dir: str | os.PathLike, progress: bool | None = None) -> dict:
    """Train ``config`` in ``run_dir`` (resuming if a checkpoint is there); return its metrics.

    Evaluates on the validation split every ``eval_every`` updates, keeps the weights with the
    lowest validation error, stops at ``max_steps``, when validation error reaches
    ``target_error``, or after ``patience`` updates without improvement, and reports the
    **test** error of the kept weights.
    """
    config.validate()
    run_dir = Path(run_dir)
    if prepare_run_dir(config, run_dir):
        return json.loads((run_dir / "metrics.json").read_text())

    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    keras.utils.set_random_seed(config.seed)
    splits = associative.load_splits(config.num_pairs, config.data_seed)
    x_train, y_train = splits["train"]

    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(run_dir / "config.json", json.dumps(config.to_dict(), indent=2))
    model = build_compiled_model(config)

    state = {"step": 0, "best_valid_error": None, "best_step": 0, "train_seconds": 0.0,
             "history": [], "checkpoint": None, "best_weights": None, "stopped": None}
    state_path = run_dir / "state.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
        model.load_weights(run_dir / state["checkpoint"])
        optimizer_state = np.load(run_dir / state["checkpoint"].replace(".weights.h5", ".opt.npz"))
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(optimizer_state[f"v{i}"])

    order = batch_order(len(y_train), config.batch_size, config.max_steps, config.seed)
    start = state["step"]
    dataset = training_dataset(x_train, y_train, order[start:],
                               block=math.gcd(config.steps_per_execution, config.eval_every))
    valid = tf.data.Dataset.from_tensor_slices(splits["valid"]).batch(1000).cache()

    callback = _EvalCheckpoint(config, run_dir, state, progress)
    if start < config.max_steps and not state["stopped"]:
        model.fit(dataset, validation_data=valid,
                  initial_epoch=start // config.eval_every,
                  epochs=config.max_steps // config.eval_every,
                  steps_per_epoch=config.eval_every, callbacks=[callback], shuffle=False,
                  verbose=0)
    callback.close()
    state = callback.state

    model.load_weights(run_dir / state["best_weights"])
    test = tf.data.Dataset.from_tensor_slices(splits["test"]).batch(1000)
    test_eval = model.evaluate(test, verbose=0, return_dict=True)
    steps = state["step"]
    metrics = {
        "model": config.model, "hidden_units": config.hidden_units, "seed": config.seed,
        "test_error": 1.0 - float(test_eval["accuracy"]), "test_loss": float(test_eval["loss"]),
        "valid_error": state["best_valid_error"], "best_step": state["best_step"],
        "steps": steps, "stopped": state["stopped"] or "budget",
        "wall_seconds": state["train_seconds"],
        "examples_per_second": steps * config.batch_size / max(state["train_seconds"], 1e-9),
        "num_params": int(model.count_params()),
        **environment(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _atomic_write(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    for name in (state["checkpoint"], state["checkpoint"].replace(".weights.h5", ".opt.npz"),
                 "state.json"):
        (run_dir / name).unlink(missing_ok=True)
    return metrics


def _keras_callback_base():
    import keras  # noqa: PLC0415

    return keras.callbacks.Callback


class _EvalCheckpoint(_keras_callback_base()):
    """At every evaluation: record history, keep the best weights, checkpoint, stop early."""

    def __init__(self, config: TrainConfig, run_dir: Path, state: dict, progress: bool | None):
        super().__init__()
        self.config, self.run_dir, self.state = config, run_dir, state
        self.bar = None
        if progress or (progress is None and _interactive()):
            from tqdm import tqdm  # noqa: PLC0415

            self.bar = tqdm(total=config.max_steps, initial=state["step"], unit="step",
                            desc=config.run_name(), file=sys.stderr, dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        config, state = self.config, self.state
        step = (epoch + 1) * config.eval_every
        state["train_seconds"] += time.perf_counter() - self.started
        valid_error = 1.0 - float(logs["val_accuracy"])
        state["history"].append({"step": step, "train_loss": float(logs["loss"]),
                                 "valid_loss": float(logs["val_loss"]),
                                 "valid_error": valid_error,
                                 "wall_seconds": round(state["train_seconds"], 3)})
        state["step"] = step
        if state["best_valid_error"] is None or valid_error < state["best_valid_error"]:
            state["best_valid_error"], state["best_step"] = valid_error, step
            best = f"best_{step:07d}.weights.h5"
            self.model.save_weights(self.run_dir / best)
            previous_best, state["best_weights"] = state["best_weights"], best
        else:
            previous_best = None
        if valid_error <= config.target_error:
            state["stopped"] = "target"
        elif step - state["best_step"] >= config.patience:
            state["stopped"] = "patience"
        if state["stopped"]:
            self.model.stop_training = True

        checkpoint = f"ckpt_{step:07d}.weights.h5"
        self.model.save_weights(self.run_dir / checkpoint)
        np.savez(self.run_dir / checkpoint.replace(".weights.h5", ".opt.npz"),
                 **{f"v{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)})
        previous_checkpoint, state["checkpoint"] = state["checkpoint"], checkpoint
        _atomic_write(self.run_dir / "state.json", json.dumps(state))  # the commit point
        _write_history(self.run_dir, state["history"])
        if previous_checkpoint:
            (self.run_dir / previous_checkpoint).unlink(missing_ok=True)
            (self.run_dir / previous_checkpoint.replace(".weights.h5", ".opt.npz")).unlink(
                missing_ok=True)
        if previous_best:
            (self.run_dir / previous_best).unlink(missing_ok=True)
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix(valid_error=f"{valid_error:.2%}", loss=f"{logs['loss']:.3f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
