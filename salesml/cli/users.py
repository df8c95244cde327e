"""The access commands: the users who may sign in, their API tokens, and the audit log."""

from __future__ import annotations

import argparse
import sys

from salesml.choices import ROLES
from salesml.cli import context
from salesml.errors import SalesMLError


def add_commands(commands: argparse._SubParsersAction) -> None:
    """users (add, list, set-role, disable, enable, reset-password), tokens and audit."""
    _add_users(commands)

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    sub = tokens.add_parser("create", help="create a token for a user and print it, once")
    sub.add_argument("name", help="the user's name")
    sub.add_argument("--label", default="", help="what the token is for, shown in lists")
    sub.add_argument("--expires", type=int, metavar="DAYS", help="expire after DAYS days")
    sub.set_defaults(handler=_tokens_create)
    sub = tokens.add_parser("list", help="list the tokens (their prefixes, never the tokens)")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_tokens_list)
    sub = tokens.add_parser("revoke", help="revoke a token; it is refused from now on")
    sub.add_argument(
        "token_id", type=int, metavar="ID", help="the token's id, as tokens list shows it"
    )
    sub.set_defaults(handler=_tokens_revoke)

    sub = commands.add_parser("audit", help="who loaded, deleted, trained, saved and changed users")
    sub.add_argument("--limit", type=int, default=50, help="newest entries to show (default 50)")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_audit)


def _add_users(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser(
        "users", help="add and change the users who may sign in (sign-in is on once one exists)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    sub = users.add_parser(
        "add", help="add a user; the password is read from standard input, or prompted for"
    )
    sub.add_argument("name", help="the user's name")
    sub.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    sub.add_argument("--email", help="the address an OpenID Connect sign-in vouches for")
    sub.add_argument(
        "--no-password", action="store_true", help="sign in only through OpenID Connect (--email)"
    )
    sub.set_defaults(handler=_users_add)
    sub = users.add_parser("list", help="list the users and their roles")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_users_list)
    sub = users.add_parser("set-role", help="give a user another role")
    sub.add_argument("name", help="the user's name")
    sub.add_argument("role", choices=ROLES, help="the new role")
    sub.set_defaults(handler=_users_set_role)
    for action, text in (
        ("disable", "refuse a user's sign-ins and tokens"),
        ("enable", "undo disable"),
    ):
        sub = users.add_parser(action, help=text)
        sub.add_argument("name", help="the user's name")
        sub.set_defaults(handler=_users_disable, disabled=action == "disable")
    sub = users.add_parser("reset-password", help="set a new password (from stdin, or prompted)")
    sub.add_argument("name", help="the user's name")
    sub.set_defaults(handler=_users_reset_password)


def _read_password(*, confirm: bool) -> str:
    """A password from standard input's first line, or prompted for (twice) on a terminal."""
    import getpass

    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin else ""
        password = line.rstrip("\r\n")
        if not password:
            raise SalesMLError("no password on standard input: pipe it in, or run in a terminal")
        return password
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != password:
        raise SalesMLError("the two passwords differ; nothing was changed")
    return password


def _users_add(args: argparse.Namespace) -> int:
    from salesml import auth

    engine = context.engine(args)
    first = not auth.enabled(engine)
    if args.no_password and not args.email:
        raise SalesMLError("--no-password needs --email: the user signs in through OpenID Connect")
    # Checked before asking for a password, so a bad name or role costs no typing.
    auth.check_name(args.name)
    password = None if args.no_password else _read_password(confirm=True)
    user = auth.add_user(
        engine,
        args.name,
        role=args.role,
        password=password,
        email=args.email,
        by=context.actor(),
    )
    print(f"added {user.name} ({user.role})")
    if first and user.role != "admin":
        # Not refused: the command line can add an admin at any time, and needs no sign-in.
        print(
            f"warning: {user.name} is the only user and not an admin, so nobody can reach the "
            "Team page or manage users in the app; add one: "
            "python -m salesml users add NAME --role admin",
            file=sys.stderr,
        )
    if first:
        print(
            "sign-in is now on: the app asks for a name and password, and the API for a token "
            "(python -m salesml tokens create NAME); restart a running server to let it "
            "listen beyond this machine (--host)"
        )
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from salesml import auth

    columns = ("id", "name", "role", "email", "disabled", "created_at")
    return context.print_rows(
        auth.list_users(context.engine(args)),
        columns,
        as_json=args.json,
        empty="no users: the app and API serve one local user (sign-in is off)",
    )


def _users_set_role(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.set_role(context.engine(args), args.name, args.role, by=context.actor())
    print(f"{args.name} is now {'an' if args.role[0] in 'aeiou' else 'a'} {args.role}")
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.set_disabled(context.engine(args), args.name, args.disabled, by=context.actor())
    state = "disabled: sign-in and tokens refused" if args.disabled else "enabled"
    print(f"{args.name} is {state}")
    return 0


def _users_reset_password(args: argparse.Namespace) -> int:
    from salesml import auth

    engine = context.engine(args)
    if not any(user.name == args.name for user in auth.list_users(engine)):
        raise SalesMLError(f"there is no user named {args.name!r}")
    auth.reset_password(engine, args.name, _read_password(confirm=True), by=context.actor())
    print(f"{args.name} has a new password")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from salesml import auth

    info, token = auth.create_token(
        context.engine(args),
        args.name,
        label=args.label,
        expires_days=args.expires,
        by=context.actor(),
    )
    expires = f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else "no expiry"
    print(
        f"token {info.id} for {info.user} ({info.role}, {expires}); shown only now:",
        file=sys.stderr,
    )
    print(token)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from salesml import auth

    columns = ("id", "prefix", "user", "role", "label", "state", "created_at", "expires_at")
    return context.print_rows(
        auth.list_tokens(context.engine(args)),
        columns,
        as_json=args.json,
        empty="no API tokens; create one with python -m salesml tokens create NAME",
    )


def _tokens_revoke(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.revoke_token(context.engine(args), args.token_id, by=context.actor())
    print(f"token {args.token_id} is revoked")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from salesml import audit

    columns = ("at", "actor", "via", "action", "target", "detail")
    entries = audit.entries(context.engine(args), limit=max(1, args.limit))
    return context.print_rows(entries, columns, as_json=args.json, empty="nothing recorded yet")
