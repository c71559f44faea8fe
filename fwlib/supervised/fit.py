"""Supervised training for any classification task: one config -> one run folder.

The task (``config.task``) gives the train / validation / test splits and the model (inputs
to logits); this loop is the same for every task. It evaluates on the validation split every
``eval_every`` updates, keeps the weights with the lowest validation error, stops at
``max_steps``, when the validation error reaches ``target_error``, after ``patience`` updates
without improvement, or at once when the loss turns NaN or infinite (the run is then recorded
as diverged), and reports the **test** error of the kept weights: the test split is read once,
at the end, and never for a choice.

An interrupted run resumes from its last checkpoint and ends with the same numbers as a run
that was never interrupted.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from fwlib.notebook import interactive
from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder
from fwlib.run.provenance import code_version, environment
from fwlib.run.seeding import seed_everything

HISTORY_COLUMNS = ("step", "train_loss", "valid_loss", "valid_error", "wall_seconds")


def build_compiled_model(config: RunConfig):
    """The task's model for ``config``, compiled by :func:`compile_model`."""
    return compile_model(config.task.build_model(config.model), config)


def compile_model(model, config: RunConfig):
    """``model`` compiled as ``config`` trains it: Adam, XLA and ``steps_per_execution``
    (under JAX, which compiles every step with XLA, the steps of one execution are separate
    compiled calls). With ``weight_decay``, only the weight matrices (variables of two or
    more dimensions) decay. A model spec with ``xla`` false (Table 2's) trains under
    TensorFlow without XLA; JAX has no other compiler, so there it is ignored."""
    import keras  # noqa: PLC0415

    weight_decay = config.optim.weight_decay
    optimizer = keras.optimizers.Adam(config.optim.keras_learning_rate(),
                                      global_clipnorm=config.optim.clip_norm or None,
                                      weight_decay=weight_decay or None)
    if weight_decay:
        optimizer.exclude_from_weight_decay(
            var_list=[v for v in model.trainable_variables if len(v.shape) < 2])
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=(getattr(config.model, "xla", True)
                               or keras.backend.backend() != "tensorflow"),
                  steps_per_execution=math.gcd(config.budget.steps_per_execution,
                                               config.budget.eval_every))
    optimizer.build(model.trainable_variables)
    return model


