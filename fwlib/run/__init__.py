"""Run machinery shared by every experiment: configs, run folders, the results store,
provenance, planned grids and their parallel execution."""
