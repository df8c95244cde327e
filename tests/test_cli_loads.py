"""`python -m salesml ingest`: what a nightly job and a large file on disk can count on."""

from __future__ import annotations

import json

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


def many_lines(count: int) -> bytes:
    lines = [f"2024-01-{1 + i % 28:02d},Product {i % 500},Office,1,2.50" for i in range(count)]
    return csv_bytes(*lines)


@pytest.mark.slow
def test_a_csv_over_the_upload_limit_given_by_path_loads_a_block_at_a_time(
    cli, tmp_path, monkeypatch
):
    """The upload limit guards uploads; a file read from disk in blocks needs only the line
    and column limits."""
    monkeypatch.setenv("SALESML_MAX_UPLOAD_MB", "1")
    monkeypatch.setattr("salesml.ingest.reading.STREAM_BYTES", 1024)
    monkeypatch.setattr("salesml.ingest.reading.STREAM_BLOCK_BYTES", 256 * 1024)
    path = tmp_path / "big.csv"
    path.write_bytes(many_lines(60_000))
    assert path.stat().st_size > 2 * 2**20
    status, out, err = cli("ingest", str(path))
    assert status == 0, err
    assert json.loads(out)["rows_read"] == 60_000


def test_a_compressed_csv_over_the_upload_limit_is_still_refused(cli, tmp_path, monkeypatch):
    import gzip

    monkeypatch.setenv("SALESML_MAX_UPLOAD_MB", "1")
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(many_lines(60_000)))
    status, _, err = cli("ingest", str(path))
    assert status == 1
    assert "upload limit" in err