def batch_order(num_examples: int, batch_size: int, num_steps: int, seed: int) -> np.ndarray:
    """Example indices for each update, ``[num_steps, batch_size]``: a fresh permutation of the
    training set per pass, dropping the incomplete last batch. Depends only on the seed, and a
    longer budget extends a shorter one's order."""
    per_pass = num_examples // batch_size
    passes = -(-num_steps // per_pass)
    rows = [np.random.default_rng([seed, p]).permutation(num_examples)[: per_pass * batch_size]
            for p in range(passes)]
    return np.concatenate(rows).reshape(-1, batch_size)[:num_steps].astype(np.int32)


def training_dataset(x, y, order: np.ndarray, block: int = 1):
    """Batches ``(x[order[i]], y[order[i]])`` for each row i of ``order``, in order, for
    ``model.fit``: a ``tf.data`` pipeline under the TensorFlow backend, a generator of NumPy
    batches under the others.

    ``tf.data`` gathers rows ``block`` at a time (one gather per ``block`` updates), which
    keeps the input pipeline's cost to a few per cent of a training step on a CPU.
    """
    import keras  # noqa: PLC0415

    if len(order) % block:
        raise ValueError(f"block must divide the number of batches ({len(order)}); "
                         f"got {block}")
    if keras.backend.backend() != "tensorflow":
        return ((x[rows], y[rows]) for rows in order)

    import tensorflow as tf  # noqa: PLC0415

    x_const, y_const = tf.constant(x), tf.constant(y)
    blocks = order.reshape(-1, block, order.shape[-1])
    return one_thread(tf.data.Dataset.from_tensor_slices(blocks)
                      .map(lambda idx: (tf.gather(x_const, idx), tf.gather(y_const, idx)))
                      .unbatch()
                      .prefetch(2))


def evaluation_data(x, y, batch_size: int = 1000, cache: bool = False):
    """A validation or test split in batches, for ``model.fit`` or ``model.evaluate``: a
    ``tf.data`` dataset under the TensorFlow backend (``cache`` keeps its batches), a
    ``keras.utils.PyDataset`` of NumPy batches under the others."""
    import keras  # noqa: PLC0415

    if keras.backend.backend() != "tensorflow":
        return _ArrayBatches(x, y, batch_size)
    import tensorflow as tf  # noqa: PLC0415

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    return one_thread(dataset.cache() if cache else dataset)


def _py_dataset_base():
    import keras  # noqa: PLC0415

    return keras.utils.PyDataset


class _ArrayBatches(_py_dataset_base()):
    """``(x, y)`` in consecutive batches of ``batch_size`` (the last one may be smaller)."""

    def __init__(self, x, y, batch_size: int):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __getitem__(self, index: int):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def one_thread(dataset):
    """``dataset`` with a private pool of one thread and no autotuning.

    By default ``tf.data`` uses a pool as large as the machine, and runs side by side then
    compete for each other's cores. Its autotuning thread, besides, can hold up the end of
    ``model.fit`` for many seconds while the iterator is torn down, when the run trains in a
    worker thread (as in a Dask worker); with the fixed prefetch buffer there is nothing for
    it to tune.
    """
    import tensorflow as tf  # noqa: PLC0415

    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    options.autotune.enabled = False
    return dataset.with_options(options)


def _fresh_state() -> dict:
    return {"step": 0, "best_valid_error": None, "best_step": 0, "train_seconds": 0.0,
            "history": [], "checkpoint": None, "best_weights": None, "stopped": None,
            "starts": []}


def train(config: RunConfig, run_dir: str | Path, progress: bool | None = None) -> dict:
    """Train ``config`` in ``run_dir`` (resuming if a checkpoint is there); return its metrics.

    A finished run is not trained again: its recorded metrics are returned.
    """
    config.validate()
    folder = RunFolder(run_dir)
    if folder.check(config):
        return folder.metrics()

    import keras  # noqa: PLC0415

    budget = config.budget
    seed_everything(config.seed)
    splits = config.task.splits()
    x_train, y_train = splits["train"]

    state = folder.read_state()
    backend = keras.backend.backend()
    folder.check_backend(state, backend)
    if state is not None and state.get("eval_every") not in (None, budget.eval_every):
        raise ValueError(f"eval_every must stay {state['eval_every']} to resume the run in "
                         f"{folder.path} (got {budget.eval_every})")
    folder.write_config(config)
    model = build_compiled_model(config)
    if state is None:
        state = _fresh_state()
    else:
        model.load_weights(folder.path / state["checkpoint"])
        optimizer_state = np.load(folder.path / _optimizer_file(state["checkpoint"]))
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(optimizer_state[f"v{i}"])
        for i, variable in enumerate(random_state(model)):
            variable.assign(optimizer_state[f"r{i}"])
    state["eval_every"] = budget.eval_every
    folder.record_start(state, code_version(), backend)
    data_digest = config.task.data_digest(splits)

    order = batch_order(len(y_train), config.optim.batch_size, budget.max_steps, config.seed)
    start = state["step"]
    callback = _EvalCheckpoint(config, folder, state, progress)
    if start < budget.max_steps and not state["stopped"]:
        dataset = training_dataset(x_train, y_train, order[start:],
                                   block=math.gcd(budget.steps_per_execution, budget.eval_every))
        valid = evaluation_data(*splits["valid"], cache=True)
        model.fit(dataset, validation_data=valid,
                  initial_epoch=start // budget.eval_every,
                  epochs=budget.max_steps // budget.eval_every,
                  steps_per_epoch=budget.eval_every, callbacks=[callback], shuffle=False,
                  verbose=0)
    callback.close()
    state = callback.state

    test_error = test_loss = None
    if state["best_weights"]:
        model.load_weights(folder.path / state["best_weights"])
        test_eval = model.evaluate(evaluation_data(*splits["test"]), verbose=0,
                                   return_dict=True)
        test_error, test_loss = 1.0 - float(test_eval["accuracy"]), float(test_eval["loss"])
    steps = state["step"]
    metrics = {
        "model": config.model.kind, "hidden_units": config.model.hidden_units,
        "seed": config.seed, "run_id": config.run_id(),
        "test_error": test_error, "test_loss": test_loss,
        "valid_error": state["best_valid_error"], "best_step": state["best_step"],
        "steps": steps, "stopped": state["stopped"] or "budget",
        "diverged": state["stopped"] == "diverged",
        "budget": {"max_steps": budget.max_steps, "patience": budget.patience,
                   "target_error": budget.target_error, "eval_every": budget.eval_every},
        "wall_seconds": state["train_seconds"],
        "examples_per_second": steps * config.optim.batch_size / max(state["train_seconds"],
                                                                     1e-9),
        "num_params": int(model.count_params()),
        "data_digest": data_digest,
        **environment(),
        "code_version": state["starts"][0]["code_version"],
        "starts": state["starts"],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    folder.write_json("metrics.json", metrics)
    folder.prune(state["best_weights"])
    folder.remove("state.json")
    return metrics


def random_state(model) -> list:
    """The model's random-number state (the seed generators of its dropout layers), which
    ``save_weights`` leaves out: it is checkpointed beside the optimiser's state, so a resumed
    run draws the dropout masks that an uninterrupted one would."""
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _optimizer_file(checkpoint: str) -> str:
    return checkpoint.replace(".weights.h5", ".opt.npz")


def _keras_callback_base():
    import keras  # noqa: PLC0415

    return keras.callbacks.Callback


class _EvalCheckpoint(_keras_callback_base()):
    """At every evaluation: record history, keep the best weights, checkpoint, stop early.
    After every compiled call: stop at once when the loss is no longer finite."""

    def __init__(self, config: RunConfig, folder: RunFolder, state: dict,
                 progress: bool | None):
        super().__init__()
        self.config, self.folder, self.state = config, folder, state
        self.bar = None
        if progress or (progress is None and interactive()):
            from tqdm.auto import tqdm  # noqa: PLC0415

            self.bar = tqdm(total=config.budget.max_steps, initial=state["step"], unit="step",
                            desc=config.run_name(), file=sys.stderr, dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if logs and not math.isfinite(float(logs["loss"])):
            self.model.stop_training = True
            self.diverged_in_epoch = True

    def on_epoch_end(self, epoch, logs=None):
        state, budget = self.state, self.config.budget
        step = (epoch + 1) * budget.eval_every
        state["train_seconds"] += time.perf_counter() - self.started
        losses = (float(logs["loss"]), float(logs.get("val_loss", math.nan)))
        diverged = getattr(self, "diverged_in_epoch", False) or not all(
            math.isfinite(v) for v in losses)
        valid_error = 1.0 - float(logs["val_accuracy"]) if "val_accuracy" in logs else math.nan
        state["history"].append({"step": step, "train_loss": losses[0],
                                 "valid_loss": losses[1], "valid_error": valid_error,
                                 "wall_seconds": round(state["train_seconds"], 3)})
        state["step"] = step
        if diverged:  # no weights of this evaluation are kept: they may hold NaN
            state["stopped"] = "diverged"
            self.model.stop_training = True
            self.folder.write_history(state["history"], HISTORY_COLUMNS)
            self._update_bar(step, valid_error, losses[0])
            return
        if state["best_valid_error"] is None or valid_error < state["best_valid_error"]:
            state["best_valid_error"], state["best_step"] = valid_error, step
            best = f"best_{step:07d}.weights.h5"
            self.model.save_weights(self.folder.path / best)
            state["best_weights"] = best
        reason = budget.stop_reason(step, valid_error, state["best_valid_error"],
                                    state["best_step"])
        if reason in ("target", "patience"):  # the budget's end is model.fit's
            state["stopped"] = reason
        if state["stopped"]:
            self.model.stop_training = True

        checkpoint = f"ckpt_{step:07d}.weights.h5"
        self.model.save_weights(self.folder.path / checkpoint)
        np.savez(self.folder.path / _optimizer_file(checkpoint),
                 **{f"v{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)},
                 **{f"r{i}": np.asarray(v) for i, v in enumerate(random_state(self.model))})
        state["checkpoint"] = checkpoint
        self.folder.write_json("state.json", state)  # the commit point
        self.folder.write_history(state["history"], HISTORY_COLUMNS)
        self.folder.prune(checkpoint, _optimizer_file(checkpoint), state["best_weights"])
        self._update_bar(step, valid_error, losses[0])

    def _update_bar(self, step, valid_error, loss):
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix(valid_error=f"{valid_error:.2%}", loss=f"{loss:.3f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
