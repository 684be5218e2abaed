"""Single qualifications over HTTP from 16 concurrent clients, served by `leadflow serve` with one
process and with two (`--workers 2`), on PostgreSQL (and SQLite with --backend sqlite).

The jobs issue's target: with two processes on PostgreSQL, at concurrency 16, at least 1.6 times
the throughput of one. Each configuration qualifies its own leads (created beforehand, distinct,
duplicate detection on with the built-in rules), through `POST /api/v1/leads/{id}/qualify`, from
16 threads that each keep one keep-alive connection. Usage:

    .venv/bin/python bench/serve_workers.py                      # PostgreSQL, 1,200 leads per configuration
    .venv/bin/python bench/serve_workers.py --backend sqlite --leads 600
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qualify as bench  # the lead data and database set-up of the qualify benchmark


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lead_ids(url: str) -> list[str]:
    from sqlalchemy import select

    from leadflow.core.uow import Database
    from leadflow.leads.models import Lead

    database = Database(url)
    with database.unit_of_work(read_only=True) as uow:
        ids = [str(lead_id) for lead_id in uow.session.scalars(select(Lead.id).order_by(Lead.created_at))]
    database.dispose()
    return ids


def serve(url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environment = {**os.environ, "LEADFLOW_DATABASE_URL": url, "LEADFLOW_QUEUE_URL": "immediate"}
    command = [sys.executable, "-m", "leadflow.cli", "serve", "--no-demo", "--no-worker", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("ab") as output:
        server = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def hammer(port: int, token: str, ids: list[str], concurrency: int) -> dict[str, Any]:
    """Qualify ``ids`` from ``concurrency`` threads; throughput and latencies."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [ids[i::concurrency] for i in range(concurrency)]

    def client(chunk: list[str]) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for lead_id in chunk:
                started = time.perf_counter()
                answer = http.post(f"/leads/{lead_id}/qualify", json={})
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if answer.status_code != 200:
                        failures.append(f"{answer.status_code} {answer.text[:120]}")

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "qualified": len(ids) - len(failures),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "per_s": (len(ids) - len(failures)) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--leads", type=int, default=1200, help="leads qualified per configuration")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--postgres-url", default=bench.DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    runner = bench.Run(argparse.Namespace(postgres_url=args.postgres_url))
    log = runner.tmp / "servers.log"
    results = {}
    try:
        with runner.database(args.backend, "serve") as url:
            bench.run_phase("create", url, count=2 * args.leads + 40, seed=20261206)
            token = bench.run_phase("token", url)["secret"]
            ids = lead_ids(url)
            warm, ids = ids[:40], ids[40:]
            for workers, chosen in ((1, ids[: args.leads]), (2, ids[args.leads :])):
                server, port = serve(url, workers, log)
                try:
                    hammer(port, token, warm[(workers - 1) * 20 : workers * 20], 4)  # each process's first requests
                    results[workers] = hammer(port, token, chosen, args.concurrency)
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    finally:
        runner.close()
    for workers, result in results.items():
        print(
            f"{args.backend}, {workers} process(es), concurrency {args.concurrency}: {result['per_s']:.0f} qualifications/s, "
            f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, {result['failures']} failed"
            + (f" ({result['first_failure']})" if result["failures"] else "")
        )
    ratio = results[2]["per_s"] / results[1]["per_s"]
    print(f"two processes / one: {ratio:.2f}x (target >= 1.6x) on {os.cpu_count()} CPUs; run {uuid.uuid4().hex[:6]}")


if __name__ == "__main__":
    main()
