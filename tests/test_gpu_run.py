"""What can be checked of the GPU measurement (``benchmarks/gpu/``) without a GPU: its scripts
accept the options ``run.sh`` gives them, and the path it runs (``fwlib``, the associative
training, the provenance, the matrix multiply) imports no TensorFlow under the JAX backend,
since the GPU machine has none."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GPU = REPO_ROOT / "benchmarks" / "gpu"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_sh_options(name: str) -> list[list[str]]:
    """The options of each ``name=(...)`` array in run.sh (quick and full)."""
    text = (GPU / "run.sh").read_text()
    text = re.sub(r'"\$\{\w+:-([^}]*)\}"', r"\1", text)  # a variable's default in its place
    return [found.split() for found in re.findall(rf"^\s*{name}=\((.*)\)$", text, re.M)]


def test_the_options_of_run_sh_parse():
    speed = _load(REPO_ROOT / "benchmarks" / "train_speed.py")
    measure = _load(GPU / "measure.py")
    assert len(_run_sh_options("speed")) == 2 and len(_run_sh_options("check")) == 2
    for options in _run_sh_options("speed") + _run_sh_options("check"):
        args = speed.parse_args(["--backends", "jax", "--models", "fast_weights", "lstm",
                                 *options, "--no-time-to-accuracy"])
        assert args.backends == ["jax"] and not args.time_to_accuracy
    for name, what in (("cell", "cell"), ("parallel", "parallel")):
        assert len(_run_sh_options(name)) == 2
        for options in _run_sh_options(name):
            args = measure.parse_args([what, "--out", "out", *options])
            assert args.steps % measure.EVAL_EVERY == 0 or args.steps < measure.EVAL_EVERY


@pytest.mark.parametrize("argv, option", [
    (["cell", "--out", "o", "--steps", "0"], "--steps"),
    (["cell", "--out", "o", "--steps", "750"], "--steps"),
    (["parallel", "--out", "o", "--processes", "x"], "--processes"),
    (["speed", "--out", "o"], "what"),
])
def test_bad_options_name_the_option(capsys, argv, option):
    with pytest.raises(SystemExit):
        _load(GPU / "measure.py").parse_args(argv)
    assert option in capsys.readouterr().err


def test_collect_summarises_what_run_sh_wrote(tmp_path):
    collect = _load(GPU / "collect.py")
    env = {"device": {"device_kind": "NVIDIA H200", "platform": "gpu", "count": 1,
                      "memory_limit_gib": 104.2},
           "nvidia_smi": "NVIDIA H200, 143771 MiB, 580.0", "keras_backend": "jax",
           "tensorflow_installed": False, "packages": {"keras": "3.15.1"},
           "variables": {"XLA_FLAGS": "--xla_gpu_deterministic_ops=true"},
           "provenance": {"device": "CPU, 16 cores, 1 GPU(s): NVIDIA H200 (104 GiB usable)",
                          "code_version": "abc"}}
    (tmp_path / "environment.json").write_text(json.dumps(env))
    text = collect.summary(tmp_path)
    assert "NVIDIA H200" in text and "TensorFlow installed: no" in text
    assert "train_speed.csv is missing" in text and "parallel.json is missing" in text


BLOCKED = """
import sys, tempfile
sys.modules["tensorflow"] = None  # any import of TensorFlow now fails
import fwlib
sys.path[:0] = ["benchmarks/gpu", "benchmarks"]
import measure, train_speed
with tempfile.TemporaryDirectory() as tmp:  # a run of 10 updates, through execute
    run = measure.train_one(10, 0, tmp + "/run")
chained, a, b = train_speed._jax_chain(16, 2)  # the matrix multiply's compiled chain
print("RESULT", {"backend": run["metrics"]["backend"], "steps": run["metrics"]["steps"],
                 "matmul": chained(a, b).shape, "tensorflow": sys.modules["tensorflow"]})
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_the_gpu_path_imports_no_tensorflow_under_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", BLOCKED], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = done.stdout.strip().splitlines()[-1]
    assert result == ("RESULT {'backend': 'jax', 'steps': 10, 'matmul': (16, 16), "
                      "'tensorflow': None}"), result


