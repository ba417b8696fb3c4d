"""``python -m neuro``: the same as the ``neuro`` command."""

from neuro.cli import main

raise SystemExit(main())
