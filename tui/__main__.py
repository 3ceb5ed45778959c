"""``python -m mazedsl_tui``: the terminal UI."""

from mazedsl_tui.app import main

raise SystemExit(main())
