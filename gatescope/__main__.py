"""``python -m gatescope``: the command line (gatescope serve, gatescope export), as the ``gatescope`` command."""

from gatescope.app.cli import main

main()
