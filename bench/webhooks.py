#!/usr/bin/env python
"""Webhooks: how fast one worker sends deliveries, and what the outbox costs an audited action.

Run from the repository root:

    .venv/bin/python bench/webhooks.py                          # SQLite and PostgreSQL, 5,000 events
    .venv/bin/python bench/webhooks.py --backend sqlite --events 1000 --creates 200

Per backend it makes a new database with ``leadflow.bootstrap.prepare_database`` (the migrations and the
organisation, an administrator) and starts a receiver in a process of its own: ``http.server`` on
127.0.0.1 speaking HTTP/1.1 with keep-alive, answering 204 at once and counting what it got.

1. **Queue**: one subscription to ``record.created``; ``--events`` audit entries written through
   ``leadflow.security.audit.write_entries`` (the path of every audited action), 500 per transaction, so
   that the outbox's listener inserts one delivery per entry. Timed: events queued per second.
2. **Deliver**: ``leadflow.webhooks.delivery.deliver_due`` (what a worker runs), ``--threads`` sends at
   once, until every delivery is delivered: events delivered per second, against the target of 200/s.
   Floor, in the same run: the same number of POSTs of a body of the same size, from the same thread
   pool through an ``httpx.Client`` with the same pool, to the same receiver (no database, no signing).
3. **Listener cost**: ``--creates`` leads created through ``leadflow.leads.service.create_lead``, one
   unit of work each, in three cases taken in turn: without the outbox's listener, with it and no active
   subscription, and with one subscription wanting ``record.created`` (each create then writes a
   delivery). Median and p95 ms.

It prints the figures and writes them to ``bench/results/webhooks-<time>.json``. See bench/README.md,
"Webhooks".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = Path("/tmp/leadflow-bench-webhooks")
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "leadflow_bench_webhooks"
TARGET_PER_SECOND = 200.0
QUEUE_BATCH = 500


# ---------------------------------------------------------------------------------------------- the receiver


def _serve(port_out: Any, stop: Any) -> None:
    """The receiver's process: answer every POST with 204 at once; GET /count says how many came."""
    received = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                received[0] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            body = str(received[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()


class Receiver:
    """The receiver process, started and stopped around a backend's run."""

    def __enter__(self) -> Receiver:
        context = multiprocessing.get_context("spawn")
        ports, self._stop = context.Queue(), context.Event()
        self._process = context.Process(target=_serve, args=(ports, self._stop), daemon=True)
        self._process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=30)}/hooks"
        return self

    def count(self) -> int:
        import httpx

        return int(httpx.get(self.url).text)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(timeout=10)


# ---------------------------------------------------------------------------------------------- databases


def database_url(backend: str, postgres_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA_DIR / 'webhooks.db'}"
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=PG_DATABASE)
    return url.render_as_string(hide_password=False)


def fresh_database(backend: str, url: str, postgres_url: str) -> Any:
    """A new database of ``backend``: migrated, the organisation set up, an administrator."""
    from sqlalchemy import text

    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings

    sys.path.insert(0, str(BENCH_DIR))
    import activities as activities_bench
    import qualify as qualify_bench

    if backend == "postgresql":
        with activities_bench.pg_admin(postgres_url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    database = prepare_database(Settings(database_url=url, demo_on_first_start=False)).database
    return database, qualify_bench.ensure_actor(database)


def subscribe(database: Any, actor: Any, url: str) -> Any:
    from leadflow.webhooks import service
    from leadflow.webhooks.schemas import WebhookIn

    with database.unit_of_work() as uow:
        subscription = service.create_subscription(
            WebhookIn(name="Bench receiver", url=url, events=["record.created"]),
            uow=uow,
            actor=actor,
            allow_private=True,
        )
        uow.commit()
    return subscription


def unsubscribe(database: Any, actor: Any, subscription_id: Any) -> None:
    from leadflow.webhooks import service

    with database.unit_of_work() as uow:
        service.delete_subscription(subscription_id, uow=uow, actor=actor)
        uow.commit()


# ---------------------------------------------------------------------------------------------- the phases


def queue_events(database: Any, actor: Any, events: int) -> dict[str, Any]:
    """``events`` audit entries of lead creations through write_entries: the outbox writes a delivery each."""
    import uuid

    from leadflow.security.audit import entry_values, write_entries

    started = time.perf_counter()
    written = 0
    while written < events:
        size = min(QUEUE_BATCH, events - written)
        with database.unit_of_work() as uow:
            write_entries(
                uow.session,
                [
                    entry_values(actor, "create", table="leads", record_id=uuid.uuid4(), summary=f"Lead {written + n}")
                    for n in range(size)
                ],
            )
            uow.commit()
        written += size
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": round(seconds, 3), "per_second": round(events / seconds, 1)}


def deliver(database: Any, receiver: Receiver, events: int, threads: int) -> dict[str, Any]:
    """Send every queued delivery with deliver_due, as one worker does."""
    from sqlalchemy import func, select

    from leadflow.core.config import Settings
    from leadflow.webhooks.delivery import deliver_due
    from leadflow.webhooks.models import DeliveryState, WebhookDelivery

    settings = Settings(database_url=database.url, webhook_private_targets="allow")
    before = receiver.count()
    started = time.perf_counter()
    report = deliver_due(database, settings=settings, threads=threads)
    seconds = time.perf_counter() - started
    with database.unit_of_work(read_only=True) as uow:
        delivered = uow.session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.state == DeliveryState.DELIVERED)
        )
    assert delivered == events == report.delivered, (delivered, events, report)
    assert receiver.count() - before == events
    return {
        "events": events,
        "threads": threads,
        "seconds": round(seconds, 3),
        "per_second": round(events / seconds, 1),
        "target_per_second": TARGET_PER_SECOND,
    }


