"""`python -m salesml ...`: see salesml.cli."""

from salesml.cli import main

if __name__ == "__main__":  # not when a worker process imports it
    raise SystemExit(main())
