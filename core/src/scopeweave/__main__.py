"""``python -m scopeweave``: the same as the ``scopeweave`` command."""

from scopeweave.cli import main

main()
