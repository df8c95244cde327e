"""`python -m salesml ...`: the command line.

The parser (salesml.cli.parser) names the commands; each group of commands lives in its own
module beside it (data, models, users, serve), its options next to the code that runs it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

# Only what the parser needs: each command imports its own modules when it runs, so that
# `--help` and the light commands start without pandas, SQLAlchemy or the forecasting stack.
from salesml.cli.parser import build_parser
from salesml.errors import NothingToLoadError, SalesMLError

__all__ = ["FLAGS", "build_parser", "main"]

# The option that fixes an error (SalesMLError.setting), as this command line spells it.
FLAGS = {
    "mapping": "--map FIELD=COLUMN",
    "date_format": "--date-format",
    "decimal": "--decimal . or --decimal ,",
    "encoding": "--encoding",
    "horizon": "--horizon",
    "windows": "--windows",
    "random_state": "--seed",
    "start": "--start, --end",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NothingToLoadError as exc:
        if exc.summary is not None:
            print(json.dumps(exc.summary.as_dict()))
        return _fail(exc)
    except SalesMLError as exc:
        return _fail(exc)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"cannot use{where}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was half-written", status=130)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        from salesml import db

        if _is_database_error(exc):
            return _fail(db.database_error(exc, getattr(args, "engine", None)))
        if os.environ.get("SALESML_DEBUG"):
            raise
        reason = db.mask_url(str(exc).splitlines()[0] if str(exc) else "")
        return _fail(
            f"unexpected {type(exc).__name__}: {reason} (run again with SALESML_DEBUG=1 "
            "for the details, and please report it)"
        )


def _is_database_error(exc: Exception) -> bool:
    import sqlalchemy as sa

    return isinstance(exc, sa.exc.SQLAlchemyError)


def _fail(error: object, *, status: int = 1) -> int:
    flag = FLAGS.get(getattr(error, "setting", None) or "")
    print(f"error: {error}" + (f" ({flag})" if flag else ""), file=sys.stderr)
    return status
