"""Hydra config groups of mazedsl (the top-level conf/ folder, shipped as mazedsl.conf)."""
