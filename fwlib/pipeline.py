"""Run the numbered notebooks in order with papermill, by profile, and render the report.

    python -m fwlib.pipeline --profile default [--only 02_train ...] [--from 04_figures]

A profile is one small YAML file under ``profiles/``: a description and, per notebook, the
parameters that differ from the notebook's own defaults; ``base: OTHER`` starts from profile
OTHER's parameters and replaces only those it names. Executed notebooks, run records,
tables, figures, ``report.html`` and ``index.html`` go under ``results/<profile>/``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import re
import sys
import time
from pathlib import Path

import yaml

from fwlib.provenance import REPO_ROOT, environment

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
PROFILE_DIR = REPO_ROOT / "profiles"
KERNEL_NAME = "fast-weights-repro"
REPORT_NOTEBOOK = "05_report"
INJECTED = ("results_dir", "profile")  # set by the runner, not by a profile


class PipelineError(RuntimeError):
    """A problem a user can act on; printed without a traceback."""


def notebooks() -> list[str]:
    """The pipeline's notebooks, in order (numbered file names without ``.ipynb``)."""
    return sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def profile_path(name: str) -> Path:
    """A profile's file: ``profiles/<name>.yaml``, or a path to a YAML file of one's own."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PROFILE_DIR / f"{name}.yaml"
    if not path.exists():
        raise PipelineError(f"profile must be one of {', '.join(profiles())} or a path to a "
                            f"YAML file (got {name!r})")
    return path


def load_profile(name: str, _seen: tuple[str, ...] = ()) -> dict:
    """A profile's settings. ``base: OTHER`` takes every notebook's parameters from profile
    OTHER; the profile's own entries for a notebook replace OTHER's, key by key."""
    path = profile_path(name)
    profile = yaml.safe_load(path.read_text()) or {}
    base = profile.pop("base", None)
    if base is not None:
        if base not in profiles() or base in (*_seen, path.stem):
            raise PipelineError(f"profile {path.stem!r}: base must be one of "
                                f"{', '.join(p for p in profiles() if p != path.stem)}, "
                                f"without cycles (got {base!r})")
        inherited = load_profile(base, (*_seen, path.stem)).get("notebooks", {})
        own = profile.get("notebooks") or {}
        profile["notebooks"] = {n: {**(inherited.get(n) or {}), **(own.get(n) or {})}
                                for n in {**inherited, **own}}
    unknown = sorted(set(profile.get("notebooks", {})) - set(notebooks()))
    if unknown:
        raise PipelineError(f"profile {path.stem!r} names unknown notebook(s) {unknown}; the "
                            f"notebooks are {', '.join(notebooks())}")
    return profile


def selected(only: list[str] | None, start: str | None) -> list[str]:
    """The notebooks to run, in order, from ``--only`` / ``--from``."""
    names = notebooks()

    def resolve(option: str, value: str) -> str:
        matches = [n for n in names if n == value or n.split("_", 1)[0] == value]
        if len(matches) != 1:
            raise PipelineError(f"{option} must name one of {', '.join(names)} "
                                f"(or its number); got {value!r}")
        return matches[0]

    if only:
        chosen = {resolve("--only", v) for v in only}
        return [n for n in names if n in chosen]
    if start:
        return names[names.index(resolve("--from", start)):]
    return names


def notebook_parameters(name: str, profile: dict, profile_name: str,
                        results_dir: str) -> dict:
    """The parameters for one notebook: the profile's, checked against the notebook's own
    ``parameters`` cell, plus ``results_dir`` (and ``profile`` where the notebook takes it)."""
    import papermill  # noqa: PLC0415

    declared = papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"))
    given = dict((profile.get("notebooks") or {}).get(name) or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise PipelineError(f"{name}: unknown parameter(s) {unknown}; this notebook takes "
                            f"{', '.join(sorted(set(declared) - set(INJECTED)))}")
    injected = [k for k in given if k in INJECTED]
    if injected:
        raise PipelineError(f"{name}: {injected} are set by the runner, not by a profile")
    given["results_dir"] = results_dir
    if "profile" in declared:
        given["profile"] = profile_name
    return given


def validate(name: str, params: dict) -> None:
    """Check a notebook's parameter values before anything runs (ValueError names them)."""
    from fwlib.data.associative import MAX_PAIRS  # noqa: PLC0415

    if name.startswith("01_"):
        num_pairs = params.get("num_pairs", 4)
        if not isinstance(num_pairs, int) or not 1 <= num_pairs <= MAX_PAIRS:
            raise ValueError(f"num_pairs must be an integer in 1..{MAX_PAIRS} "
                             f"(got {num_pairs!r})")
        seed = params.get("data_seed", 0)
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"data_seed must be a non-negative integer (got {seed!r})")
    planned_configs(name, params)


