"""Benchmark the REST API on a running server: forecast latency and throughput, and ingest.

    .venv/bin/python bench/api.py [--seconds S] [--clients 1,8,32] [--parts requests,...]
        [--skip-ingest]

Starts `python -m salesml serve` (the app and the API on one port, as `make run` does) on a
fresh SQLite file with the demo data and a demo model (product level, monthly, trained for
12 months: 19 series), then, from this process with keep-alive connections:

- POST /api/v1/models/{id}/forecast for one series, horizon 24, at 1, 8 and 32 concurrent
  clients, beside GET /api/v1/health at the same concurrency: the server's own ceiling;
- the same forecast at 8 clients from a category model trained for 6 months, at horizons
  1 to the longest the Forecast page and the API allow (36), beside /health in the same run;
- POST /api/v1/sales of ../shared/data/online_retail.parquet (541,909 lines) to a server on
  an empty database, beside `python -m salesml ingest` of the same file into another empty
  database (the whole process, imports included), best of two each.

Prints p50/p99 latency in ms, requests/s, rows/s and the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RETAIL = ROOT.parent / "shared" / "data" / "online_retail.parquet"
PYTHON = sys.executable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
V1 = "/api/v1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _salesml(data_dir: Path, *args: str, stdin: str = "") -> str:
    env = {**ENV, "SALESML_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [PYTHON, "-m", "salesml", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
    )
    if done.returncode:
        raise SystemExit(f"salesml {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@contextmanager
def server(data_dir: Path):
    """`python -m salesml serve` on a free port over this data directory."""
    port = _free_port()
    env = {**ENV, "SALESML_DATA_DIR": str(data_dir)}
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "salesml", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {log.name}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def load(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    clients: int,
    seconds: float,
    token: str | None = None,
):
    """Keep `clients` connections busy for `seconds`; return sorted latencies and errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    headers = {"content-type": "application/json"} if body else {}
    if token:
        headers["authorization"] = f"Bearer {token}"

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        bad = 0
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            bad += response.status >= 400
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return sorted(latencies), errors[0], elapsed


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def bench_requests(args: argparse.Namespace, work: Path) -> None:
    data = work / "demo"
    print("preparing: demo data and a product-level monthly model (12 months)…", flush=True)
    _salesml(data, "demo")
    trained = json.loads(
        _salesml(data, "train", "--level", "product", "--freq", "M", "--horizon", "12")
        .strip()
        .splitlines()[-1]
    )
    with server(data) as port:
        detail = json.loads(
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}{V1}/models/{trained['model_id']}"
            ).read()
        )
        series = detail["series"][0]
        forecast_path = f"{V1}/models/{trained['model_id']}/forecast"
        body = json.dumps({"horizon": 24, "series": [series]}).encode()
        # The first request reads and checks the model file; later ones find it loaded.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        conn.request("POST", forecast_path, body=body, headers={"content-type": "application/json"})
        conn.getresponse().read()
        first_ms = (time.perf_counter() - started) * 1000
        conn.close()
        load(port, "POST", forecast_path, body, 1, 1.0)
        print(
            f"\nmodel {trained['model_id']} ({trained['model']}, {trained['series']} series); "
            f"forecast of {series!r}, horizon 24; {args.seconds:g} s per cell; the first "
            f"request, which loads the model file: {first_ms:,.0f} ms\n"
        )
        print(f"{'endpoint':<28}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}")
        for clients in args.clients:
            for label, method, path, payload in (
                ("GET /health (ceiling)", "GET", f"{V1}/health", None),
                ("POST /models/{id}/forecast", "POST", forecast_path, body),
            ):
                latencies, errors, elapsed = load(
                    port, method, path, payload, clients, args.seconds
                )
                print(
                    f"{label:<28}{clients:>8}{percentile(latencies, 0.5):>9.1f}"
                    f"{percentile(latencies, 0.99):>9.1f}{len(latencies) / elapsed:>9.0f}"
                    f"{errors:>8}",
                    flush=True,
                )
        during_training(port, forecast_path, body, args.seconds)
        with_sign_in(data, port, forecast_path, body, args.seconds)


def bench_horizons(args: argparse.Namespace, work: Path) -> None:
    """One series' forecast at 8 clients from a category model trained for 6 months, at
    horizons inside the trained one, up to the forecasts it cached when fitted, and past
    them to the longest the Forecast page and the API allow, beside /health in the run."""
    data = work / "horizons"
    print("\npreparing: demo data and a category-level monthly model (6 months)…", flush=True)
    _salesml(data, "demo")
    trained = json.loads(
        _salesml(data, "train", "--level", "category", "--freq", "M", "--horizon", "6")
        .strip()
        .splitlines()[-1]
    )
    with server(data) as port:
        url = f"http://127.0.0.1:{port}{V1}/models/{trained['model_id']}"
        detail = json.loads(urllib.request.urlopen(url).read())
        series, longest = detail["series"][0], detail["longest_horizon"]
        forecast_path = f"{V1}/models/{trained['model_id']}/forecast"
        horizons = sorted({1, 6, 12, 18, 24, longest})
        print(
            f"\nmodel {trained['model_id']} ({trained['model']}, trained for 6 months, "
            f"longest horizon {longest}); forecast of {series!r}, 8 clients, "
            f"{args.seconds:g} s per cell\n"
        )
        print(f"{'endpoint':<28}{'horizon':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}")
        cells = [("GET /health (ceiling)", "GET", f"{V1}/health", None, "")]
        for horizon in horizons:
            body = json.dumps({"horizon": horizon, "series": [series]}).encode()
            cells.append(("POST /models/{id}/forecast", "POST", forecast_path, body, horizon))
        for label, method, path, payload, horizon in cells:
            if payload:  # the model loaded, and the horizon asked for once, before timing
                load(port, method, path, payload, 1, 0.5)
            latencies, errors, elapsed = load(port, method, path, payload, 8, args.seconds)
            print(
                f"{label:<28}{horizon:>8}{percentile(latencies, 0.5):>9.1f}"
                f"{percentile(latencies, 0.99):>9.1f}{len(latencies) / elapsed:>9.0f}"
                f"{errors:>8}",
                flush=True,
            )


