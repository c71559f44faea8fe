"""The notebooks as a researcher runs them: in a real Jupyter server, with the project's kernel;
and ``make lab`` starting whoever runs it."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from fwlib.pipeline import catalog
from fwlib.pipeline.runner import KERNEL_NAME
from fwlib.run.provenance import REPO_ROOT

BIN = Path(sys.executable).parent
ENV = {**os.environ, "JUPYTER_PATH": str(BIN.parent / "share" / "jupyter")}


def _wait_for_url(process, pattern: str, timeout: float = 90.0) -> str:
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(0)
    raise AssertionError("the server did not start:\n" + "".join(seen[-30:]))


def _stop(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_make_lab_starts_at_the_repository_root():
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab",
         "LAB_ARGS=--no-browser --ServerApp.port=0 --ServerApp.ip=127.0.0.1"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env=ENV)
    try:
        url = _wait_for_url(process, r"http://127\.0\.0\.1:\d+/lab/tree/notebooks\S*")
    finally:
        _stop(process)
    assert "token=" in url


async def _run_cells(base: str, token: str, sources: list[str]) -> list[dict]:
    """Start the project's kernel through the server's REST API and execute each source over
    its websocket; the execute_reply and the outputs of each."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Authorization": f"token {token}"}
    client = AsyncHTTPClient()
    deadline = time.time() + 30  # a loaded machine may print the URL before the port listens
    while True:
        try:
            response = await client.fetch(f"http://{base}/api/kernels", method="POST",
                                          headers=headers,
                                          body=json.dumps({"name": KERNEL_NAME}))
            break
        except ConnectionRefusedError:
            if time.time() > deadline:
                raise
            await asyncio.sleep(0.5)
    kernel = json.loads(response.body)
    assert kernel["name"] == KERNEL_NAME
    socket = await websocket_connect(HTTPRequest(
        f"ws://{base}/api/kernels/{kernel['id']}/channels", headers=headers))
    session, results = uuid.uuid4().hex, []
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            await socket.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": "test", "session": session,
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": source, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False}}))
            reply, outputs, idle = None, [], False
            while reply is None or not idle:
                message = json.loads(await asyncio.wait_for(socket.read_message(), 300))
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["header"]["msg_type"]
                if kind == "execute_reply":
                    reply = message["content"]
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    idle = True
                elif kind in ("stream", "error", "display_data", "execute_result"):
                    outputs.append(message["content"])
            results.append({"reply": reply, "outputs": outputs})
    finally:
        socket.close()
        await client.fetch(f"http://{base}/api/kernels/{kernel['id']}", method="DELETE",
                           headers=headers)
    return results


def test_a_notebook_runs_in_a_real_jupyter_server(tmp_path):
    token = uuid.uuid4().hex
    process = subprocess.Popen(
        [str(BIN / "jupyter"), "server", "--no-browser", "--ServerApp.port=0",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={REPO_ROOT}", "--allow-root"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=ENV)
    try:
        base = _wait_for_url(process, r"127\.0\.0\.1:\d+")
        book = nbformat.read(catalog.notebook_path("associative/01_data"), as_version=4)
        sources = []
        for cell in book.cells:
            if cell.cell_type != "code":
                continue
            if "parameters" in cell.metadata.get("tags", []):
                sources.append(f"results_dir = {str(tmp_path)!r}\nnum_pairs = 4\n"
                               "data_seed = 0\nexamples_to_show = 2")
            else:
                sources.append(cell.source)
        results = asyncio.run(_run_cells(base, token, sources))
    finally:
        _stop(process)
    for result in results:
        assert result["reply"]["status"] == "ok", result["reply"]
    text = "".join(o.get("text", "") for r in results for o in r["outputs"])
    for noise in ("I0000", "E0000", "cuInit", "oneDNN"):
        assert noise not in text, noise
    summary = json.loads((tmp_path / "data" / "summary.json").read_text())
    assert summary["sizes"] == {"train": 100_000, "valid": 10_000, "test": 20_000}


@pytest.mark.parametrize("name, first", [("associative/02_train", "associative/01_data"),
                                         ("associative/04_figures", "associative/02_train")])
def test_a_notebook_without_its_input_names_the_notebook_to_run_first(tmp_path, name, first):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(catalog.notebook_path(name)), str(tmp_path / "out.ipynb"),
                                   parameters={"results_dir": str(tmp_path / "results")},
                                   kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(REPO_ROOT))
    assert error.value.ename == "MissingInput"
    assert f"run the notebook {first} first" in error.value.evalue
