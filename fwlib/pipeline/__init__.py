"""Run the notebooks in order with papermill, by profile, and render the report.

    python -m fwlib.pipeline --profile default [--only associative ...] [--from report]
                             [--workers N | --scheduler tcp://HOST:PORT]

Each task's numbered notebooks (``notebooks/<task>/NN_*.ipynb``) run in the order of
:data:`fwlib.tasks.TASKS`, then ``notebooks/report.ipynb``. A profile (``profiles/*.yaml``)
sets their parameters. Executed notebooks, run records, tables, figures, ``report.html``,
``index.html`` and ``pipeline.log`` go under ``results/<profile>/``.
"""

from fwlib.pipeline.catalog import notebooks, planned_configs, selected
from fwlib.pipeline.profiles import PipelineError, load_profile, profiles
from fwlib.pipeline.runner import KERNEL_NAME, executions, notebook_parameters, plan, run

__all__ = ["KERNEL_NAME", "PipelineError", "executions", "load_profile", "notebook_parameters",
           "notebooks", "plan", "planned_configs", "profiles", "run", "selected"]
