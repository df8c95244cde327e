"""`serve`: the app and the REST API on one port."""

from __future__ import annotations

import argparse
import os
import sys

from salesml.cli import context


def add_commands(commands: argparse._SubParsersAction) -> None:
    """serve."""
    sub = commands.add_parser("serve", help="serve the app and the REST API (/api/v1) on one port")
    sub.add_argument(
        "--host",
        help="address to listen on once sign-in is on (default 0.0.0.0, every interface); "
        "with no users the server listens on 127.0.0.1 only, whatever is asked",
    )
    sub.add_argument("--port", type=int, help="port (default: Streamlit's server.port, 8501)")
    sub.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from salesml.server import serve

    if args.database_url:
        os.environ["SALESML_DATABASE_URL"] = args.database_url
    from salesml import auth
    from salesml.server import listen_address

    engine = context.engine(args)  # the schema is migrated, and a bad URL refused, first
    host, notice = listen_address(args.host, sign_in_on=auth.enabled(engine))
    context.warn_about_cache(engine)
    engine.dispose()
    if notice:
        print(notice, file=sys.stderr)
    serve(host=host, port=args.port)
    return 0
