"""A2C training for any task with a batched game and an agent: one config -> one run folder.

Each update plays ``num_envs`` fresh episodes to their end (every episode of the game lasts
``episode_length`` steps), sampling actions from the policy, then takes one Adam step on the
A2C loss of :class:`fwlib.rl.config.A2CSpec` over the whole batch of episodes. Every random
draw of update ``u`` comes from the seed ``[seed, 0, u]`` (the games' starts and the sampled
actions), so a run depends on its seed alone, and a resumed run on nothing else either.

Every ``eval_every`` frames: a row of ``history.csv`` (frames, the mean reward and catch rate
of the training episodes since the last row, the greedy catch rate on ``eval_episodes`` fixed
evaluation games, the losses, the wall-clock) and a checkpoint, ``state.json`` being the commit
point. The run stops at ``max_steps`` frames, or at once when a loss turns NaN or infinite
(recorded as diverged).

The evaluation games are the run's validation split and the final games its test split, as
for the supervised tasks: the weights kept (``best_<frames>.npz``) are those of the evaluation
with the highest catch rate (the earliest on a tie), and the run's ``catch_rate`` is their
greedy catch rate over ``final_episodes`` fresh games, whose seeds are never used for training
or for the evaluations. The last weights' catch rate on the same games is recorded beside it
(``last_weights_catch_rate``), as A2C's policy can swing between evaluations.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from fwlib.notebook import interactive
from fwlib.rl.returns import n_step_returns
from fwlib.run.config import RunConfig
from fwlib.run.folder import RunFolder
from fwlib.run.provenance import code_version, environment
from fwlib.run.seeding import seed_everything

HISTORY_COLUMNS = ("frames", "train_reward", "train_catch_rate", "eval_catch_rate",
                   "policy_loss", "value_loss", "entropy", "wall_seconds")
# Seed streams: [seed, stream, index]; never shared between training and evaluation.
TRAIN_STREAM, EVAL_STREAM, FINAL_STREAM = 0, 1, 2
NUM_ACTIONS = 3  # the one-hot previous action is part of the agent's input


def game_seeds(seed: int, stream: int, index: int, count: int) -> np.ndarray:
    """``count`` game seeds of stream ``stream`` (training, evaluation, final), batch ``index``."""
    return np.random.default_rng([seed, stream, index]).integers(2**31, size=count)


def sample_actions(logits: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Actions drawn from softmax(logits) by inverting its CDF at ``uniforms`` (one per row)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    cdf = np.cumsum(probs, axis=-1)
    return np.minimum((uniforms[:, None] > cdf).sum(axis=-1), logits.shape[-1] - 1)


def a2c_losses(logits, values, actions, returns, optim):
    """The A2C loss of whole episodes, and its parts (policy loss, value loss, entropy):
    ``policy_loss + value_cost · value_loss − entropy_cost · entropy``, the advantage
    ``returns − values`` held constant in the policy loss."""
    from keras import ops  # noqa: PLC0415

    log_probs = ops.log_softmax(logits)
    taken = ops.sum(log_probs * ops.one_hot(actions, logits.shape[-1]), axis=-1)
    advantage = ops.stop_gradient(returns - values)
    policy_loss = -ops.mean(taken * advantage)
    value_loss = 0.5 * ops.mean(ops.square(returns - values))
    entropy = -ops.mean(ops.sum(ops.exp(log_probs) * log_probs, axis=-1))
    loss = policy_loss + optim.value_cost * value_loss - optim.entropy_cost * entropy
    return loss, (policy_loss, value_loss, entropy)


class Learner:
    """The agent, its optimiser and its compiled acting and learning steps: ``tf.function``
    with XLA under the TensorFlow backend, ``jax.jit`` of Keras's stateless calls under JAX."""

    def __init__(self, config: RunConfig):
        import keras  # noqa: PLC0415

        self.config, self.optim = config, config.optim
        self.agent = config.task.build_agent(config.model)
        self.optimizer = keras.optimizers.Adam(self.optim.learning_rate,
                                               global_clipnorm=self.optim.clip_norm or None)
        self.optimizer.build(self.agent.trainable_variables)
        backend = keras.backend.backend()
        if backend == "tensorflow":
            self._compile_tensorflow()
        elif backend == "jax":
            self._compile_jax()
        else:
            raise ValueError(f"the A2C learner runs under the tensorflow or jax backend "
                             f"(KERAS_BACKEND={backend})")

    def _compile_tensorflow(self) -> None:
        import tensorflow as tf  # noqa: PLC0415

        agent, optimizer = self.agent, self.optimizer

        def learn(observations, actions, returns):
            with tf.GradientTape() as tape:
                logits, values = agent(observations)
                loss, parts = a2c_losses(logits, values, actions, returns, self.optim)
            grads = tape.gradient(loss, agent.trainable_variables)
            optimizer.apply_gradients(zip(grads, agent.trainable_variables, strict=True))
            return parts

        self.act = tf.function(agent.step, jit_compile=True, reduce_retracing=True)
        self.learn = tf.function(learn, jit_compile=True, reduce_retracing=True)

    def _compile_jax(self) -> None:
        """The steps as pure functions of the variables' values (``stateless_call``,
        ``stateless_apply``), compiled with ``jax.jit``; ``learn`` writes the new values back
        into the agent's and the optimiser's variables, so checkpoints read them as usual."""
        import jax  # noqa: PLC0415
        import keras  # noqa: PLC0415

        agent, optimizer = self.agent, self.optimizer

        def act(trainable, non_trainable, observation, state):
            mapping = [*zip(agent.trainable_variables, trainable, strict=True),
                       *zip(agent.non_trainable_variables, non_trainable, strict=True)]
            with keras.StatelessScope(state_mapping=mapping):
                return agent.step(observation, state)

        def loss(trainable, non_trainable, observations, actions, returns):
            # the agent's non-trainable variables (none today) are read, never updated
            (logits, values), _ = agent.stateless_call(trainable, non_trainable, observations)
            return a2c_losses(logits, values, actions, returns, self.optim)

        def learn(trainable, non_trainable, optimizer_state, observations, actions, returns):
            (_, parts), grads = jax.value_and_grad(loss, has_aux=True)(
                trainable, non_trainable, observations, actions, returns)
            trainable, optimizer_state = optimizer.stateless_apply(optimizer_state, grads,
                                                                   trainable)
            return trainable, optimizer_state, parts

        act_jit, learn_jit = jax.jit(act), jax.jit(learn)

        def values(variables):
            return [variable.value for variable in variables]

        def act_step(observation, state):
            return act_jit(values(agent.trainable_variables),
                           values(agent.non_trainable_variables), observation, state)

        def learn_step(observations, actions, returns):
            trainable, optimizer_state, parts = learn_jit(
                values(agent.trainable_variables), values(agent.non_trainable_variables),
                values(optimizer.variables), observations, actions, returns)
            for variable, value in zip(agent.trainable_variables, trainable, strict=True):
                variable.assign(value)
            for variable, value in zip(optimizer.variables, optimizer_state, strict=True):
                variable.assign(value)
            return parts

        self.act, self.learn = act_step, learn_step

    def play(self, env, seeds, uniforms=None):
        """Play ``len(seeds)`` episodes to their end: sampled actions where ``uniforms``
        (``[T, batch]``) are given, greedy ones otherwise. The agent's input at each step is
        the flattened screen and the one-hot action it took before (zeros at the start).
        Returns inputs ``[batch, T, D]``, actions, values and rewards ``[T, batch]``."""
        batch = len(seeds)
        screen = env.reset(seeds).reshape(batch, -1)
        previous = np.zeros((batch, NUM_ACTIONS), dtype=np.float32)
        state = self.agent.initial_state(batch)
        inputs, actions, values, rewards = [], [], [], []
        for t in range(env.episode_length):
            observation = np.concatenate([screen, previous], axis=1)
            logits, value, state = self.act(observation, state)
            logits = np.asarray(logits, dtype=np.float64)
            action = (np.argmax(logits, axis=-1) if uniforms is None
                      else sample_actions(logits, uniforms[t]))
            inputs.append(observation)
            actions.append(action)
            values.append(np.asarray(value))
            screen, reward, _ = env.step(action)
            screen = screen.reshape(batch, -1)
            previous = np.eye(NUM_ACTIONS, dtype=np.float32)[action]
            rewards.append(reward)
        return (np.stack(inputs, axis=1), np.stack(actions), np.stack(values),
                np.stack(rewards))

    def catch_rate(self, seed: int, stream: int, episodes: int, batch: int = 500) -> float:
        """Greedy catch rate over ``episodes`` games of seed stream ``stream``."""
        caught = 0
        for index, start in enumerate(range(0, episodes, batch)):
            count = min(batch, episodes - start)
            env = self.config.task.make_env(count)
            *_, rewards = self.play(env, game_seeds(seed, stream, index, count))
            caught += int((rewards[-1] > 0).sum())
        return caught / episodes

    def update(self, env, update_index: int) -> dict:
        """One A2C update on a fresh batch of episodes; their rewards and the losses."""
        seed, optim = self.config.seed, self.optim
        rng = np.random.default_rng([seed, TRAIN_STREAM, update_index])
        seeds = rng.integers(2**31, size=optim.num_envs)
        uniforms = rng.random((env.episode_length, optim.num_envs))
        observations, actions, values, rewards = self.play(env, seeds, uniforms)
        returns = n_step_returns(rewards, values, optim.n_steps, optim.discount)
        losses = self.learn(observations.astype(np.float32), actions.T.astype(np.int32),
                            returns.T.astype(np.float32))
        return {"reward": float(rewards.sum(axis=0).mean()),
                "catch_rate": float((rewards[-1] > 0).mean()),
                "losses": [float(v) for v in losses]}

    # ------------------------------------------------------------------ checkpoints

    def _weight_arrays(self) -> dict:
        return {f"w{i}": np.asarray(v) for i, v in enumerate(self.agent.weights)}

    def save(self, path: Path) -> None:
        arrays = self._weight_arrays()
        arrays.update({f"o{i}": np.asarray(v) for i, v in enumerate(self.optimizer.variables)})
        np.savez(path, **arrays)

    def save_weights(self, path: Path) -> None:
        np.savez(path, **self._weight_arrays())

    def load(self, path: Path, optimizer: bool = True) -> None:
        """The agent's weights from ``path``, and the optimiser's state unless ``optimizer``
        is false (files written by :meth:`save_weights` hold the agent's weights only)."""
        arrays = np.load(path)
        for i, variable in enumerate(self.agent.weights):
            variable.assign(arrays[f"w{i}"])
        if optimizer:
            for i, variable in enumerate(self.optimizer.variables):
                variable.assign(arrays[f"o{i}"])


