"""Executed notebooks to HTML, and the index page of a profile's results."""

from __future__ import annotations

import html
from pathlib import Path

from fwlib.tasks import TASKS, task_module


def render(executed: Path, target: Path, hide_code: bool) -> None:
    """``executed`` notebook -> ``target`` HTML; a reader's report hides code and stderr."""
    import nbformat  # noqa: PLC0415
    from nbconvert import HTMLExporter  # noqa: PLC0415

    exporter = HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code,
                            exclude_output_prompt=hide_code)
    book = nbformat.read(executed, as_version=4)
    if hide_code:  # the notebook's own introduction is for its user, not the reader
        book.cells = [c for c in book.cells if "notebook-only" not in c.metadata.get("tags", [])]
        for cell in book.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    body, _ = exporter.from_notebook_node(book)
    target.write_text(body)


def write_index(out: Path, profile_name: str, profile: dict, log: dict) -> None:
    """``index.html``: the report, the executed notebooks, then a section per task."""
    items = ['<li><a href="report.html"><b>Report</b></a> (code hidden)</li>']
    for name, entry in log["notebooks"].items():
        items.append(f'<li><a href="notebooks/{name}.html">{html.escape(name)}</a> '
                     f'(<a href="notebooks/{name}.ipynb">ipynb</a>) · {entry["status"]} · '
                     f'{entry["seconds"]:.0f} s</li>')
    sections = []
    for task in TASKS:
        module = task_module(task)
        entries = [(p, label) for p, label in module.index_entries(out) if (out / p).exists()]
        if entries:
            links = "".join(f'<li><a href="{p}">{html.escape(label)}</a></li>'
                            for p, label in entries)
            title = getattr(module, "TITLE", None) or module.TASK.title
            sections.append(f"<h2>{html.escape(title)}</h2><ul>{links}</ul>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>fast-weights-repro: "
            f"{html.escape(profile_name)}</title></head>"
            "<body style='font-family:sans-serif;max-width:50em'>"
            f"<h1>fast-weights-repro · profile {html.escape(profile_name)}</h1>"
            f"<p>{html.escape(profile.get('description', ''))}</p><ul>{''.join(items)}</ul>"
            f"{''.join(sections)}"
            f"<p>Started {log['started']}, {log['total_seconds']:.0f} s in all.</p>"
            f"</body></html>")
    (out / "index.html").write_text(page)
