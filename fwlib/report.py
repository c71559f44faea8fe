"""The parts of the report that belong to no single experiment: its header and scope, the
verdict rule, the marks of the paper's facts, and the environment and cost of the runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fwlib import paper, verdicts
from fwlib.markdown import to_markdown
from fwlib.run.provenance import environment
from fwlib.run.store import load_runs

SCOPE = f"""\
{paper.CITATION}. The paper has four experiments; this report has a section for each, in the
paper's order: associative retrieval (Table 1, Figure 2: all four models, seeds, ablations),
MNIST read as a sequence of glimpses (Table 2), facial expressions on Multi-PIE (Table 3: not
reproduced, because the licensed data set cannot be obtained offline) and agents with memory
on a partially observable Catch (Figure 5). Sections of experiments that a profile does not
run say so, and budgets too short to judge the paper give no verdict.

Every number comes from a recorded run of this code: each run's folder holds its config, its
per-evaluation history and its metrics, with code version, package versions, device and
wall-clock. Test error is measured on the held-out test split with the weights that had the
lowest **validation** error; nothing is selected on the test split. The paper's facts that the
report relies on (its tables, equations, and what is known or assumed, with their sources) are
in `{paper.DOC}`."""


def read_pipeline_log(out_dir: str | os.PathLike) -> dict:
    """The runner's record (profile, per-notebook wall-clock), or {} when run by hand."""
    path = Path(out_dir) / "pipeline.json"
    return json.loads(path.read_text()) if path.exists() else {}


def all_runs(out_dir: str | os.PathLike) -> pd.DataFrame:
    """Every finished run under the profile's results folder, of every experiment."""
    return load_runs(out_dir)


def generated_line(runs: pd.DataFrame) -> str:
    if runs.empty:
        return "no finished runs yet"
    versions = sorted(set(runs["code_version"]))
    return (f"{len(runs)} finished runs · code version {', '.join(versions)} · "
            f"last run finished {max(runs['finished_at'])}")


def header_markdown(out_dir: str | os.PathLike, profile: str) -> str:
    runs = all_runs(out_dir)
    return (f"# Using Fast Weights to Attend to the Recent Past: a reproduction\n\n"
            f"Profile **{profile}** · {generated_line(runs)}\n\n## Scope\n\n{SCOPE}")


def rules_markdown() -> str:
    marks = "; ".join(f"**{k}** {v}" for k, v in paper.MARKS.items())
    return (f"## How our numbers are judged\n\n{verdicts.RULE}\n\nMarks of the paper's facts "
            f"(`{paper.DOC}`): {marks}.")


def environment_markdown(runs: pd.DataFrame, pipeline_log: dict) -> str:
    from fwlib.pipeline.runner import executions  # noqa: PLC0415

    env = environment()
    lines = ["## Environment and cost", "", f"- Device: {env['device']}",
             f"- Keras backend: {env['backend']}", f"- Code version: {env['code_version']}",
             "- Packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items())]
    if not runs.empty:
        devices = sorted(set(runs["device"]))
        lines.append(f"- Runs trained on: {'; '.join(devices)}")
        lines.append(f"- Training wall-clock, all runs: {runs['wall_seconds'].sum() / 60:.1f} "
                     "min")
    if pipeline_log.get("workers") or pipeline_log.get("scheduler"):
        lines.append(f"- Parallel runs: {pipeline_log.get('scheduler') or ''}"
                     f"{'' if pipeline_log.get('scheduler') else pipeline_log['workers']}"
                     f"{' (Dask cluster)' if pipeline_log.get('scheduler') else ' workers'}")
    notebooks = pipeline_log.get("notebooks", {})
    if notebooks:
        lines.append("\nWall-clock per notebook, latest execution of each (s); a notebook "
                     "whose runs had already finished takes seconds, not the training time:\n")
        lines.append(to_markdown(pd.DataFrame(
            [{"notebook": k, "seconds": round(v["seconds"], 1), "status": v["status"]}
             for k, v in notebooks.items()])))
    done = executions(pipeline_log)
    if done:
        lines.append("\nPipeline executions of this profile:\n")
        lines.append(to_markdown(pd.DataFrame(
            [{"started": e["started"], "notebooks": len(e["notebooks"]),
              "minutes": round(e["seconds"] / 60, 1), "workers": e.get("workers") or "",
              "code version": e["code_version"]} for e in done])))
    return "\n".join(lines)


def show(out_dir: str | os.PathLike, profile: str) -> None:
    """Display the whole report: header, each experiment's section, rules, environment."""
    from IPython.display import Markdown, display  # noqa: PLC0415

    from fwlib.tasks import TASKS, task_module  # noqa: PLC0415

    display(Markdown(header_markdown(out_dir, profile)))
    for task in TASKS:
        task_module(task).report_section(out_dir, profile)
    display(Markdown(rules_markdown()))
    display(Markdown(environment_markdown(all_runs(out_dir), read_pipeline_log(out_dir))))
