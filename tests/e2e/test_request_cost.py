"""What one API request costs the database: one session, and one query to know who is asking while
no role, privilege, membership or business unit changed; a change is seen at once by every process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event

from leadflow.asgi import create_app
from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL, bearer_headers
from tests.e2e.helpers import API, create_lead


@contextmanager
def watching(database: Database) -> Iterator[dict[str, list[str]]]:
    """The connections checked out of the pool and the statements run while the block runs."""
    seen: dict[str, list[str]] = {"checkouts": [], "statements": []}

    def on_checkout(*_args: object) -> None:
        seen["checkouts"].append("checkout")

    def on_statement(_conn, _cursor, statement, *_args: object) -> None:  # type: ignore[no-untyped-def]
        seen["statements"].append(" ".join(statement.split()))

    event.listen(database.engine, "checkout", on_checkout)
    event.listen(database.engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(database.engine, "checkout", on_checkout)
        event.remove(database.engine, "before_cursor_execute", on_statement)


def _mentions(statements: list[str], table: str) -> list[str]:
    return [statement for statement in statements if f" {table}" in statement.lower()]


def test_a_read_uses_one_session_and_one_query_to_know_who_asks(client: TestClient, database: Database) -> None:
    lead = create_lead(client)
    client.get(f"{API}/leads/{lead['id']}")  # the actor is computed once and kept

    with watching(database) as seen:
        response = client.get(f"{API}/leads/{lead['id']}")

    assert response.status_code == 200
    assert len(seen["checkouts"]) == 1, seen
    assert len(_mentions(seen["statements"], "access_tokens")) == 1, seen["statements"]
    for computed in ("role_privileges", "user_roles", "team_members", "business_units"):
        assert _mentions(seen["statements"], computed) == [], (computed, seen["statements"])


def test_a_write_also_uses_one_session(client: TestClient, database: Database) -> None:
    lead = create_lead(client)

    with watching(database) as seen:
        response = client.patch(f"{API}/leads/{lead['id']}", json={"job_title": "Jefa de compras"})

    assert response.status_code == 200, response.text
    assert len(seen["checkouts"]) == 1, seen


def test_a_role_change_in_another_process_is_seen_on_the_next_request(database: Database, settings) -> None:  # type: ignore[no-untyped-def]
    with database.unit_of_work() as uow:
        create_user(
            email="ines@example.com",
            full_name="Inés",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    headers = bearer_headers(database, "ines@example.com")
    other_process = Database(database.url)  # another engine: another pool, another cache of actors
    try:
        with (
            TestClient(create_app(other_process, settings), headers=headers) as seller,
            TestClient(create_app(database, settings), headers=bearer_headers(database, ADMIN_EMAIL)) as admin,
        ):
            assert seller.get(f"{API}/roles").status_code == 403  # cached: a salesperson
            assert seller.get(f"{API}/roles").status_code == 403
            users = admin.get(f"{API}/users", params={"limit": 200}).json()["items"]
            ines = next(user for user in users if user["email"] == "ines@example.com")
            granted = admin.post(f"{API}/users/{ines['id']}/roles", json={"role": "System Administrator"})
            assert granted.status_code == 204, granted.text

            assert seller.get(f"{API}/roles").status_code == 200
    finally:
        other_process.dispose()
