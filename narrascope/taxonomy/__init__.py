"""Taxonomies shipped as data files, with their loaders."""
