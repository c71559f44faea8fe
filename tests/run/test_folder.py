import subprocess
import sys
import time

from fwlib.run.folder import RunFolder

HOLD = ("import sys, time; from fwlib.run.folder import RunFolder\n"
        "with RunFolder(sys.argv[1]).lock():\n    print('locked', flush=True)\n"
        "    time.sleep(60)\n")


def test_a_lock_is_held_across_processes_and_released_when_its_holder_dies(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert not folder.is_locked()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder.path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    assert folder.is_locked()
    holder.kill()  # SIGKILL: no clean-up code runs
    holder.wait()
    deadline = time.time() + 10
    while folder.is_locked() and time.time() < deadline:
        time.sleep(0.05)
    assert not folder.is_locked()
    with folder.lock():
        assert folder.is_locked()
    assert not folder.is_locked()


def test_json_is_written_without_nan(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.write_json("state.json", {"loss": float("nan"), "rows": [float("inf"), 1.0]})
    assert (folder.path / "state.json").read_text().count("null") == 2