def _fresh_state() -> dict:
    return {"step": 0, "updates": 0, "train_seconds": 0.0, "history": [], "checkpoint": None,
            "best_weights": None, "best_frames": None, "best_eval_catch_rate": None,
            "stopped": None, "starts": []}


def train(config: RunConfig, run_dir: str | Path, progress: bool | None = None) -> dict:
    """Train ``config`` in ``run_dir`` (resuming if a checkpoint is there); return its metrics.

    A finished run is not trained again: its recorded metrics are returned.
    """
    config.validate()
    folder = RunFolder(run_dir)
    if folder.check(config):
        return folder.metrics()

    import keras  # noqa: PLC0415

    budget, task = config.budget, config.task
    seed_everything(config.seed)
    state = folder.read_state()
    backend = keras.backend.backend()
    folder.check_backend(state, backend)
    if state is not None and state.get("eval_every") not in (None, budget.eval_every):
        raise ValueError(f"eval_every must stay {state['eval_every']} to resume the run in "
                         f"{folder.path} (got {budget.eval_every})")
    folder.write_config(config)
    learner = Learner(config)
    if state is None:
        state = _fresh_state()
    else:
        learner.load(folder.path / state["checkpoint"])
    state["eval_every"] = budget.eval_every
    folder.record_start(state, code_version(), backend)

    bar = None
    if progress or (progress is None and interactive()):
        from tqdm.auto import tqdm  # noqa: PLC0415

        bar = tqdm(total=budget.max_steps, initial=state["step"], unit="frame",
                   desc=config.run_name(), file=sys.stderr, dynamic_ncols=True)
    env = task.make_env(config.optim.num_envs)
    frames_per_update = config.optim.num_envs * env.episode_length
    episodes, started = [], time.perf_counter()
    while state["step"] < budget.max_steps and not state["stopped"]:
        result = learner.update(env, state["updates"])
        state["updates"] += 1
        state["step"] += frames_per_update
        episodes.append(result)
        diverged = not all(math.isfinite(v) for v in result["losses"])
        next_eval = (len(state["history"]) + 1) * budget.eval_every
        if diverged or state["step"] >= min(next_eval, budget.max_steps):
            state["train_seconds"] += time.perf_counter() - started
            _evaluate(config, folder, learner, state, episodes, diverged)
            episodes, started = [], time.perf_counter()
            if bar is not None:
                bar.update(min(state["step"], budget.max_steps) - bar.n)
                bar.set_postfix(catch=f"{state['history'][-1]['eval_catch_rate']:.0%}")
    if bar is not None:
        bar.close()

    final_rate = last_rate = None
    if state["history"] and state["stopped"] != "diverged":
        last_rate = learner.catch_rate(config.seed, FINAL_STREAM, budget.final_episodes)
    if state.get("best_weights"):
        learner.load(folder.path / state["best_weights"], optimizer=False)
        final_rate = learner.catch_rate(config.seed, FINAL_STREAM, budget.final_episodes)
    metrics = {
        "model": config.model.kind, "hidden_units": config.model.hidden_units,
        "seed": config.seed, "run_id": config.run_id(), "version": task.version,
        "catch_rate": final_rate, "final_episodes": budget.final_episodes,
        "weights": "best evaluation",
        "best_frames": state.get("best_frames"),
        "best_eval_catch_rate": state.get("best_eval_catch_rate"),
        "last_weights_catch_rate": last_rate,
        "last_eval_catch_rate": state["history"][-1]["eval_catch_rate"]
        if state["history"] else None,
        "steps": state["step"], "frames": state["step"], "updates": state["updates"],
        "stopped": state["stopped"] or "budget", "diverged": state["stopped"] == "diverged",
        "budget": {"max_steps": budget.max_steps, "eval_every": budget.eval_every,
                   "eval_episodes": budget.eval_episodes},
        "wall_seconds": state["train_seconds"],
        "frames_per_second": state["step"] / max(state["train_seconds"], 1e-9),
        "num_params": int(learner.agent.count_params()),
        "data_digest": task.env_digest(),
        **environment(),
        "code_version": state["starts"][0]["code_version"],
        "starts": state["starts"],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    folder.write_json("metrics.json", metrics)
    folder.prune(state.get("best_weights"))
    folder.remove("state.json")
    return metrics


def _evaluate(config: RunConfig, folder: RunFolder, learner: Learner, state: dict,
              episodes: list[dict], diverged: bool) -> None:
    """Record a history row and (unless diverged) checkpoint, keeping the weights of the best
    evaluation so far; ``state.json`` is written last, so the files it names always exist."""
    losses = np.array([e["losses"] for e in episodes], dtype=np.float64)
    eval_rate = math.nan if diverged else learner.catch_rate(
        config.seed, EVAL_STREAM, config.budget.eval_episodes)
    state["history"].append({
        "frames": state["step"],
        "train_reward": float(np.mean([e["reward"] for e in episodes])),
        "train_catch_rate": float(np.mean([e["catch_rate"] for e in episodes])),
        "eval_catch_rate": eval_rate,
        "policy_loss": float(losses[:, 0].mean()), "value_loss": float(losses[:, 1].mean()),
        "entropy": float(losses[:, 2].mean()),
        "wall_seconds": round(state["train_seconds"], 3)})
    if diverged:  # no weights of this update are kept: they may hold NaN
        state["stopped"] = "diverged"
        folder.write_history(state["history"], HISTORY_COLUMNS)
        return
    checkpoint = f"ckpt_{state['step']:010d}.npz"
    learner.save(folder.path / checkpoint)
    state["checkpoint"] = checkpoint
    if state.get("best_eval_catch_rate") is None or eval_rate > state["best_eval_catch_rate"]:
        best = f"best_{state['step']:010d}.npz"
        learner.save_weights(folder.path / best)
        state["best_weights"] = best
        state["best_frames"], state["best_eval_catch_rate"] = state["step"], eval_rate
    folder.write_json("state.json", state)  # the commit point
    folder.write_history(state["history"], HISTORY_COLUMNS)
    folder.prune(checkpoint, state["best_weights"])