def with_sign_in(data: Path, port: int, forecast_path: str, body: bytes, seconds: float) -> None:
    """The same forecast at 8 clients once sign-in is on: each request's token checked."""
    _salesml(data, "users", "add", "bench", "--role", "viewer", stdin="bench password\n")
    token = _salesml(data, "tokens", "create", "bench").strip()
    print("\nwith sign-in on (a user exists): each request sends a viewer's token")
    for label, path, payload in (
        ("GET /health (ceiling)", f"{V1}/health", None),
        ("POST /models/{id}/forecast", forecast_path, body),
    ):
        method = "POST" if payload else "GET"
        latencies, errors, elapsed = load(port, method, path, payload, 8, seconds, token)
        print(
            f"{label:<28}{8:>8}{percentile(latencies, 0.5):>9.1f}"
            f"{percentile(latencies, 0.99):>9.1f}{len(latencies) / elapsed:>9.0f}{errors:>8}",
            flush=True,
        )


def during_training(port: int, forecast_path: str, body: bytes, seconds: float) -> None:
    """Forecasts at 8 clients while the server trains a product-level model in its worker."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{V1}/models",
        data=json.dumps({"level": "product", "freq": "M", "horizon": 12}).encode(),
        headers={"content-type": "application/json"},
    )
    job = json.loads(urllib.request.urlopen(request).read())
    latencies, errors, elapsed = load(port, "POST", forecast_path, body, 8, seconds)
    status = json.loads(
        urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/jobs/{job['job_id']}").read()
    )["status"]
    label = "forecast during a training"
    print(
        f"{label:<28}{8:>8}{percentile(latencies, 0.5):>9.1f}"
        f"{percentile(latencies, 0.99):>9.1f}{len(latencies) / elapsed:>9.0f}{errors:>8}"
        f"   (training {status} at the end)",
        flush=True,
    )
    # The training finishes before the next measurement, which it would slow down.
    while status in ("queued", "running"):
        time.sleep(0.5)
        status = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/jobs/{job['job_id']}").read()
        )["status"]


def bench_ingest(work: Path) -> None:
    if not RETAIL.is_file():
        print(f"\n{RETAIL} is missing: ingest not measured")
        return
    payload = RETAIL.read_bytes()
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{RETAIL.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    print(
        f"\ningest of {RETAIL.name} ({len(payload) / 1e6:.1f} MB), best of 2, fresh database each"
    )
    api_best = cli_best = float("inf")
    rows = 0
    for attempt in range(2):
        data = work / f"ingest-api-{attempt}"
        _salesml(data, "init-db")
        with server(data) as port:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            started = time.perf_counter()
            conn.request(
                "POST",
                f"{V1}/sales",
                body=body,
                headers={"content-type": f"multipart/form-data; boundary={boundary}"},
            )
            response = conn.getresponse()
            summary = json.loads(response.read())
            api_best = min(api_best, time.perf_counter() - started)
            if response.status != 201:
                raise SystemExit(f"POST /sales answered {response.status}: {summary}")
            rows = summary["rows_read"]
        data = work / f"ingest-cli-{attempt}"
        started = time.perf_counter()
        _salesml(data, "ingest", str(RETAIL))
        cli_best = min(cli_best, time.perf_counter() - started)
    print(f"{'method':<46}{'s':>8}{'rows/s':>10}")
    print(
        f"{'POST /api/v1/sales (request to response)':<46}{api_best:>8.2f}{rows / api_best:>10,.0f}"
    )
    print(
        f"{'python -m salesml ingest (whole process)':<46}{cli_best:>8.2f}{rows / cli_best:>10,.0f}"
    )
    print(f"API rows/s ÷ CLI rows/s = {cli_best / api_best:.2f} (target ≥ 0.9)")


PARTS = {
    "requests": bench_requests,
    "horizons": bench_horizons,
    "ingest": lambda args, work: bench_ingest(work),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per cell (default 10)")
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 8, 32],
        help="concurrent clients, comma separated (default 1,8,32)",
    )
    parser.add_argument(
        "--parts",
        type=lambda text: text.split(","),
        default=list(PARTS),
        help=f"what to measure, comma separated (default {','.join(PARTS)})",
    )
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="salesml-api-bench-") as tmp:
        work = Path(tmp)
        for part in args.parts:
            if not (part == "ingest" and args.skip_ingest):
                PARTS[part](args, work)


if __name__ == "__main__":
    main()
