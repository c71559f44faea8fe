"""The supervised training loop shared by every classification task."""
