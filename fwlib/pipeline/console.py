"""What ``make reproduce`` shows a person: a line per notebook, live progress of the grid and
of each active run, then where the report is. Everything the notebooks print goes to the
executed notebooks and to ``pipeline.log``, not here."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def read_progress(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def estimate_left(progress: dict, reused: int, now: float | None = None) -> float | None:
    """Seconds left, from the runs finished so far in this grid (reused runs do not count)."""
    now = time.time() if now is None else now
    trained = progress["done"] + progress["failed"] - reused
    remaining = progress["total"] - progress["done"] - progress["failed"]
    if trained <= 0:
        return None
    return (now - progress["started"]) / trained * remaining


class Console:
    """Writes to ``stream``; live bars on a terminal, one line per finished run elsewhere."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def watch(self, progress_file: Path) -> _Watcher:
        return _Watcher(self, progress_file)


class _Watcher:
    """While a notebook runs: polls the grid's progress file and shows it."""

    def __init__(self, console: Console, path: Path):
        self.console, self.path = console, path
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.reused: dict[str, int] = {}
        self.shown: dict[str, int] = {}
        self.bars: dict[str, object] = {}

    def __enter__(self):
        self.path.unlink(missing_ok=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._show(final=True)
        for bar in self.bars.values():
            bar.close()
        self.path.unlink(missing_ok=True)

    def _loop(self):
        while not self.stop.wait(1.0):
            self._show()

    def _show(self, final: bool = False):
        progress = read_progress(self.path)
        if not progress:
            return
        title = progress["title"]
        if title not in self.reused:
            self.reused[title] = progress["done"]
            if progress["done"]:
                self.console.line(f"    {title}: {progress['done']} of {progress['total']} "
                                  "runs already finished in this results folder (reused, not "
                                  "trained again)")
        if self.console.live:
            self._bars(progress)
            return
        done = progress["done"] + progress["failed"]
        if done != self.shown.get(title, self.reused[title]) or (final and title not in
                                                                   self.shown):
            self.shown[title] = done
            left = estimate_left(progress, self.reused[title])
            elapsed = time.time() - progress["started"]
            failed = f", {progress['failed']} failed" if progress["failed"] else ""
            self.console.line(f"    {title}: {done}/{progress['total']} runs finished{failed}"
                              f" · {_clock(elapsed)} elapsed"
                              + (f" · about {_clock(left)} left" if left is not None
                                 and done < progress['total'] else ""))

    def _bars(self, progress: dict):
        from tqdm import tqdm  # noqa: PLC0415

        title = progress["title"]
        grid = self.bars.get(title)
        if grid is None:
            grid = self.bars[title] = tqdm(total=progress["total"], desc=f"    {title}",
                                           unit="run", file=self.console.stream,
                                           initial=progress["done"])
        grid.update(progress["done"] + progress["failed"] - grid.n)
        active = {row["run"]: row for row in progress["active"]}
        for name in [n for n in self.bars if n != title and n not in active and
                     not n.startswith("__")]:
            if name not in {t for t in self.reused}:
                self.bars.pop(name).close()
        for name, row in active.items():
            bar = self.bars.get(name)
            if bar is None:
                bar = self.bars[name] = tqdm(total=row["max_steps"], desc=f"      {name}",
                                             unit="step", leave=False,
                                             file=self.console.stream)
            bar.update(row["step"] - bar.n)
