"""Attacks over HTTP: authentication, cross-unit access, read-only roles, injection, uploads, guessing, audit.

Every test runs on SQLite and PostgreSQL (through the ``database`` fixture).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, inspect, select, update

from leadflow.activities.models import Attachment, Note
from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.security.audit import AuditEntry
from leadflow.security.authentication import create_personal_token
from leadflow.security.models import AccessToken, RecordShare
from leadflow.security.service import create_business_unit, create_user
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, bearer_headers
from tests.factories import lead_data

API = "/api/v1"
AUTH_ERROR_CODES = {"not_authenticated", "invalid_token", "token_expired", "token_revoked", "user_inactive"}

# ------------------------------------------------------------------------------------------------
# helpers


def assert_error(response: Response, status: int, code: str | set[str]) -> dict[str, Any]:
    """The one JSON error shape, with this status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    codes = {code} if isinstance(code, str) else code
    assert body["error"]["code"] in codes, body
    assert body["error"]["message"].strip()
    return body["error"]


def assert_unauthenticated(response: Response) -> None:
    assert_error(response, 401, AUTH_ERROR_CODES)
    assert response.headers.get("WWW-Authenticate") == "Bearer"


SNAPSHOT_MODELS = (Lead, Account, Contact, Opportunity, Note, Attachment, RecordShare, AuditEntry, AccessToken)


