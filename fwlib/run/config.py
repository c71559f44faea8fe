"""A run's config, in four parts: the task, the model, the optimisation and the budget.

- ``task``: what is learned (a task's own dataclass, registered in :mod:`fwlib.tasks`);
- ``model``: the network (:class:`fwlib.cores.CoreSpec`, or the task's own model spec);
- ``optim``: how it is learned (:class:`OptimSpec`, or the task's own, e.g. A2C's);
- ``budget``: how long and how often it is evaluated (:class:`Budget`, or the task's own);
- ``seed`` and free-form ``labels`` (an ablation's study and value, say).

**Run identity.** Two configs are the same run when their task, model, optimisation and seed
are equal, field by field, with every default filled in. The budget and the labels are not
part of it: an unfinished run resumes under the budget now asked for, and a finished one is
reused under another budget only where that budget's rules, replayed on the run's recorded
evaluations, stop it at the same update (:meth:`Budget.gives_same_result`); otherwise its
folder is refused with an error that says so (:class:`fwlib.run.folder.BudgetChanged`). Model
settings that a kind does not read (λ for an LSTM, say) are left out, and so is a field at its
``NEUTRAL`` value (a setting added later, at the value that gives the earlier behaviour), so
neither changes the identity of a run that was trained before. The identity is hashed into
the run's folder name: ``<kind>_R<units>_seed<seed>_<hash>``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fwlib.cores import CoreSpec, check_positive_int


def _non_negative_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer (got {value!r})")


@dataclass(frozen=True)
class OptimSpec:
    """Adam on mini-batches, with gradient clipping, an optional exponential decay of the
    step size (halved every ``lr_half_life`` updates; it depends on the update count only, so
    a longer budget continues the same schedule) and optional decoupled weight decay (each
    update shrinks every weight matrix by ``learning rate × weight_decay`` of itself, as in
    AdamW; biases and layer-norm gains and biases are left alone)."""

    learning_rate: float = 1e-3  # Adam's step size (at update 0)
    clip_norm: float = 5.0  # global gradient-norm clipping; 0 turns it off
    batch_size: int = 128  # examples per update
    lr_half_life: int = 0  # updates over which the step size halves; 0: constant
    weight_decay: float = 0.0  # decoupled weight decay of the weight matrices; 0: none

    NEUTRAL: ClassVar[dict[str, Any]] = {"lr_half_life": 0, "weight_decay": 0.0}

    def validate(self) -> OptimSpec:
        if not 0.0 < self.learning_rate < 1.0:
            raise ValueError(f"learning_rate must be in (0, 1) (got {self.learning_rate!r})")
        if not self.clip_norm >= 0.0:
            raise ValueError(f"clip_norm must be >= 0 (got {self.clip_norm!r})")
        check_positive_int("batch_size", self.batch_size)
        _non_negative_int("lr_half_life", self.lr_half_life)
        if (isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, int | float)
                or not 0.0 <= self.weight_decay < 1.0):
            raise ValueError(f"weight_decay must be a number in [0, 1) (got "
                             f"{self.weight_decay!r})")
        return self

    def keras_learning_rate(self):
        """Adam's ``learning_rate`` argument: the constant, or the decay schedule."""
        if not self.lr_half_life:
            return self.learning_rate
        import keras  # noqa: PLC0415

        return keras.optimizers.schedules.ExponentialDecay(
            self.learning_rate, decay_steps=self.lr_half_life, decay_rate=0.5)


