"""The paper's numbers that the report compares with, as written in ``docs/paper.md``.

``docs/paper.md`` is the one place where the project keeps what is known of the paper: its
tables, its equations, what is known and what is assumed, and where each fact comes from.
Marks: **P** read in the paper's own text; **S** stated by a secondary source that quotes the
paper (its PDF could not be read here); **A** an assumption of this project.
"""

from __future__ import annotations

from fwlib.run.provenance import REPO_ROOT

DOC = "docs/paper.md"
DOC_PATH = REPO_ROOT / DOC
CITATION = ('Ba, Hinton, Mnih, Leibo & Ionescu, "Using Fast Weights to Attend to the Recent '
            'Past", NIPS 2016, arXiv:1610.06258v3')
MARKS = {"P": "read in the paper's own text",
         "S": "stated by a secondary source that quotes the paper",
         "A": "an assumption of this project where the paper is silent"}

# Table 1: associative retrieval, classification error on the test set, % (mark S).
TABLE1 = {
    ("irnn", 20): 62.11, ("irnn", 50): 60.23, ("irnn", 100): 0.34,
    ("lstm", 20): 60.81, ("lstm", 50): 1.85, ("lstm", 100): 0.0,
    ("alstm", 20): 60.13, ("alstm", 50): 1.62, ("alstm", 100): 0.0,
    ("fast_weights", 20): 1.81, ("fast_weights", 50): 0.0, ("fast_weights", 100): 0.0,
}
TABLE1_SOURCE = "S"

# Table 2: MNIST read as a sequence of glimpses, classification error on the test set, %
# (mark S); columns are the number of hidden units (the ConvNet's last hidden layer).
TABLE2 = {
    ("irnn", 50): 12.95, ("irnn", 100): 1.95, ("irnn", 200): 1.42,
    ("lstm", 50): 12.00, ("lstm", 100): 1.55, ("lstm", 200): 1.10,
    ("convnet", 50): 1.81, ("convnet", 100): 1.00, ("convnet", 200): 0.90,
    ("fast_weights", 50): 7.21, ("fast_weights", 100): 1.30, ("fast_weights", 200): 0.85,
}
TABLE2_SOURCE = "S"

# Table 3: Multi-PIE facial expressions, accuracy in % (mark S); not reproduced here.
TABLE3 = {"irnn": 81.11, "lstm": 81.32, "convnet": 88.23, "fast_weights": 86.34}
TABLE3_SOURCE = "S"


def source_note(mark: str) -> str:
    """``S: stated by a secondary source that quotes the paper (docs/paper.md)``."""
    return f"{mark}: {MARKS[mark]} (`{DOC}`)"
