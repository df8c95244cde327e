"""`python -m salesml ingest`: what a nightly job and a large file on disk can count on."""

from __future__ import annotations

import pytest

from tests.test_ingest import GOOD, csv_bytes


@pytest.mark.parametrize("encoding", ["rot13", "base64", "hex", "zlib_codec", "idna", "punycode"])
def test_an_encoding_that_is_not_a_character_set_is_one_clear_line(cli, tmp_path, encoding):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    status, _, err = cli("ingest", str(path), "--encoding", encoding)
    assert status == 1
    assert err.count("\n") == 1
    assert "not a text encoding" in err and "--encoding" in err
    assert "unexpected" not in err


def test_a_file_not_in_the_encoding_chosen_says_so(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    status, _, err = cli("ingest", str(path), "--encoding", "utf-16")
    assert status == 1
    assert "not UTF-16" in err and "unexpected" not in err
