"""Where a result came from: code version, package versions, device."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tensorflow", "keras", "jax", "numpy", "pandas", "papermill", "seaborn",
            "matplotlib", "dask", "distributed", "gymnasium")


def code_version() -> str:
    """The ``git`` commit of the code now, with ``-dirty`` when ``fwlib``, the notebooks or
    ``pyproject.toml`` have uncommitted changes (read afresh at every call: a long-lived
    process records the version in force when each run starts)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "fwlib", "notebooks",
                                "pyproject.toml"], cwd=REPO_ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@cache
def device() -> str:
    """The processor, and the GPUs the Keras backend sees with their names and memory, in
    words."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores"
    gpus = gpu_devices()
    if gpus:
        names = [gpu["name"] + (f" ({gpu['memory_limit_gib']:.0f} GiB usable)"
                                if gpu["memory_limit_gib"] else "") for gpu in gpus]
        text += f", {len(gpus)} GPU(s): " + ", ".join(dict.fromkeys(names))
    return text


@cache
def gpu_devices() -> list[dict]:
    """The GPUs the Keras backend in use sees: for each, its ``name`` and
    ``memory_limit_gib``, the memory its allocator may use (under JAX, ``bytes_limit``: by
    default a fraction of the device's; None where the backend does not say)."""
    from fwlib import quiet_stderr  # noqa: PLC0415

    with quiet_stderr():  # CUDA probing on a machine without a GPU reports its failure
        if backend() == "jax":
            import jax  # noqa: PLC0415

            return [{"name": d.device_kind, "memory_limit_gib": _jax_memory_gib(d)}
                    for d in jax.devices() if d.platform == "gpu"]
        import tensorflow as tf  # noqa: PLC0415

        gpus = tf.config.list_physical_devices("GPU")
        return [{"name": tf.config.experimental.get_device_details(gpu).get("device_name",
                                                                             gpu.name),
                 "memory_limit_gib": None} for gpu in gpus]


def _jax_memory_gib(jax_device) -> float | None:
    try:
        stats = jax_device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - a backend without memory statistics
        return None
    limit = stats.get("bytes_limit")
    return round(limit / 2**30, 1) if limit else None


def backend() -> str:
    """The Keras backend in use."""
    import keras  # noqa: PLC0415

    return keras.backend.backend()


def environment() -> dict:
    return {"code_version": code_version(), "device": device(), "backend": backend(),
            "gpus": [dict(gpu) for gpu in gpu_devices()], "packages": package_versions(),
            "host": platform.node()}


def benchmark_info(**settings) -> dict:
    """A benchmark's settings with the device, code version, Keras backend and package
    versions of this process: what a benchmark records beside its rows."""
    env = environment()
    return {**settings, "device": env["device"], "code_version": env["code_version"],
            "backend": env["backend"], "packages": env["packages"]}


def write_benchmark(out_dir: str | os.PathLike, name: str, info: dict, rows: list[dict],
                    table: str) -> None:
    """Write a benchmark's Markdown ``table`` to ``<name>.md`` and its ``info`` and ``rows``
    to ``<name>.json`` under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(table)
    (out / f"{name}.json").write_text(json.dumps({**info, "rows": rows}, indent=2))
