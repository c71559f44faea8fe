"""A run's folder: what was asked, what happened, and what it ended with.

- ``config.json``: the run's config (:class:`fwlib.run.config.RunConfig`), with the budget in
  force;
- ``history.csv``: one row per evaluation;
- ``state.json`` and ``ckpt_*`` files while it runs (the resume point), ``best_*`` weights;
- ``metrics.json`` once it has finished: a finished run is never trained again;
- ``.lock``: held while a process trains the run, so that two processes never train the same
  run at once. The operating system drops the lock when its process dies, however it dies, so
  a killed worker never leaves a run locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import platform
import time
from pathlib import Path

from fwlib.run.config import RunConfig


class RunClash(ValueError):
    """The folder holds another run than the config asks for."""


class BudgetChanged(RunClash):
    """The folder holds the run, finished under another budget that gives another result."""


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _budget_text(config: RunConfig) -> str:
    return ", ".join(f"{name} {value}" for name, value in
                     sorted(vars(config.budget).items()) if name != "steps_per_execution")


class RunFolder:
    """The folder of one run."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.json")
    metrics_path = property(lambda self: self.path / "metrics.json")
    state_path = property(lambda self: self.path / "state.json")
    history_path = property(lambda self: self.path / "history.csv")

    def finished(self) -> bool:
        return self.metrics_path.exists()

    def recorded_config(self) -> RunConfig | None:
        if not self.config_path.exists():
            return None
        try:
            return RunConfig.from_dict(json.loads(self.config_path.read_text()))
        except (ValueError, TypeError) as error:
            raise RunClash(f"{self.path} holds a run whose config cannot be read ({error}); "
                           "use another folder or delete it") from None

    def check(self, config: RunConfig) -> bool:
        """Check the folder against ``config``; True when the run there has finished.

        Raises :class:`RunClash` when the folder holds a run with another identity, and
        :class:`BudgetChanged` when it finished under another budget whose result this
        budget would not reproduce (a run stopped by its budget, planned now with more
        updates): a finished run is never silently taken for another budget's.
        """
        recorded = self.recorded_config()
        if recorded is None:
            return False
        if recorded.run_id() != config.run_id():
            raise RunClash(f"{self.path} holds another run (identity {recorded.run_id()}, "
                           f"asked for {config.run_id()}); use another folder or delete it")
        if not self.finished():
            return False
        if recorded.budget != config.budget:
            metrics = self.metrics()
            same = getattr(config.budget, "gives_same_result", None)
            if same is None or not same(recorded.budget, metrics, self.valid_errors()):
                raise BudgetChanged(
                    f"{self.path} finished under another budget ({_budget_text(recorded)}; "
                    f"stopped: {metrics.get('stopped')} after {metrics.get('steps')} "
                    f"updates) than the one planned ({_budget_text(config)}): delete the "
                    "folder to train the run again under the planned budget, or plan the "
                    "budget it had")
        return True

    def metrics(self) -> dict:
        return json.loads(self.metrics_path.read_text())

    def valid_errors(self) -> list[tuple[int, float]]:
        """``(step, validation error)`` of each evaluation in ``history.csv`` (NaN where the
        run diverged); [] without one."""
        if not self.history_path.exists():
            return []
        from fwlib.run.store import load_history  # noqa: PLC0415

        history = load_history(self.path)
        if "step" not in history or "valid_error" not in history:
            return []
        return [(int(step), float(error))
                for step, error in zip(history["step"], history["valid_error"], strict=True)]

    def best_weights(self) -> Path | None:
        """The file of the run's kept (best-validation) weights: the one its state names while
        it trains, the ``best_*`` file it keeps once finished (whatever the trainer's format:
        the files :meth:`prune` treats as kept weights); None before its first evaluation."""
        state = self.read_state()
        if state and state.get("best_weights"):
            return self.path / state["best_weights"]
        found = sorted(self.path.glob("best_*"))
        return found[-1] if found else None

    def write_config(self, config: RunConfig) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.config_path, json.dumps(config.to_dict(), indent=2))

    def write_json(self, name: str, value) -> None:
        atomic_write(self.path / name, json.dumps(_json_safe(value), indent=2))

    def read_state(self) -> dict | None:
        return json.loads(self.state_path.read_text()) if self.state_path.exists() else None

    def write_history(self, rows: list[dict], columns: tuple[str, ...]) -> None:
        lines = [",".join(columns)]
        lines += [",".join(repr(row[c]) if isinstance(row[c], float) else str(row[c])
                           for c in columns) for row in rows]
        atomic_write(self.history_path, "\n".join(lines) + "\n")

    def check_backend(self, state: dict | None, backend: str) -> None:
        """Refuse to resume, under the Keras backend ``backend``, a run that started under
        another: its checkpoints and its numbers belong to the backend it started on. Raised
        before anything is trained or written."""
        started = (state or {}).get("backend")
        if started is not None and started != backend:
            raise ValueError(f"the run in {self.path} started under the {started} backend and "
                             f"this process runs {backend}: resume it with "
                             f"KERAS_BACKEND={started}, or train it afresh in another folder")

    def record_start(self, state: dict, code_version: str, backend: str) -> None:
        """Note that training (re)starts now, at ``state["step"]``, under the Keras backend
        ``backend``: in the state, which the metrics inherit, and in ``starts.log``, one line
        per start, which no run overwrites."""
        state.setdefault("backend", backend)
        start = {"step": state["step"], "code_version": code_version, "backend": backend,
                 "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                 "pid": os.getpid()}
        state.setdefault("starts", []).append(start)
        with open(self.path / "starts.log", "a") as log:
            log.write(json.dumps(start) + "\n")

    def starts(self) -> list[dict]:
        path = self.path / "starts.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def remove(self, *names: str | None) -> None:
        for name in names:
            if name:
                (self.path / name).unlink(missing_ok=True)

    def prune(self, *keep: str | None) -> None:
        """Remove every checkpoint and kept-weights file (``ckpt_*``, ``best_*``) but those in
        ``keep``: the ones the state names. A process killed between the state's commit point
        and its clean-up leaves the previous files behind, or files the state never named;
        this removes them at the next commit."""
        names = {name for name in keep if name}
        for pattern in ("ckpt_*", "best_*"):
            for path in self.path.glob(pattern):
                if path.name not in names:
                    path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self):
        """Hold the run's lock (waiting while another process holds it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def is_locked(self) -> bool:
        """True while some process holds the run's lock."""
        path = self.path / ".lock"
        if not path.exists():
            return False
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
