"""`python -m salesml ...`: see salesml.cli."""

if __name__ == "__main__":  # not when a worker process imports it
    from salesml import lifeline

    lifeline.hold_if_worker()  # first, while this process has no threads to fork with

    from salesml.cli import main

    raise SystemExit(main())