def raw_posts(receiver: Receiver, events: int, threads: int) -> dict[str, Any]:
    """The floor: the same number of POSTs of a delivery-sized body, no database and no signing."""
    import httpx

    from leadflow.webhooks.delivery import body_of

    body = body_of(
        {
            "id": "6f1c0a8e-3a57-4a3a-9d62-0c2b1f4c5d6e",
            "event": "record.created",
            "occurred_at": datetime.now(UTC).isoformat(),
            "table": "leads",
            "record_id": "0b7f3c1e-8d2a-4f5b-a6c7-d8e9f0a1b2c3",
            "user_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            "changes": None,
            "summary": "Lead 1234",
        }
    )
    client = httpx.Client(
        timeout=10.0,
        limits=httpx.Limits(max_connections=threads * 2, max_keepalive_connections=threads * 2),
    )
    headers = {"Content-Type": "application/json"}

    def post(_n: int) -> int:
        return client.post(receiver.url, content=body, headers=headers).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(post, range(events)))
    seconds = time.perf_counter() - started
    client.close()
    assert statuses == [204] * events
    return {"posts": events, "seconds": round(seconds, 3), "per_second": round(events / seconds, 1)}


def listener_cost(database: Any, actor: Any, receiver: Receiver, creates: int) -> dict[str, Any]:
    """Median and p95 ms of one lead created through the service, in a unit of work of its own, in three
    cases taken in turn (so that the database's growth and the machine's load fall on all three alike):
    without the outbox's listener, with it and no active subscription, with one subscription wanting
    ``record.created`` (switched between active and paused, untimed, between the creates)."""
    from sqlalchemy import update

    from leadflow.core.schemas import parse
    from leadflow.leads import service
    from leadflow.leads.schemas import LeadCreate
    from leadflow.security.audit import ENTRY_LISTENERS
    from leadflow.webhooks.models import WebhookState, WebhookSubscription
    from leadflow.webhooks.outbox import queue_deliveries

    subscription = subscribe(database, actor, receiver.url)

    def set_state(state: WebhookState) -> None:
        with database.unit_of_work() as uow:
            uow.session.execute(
                update(WebhookSubscription).where(WebhookSubscription.id == subscription.id).values(state=state)
            )
            uow.commit()

    cases = ("without_listener", "listener_no_subscription", "one_subscription")
    timings: dict[str, list[float]] = {case: [] for case in cases}
    try:
        for n in range(-max(20, creates // 10), creates):  # the first ones warm up, untimed
            for case in cases:
                set_state(WebhookState.ACTIVE if case == "one_subscription" else WebhookState.PAUSED)
                if case == "without_listener":
                    ENTRY_LISTENERS.remove(queue_deliveries)
                data = parse(LeadCreate, {"topic": f"{case} {n}", "last_name": f"Pérez {n}"})
                try:
                    started = time.perf_counter()
                    with database.unit_of_work() as uow:
                        service.create_lead(data, uow=uow, actor=actor, suppress_duplicates=True)
                        uow.commit()
                    elapsed = (time.perf_counter() - started) * 1000
                finally:
                    if case == "without_listener":
                        ENTRY_LISTENERS.append(queue_deliveries)
                if n >= 0:
                    timings[case].append(elapsed)
    finally:
        unsubscribe(database, actor, subscription.id)
    figures = {}
    for case, values in timings.items():
        values.sort()
        figures[case] = {
            "creates": len(values),
            "median_ms": round(statistics.median(values), 3),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 3),
        }
    return figures


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    url = database_url(backend, args.postgres_url)
    database, actor = fresh_database(backend, url, args.postgres_url)
    try:
        with Receiver() as receiver:
            costs = listener_cost(database, actor, receiver, args.creates)
            subscription = subscribe(database, actor, receiver.url)
            queued = queue_events(database, actor, args.events)
            delivered = deliver(database, receiver, args.events, args.threads)
            floor = raw_posts(receiver, args.events, args.threads)
            unsubscribe(database, actor, subscription.id)
    finally:
        database.dispose()
    return {"queue": queued, "deliver": delivered, "raw_posts": floor, "listener": costs}


def report(backend: str, figures: dict[str, Any]) -> None:
    queue, sent, floor, cost = figures["queue"], figures["deliver"], figures["raw_posts"], figures["listener"]
    print(f"\n{backend}")
    print(f"  queue {queue['events']} events through write_entries: {queue['per_second']:,.0f} events/s")
    print(
        f"  deliver_due, {sent['threads']} threads: {sent['per_second']:,.0f} events/s "
        f"(target {TARGET_PER_SECOND:.0f}/s; raw httpx floor {floor['per_second']:,.0f} POSTs/s)"
    )
    for key, name in (
        ("without_listener", "lead create, no listener"),
        ("listener_no_subscription", "lead create, listener, no subscription"),
        ("one_subscription", "lead create, one subscription"),
    ):
        print(f"  {name}: median {cost[key]['median_ms']:.2f} ms, p95 {cost[key]['p95_ms']:.2f} ms")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=16, help="deliveries sent at once (deliver_due's threads)")
    parser.add_argument("--creates", type=int, default=500, help="leads created per case of the listener's cost")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "arguments": {key: str(value) for key, value in vars(args).items()},
    }
    for backend in backends:
        results[backend] = run_backend(backend, args)
        report(backend, results[backend])
    path = args.json or RESULTS_DIR / f"webhooks-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"\nfigures written to {path}")
    return results


if __name__ == "__main__":
    main()
