"""mazedsl_tui: the Textual app (the top-level tui/ folder)."""
