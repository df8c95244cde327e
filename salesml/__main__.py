"""`python -m salesml ...`: see salesml.cli."""

from salesml.cli import main

raise SystemExit(main())
