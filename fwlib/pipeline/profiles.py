"""Profiles: one small YAML file per scale under ``profiles/``.

A profile has a ``description``, optionally ``workers`` (parallel runs on this machine) and
``base: OTHER`` (start from profile OTHER's parameters and replace only those named here),
and per notebook (``task/NN_name``) the parameters that differ from the notebook's own
defaults.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from fwlib.run.provenance import REPO_ROOT

PROFILE_DIR = REPO_ROOT / "profiles"
TOP_KEYS = ("description", "base", "workers", "notebooks")


class PipelineError(RuntimeError):
    """A problem a user can act on; printed in one line, without a traceback."""


def profiles(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or PROFILE_DIR).glob("*.yaml"))


def profile_path(name: str, directory: Path | None = None) -> Path:
    """A profile's file: ``profiles/<name>.yaml``, or a path to a YAML file of one's own."""
    directory = directory or PROFILE_DIR
    path = Path(name) if name.endswith((".yaml", ".yml")) else directory / f"{name}.yaml"
    if not path.exists():
        raise PipelineError(f"profile must be one of {', '.join(profiles(directory))} or a "
                            f"path to a YAML file (got {name!r})")
    return path


def _where(path: Path, node) -> str:
    return f"{path}, line {node.start_mark.line + 1}"


def read_yaml(path: Path) -> dict:
    """The profile file's mapping; a syntax error or a wrong shape is named with its line."""
    text = path.read_text()
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise PipelineError(f"{path}{line}: not valid YAML ({problem})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise PipelineError(f"{_where(path, root)}: a profile must be a mapping of "
                            f"{', '.join(TOP_KEYS)}")
    for key, value in root.value:
        if key.value not in TOP_KEYS:
            raise PipelineError(f"{_where(path, key)}: unknown key {key.value!r}; a profile "
                                f"has {', '.join(TOP_KEYS)}")
        if key.value == "notebooks":
            if not isinstance(value, yaml.MappingNode | yaml.ScalarNode) or (
                    isinstance(value, yaml.ScalarNode) and value.value not in ("", "null")):
                raise PipelineError(f"{_where(path, value)}: notebooks must be a mapping of "
                                    "notebook name to its parameters")
            if isinstance(value, yaml.MappingNode):
                for name, params in value.value:
                    if not isinstance(params, yaml.MappingNode) and params.value not in (
                            "", "null"):
                        raise PipelineError(f"{_where(path, params)}: the parameters of "
                                            f"{name.value} must be a mapping of name to value")
    return yaml.safe_load(text) or {}


def _string_keys(value):
    """``value`` with every mapping key written as a string (YAML reads ``50:`` as a number):
    papermill records a notebook's parameters as JSON, whose keys are strings."""
    if isinstance(value, dict):
        return {str(key): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


def load_profile(name: str, notebook_names: list[str], directory: Path | None = None,
                 _seen: tuple[str, ...] = ()) -> dict:
    """A profile's settings, its base applied; unknown notebooks are named."""
    directory = directory or PROFILE_DIR
    path = profile_path(name, directory)
    profile = read_yaml(path)
    base = profile.pop("base", None)
    if base is not None:
        if base not in profiles(directory) or base in (*_seen, path.stem):
            raise PipelineError(f"profile {path.stem!r}: base must be one of "
                                f"{', '.join(p for p in profiles(directory) if p != path.stem)}"
                                f", without cycles (got {base!r})")
        inherited = load_profile(base, notebook_names, directory, (*_seen, path.stem))
        own = profile.get("notebooks") or {}
        books = inherited.get("notebooks", {})
        profile["notebooks"] = {n: {**(books.get(n) or {}), **(own.get(n) or {})}
                                for n in {**books, **own}}
        profile.setdefault("workers", inherited.get("workers"))
    profile["notebooks"] = {book: _string_keys(params or {})
                            for book, params in (profile.get("notebooks") or {}).items()}
    unknown = sorted(set(profile["notebooks"]) - set(notebook_names))
    if unknown:
        raise PipelineError(f"profile {path.stem!r} names unknown notebook(s) {unknown}; the "
                            f"notebooks are {', '.join(notebook_names)}")
    workers = profile.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise PipelineError(f"profile {path.stem!r}: workers must be a positive integer "
                            f"(got {workers!r})")
    return profile