def test_the_steady_rate_leaves_compiling_out_and_collect_shows_it(tmp_path):
    measure = _load(GPU / "measure.py")
    # 100 s to compile and reach update 500, then 500 updates a second
    history = [{"step": 500 * i, "wall_seconds": 100.0 + (i - 1)} for i in range(1, 5)]
    assert measure.steady_rate(history) == pytest.approx(500.0)
    assert measure.steady_rate(history[:1]) is None
    run = {"train_seconds": 103.0, "steady_steps_per_second": 500.0}
    parallel = {"what": "2 processes", "alone": {"processes": 1, "wall_seconds": 110.0,
                                                  "runs": [run]},
                "together": {"processes": 2, "wall_seconds": 115.0,
                             "runs": [{**run, "steady_steps_per_second": 400.0}] * 2},
                "throughput_ratio_wall": 1.9, "throughput_ratio_train": 1.95,
                "throughput_ratio_steady": 1.6}
    cell = {"what": "cell", "steps": 2000, "steps_per_second": 19.4, "train_seconds": 103.0,
            "valid_error": 0.6, "test_error": 0.61, "history": history}
    (tmp_path / "parallel.json").write_text(json.dumps(parallel))
    (tmp_path / "table1_cell.json").write_text(json.dumps(cell))
    text = _load(GPU / "collect.py").summary(tmp_path)
    assert "| 2,000 | 19.4 | 103.0 | 100.0 | 500 | 60.00 % | 61.00 % |" in text
    assert "| parallel.json | no | 1 | 110.0 | 103.0 | 500 | 1.00× | 1.00× | 1.00× |" in text
    assert "| parallel.json | no | 2 | 115.0 | 103.0 | 800 | 1.90× | 1.95× | 1.60× |" in text
    # a later measurement under the Multi-Process Service, collected with --tag, beside it
    (tmp_path / "parallel_mps.json").write_text(json.dumps(
        {**parallel, "what": "2 processes under MPS", "multi_process_service": True,
         "throughput_ratio_steady": 1.8}))
    text = _load(GPU / "collect.py").summary(tmp_path)
    assert "| parallel.json | no | 2 | 115.0 | 103.0 | 800 | 1.90× | 1.95× | 1.60× |" in text
    assert "| parallel_mps.json | yes | 2 | 115.0 | 103.0 | 800 | 1.90× | 1.95× | 1.80× |" in text
    assert "- parallel_mps.json: 2 processes under MPS." in text


def test_collect_tags_a_later_measurement_and_adds_its_log(tmp_path):
    collect = _load(GPU / "collect.py")
    first, later, dest = tmp_path / "first", tmp_path / "later", tmp_path / "dest"
    for folder, text in ((first, "first"), (later, "later")):
        folder.mkdir()
        (folder / "run.log").write_text(f"{text} log\n")
        run = {"train_seconds": 5.0, "steady_steps_per_second": 1000.0}
        (folder / "parallel.json").write_text(json.dumps(
            {"what": text, "alone": {"processes": 1, "wall_seconds": 10.0, "runs": [run]},
             "together": {"processes": 1, "wall_seconds": 10.0, "runs": [run]},
             "throughput_ratio_wall": 1.0, "throughput_ratio_train": 1.0}))
    assert collect.main([str(first), "--dest", str(dest)]) == 0
    assert collect.main([str(later), "--tag", "mps8", "--dest", str(dest)]) == 0
    assert json.loads((dest / "parallel.json").read_text())["what"] == "first"
    assert json.loads((dest / "parallel_mps8.json").read_text())["what"] == "later"
    assert (dest / "run.log").read_text() == "first log\n\nlater log\n"
    collect.main([str(later), "--tag", "mps8", "--dest", str(dest)])  # the same log again
    assert (dest / "run.log").read_text().count("later log") == 1


@pytest.mark.parametrize("argv, message", [
    (["--tag", "a/b"], "--tag"),
    ([], "has none of run.sh's files"),
])
def test_collect_refuses_bad_input_before_writing(tmp_path, capsys, argv, message):
    dest = tmp_path / "dest"
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        _load(GPU / "collect.py").main([str(tmp_path / "empty"), *argv, "--dest", str(dest)])
    assert message in capsys.readouterr().err and not dest.exists()


def test_run_sh_refuses_an_unknown_step_before_writing(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(["bash", str(GPU / "run.sh"), str(out)], capture_output=True,
                          text=True, env={**os.environ, "GPU_STEPS": "environment train"},
                          timeout=30)
    assert done.returncode == 2 and "GPU_STEPS: unknown step 'train'" in done.stderr
    assert not out.exists()


def test_collect_sets_the_compile_check_beside_the_speed_table(tmp_path):
    collect = _load(GPU / "collect.py")
    header = ("name,label,hidden_units,examples_per_s,examples_per_s_min,examples_per_s_max,"
              "first_window_s,device_peak_mib,status,note\n")
    (tmp_path / "train_speed.csv").write_text(
        header + "fast_weights,fast weights (attention),100,169739,1,2,112.8,64,ok,\n"
        "lstm,LSTM,100,62678,1,2,2.9,65,ok,\n")
    (tmp_path / "compile_check.csv").write_text(
        header + "fast_weights,fast weights (attention),100,170000,1,2,9.5,64,ok,\n")
    text = collect.summary(tmp_path)
    assert "| fast weights (attention) | 100 | 9.5 | 112.8 | 170,000 | 169,739 |" in text
    (tmp_path / "compile_check.csv").unlink()
    assert "compile_check.csv is missing." in collect.summary(tmp_path)
