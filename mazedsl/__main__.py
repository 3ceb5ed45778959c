"""``python -m mazedsl`` is the ``mazedsl`` command."""

from mazedsl.cli.main import run

run()
