"""Associative retrieval (Section 4.1 of the paper): Table 1 and Figure 2, with ablations.

- :mod:`.data`: the task's sequences and its train / validation / test splits;
- :mod:`.model`: the classifier around a recurrent core;
- :mod:`.grid`: the planned runs of Table 1 and of the learning-rate search;
- :mod:`.ablations`: the ablation studies and the claims they judge;
- :mod:`.table`, :mod:`.figures`, :mod:`.report`: Table 1, Figure 2 and the report section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fwlib.cores import CoreSpec, check_positive_int
from fwlib.run.config import Budget, OptimSpec
from fwlib.tasks.associative import data


@dataclass(frozen=True)
class AssociativeTask:
    """The task part of a run's config: the data and the classifier around the core."""

    num_pairs: int = 4  # K, key-value pairs per sequence (length 2K + 3)
    data_seed: int = 0  # seed of the splits; fixed across training seeds
    embedding_dim: int = 100  # learned embedding of each symbol
    decoder_units: int = 100  # ReLUs between the core and the logits

    name: ClassVar[str] = "associative"
    title: ClassVar[str] = "Associative retrieval (Table 1, Figure 2)"
    trainer: ClassVar[str] = "supervised"
    model_class: ClassVar[type] = CoreSpec
    optim_class: ClassVar[type] = OptimSpec
    budget_class: ClassVar[type] = Budget

    def validate(self) -> AssociativeTask:
        if (isinstance(self.num_pairs, bool) or not isinstance(self.num_pairs, int)
                or not 1 <= self.num_pairs <= data.MAX_PAIRS):
            raise ValueError(f"num_pairs must be an integer in 1..{data.MAX_PAIRS} "
                             f"(got {self.num_pairs!r})")
        if (isinstance(self.data_seed, bool) or not isinstance(self.data_seed, int)
                or self.data_seed < 0):
            raise ValueError(f"data_seed must be a non-negative integer (got {self.data_seed!r})")
        check_positive_int("embedding_dim", self.embedding_dim)
        check_positive_int("decoder_units", self.decoder_units)
        return self

    def check_run(self, config) -> None:
        if config.optim.batch_size > data.SPLIT_SIZES["train"]:
            raise ValueError(f"batch_size must be at most {data.SPLIT_SIZES['train']} "
                             f"(got {config.optim.batch_size})")

    def splits(self) -> dict:
        return data.load_splits(self.num_pairs, self.data_seed)

    def data_digest(self, splits: dict) -> str:
        return data.splits_digest(splits)

    def build_model(self, core: CoreSpec):
        from fwlib.tasks.associative.model import build_classifier  # noqa: PLC0415

        return build_classifier(core, self.num_pairs, self.embedding_dim, self.decoder_units)


TASK = AssociativeTask


def report_section(out_dir, profile: str) -> None:
    from fwlib.tasks.associative.report import section  # noqa: PLC0415

    section(out_dir, profile)


def index_entries(out_dir) -> list[tuple[str, str]]:
    return [("tables/table1.csv", "Table 1 (CSV)"), ("tables/table1.md", "Table 1 (Markdown)"),
            ("figures/figure2.png", "Figure 2 (PNG)"), ("figures/figure2.svg", "Figure 2 (SVG)"),
            ("tables/ablations.csv", "Ablations (CSV)"),
            ("tables/ablation_claims.csv", "Ablation claims (CSV)"),
            ("figures/ablations.png", "Ablations (PNG)"),
            ("runs", "Table 1 run records (config, history, metrics per run)")]