@dataclass(frozen=True)
class Budget:
    """How long a supervised run trains, how often it is evaluated and when it stops early."""

    max_steps: int = 20_000  # parameter updates at most
    eval_every: int = 500  # updates between validation evaluations (and checkpoints)
    patience: int = 6_000  # stop after this many updates without a better validation error
    target_error: float = 0.0  # stop once the validation error is at or below this
    steps_per_execution: int = 50  # updates per compiled call (speed only)
    # patience applies only once the best validation error is at or below this: above it (a
    # task's initial plateau) the run trains on to its budget; 1.0: patience always applies
    plateau_error: float = 1.0

    def validate(self) -> Budget:
        for name in ("max_steps", "eval_every", "patience", "steps_per_execution"):
            check_positive_int(name, getattr(self, name))
        if not 0.0 <= self.target_error < 1.0:
            raise ValueError(f"target_error must be in [0, 1) (got {self.target_error!r})")
        if not 0.0 < self.plateau_error <= 1.0:
            raise ValueError(f"plateau_error must be in (0, 1] (got {self.plateau_error!r})")
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps must be a multiple of eval_every={self.eval_every} "
                             f"(got {self.max_steps})")
        return self

    def stop_reason(self, step: int, valid_error: float, best_error: float,
                    best_step: int) -> str | None:
        """Why a run stops at this evaluation (``valid_error`` at ``step``, the best so far
        ``best_error`` at ``best_step``, this one included), or None to go on: ``target``,
        ``patience``, or ``budget`` at ``max_steps``. Divergence is the caller's."""
        if valid_error <= self.target_error:
            return "target"
        if step - best_step >= self.patience and best_error <= self.plateau_error:
            return "patience"
        if step >= self.max_steps:
            return "budget"
        return None

    def gives_same_result(self, recorded: Budget, metrics: dict,
                          valid_errors: list[tuple[int, float]]) -> bool:
        """Whether a run that finished under the ``recorded`` budget, with these ``metrics``
        and validation errors (``(step, error)`` per evaluation, in order), is what this
        budget would give. Training is deterministic and its batches depend only on the
        update count, so it is exactly when this budget's rules, replayed on the recorded
        evaluations, stop the run at the same evaluation (``steps_per_execution`` changes
        only the speed)."""
        if self.eval_every != recorded.eval_every:
            return False
        if (self.max_steps, self.patience, self.target_error, self.plateau_error) == (
                recorded.max_steps, recorded.patience, recorded.target_error,
                recorded.plateau_error):
            return True
        best_error, best_step = math.inf, 0
        for step, error in valid_errors:
            if not math.isfinite(error):  # diverged here, whatever the budget
                return metrics.get("steps") == step and step <= self.max_steps
            if error < best_error:
                best_error, best_step = error, step
            if self.stop_reason(step, error, best_error, best_step) is not None:
                return step == metrics.get("steps") and metrics.get("stopped") != "diverged"
        return False  # these rules would train on past the recorded end


def _part_dict(part) -> dict:
    return dataclasses.asdict(part)


def _identity_part(part) -> dict:
    values = _part_dict(part)
    neutral = getattr(part, "NEUTRAL", {})
    used_by = getattr(part, "USED_BY", {})
    kind = values.get("kind")
    return {k: v for k, v in values.items()
            if not (k in neutral and v == neutral[k])
            and not (k in used_by and kind not in used_by[k])}


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run. :meth:`validate` checks every part before any work."""

    task: Any
    model: Any = field(default_factory=CoreSpec)
    optim: Any = field(default_factory=OptimSpec)
    budget: Any = field(default_factory=Budget)
    seed: int = 0
    labels: dict = field(default_factory=dict)

    PARTS: ClassVar[tuple[str, ...]] = ("task", "model", "optim", "budget")

    def validate(self) -> RunConfig:
        for name in self.PARTS:
            getattr(self, name).validate()
        _non_negative_int("seed", self.seed)
        if not isinstance(self.labels, dict):
            raise ValueError(f"labels must be a mapping (got {self.labels!r})")
        check = getattr(self.task, "check_run", None)
        if check is not None:
            check(self)
        return self

    # ----------------------------------------------------------------- identity and names

    def identity(self) -> dict:
        """What makes two runs the same (see the module's docstring)."""
        return {"task": {"name": self.task.name, **_identity_part(self.task)},
                "model": _identity_part(self.model), "optim": _identity_part(self.optim),
                "seed": self.seed}

    def run_id(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def run_name(self) -> str:
        """The run's folder name: kind, size and seed for a reader, the identity's hash."""
        return (f"{self.model.kind}_R{self.model.hidden_units}_seed{self.seed}_"
                f"{self.run_id()[:8]}")

    # ----------------------------------------------------------------- (de)serialisation

    def to_dict(self) -> dict:
        return {"task": {"name": self.task.name, **_part_dict(self.task)},
                "model": _part_dict(self.model), "optim": _part_dict(self.optim),
                "budget": _part_dict(self.budget), "seed": self.seed,
                "labels": dict(self.labels)}

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        """The config written by :meth:`to_dict`; unknown keys are named in the error."""
        from fwlib.tasks import task_class  # noqa: PLC0415

        unknown = sorted(set(values) - {*cls.PARTS, "seed", "labels"})
        if unknown:
            raise ValueError(f"unknown config key(s) {unknown}; allowed: task, model, optim, "
                             "budget, seed, labels")
        task_values = dict(values.get("task") or {})
        spec = task_class(task_values.pop("name", None))
        parts = {"task": build_part(spec, task_values, "task"),
                 "model": build_part(spec.model_class, values.get("model") or {}, "model"),
                 "optim": build_part(spec.optim_class, values.get("optim") or {}, "optim"),
                 "budget": build_part(spec.budget_class, values.get("budget") or {}, "budget")}
        return cls(**parts, seed=values.get("seed", 0), labels=dict(values.get("labels") or {}))


def build_part(part_class, values: dict, where: str):
    """``part_class(**values)``, naming unknown fields and the part they were given for."""
    known = [f.name for f in dataclasses.fields(part_class)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {where} parameter(s) {unknown}; allowed: {', '.join(known)}")
    return part_class(**values)
