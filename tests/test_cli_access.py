"""`python -m salesml users|tokens|audit`: the command line acts as an admin, as its OS user."""

from __future__ import annotations

import getpass
import io
import json
import subprocess
import sys

import pytest

from salesml import auth, db
from salesml.cli import main
from salesml.server import listen_address
from tests.test_cli import ROOT

PASSWORD = "correct horse battery"


@pytest.fixture
def cli(database_url, capsys, monkeypatch):
    """Run a command with this text on standard input; return (status, stdout, stderr)."""

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(["--database-url", database_url, *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.mark.slow
def test_users_add_reads_the_password_from_stdin_and_never_prints_it(cli, database_url):
    status, out, err = cli("users", "add", "ana", "--role", "analyst", stdin=PASSWORD + "\n")
    assert status == 0, err
    assert out.startswith("added ana (analyst)\nsign-in is now on")
    assert PASSWORD not in out + err
    engine = db.create_engine_for(database_url)
    assert auth.sign_in(engine, "ana", PASSWORD, client="test").role == "analyst"
    engine.dispose()


def test_users_add_without_a_password_is_one_line_and_adds_no_one(cli):
    status, _, err = cli("users", "add", "ana", "--role", "viewer", stdin="")
    assert status == 1
    assert err == "error: no password on standard input: pipe it in, or run in a terminal\n"
    assert cli("users", "list")[1].startswith("no users")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "add", "ana smith", "--role", "viewer"), PASSWORD, "is not a user name"),
        (("users", "add", "ana", "--role", "viewer"), "short", "at least 8 characters"),
        (("users", "set-role", "nobody", "admin"), "", "there is no user named 'nobody'"),
        (("users", "disable", "nobody"), "", "there is no user named 'nobody'"),
        (("tokens", "create", "nobody"), "", "there is no user named 'nobody'"),
        (("tokens", "revoke", "42"), "", "there is no API token 42"),
        (("users", "reset-password", "nobody"), PASSWORD, "there is no user named 'nobody'"),
    ],
)
def test_mistakes_are_one_line_errors(cli, args, stdin, message):
    status, out, err = cli(*args, stdin=stdin)
    assert status == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert PASSWORD not in err


@pytest.mark.slow
def test_users_list_set_role_disable_enable_and_reset_password(cli, database_url):
    cli("users", "add", "ana", "--role", "viewer", stdin=PASSWORD)
    assert cli("users", "set-role", "ana", "analyst")[1] == "ana is now an analyst\n"
    assert cli("users", "disable", "ana")[1] == "ana is disabled: sign-in and tokens refused\n"
    listed = json.loads(cli("users", "list", "--json")[1])
    assert (listed["name"], listed["role"], listed["disabled"]) == ("ana", "analyst", True)
    assert "password" not in json.dumps(listed)
    assert cli("users", "enable", "ana")[1] == "ana is enabled\n"
    assert cli("users", "reset-password", "ana", stdin="a new password\n")[0] == 0
    engine = db.create_engine_for(database_url)
    assert auth.sign_in(engine, "ana", "a new password", client="test").role == "analyst"
    engine.dispose()


def test_tokens_create_prints_the_token_once_and_list_shows_only_its_prefix(cli, database_url):
    cli("users", "add", "etl", "--role", "analyst", stdin=PASSWORD)
    status, out, err = cli("tokens", "create", "etl", "--label", "nightly", "--expires", "30")
    assert status == 0
    token = out.strip()
    assert token.startswith("sml_") and "\n" not in token
    assert "token 1 for etl (analyst, expires" in err and "shown only now" in err
    listed = cli("tokens", "list", "--json")[1]
    row = json.loads(listed)
    assert token not in listed
    assert (row["prefix"], row["user"], row["label"], row["state"]) == (
        token[: auth.PREFIX_LENGTH],
        "etl",
        "nightly",
        "active",
    )
    assert cli("tokens", "revoke", "1")[1] == "token 1 is revoked\n"
    assert json.loads(cli("tokens", "list", "--json")[1])["state"] == "revoked"


def test_the_audit_log_names_the_os_user_for_command_line_changes(cli, tmp_path):
    cli("users", "add", "ana", "--role", "viewer", stdin=PASSWORD)
    data = tmp_path / "sales.csv"
    data.write_text("date,product,quantity,revenue\n2025-01-02,Kettle,2,19.90\n")
    assert cli("ingest", str(data))[0] == 0
    assert cli("delete-batch", "1")[0] == 0
    entries = [json.loads(line) for line in cli("audit", "--json")[1].splitlines()]
    me = getpass.getuser()
    assert [(e["actor"], e["via"], e["action"]) for e in entries] == [
        (me, "cli", "delete batch"),
        (me, "cli", "load"),
        (me, "cli", "add user"),
    ]
    assert PASSWORD not in json.dumps(entries)


def test_a_password_typed_at_a_terminal_is_asked_twice(cli, monkeypatch):
    answers = iter([PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr(sys, "stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    status = main(["--database-url", "sqlite://", "users", "add", "ana", "--role", "viewer"])
    assert status == 1


# --------------------------------------------------------------------------- serving


@pytest.mark.parametrize(
    ("requested", "sign_in_on", "address", "told"),
    [
        (None, False, "127.0.0.1", False),
        ("0.0.0.0", False, "127.0.0.1", True),
        ("192.168.1.20", False, "127.0.0.1", True),
        ("localhost", False, "localhost", False),
        (None, True, "0.0.0.0", False),
        ("10.0.0.5", True, "10.0.0.5", False),
    ],
)
def test_with_no_users_the_server_listens_on_this_machine_only(
    requested, sign_in_on, address, told
):
    chosen, notice = listen_address(requested, sign_in_on=sign_in_on)
    assert chosen == address
    assert (notice is not None) == told
    if told:
        assert "sign-in is off" in notice and "users add" in notice


@pytest.mark.slow
def test_users_add_through_a_pipe_as_a_whole_process(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "salesml", "users", "add", "ana", "--role", "analyst"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SALESML_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_a_first_user_who_is_not_an_admin_is_added_with_a_one_line_warning(cli):
    status, out, err = cli("users", "add", "ana", "--role", "analyst", stdin=PASSWORD)
    assert status == 0 and out.startswith("added ana (analyst)")
    assert err.startswith("warning: ana is the only user and not an admin")
    assert "users add NAME --role admin" in err and err.count("\n") == 1


def test_a_first_admin_and_later_users_of_any_role_get_no_warning(cli):
    assert cli("users", "add", "root", "--role", "admin", stdin=PASSWORD)[2] == ""
    assert cli("users", "add", "ana", "--role", "viewer", stdin=PASSWORD)[2] == ""


def test_users_add_refuses_a_name_that_differs_from_another_only_in_case(cli):
    cli("users", "add", "ana", "--role", "admin", stdin=PASSWORD)
    status, out, err = cli("users", "add", "Ana", "--role", "viewer", stdin=PASSWORD)
    assert (status, out) == (1, "")
    assert err == "error: a user named 'ana' exists already ('Ana' differs only in case)\n"
