"""Data generators for the paper's tasks."""