def snapshot(database: Database) -> dict[str, Any]:
    """Row counts of the tables that matter plus every lead's columns: equal means nothing changed."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "counts": {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in SNAPSHOT_MODELS},
            "leads": {
                lead.id: {c.key: getattr(lead, c.key) for c in Lead.__mapper__.column_attrs}
                for lead in session.scalars(select(Lead))
            },
        }


def make_units(database: Database) -> None:
    with database.unit_of_work() as uow:
        create_business_unit("Sales Spain", parent_name=None, uow=uow, actor=None)
        create_business_unit("Sales Madrid", parent_name="Sales Spain", uow=uow, actor=None)
        create_business_unit("Sales Mexico", parent_name=None, uow=uow, actor=None)
        uow.commit()


def make_user(database: Database, email: str, role: str, unit: str, password: str | None = None) -> uuid.UUID:
    with database.unit_of_work() as uow:
        user = create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=[role],
            business_unit_name=unit,
            password=password,
            uow=uow,
            actor=None,
        )
        uow.commit()
        return user.id


def post_lead(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/leads", json=lead_data(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def post_note(client: TestClient, lead_id: Any, file: tuple[str, bytes, str] | None = None, **headers: str) -> Response:
    return client.post(
        f"{API}/leads/{lead_id}/notes",
        data={"title": "Note", "body": "Some text"},
        files={"file": file} if file else None,
        headers=headers or None,
    )


@pytest.fixture
def org(database: Database, client: TestClient) -> dict[str, Any]:
    """Sales Spain (a Salesperson, a Sales Team Member, a colleague) and Sales Mexico (a Salesperson),
    with one lead owned in each unit (created by the administrator)."""
    make_units(database)
    ids = {
        "seller": make_user(database, "seller@example.com", "Salesperson", "Sales Spain"),
        "reader": make_user(database, "reader@example.com", "Sales Team Member", "Sales Spain"),
        "colleague": make_user(database, "colleague@example.com", "Salesperson", "Sales Spain"),
        "mexico": make_user(database, "mexico@example.com", "Salesperson", "Sales Mexico"),
    }
    spain_lead = post_lead(client, owner_user_id=str(ids["colleague"]))
    mexico_lead = post_lead(client, owner_user_id=str(ids["mexico"]))
    return {
        **ids,
        "spain_lead": spain_lead,
        "mexico_lead": mexico_lead,
        "seller_headers": bearer_headers(database, "seller@example.com"),
        "reader_headers": bearer_headers(database, "reader@example.com"),
    }


# ------------------------------------------------------------------------------------------------
# authentication

PROTECTED = [
    ("GET", f"{API}/me"),
    ("GET", f"{API}/leads"),
    ("POST", f"{API}/leads"),
    ("GET", f"{API}/audit"),
    ("GET", f"{API}/users"),
    ("PUT", f"{API}/settings/qualification"),
    ("DELETE", f"{API}/tokens/7f3c2a10-5b1e-4d8a-9c6f-2e4b8d1a0c93"),
    ("GET", f"{API}/leads/3a9e4f21-8c7d-4b5a-a1e2-6f0d9c8b7a54/notes"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_token_is_401_with_a_bearer_challenge(anonymous_client, method, path):
    response = anonymous_client.request(method, path, json={} if method in {"POST", "PUT"} else None)
    assert_unauthenticated(response)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer lf_" + "A" * 43,
        "bearer ' OR '1'='1",
        "Bearer <script>alert(1)</script>",
        "Basic YWRtaW5AZXhhbXBsZS5jb206Y29ycmVjdCBob3JzZQ==",
        "Bearer",
        "lf_not_even_a_scheme",
    ],
)
def test_a_garbage_token_is_401(anonymous_client, database, authorization):
    before = snapshot(database)
    response = anonymous_client.get(f"{API}/me", headers={"Authorization": authorization})
    assert_unauthenticated(response)
    assert (
        anonymous_client.post(f"{API}/leads", json=lead_data(), headers={"Authorization": authorization}).status_code
        == 401
    )
    assert snapshot(database) == before


def _personal_token(database: Database, email: str = ADMIN_EMAIL) -> tuple[uuid.UUID, dict[str, str]]:
    with database.unit_of_work() as uow:
        issued = create_personal_token(email, name="attack", days=1, uow=uow, actor=None)
        uow.commit()
        return issued.token.id, {"Authorization": f"Bearer {issued.secret}"}


def test_an_expired_token_is_401(anonymous_client, database):
    token_id, headers = _personal_token(database)
    assert anonymous_client.get(f"{API}/me", headers=headers).status_code == 200
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(AccessToken).where(AccessToken.id == token_id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        uow.commit()

    response = anonymous_client.get(f"{API}/me", headers=headers)

    assert_unauthenticated(response)
    assert response.json()["error"]["code"] == "token_expired"
    assert_unauthenticated(anonymous_client.post(f"{API}/leads", json=lead_data(), headers=headers))


def test_a_revoked_token_is_401_at_once_and_other_tokens_keep_working(anonymous_client, client, database):
    token_id, headers = _personal_token(database)
    assert anonymous_client.get(f"{API}/me", headers=headers).status_code == 200

    revoked = anonymous_client.delete(f"{API}/tokens/{token_id}", headers=headers)

    assert revoked.status_code == 204, revoked.text
    response = anonymous_client.get(f"{API}/me", headers=headers)
    assert_unauthenticated(response)
    assert response.json()["error"]["code"] == "token_revoked"
    assert client.get(f"{API}/me").status_code == 200  # the admin's other token is untouched


def test_a_salesperson_cannot_revoke_someone_elses_token(anonymous_client, database, org):
    token_id, admin_headers = _personal_token(database)

    response = anonymous_client.delete(f"{API}/tokens/{token_id}", headers=org["seller_headers"])

    assert_error(response, 403, "forbidden")
    assert anonymous_client.get(f"{API}/me", headers=admin_headers).status_code == 200


def test_the_oauth2_password_flow_gives_a_working_token(anonymous_client):
    response = anonymous_client.post(f"{API}/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"] and body["expires_at"]
    me = anonymous_client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == ADMIN_EMAIL
    assert "System Administrator" in me.json()["roles"]


def test_a_wrong_password_is_401_and_gives_no_token(anonymous_client, database):
    before = snapshot(database)["counts"]["access_tokens"]

    response = anonymous_client.post(f"{API}/auth/token", data={"username": ADMIN_EMAIL, "password": "wrong password!"})

    assert_unauthenticated(response)
    assert snapshot(database)["counts"]["access_tokens"] == before


# ------------------------------------------------------------------------------------------------
# a Salesperson against another business unit's lead


def test_a_salesperson_cannot_touch_another_units_lead(anonymous_client, database, org):
    lead_id = org["mexico_lead"]["id"]
    headers = org["seller_headers"]
    before = snapshot(database)

    attempts = {
        "read": anonymous_client.get(f"{API}/leads/{lead_id}", headers=headers),
        "edit": anonymous_client.patch(f"{API}/leads/{lead_id}", json={"topic": "Mine now"}, headers=headers),
        "take": anonymous_client.patch(
            f"{API}/leads/{lead_id}", json={"owner_user_id": str(org["seller"])}, headers=headers
        ),
        "qualify": anonymous_client.post(
            f"{API}/leads/{lead_id}/qualify",
            json={"create_account": True, "create_contact": True, "create_opportunity": True},
            headers=headers,
        ),
        "disqualify": anonymous_client.post(
            f"{API}/leads/{lead_id}/disqualify", json={"status_reason": "lost"}, headers=headers
        ),
        "delete": anonymous_client.delete(f"{API}/leads/{lead_id}", headers=headers),
        "assign": anonymous_client.post(
            f"{API}/leads/{lead_id}/assign", json={"owner_user_id": str(org["seller"])}, headers=headers
        ),
        "share": anonymous_client.post(
            f"{API}/leads/{lead_id}/share", json={"user_id": str(org["seller"]), "rights": ["read"]}, headers=headers
        ),
        "note": post_note(anonymous_client, lead_id, **headers),
        "notes": anonymous_client.get(f"{API}/leads/{lead_id}/notes", headers=headers),
        "create for them": anonymous_client.post(
            f"{API}/leads", json=lead_data(owner_user_id=str(org["mexico"])), headers=headers
        ),
    }

    for name, response in attempts.items():
        if name == "create for them":  # no record of theirs is named: a missing privilege
            assert_error(response, 403, "forbidden")
        else:  # a lead one may not read answers exactly like one that does not exist
            assert_error(response, 404, "lead_not_found")
        assert org["mexico_lead"]["topic"] not in response.text, name  # a refusal leaks no data
    assert snapshot(database) == before
    listed = anonymous_client.get(f"{API}/leads", params={"view": "all"}, headers=headers).json()["items"]
    assert lead_id not in {item["id"] for item in listed}
    assert org["spain_lead"]["id"] in {item["id"] for item in listed}  # the own unit's lead is readable


# ------------------------------------------------------------------------------------------------
# a Sales Team Member is read-only


def test_a_sales_team_member_can_read_but_not_write(anonymous_client, database, org):
    lead_id = org["spain_lead"]["id"]
    headers = org["reader_headers"]
    assert anonymous_client.get(f"{API}/leads/{lead_id}", headers=headers).status_code == 200
    before = snapshot(database)

    attempts = {
        "create": anonymous_client.post(f"{API}/leads", json=lead_data(), headers=headers),
        "patch": anonymous_client.patch(f"{API}/leads/{lead_id}", json={"topic": "Changed"}, headers=headers),
        "qualify": anonymous_client.post(
            f"{API}/leads/{lead_id}/qualify",
            json={"create_account": True, "create_contact": True, "create_opportunity": True},
            headers=headers,
        ),
        "qualify many": anonymous_client.post(
            f"{API}/leads/qualify",
            json={"lead_ids": [lead_id], "create_account": True, "create_contact": True, "create_opportunity": True},
            headers=headers,
        ),
        "disqualify": anonymous_client.post(
            f"{API}/leads/{lead_id}/disqualify", json={"status_reason": "lost"}, headers=headers
        ),
        "note": post_note(anonymous_client, lead_id, **headers),
        "note with file": post_note(anonymous_client, lead_id, ("x.txt", b"hello", "text/plain"), **headers),
        "delete": anonymous_client.delete(f"{API}/leads/{lead_id}", headers=headers),
        "assign": anonymous_client.post(
            f"{API}/leads/{lead_id}/assign", json={"owner_user_id": str(org["reader"])}, headers=headers
        ),
        "share": anonymous_client.post(
            f"{API}/leads/{lead_id}/share", json={"user_id": str(org["reader"]), "rights": ["read"]}, headers=headers
        ),
        "settings": anonymous_client.put(
            f"{API}/settings/qualification",
            json={
                "qualification_experience": "legacy",
                "create_records_on_qualify": False,
                "account_creation": "automatic",
                "contact_creation": "automatic",
                "opportunity_creation": "automatic",
            },
            headers=headers,
        ),
    }

    for name, response in attempts.items():
        if name == "qualify many":  # the bulk endpoint reports each lead's refusal in its result
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["qualified"], body["failed"]) == (0, 1), body
            assert body["results"][0]["error"]["code"] == "forbidden"
            continue
        assert_error(response, 403, "forbidden")
    assert snapshot(database) == before


# ------------------------------------------------------------------------------------------------
# script injection: data stays data, nothing comes back as HTML

SCRIPT = "<script>alert(1)</script>"


def test_a_script_in_a_lead_is_returned_verbatim_as_json(client):
    created = client.post(
        f"{API}/leads",
        json=lead_data(topic=SCRIPT, first_name='"><img src=x onerror=alert(1)>', company_name=SCRIPT),
    )

    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/json")
    assert created.json()["topic"] == SCRIPT
    assert created.json()["first_name"] == '"><img src=x onerror=alert(1)>'
    read = client.get(f"{API}/leads/{created.json()['id']}")
    assert read.headers["content-type"].startswith("application/json")
    assert read.json()["topic"] == SCRIPT and read.json()["company_name"] == SCRIPT
    listed = client.get(f"{API}/leads", params={"view": "all", "q": SCRIPT})
    assert listed.headers["content-type"].startswith("application/json")
    assert [item["topic"] for item in listed.json()["items"]] == [SCRIPT]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", f"{API}/leads/{SCRIPT}", {}),
        ("GET", f"{API}/{SCRIPT}", {}),
        ("GET", f"{API}/leads", {"params": {"sort": SCRIPT}}),
        ("GET", f"{API}/leads", {"params": {"view": SCRIPT}}),
        ("GET", f"{API}/leads", {"params": {"cursor": SCRIPT}}),
        ("POST", f"{API}/leads", {"json": {"topic": SCRIPT}}),
        ("POST", f"{API}/leads", {"content": SCRIPT, "headers": {"Content-Type": "application/json"}}),
        ("POST", f"{API}/leads", {"content": SCRIPT, "headers": {"Content-Type": "text/html"}}),
        ("DELETE", f"{API}/settings/qualification", {}),
    ],
)
def test_error_bodies_are_json_never_html(client, method, path, kwargs):
    response = client.request(method, path, **kwargs)

    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    content_type = response.headers["content-type"]
    assert content_type.startswith("application/json") and "html" not in content_type
    assert set(response.json()) == {"error"}


# ------------------------------------------------------------------------------------------------
# SQL metacharacters


SQL_SEARCHES = [
    "' OR 1=1 --",
    "'; DROP TABLE leads; --",
    '" OR ""="',
    "%' UNION SELECT email FROM users --",
    "\\",
    "_",
    "%",
]


def test_sql_metacharacters_in_q_are_plain_text(client, database):
    plain = post_lead(client, topic="Office chairs")
    percent = post_lead(client, topic="100% wool carpets")
    before = snapshot(database)

    for q in SQL_SEARCHES:
        response = client.get(f"{API}/leads", params={"view": "all", "q": q})
        assert response.status_code == 200, (q, response.text)
        found = {item["id"] for item in response.json()["items"]}
        # Only a lead whose text really contains the characters matches.
        assert plain["id"] not in found, q
        assert (percent["id"] in found) == (q == "%"), q

    assert snapshot(database) == before
    assert client.get(f"{API}/leads", params={"view": "all"}).json()["items"]


@pytest.mark.parametrize(
    "sort",
    [
        "topic; DROP TABLE leads",
        "topic desc",
        "(SELECT 1)",
        "created_at, id",
        "-created_at--",
        "1",
        "topic'",
        "owner_user_id",
        "password_hash",
    ],
)
def test_sql_in_sort_is_a_422_and_harmless(client, database, sort):
    post_lead(client)
    before = snapshot(database)

    response = client.get(f"{API}/leads", params={"view": "all", "sort": sort})

    assert_error(response, 422, "invalid_sort")
    assert snapshot(database) == before
    with database.unit_of_work(read_only=True) as uow:
        assert "leads" in inspect(uow.session.get_bind()).get_table_names()
    assert client.get(f"{API}/leads", params={"view": "all"}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"owner_user_id": "' OR 1=1 --"},
        {"state": "open' OR '1'='1"},
        {"limit": "1; DROP TABLE leads"},
        {"cursor": "' OR 1=1 --"},
    ],
)
def test_sql_in_other_list_parameters_is_a_422(client, database, params):
    post_lead(client)
    before = snapshot(database)

    response = client.get(f"{API}/leads", params={"view": "all", **params})

    assert response.status_code == 422, response.text
    assert snapshot(database) == before


# ------------------------------------------------------------------------------------------------
# hostile attachments


@pytest.mark.parametrize(
    ("uploaded", "mime", "stored"),
    [
        ("../../etc/passwd", "text/plain", "passwd"),
        ("..\\..\\windows\\win.ini", "text/plain", "win.ini"),
        ("evil.html", "text/html", "evil.html"),
        ("evil.svg", "image/svg+xml", "evil.svg"),
    ],
)
def test_hostile_attachments_are_stored_and_served_as_downloads(client, uploaded, mime, stored):
    lead = post_lead(client)
    payload = b"<html><body><script>alert(document.cookie)</script></body></html>"

    created = post_note(client, lead["id"], (uploaded, payload, mime))

    assert created.status_code == 201, created.text
    note = created.json()
    assert note["file_name"] == stored
    assert "/" not in note["file_name"] and "\\" not in note["file_name"] and ".." not in note["file_name"]
    response = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")
    assert response.status_code == 200
    assert response.content == payload
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "inline" not in disposition
    assert f'filename="{stored}"' in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    content_type = response.headers["Content-Type"]
    assert "html" not in content_type and "svg" not in content_type and "xml" not in content_type
    assert content_type == "application/octet-stream"


def _multipart(boundary: str, file_bytes: bytes) -> tuple[bytes, bytes]:
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nBig file\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + file_bytes, f"\r\n--{boundary}--\r\n".encode()


def _chunked(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize(
    ("extra", "transfer"),
    [
        (1, "content-length"),  # just over: declared length passes the envelope, the reader refuses
        (256 * 1024, "content-length"),  # far over: refused from the declared Content-Length alone
        (1, "chunked"),  # no Content-Length at all: the streaming reader refuses
        (256 * 1024, "chunked"),
    ],
)
def test_an_upload_over_the_limit_is_413_and_stores_nothing(client, database, settings, extra, transfer):
    lead = post_lead(client)
    before = snapshot(database)
    boundary = "leadflow-security-boundary"
    head, tail = _multipart(boundary, b"x" * (settings.max_attachment_bytes + extra))
    body = head + tail
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    content: Any = body if transfer == "content-length" else _chunked(body)
    response = client.post(f"{API}/leads/{lead['id']}/notes", content=content, headers=headers)

    sent = response.request.headers
    if transfer == "chunked":
        assert "content-length" not in sent and sent.get("transfer-encoding") == "chunked"
    else:
        assert int(sent["content-length"]) == len(body)
    assert_error(response, 413, "attachment_too_large")
    assert snapshot(database) == before


def test_a_json_body_over_the_limit_sent_chunked_is_refused_as_it_arrives(client, database):
    before = snapshot(database)
    padding = "x" * (3 * 1024 * 1024)  # 3 MiB against the 2 MiB cap on JSON bodies
    body = json.dumps({"topic": "Chunked", "last_name": "Big", "description": padding}).encode()
    response = client.post(f"{API}/leads", content=_chunked(body), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "request_too_large")
    assert snapshot(database) == before


def test_an_upload_at_the_limit_is_accepted_even_chunked(client, settings):
    lead = post_lead(client)
    boundary = "leadflow-security-boundary"
    head, tail = _multipart(boundary, b"x" * settings.max_attachment_bytes)

    response = client.post(
        f"{API}/leads/{lead['id']}/notes",
        content=_chunked(head + tail),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == settings.max_attachment_bytes


def test_a_json_body_over_the_cap_is_413(client, database):
    before = snapshot(database)

    response = client.post(
        f"{API}/leads",
        content=b'{"topic": "' + b"x" * (3 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, 413, "request_too_large")
    assert snapshot(database) == before


# ------------------------------------------------------------------------------------------------
# password guessing


def test_after_five_wrong_passwords_even_the_right_one_must_wait(anonymous_client, client, database):
    password = "the right password 42"
    user_id = make_user(database, "target@example.com", "Salesperson", None, password=password)

    def sign_in(secret: str) -> Response:
        return anonymous_client.post(f"{API}/auth/token", data={"username": "target@example.com", "password": secret})

    for attempt in range(1, 6):
        response = sign_in(f"guess number {attempt}")
        assert_unauthenticated(response)
        assert response.json()["error"]["code"] == "not_authenticated", attempt

    sixth = sign_in("guess number 6")
    assert_error(sixth, 429, "too_many_attempts")
    seventh = sign_in(password)
    assert_error(seventh, 429, "too_many_attempts")
    assert int(seventh.json()["error"]["details"]["retry_after"]) >= 1
    assert seventh.headers["Retry-After"] == str(seventh.json()["error"]["details"]["retry_after"])

    with database.unit_of_work(read_only=True) as uow:
        tokens = uow.session.scalar(select(func.count()).select_from(AccessToken).where(AccessToken.user_id == user_id))
        assert tokens == 0

    audit = client.get(f"{API}/audit", params={"limit": 1000}).json()["items"]
    failed = [entry for entry in audit if entry["action"] == "sign_in_failed" and entry["record_id"] == str(user_id)]
    throttled = [entry for entry in audit if entry["action"] == "sign_in_throttled"]
    assert len(failed) == 5 and len(throttled) == 2, audit
    assert all("guess" not in (entry["summary"] or "") and password not in (entry["summary"] or "") for entry in audit)


def test_sign_in_failures_for_unknown_emails_are_audited_too(anonymous_client, client):
    response = anonymous_client.post(f"{API}/auth/token", data={"username": "nobody@example.com", "password": "x" * 12})
    assert_unauthenticated(response)

    entries = client.get(f"{API}/audit", params={"action": "sign_in_failed"}).json()["items"]
    unknown = [entry for entry in entries if entry["record_id"] is None]
    assert len(unknown) == 1, entries
    assert "nobody@example.com" in unknown[0]["summary"]
    assert "x" * 12 not in unknown[0]["summary"]  # the password typed is never logged


# ------------------------------------------------------------------------------------------------
# the audit log


def _audit(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_audit_log_records_every_change(client, database, org):
    admin_id = client.get(f"{API}/me").json()["user_id"]

    lead = post_lead(client, topic="Before")
    patched = client.patch(f"{API}/leads/{lead['id']}", json={"topic": "After"})
    assert patched.status_code == 200, patched.text
    assert client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"}).status_code == 200
    assert client.post(f"{API}/leads/{lead['id']}/reactivate").status_code == 200
    qualified = client.post(
        f"{API}/leads/{lead['id']}/qualify",
        json={"create_account": True, "create_contact": True, "create_opportunity": True},
    )
    assert qualified.status_code == 200, qualified.text

    other = post_lead(client)
    assigned = client.post(f"{API}/leads/{other['id']}/assign", json={"owner_user_id": str(org["seller"])})
    assert assigned.status_code == 200, assigned.text
    shared = client.post(f"{API}/leads/{other['id']}/share", json={"user_id": str(org["reader"]), "rights": ["read"]})
    assert shared.status_code == 200, shared.text
    assert client.delete(f"{API}/leads/{other['id']}").status_code == 204

    current = client.get(f"{API}/settings/qualification")
    new_settings = {key: value for key, value in current.json().items() if key != "row_version"}
    new_settings["create_records_on_qualify"] = not new_settings["create_records_on_qualify"]
    changed = client.put(f"{API}/settings/qualification", json=new_settings)
    assert changed.status_code == 200, changed.text

    entries = _audit(client, record_id=lead["id"])
    assert Counter(entry["action"] for entry in entries) == Counter(
        {"create": 1, "update": 1, "disqualify": 1, "reactivate": 1, "qualify": 1}
    )
    assert all(entry["user_id"] == admin_id and entry["table_name"] == "leads" for entry in entries)
    by_action = {entry["action"]: entry for entry in entries}
    assert by_action["update"]["changes"]["topic"] == {"old": "Before", "new": "After"}
    created = qualified.json()["created"]
    assert by_action["qualify"]["changes"]["opportunity_ids"] == created["opportunity_ids"]
    assert by_action["qualify"]["changes"]["account_id"] == created["account_id"]
    assert by_action["disqualify"]["summary"] == "lost"

    entries = _audit(client, record_id=other["id"])
    assert Counter(entry["action"] for entry in entries) == Counter({"create": 1, "assign": 1, "share": 1, "delete": 1})
    by_action = {entry["action"]: entry for entry in entries}
    assert by_action["assign"]["changes"]["owner_user_id"] == {"old": admin_id, "new": str(org["seller"])}
    assert by_action["share"]["changes"]["grantee"] == str(org["reader"])
    assert by_action["share"]["changes"]["rights"] == ["read"]

    settings_entries = _audit(client, action="settings_change")
    assert len(settings_entries) == 1
    flag = settings_entries[0]["changes"]["create_records_on_qualify"]
    assert flag == {
        "old": not new_settings["create_records_on_qualify"],
        "new": new_settings["create_records_on_qualify"],
    }
    assert settings_entries[0]["user_id"] == admin_id


def test_a_salesperson_cannot_read_the_audit_log(anonymous_client, org):
    for params in ({}, {"action": "sign_in_failed"}):
        response = anonymous_client.get(f"{API}/audit", params=params, headers=org["seller_headers"])
        error = assert_error(response, 403, "forbidden")
        assert error["details"]["table"] == "audit"
    assert_error(anonymous_client.get(f"{API}/audit", headers=org["reader_headers"]), 403, "forbidden")


# ------------------------------------------------------------------------------------------------
# notes follow the access of the record they regard


def test_the_timeline_does_not_reveal_notes_of_a_lead_the_user_cannot_read(client, anonymous_client, org):
    lead_id = org["mexico_lead"]["id"]
    secret = "Budget is really 90k; the buyer is leaving the company"
    assert post_note(client, lead_id).status_code == 201
    noted = client.post(f"{API}/leads/{lead_id}/notes", data={"title": "Private", "body": secret})
    assert noted.status_code == 201, noted.text
    qualified = client.post(
        f"{API}/leads/{lead_id}/qualify",
        json={"create_account": True, "create_contact": True, "create_opportunity": True},
    )
    assert qualified.status_code == 200, qualified.text
    opportunity_id = qualified.json()["created"]["opportunity_ids"][0]
    given = client.post(f"{API}/opportunities/{opportunity_id}/assign", json={"owner_user_id": str(org["seller"])})
    assert given.status_code == 200, given.text
    headers = org["seller_headers"]
    # The seller owns the opportunity but may not read the Mexico lead or its notes.
    assert anonymous_client.get(f"{API}/opportunities/{opportunity_id}", headers=headers).status_code == 200
    assert_error(anonymous_client.get(f"{API}/leads/{lead_id}", headers=headers), 404, "lead_not_found")
    assert_error(anonymous_client.get(f"{API}/leads/{lead_id}/notes", headers=headers), 404, "lead_not_found")

    response = anonymous_client.get(f"{API}/opportunities/{opportunity_id}/timeline", headers=headers)

    assert response.status_code == 200, response.text
    assert secret not in response.text
    assert all(note["regarding_id"] != lead_id for note in response.json()["items"])


def test_qualifying_a_closed_lead_of_another_unit_is_refused_as_not_found_not_as_closed(
    client, anonymous_client, database, org
):
    """The access check comes first: the refusal must not reveal the state, nor the existence, of a lead
    one cannot read."""
    lead_id = org["mexico_lead"]["id"]
    assert client.post(f"{API}/leads/{lead_id}/disqualify", json={"status_reason": "lost"}).status_code == 200
    before = snapshot(database)
    headers = org["seller_headers"]

    single = anonymous_client.post(
        f"{API}/leads/{lead_id}/qualify",
        json={"create_account": True, "create_contact": True, "create_opportunity": True},
        headers=headers,
    )
    bulk = anonymous_client.post(
        f"{API}/leads/qualify",
        json={"lead_ids": [lead_id], "create_account": True, "create_contact": True, "create_opportunity": True},
        headers=headers,
    )
    others = [
        anonymous_client.post(f"{API}/leads/{lead_id}/disqualify", json={"status_reason": "lost"}, headers=headers),
        anonymous_client.post(f"{API}/leads/{lead_id}/reactivate", headers=headers),
        anonymous_client.patch(f"{API}/leads/{lead_id}", json={"topic": "x"}, headers=headers),
    ]

    for response in others:
        assert_error(response, 404, "lead_not_found")
    assert bulk.status_code == 200, bulk.text
    outcome = (single.status_code, single.json()["error"]["code"], bulk.json()["results"][0]["error"]["code"])
    assert outcome == (404, "lead_not_found", "lead_not_found"), (single.text, bulk.text)
    assert snapshot(database) == before