def planned_configs(name: str, params: dict) -> list:
    """The training runs (validated ``TrainConfig``s, each once) that notebook 02 or 03 makes
    with these parameters, its own defaults filling the rest; [] for the other notebooks."""
    if not name.startswith(("02_", "03_")):
        return []
    import papermill  # noqa: PLC0415

    declared = papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"))
    values = {k: _default(v) for k, v in declared.items()} | params
    if name.startswith("03_"):
        from fwlib.ablations import plan  # noqa: PLC0415

        planned = plan(values["studies"], values["hidden_units"], values["seeds"],
                       values["max_steps"],
                       base={"learning_rate": values["learning_rate"],
                             "eval_every": values["eval_every"], "patience": values["patience"]},
                       decays=values["decays"], fast_lrs=values["fast_lrs"],
                       inner_steps=values["inner_steps"],
                       capacity_pairs=values["capacity_pairs"],
                       capacity_models=values["capacity_models"])
        return list(planned.drop_duplicates("run")["config"])
    from fwlib.experiments import grid  # noqa: PLC0415

    return grid(models=values["models"], hidden_units=values["hidden_units"],
                seeds=values["seeds"], max_steps=values["max_steps"],
                learning_rate=values["learning_rate"], eval_every=values["eval_every"],
                patience=values["patience"], batch_size=values["batch_size"])


def _default(parameter: dict):
    import ast  # noqa: PLC0415

    return ast.literal_eval(parameter["default"])


