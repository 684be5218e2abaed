"""Requests per second of small authenticated API requests, this tree against an earlier revision.

For each code base (this work tree, and ``--baseline REV`` checked out into a temporary git
worktree) and each backend, a server process runs the real application under uvicorn on a fresh
database with one administrator, a personal API token and one lead; the client sends K sequential
``GET /api/v1/leads/{id}`` and K ``PATCH /api/v1/leads/{id}`` over one keep-alive connection and
counts requests per second. Both code bases run in the same invocation, one after the other, on the
same machine.

    .venv/bin/python bench/request_cost.py --baseline e8aecdc~1 --candidate HEAD --requests 2000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the server process, with the code base under test first on sys.path.
SERVER = r"""
import json, sys
import uvicorn
from leadflow.asgi import create_app
from leadflow.bootstrap import prepare_database
from leadflow.core.config import Settings
from leadflow.leads.schemas import LeadCreate
from leadflow.leads.service import create_lead
from leadflow.security.actor import default_actor
from leadflow.security.authentication import create_personal_token
from leadflow.security.service import create_first_administrator

url, port = sys.argv[1], int(sys.argv[2])
settings = Settings(database_url=url)
database = prepare_database(settings).database
with database.unit_of_work() as uow:
    create_first_administrator(email="bench@example.com", full_name="Bench", password="a long bench password 42", uow=uow)
    uow.commit()
with database.unit_of_work() as uow:
    token = create_personal_token("bench@example.com", name="bench", days=1, uow=uow, actor=None)
    actor = default_actor(uow.session)
    lead = create_lead(LeadCreate(topic="Sillas", last_name="García", company_name="Muebles"), uow=uow, actor=actor)
    uow.commit()
print(json.dumps({"token": token.secret, "lead": str(lead.id)}), flush=True)
uvicorn.run(create_app(database, settings), host="127.0.0.1", port=port, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(src: Path, url: str, requests: int) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, str(port)], stdout=subprocess.PIPE, text=True, env=env, cwd=src.parent
    )
    try:
        assert server.stdout is not None
        ready = json.loads(server.stdout.readline())
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {ready['token']}"}
        with httpx.Client(headers=headers, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get(f"{base}/me")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            figures = {}
            for name, send in (
                ("GET", lambda i: client.get(f"{base}/leads/{ready['lead']}")),
                ("PATCH", lambda i: client.patch(f"{base}/leads/{ready['lead']}", json={"job_title": f"Compras {i}"})),
            ):
                for i in range(50):  # warm-up
                    assert send(i).status_code == 200
                started = time.perf_counter()
                for i in range(requests):
                    response = send(i)
                    assert response.status_code == 200, response.text
                figures[f"{name} req/s"] = requests / (time.perf_counter() - started)
            return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def database_urls(postgres: str, backend: str, scratch: Path) -> list[tuple[str, str, str | None]]:
    """(backend, SQLAlchemy URL, PostgreSQL database to drop afterwards)."""
    urls: list[tuple[str, str, str | None]] = []
    if backend in ("sqlite", "both"):
        urls.append(("sqlite", f"sqlite:///{scratch / f'{uuid.uuid4().hex}.db'}", None))
    if backend in ("postgresql", "both"):
        name = f"leadflow_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        host = postgres.split("://", 1)[1].rsplit("/", 1)[0]
        urls.append(("postgresql", f"postgresql+psycopg://{host}/{name}", name))
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="HEAD~1", help="git revision to compare with (default HEAD~1)")
    parser.add_argument("--candidate", default=None, help="git revision under test (default: this work tree as it is)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        trees = [("baseline", options.baseline)] + ([("candidate", options.candidate)] if options.candidate else [])
        code = []
        for role, revision in trees:
            checkout = scratch / role
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(checkout), revision],
                check=True,
                capture_output=True,
            )
            short = subprocess.run(
                ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
            ).stdout.strip()
            code.append((f"{role} {revision} ({short})", checkout / "src"))
        if not options.candidate:
            code.append(("this work tree", ROOT / "src"))
        rows = []
        try:
            for label, src in code:
                for backend, url, dropped in database_urls(options.postgres_url, options.backend, scratch):
                    try:
                        rows.append((label, backend, measure(src, url, options.requests)))
                    finally:
                        if dropped:
                            with psycopg.connect(options.postgres_url, autocommit=True) as connection:
                                connection.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
        finally:
            for role, _ in trees:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(scratch / role)], check=False
                )
    print(f"{'code':40} {'backend':10} {'GET req/s':>10} {'PATCH req/s':>12}")
    for label, backend, figures in rows:
        print(f"{label:40} {backend:10} {figures['GET req/s']:10.0f} {figures['PATCH req/s']:12.0f}")


if __name__ == "__main__":
    main()
