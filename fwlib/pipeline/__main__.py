"""``python -m fwlib.pipeline``: see :mod:`fwlib.pipeline`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fwlib.pipeline import PipelineError, profiles, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fwlib.pipeline",
                                     description="Run the report's notebooks by profile.")
    parser.add_argument("--profile", default="default",
                        help=f"one of {', '.join(profiles())}, or a YAML file (default: default)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                       help="run only these notebooks (task/name, a unique short name, or a "
                            "task)")
    group.add_argument("--from", dest="start", metavar="NOTEBOOK",
                       help="run from this notebook to the end")
    parser.add_argument("--results-root", type=Path, default=None,
                        help="folder that holds results/<profile> (default: results/)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="training runs in parallel on this machine (default: the profile's "
                            "workers, else one per core; 1: one at a time)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="send the runs to this running Dask cluster instead")
    args = parser.parse_args(argv)
    try:
        run(args.profile, args.only, args.start, args.results_root, args.workers,
            args.scheduler)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