def ensure_kernel() -> None:
    """Install the project's kernel spec into this environment if it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    if KERNEL_NAME in KernelSpecManager().find_kernel_specs():
        return
    from ipykernel.kernelspec import install  # noqa: PLC0415

    install(prefix=sys.prefix, kernel_name=KERNEL_NAME,
            display_name="Python (fast-weights-repro)")


def render(executed: Path, target: Path, hide_code: bool) -> None:
    import nbformat  # noqa: PLC0415
    from nbconvert import HTMLExporter  # noqa: PLC0415

    exporter = HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code,
                            exclude_output_prompt=hide_code)
    book = nbformat.read(executed, as_version=4)
    if hide_code:  # a reader's report: no library chatter on stderr
        for cell in book.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    body, _ = exporter.from_notebook_node(book)
    target.write_text(body)


def write_index(out: Path, profile_name: str, profile: dict, log: dict) -> None:
    items = ['<li><a href="report.html"><b>Report</b></a> (code hidden)</li>']
    for name, entry in log["notebooks"].items():
        items.append(f'<li><a href="notebooks/{name}.html">{html.escape(name)}</a> '
                     f'(<a href="notebooks/{name}.ipynb">ipynb</a>) · {entry["status"]} · '
                     f'{entry["seconds"]:.0f} s</li>')
    extras = [("tables/table1.csv", "Table 1 (CSV)"), ("tables/table1.md", "Table 1 (Markdown)"),
              ("figures/figure2.png", "Figure 2 (PNG)"), ("figures/figure2.svg", "Figure 2 (SVG)"),
              ("runs", "Run records (config, history, metrics per run)")]
    for path, label in extras:
        if (out / path).exists():
            items.append(f'<li><a href="{path}">{label}</a></li>')
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>fast-weights-repro: "
            f"{profile_name}</title></head><body style='font-family:sans-serif;max-width:50em'>"
            f"<h1>fast-weights-repro · profile {html.escape(profile_name)}</h1>"
            f"<p>{html.escape(profile.get('description', ''))}</p><ul>{''.join(items)}</ul>"
            f"<p>Started {log['started']}, {log['total_seconds']:.0f} s in all.</p>"
            f"</body></html>")
    (out / "index.html").write_text(page)


def _execution(log: dict, names: list[str]) -> dict:
    """One pipeline execution, for the record kept across executions."""
    return {"started": log["started"], "notebooks": names, "seconds": log["last_run_seconds"],
            "notebook_seconds": {n: log["notebooks"][n]["seconds"] for n in names},
            "code_version": log["environment"]["code_version"]}


def executions(log: dict) -> list[dict]:
    """Every execution a pipeline log (``pipeline.json``) records. A log written before the
    list was kept holds only its latest execution, at the top level."""
    if "executions" in log:
        return log["executions"]
    if "last_run_seconds" in log:
        return [_execution(log, list(log["notebooks"]))]
    return []


def run(profile_name: str, only: list[str] | None = None, start: str | None = None,
        results_root: Path | None = None) -> Path:
    """Execute the selected notebooks of a profile; return the profile's results folder."""
    import papermill  # noqa: PLC0415

    profile = load_profile(profile_name)
    profile_name = profile_path(profile_name).stem
    names = selected(only, start)
    root = results_root or REPO_ROOT / "results"
    out = (root / profile_name).resolve()
    try:
        results_dir = str(out.relative_to(REPO_ROOT))
    except ValueError:
        results_dir = str(out)
    # Every parameter of every notebook is checked before anything runs or is written.
    params = {}
    for name in names:
        params[name] = notebook_parameters(name, profile, profile_name, results_dir)
        try:
            validate(name, params[name])
        except ValueError as error:
            raise PipelineError(f"{name}: {error}") from None

    ensure_kernel()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    log_path = out / "pipeline.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    log["executions"] = executions(log)
    log.update(profile=profile_name, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               environment=environment())
    log.setdefault("notebooks", {})
    began = time.perf_counter()
    for position, name in enumerate(names, 1):
        print(f"[{position}/{len(names)}] {name} ({profile_name})", flush=True)
        executed = out / "notebooks" / f"{name}.ipynb"
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(executed),
                                       parameters=params[name], kernel_name=KERNEL_NAME,
                                       cwd=str(REPO_ROOT), progress_bar=False,
                                       log_output=True)
            status = "ok"
        except papermill.PapermillExecutionError as error:
            log["notebooks"][name] = {"seconds": time.perf_counter() - started,
                                      "status": "failed"}
            log_path.write_text(json.dumps(log, indent=2))
            raise PipelineError(
                f"notebook {name} failed in cell {error.exec_count}: {error.ename}: "
                f"{error.evalue}\n(executed copy with the traceback: {executed})") from None
        log["notebooks"][name] = {"seconds": time.perf_counter() - started, "status": status}
        log_path.write_text(json.dumps(log, indent=2))
        render(executed, out / "notebooks" / f"{name}.html", hide_code=False)
        print(f"    done in {log['notebooks'][name]['seconds']:.0f} s", flush=True)
    log["last_run_seconds"] = time.perf_counter() - began
    log["total_seconds"] = sum(v["seconds"] for v in log["notebooks"].values())
    log["executions"].append(_execution(log, names))
    log_path.write_text(json.dumps(log, indent=2))
    report = out / "notebooks" / f"{REPORT_NOTEBOOK}.ipynb"
    if report.exists():
        render(report, out / "report.html", hide_code=True)
    write_index(out, profile_name, profile, log)
    print(f"report: {out / 'report.html'}\nindex:  {out / 'index.html'}")
    return out


class _Console(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stdout`` is when a record comes (a test
    harness may swap it, and close the old one, after set-up)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def _show_notebook_output() -> None:
    """Stream what the notebooks print (one line per run, say) to the console."""
    logger = logging.getLogger("papermill")
    for old in [h for h in logger.handlers if isinstance(h, _Console)]:
        logger.removeHandler(old)  # set up once, however often main() is called
    handler = _Console()
    handler.setFormatter(logging.Formatter("    %(message)s"))
    chatter = ("Executing Cell", "Ending Cell", "Input Notebook", "Output Notebook",
               "Executing notebook", "Working directory", "Black is not", "Executing:")
    # TensorFlow's C++ start-up notices (absl format: "I0000 00:00:17..." and the like),
    # which the kernel also writes to its own stderr, are not repeated.
    absl = re.compile(r"^\s*([IWEF]\d{4} \d\d:\d\d:\d|WARNING: All log messages before absl)")

    def keep(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.lstrip().startswith(chatter) or absl.match(message))

    handler.addFilter(keep)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default",
                        help=f"one of {', '.join(profiles())} (default: default)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                       help="run only these notebooks (name or number)")
    group.add_argument("--from", dest="start", metavar="NOTEBOOK",
                       help="run from this notebook to the end")
    parser.add_argument("--results-root", type=Path, default=None,
                        help="folder that holds results/<profile> (default: results/)")
    args = parser.parse_args(argv)
    _show_notebook_output()
    try:
        run(args.profile, args.only, args.start, args.results_root)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
