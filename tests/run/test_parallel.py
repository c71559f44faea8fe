"""Grids in parallel workers: the same numbers wherever a run trained, faults, locks."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from fwlib.cores import CoreSpec
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.run.folder import RunFolder
from fwlib.run.parallel import GridError, resolve_scheduler, resolve_workers, run_grid
from fwlib.tasks.associative import AssociativeTask

KEYS = ("test_error", "test_loss", "valid_error", "best_step", "steps", "stopped")


def grid(max_steps=200, kinds=("fast_weights", "irnn"), seeds=(0, 1)):
    return [RunConfig(task=AssociativeTask(), model=CoreSpec(kind, 8),
                      optim=OptimSpec(batch_size=64, learning_rate=3e-3),
                      budget=Budget(max_steps=max_steps, eval_every=50, steps_per_execution=25,
                                    patience=10_000), seed=seed)
            for kind in kinds for seed in seeds]


def _numbers(metrics):
    return [{k: m[k] for k in KEYS} for m in metrics]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    root = tmp_path_factory.mktemp("one")
    return root, run_grid(grid(), root, workers=1, progress=False)


def test_parallel_runs_give_the_numbers_of_one_worker(one_worker, tmp_path):
    _, reference = one_worker
    parallel = run_grid(grid(), tmp_path, workers=2, progress=False)
    assert _numbers(parallel) == _numbers(reference)
    assert all(len(RunFolder(tmp_path / c.run_name()).starts()) == 1 for c in grid())


def test_a_dask_cluster_on_loopback_runs_a_grid(one_worker, tmp_path):
    from dask.distributed import LocalCluster

    _, reference = one_worker
    configs = grid()[:3]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        metrics = run_grid(configs, tmp_path, scheduler=cluster.scheduler_address,
                           progress=False)
    assert _numbers(metrics) == _numbers(reference[:3])


def test_a_killed_worker_loses_only_its_run_s_progress(one_worker, tmp_path):
    """kill -9 the worker that trains a run: Dask gives the run to another worker, which
    resumes it from its checkpoint, and it ends with the numbers of an uninterrupted run."""
    _, reference = one_worker
    config = replace(grid(max_steps=400)[0])
    straight = run_grid([config], tmp_path / "straight", workers=1, progress=False)
    run_dir = tmp_path / "killed" / config.run_name()
    code = ("import sys, json; from fwlib.run.parallel import run_grid; "
            "from fwlib.run.config import RunConfig; "
            "m = run_grid([RunConfig.from_dict(json.loads(sys.argv[1]))], sys.argv[2], "
            "workers=1, progress=False); print('METRICS', json.dumps(m[0]))")
    pipeline = subprocess.Popen([sys.executable, "-c", code, json.dumps(config.to_dict()),
                                 str(tmp_path / "killed")], stdout=subprocess.PIPE, text=True)
    folder = RunFolder(run_dir)
    deadline = time.time() + 240
    while time.time() < deadline:
        starts, state = folder.starts(), None
        try:
            state = folder.read_state()
        except ValueError:
            pass
        if starts and state and state["step"] >= 100:
            break
        time.sleep(0.05)
    worker_pid = folder.starts()[0]["pid"]
    assert worker_pid != pipeline.pid
    os.kill(worker_pid, signal.SIGKILL)
    out, _ = pipeline.communicate(timeout=300)
    assert pipeline.returncode == 0
    metrics = json.loads(out.split("METRICS", 1)[1])
    starts = folder.starts()
    assert len(starts) == 2 and starts[1]["step"] >= 100 and starts[1]["pid"] != worker_pid
    assert _numbers([metrics]) == _numbers(straight)


def test_two_pipelines_on_one_folder_train_each_run_once(tmp_path):
    configs = grid(kinds=("fast_weights", "irnn"))
    code = ("import sys, json; from fwlib.run.parallel import run_grid; "
            "from fwlib.run.config import RunConfig; "
            "run_grid([RunConfig.from_dict(c) for c in json.loads(sys.argv[1])], sys.argv[2], "
            "workers=1, progress=False)")
    payload = json.dumps([c.to_dict() for c in configs])
    processes = [subprocess.Popen([sys.executable, "-c", code, payload, str(tmp_path)])
                 for _ in range(2)]
    for process in processes:
        assert process.wait(timeout=600) == 0
    for config in configs:
        folder = RunFolder(tmp_path / config.run_name())
        assert folder.finished() and len(folder.starts()) == 1, config.run_name()


def test_a_failing_run_is_reported_after_the_others_finish(tmp_path):
    good = grid(kinds=("irnn",), seeds=(0,))[0]
    clash = grid(kinds=("lstm",), seeds=(0,))[0]
    # a folder that holds another run under the name of `clash`: reported before any work
    RunFolder(tmp_path / clash.run_name()).write_config(good)
    with pytest.raises(ValueError, match="holds another run"):
        run_grid([good, clash], tmp_path, workers=1, progress=False)
    assert not (tmp_path / good.run_name()).exists()

    broken = replace(good, seed=5)
    folder = RunFolder(tmp_path / broken.run_name())
    folder.write_config(broken)
    (folder.path / "state.json").write_text("{}")  # a damaged resume point
    with pytest.raises(GridError, match=r"1 of 2 runs failed") as error:
        run_grid([good, broken], tmp_path, workers=1, progress=False)
    assert broken.run_name() in str(error.value)
    assert RunFolder(tmp_path / good.run_name()).finished()


def test_worker_and_scheduler_settings_are_checked(monkeypatch):
    monkeypatch.delenv("FWLIB_WORKERS", raising=False)
    assert resolve_workers() == (os.cpu_count() or 1)
    monkeypatch.setenv("FWLIB_WORKERS", "3")
    assert resolve_workers() == 3 and resolve_workers(1) == 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            resolve_workers(bad)
    assert resolve_scheduler("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    with pytest.raises(ValueError, match="scheduler must be"):
        resolve_scheduler("127.0.0.1:8786")


def test_longest_runs_go_first_when_every_run_can_be_estimated(tmp_path):
    from fwlib.run.parallel import expected_seconds, longest_first
    from fwlib.tasks.associative.grid import table1_grid
    from fwlib.tasks.mnist_glimpses.plans import table2_grid

    table1 = table1_grid(["irnn", "alstm", "lstm"], [20, 100], [0],
                         {"default": 30000, "alstm": 6000})
    ordered = longest_first(table1)
    costs = expected_seconds(ordered)
    assert costs == sorted(costs, reverse=True) and None not in costs
    assert sorted(c.run_name() for c in ordered) == sorted(c.run_name() for c in table1)
    assert ordered[-1].model.kind == "irnn" and ordered[-1].model.hidden_units == 20
    # an S = 2 run, another task, or no benchmark table: the grid's own order
    s2 = table1_grid(["fast_weights"], [20], [0], 1000, inner_steps=2)
    assert expected_seconds(s2) == [None]
    assert longest_first(table1[:2] + s2) == table1[:2] + s2
    mnist = table2_grid(["irnn"], [50], [0], 1000)
    assert longest_first(table1[:2] + mnist) == table1[:2] + mnist
    assert longest_first(table1) != table1
    assert expected_seconds(table1, tmp_path / "missing.csv") == [None] * len(table1)


def test_a_second_local_cluster_on_the_machine_starts_without_a_port_warning():
    import socket  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    from fwlib.run.parallel import _client  # noqa: PLC0415

    taken = socket.socket()
    try:  # stands for another pipeline's scheduler on Dask's usual port
        taken.bind(("", 8787))
        taken.listen()
    except OSError:
        pass  # already taken, which is the case this test is about
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client, cluster = _client(1, None)
            client.close()
            cluster.close()
    finally:
        taken.close()
    assert not [w for w in caught if "already in use" in str(w.message)]


def test_a_worker_that_frees_takes_the_next_run_at_once(tmp_path):
    """Runs go out one per free worker, in order: a short run never waits on a worker busy
    with a long one while the other worker is free."""
    import dask  # noqa: PLC0415
    import dask.distributed  # noqa: F401, PLC0415  (its settings, before they are changed)

    from fwlib.run.parallel import _client, in_order  # noqa: PLC0415

    log = tmp_path / "starts.txt"

    def job(name, seconds):
        import time  # noqa: PLC0415

        with open(log, "a") as out:
            out.write(f"{name} {time.time()}\n")
        time.sleep(seconds)
        return name

    jobs = [("long", 5.0)] + [(f"short{i}", 0.2) for i in range(6)]
    # without work stealing, which may or may not move a waiting run in time
    with dask.config.set({"distributed.scheduler.work-stealing": False}):
        client, cluster = _client(2, None)
    try:
        client.wait_for_workers(2)
        ended = [(name, future.result()) for (name, _), future in in_order(
            client, jobs, lambda item: client.submit(job, *item, key=f"run-{item[0]}",
                                                     pure=False))]
    finally:
        client.close()
        cluster.close()
    assert [name for name, _ in ended] == [f"short{i}" for i in range(6)] + ["long"]
    assert all(name == result for name, result in ended)
    starts = {name: float(at) for name, at in
              (line.split() for line in log.read_text().splitlines())}
    # every short run goes to the free worker, in order; none waits behind the long one
    shorts = [name for name, _ in jobs[1:]]
    assert sorted(shorts, key=starts.get) == shorts
    assert max(starts.values()) - starts["long"] < 3.0, starts
