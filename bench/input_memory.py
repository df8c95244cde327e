"""Peak memory of a running server fed hostile input: a Parquet dictionary bomb, and four
large JSON bodies at once.

    .venv/bin/python bench/input_memory.py [parquet|json|both] [--root DIR]

Starts `python -m salesml serve` (from --root, this checkout by default: point it at another
checkout to measure a baseline) on a fresh SQLite file, then

- parquet: POSTs a 6,000,000-line Parquet file whose product name, 250 characters, is one
  dictionary entry (about 0.24 MB on disk, 1.5 GB once decoded);
- json: POSTs four JSON bodies of 100,000 rows (about 189 MB each) at the same time.

Prints each response's status and first words, and the server process's resident memory
after start-up and at its peak (VmHWM from /proc), in MB.

Results (2 shared cores, SQLite; the baseline is the same script run with --root on the
build before the decoded-size limit and the budget of load bodies):

    case                        baseline                      now
    parquet bomb (0.24 MB)      201 loaded, 224 -> 2,450 MB   422 refused, 224 -> 685 MB
    4 x 184 MB JSON at once     4 x 422, 224 -> 4,176 MB      1 x 422 + 3 x 503, 224 -> 1,099 MB
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
V1 = "/api/v1"


def parquet_bomb(rows: int = 6_000_000, width: int = 250) -> bytes:
    """A small Parquet file that decodes to rows x width bytes of one product name."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    def repeated(value: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(np.zeros(rows, np.int32), [value])

    table = pa.table(
        {
            "date": repeated("2024-01-01"),
            "product": repeated("P" * width),
            "quantity": np.ones(rows, np.int64),
            "revenue": np.full(rows, 2.0),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def json_body(rows: int = 100_000, width: int = 1_850) -> bytes:
    """About 189 MB of rows, each with a long product name."""
    filler = "P" * width
    lines = [
        {"date": "2024-01-01", "product_name": f"{filler}{i}", "quantity": 1, "revenue": 2}
        for i in range(rows)
    ]
    return json.dumps({"rows": lines}).encode()


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "salesmlbench"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def post(port: int, body: bytes, kind: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", f"{V1}/sales", body=body, headers={"Content-Type": kind})
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        retry = response.getheader("Retry-After")
        detail = json.loads(text).get("detail", "") if text.startswith("{") else text
        return f"{response.status} {str(detail)[:110]}" + (
            f" (Retry-After {retry})" if retry else ""
        )
    except OSError as exc:
        return f"connection failed: {exc}"
    finally:
        conn.close()


def peak_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return tuple(int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, data_dir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **ENV,
        "SALESML_DATABASE_URL": f"sqlite:///{data_dir / 'salesml.db'}",
        "SALESML_DATA_DIR": str(data_dir),
        "SALESML_MODEL_DIR": str(data_dir / "models"),
    }
    log = (data_dir / "server.log").open("w")
    command = [sys.executable, "-m", "salesml", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/health", timeout=5):
                return process, port
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start")


def run(root: Path, case: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        process, port = serve(root, Path(tmp))
        try:
            start, _ = peak_mb(process.pid)
            if case == "parquet":
                bomb = parquet_bomb()
                print(f"parquet: {len(bomb) / 2**20:.2f} MB file")
                print("  ", post(port, *multipart("bomb.parquet", bomb)))
            else:
                body = json_body()
                print(f"json: 4 bodies of {len(body) / 2**20:.0f} MB at once")
                answers: list[str] = []
                threads = [
                    threading.Thread(
                        target=lambda: answers.append(post(port, body, "application/json"))
                    )
                    for _ in range(4)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                for answer in answers:
                    print("  ", answer)
            _, peak = peak_mb(process.pid)
            print(f"  server memory: {start:,.0f} MB after start-up, {peak:,.0f} MB at peak")
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", choices=("parquet", "json", "both"), default="both")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve from")
    args = parser.parse_args()
    for case in ("parquet", "json") if args.case == "both" else (args.case,):
        run(args.root.resolve(), case)


if __name__ == "__main__":
    main()
