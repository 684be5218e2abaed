"""Notes and attachments over HTTP (§1): upload, list, safe download, closed leads."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.helpers import API, add_note, assert_error, counts, create_lead, disqualify, qualify, snapshot


def test_a_note_with_an_attachment_is_created_and_listed(client, database):
    lead = create_lead(client)
    before = counts(database)

    response = add_note(
        client,
        "leads",
        lead["id"],
        title="Quote",
        body="Sent the quote.",
        file=("quote.pdf", b"%PDF-1.4 fake quote", "application/pdf"),
    )

    assert response.status_code == 201, response.text
    note = response.json()
    assert note["title"] == "Quote" and note["body"] == "Sent the quote."
    assert note["regarding_table"] == "leads" and note["regarding_id"] == lead["id"]
    assert (note["file_name"], note["mime_type"], note["file_size"]) == ("quote.pdf", "application/pdf", 19)
    after = counts(database)
    assert (after["notes"], after["attachments"]) == (before["notes"] + 1, before["attachments"] + 1)

    listed = client.get(f"{API}/leads/{lead['id']}/notes")
    assert listed.status_code == 200
    assert listed.json() == {"items": [note], "next_cursor": None}


def test_a_note_without_attachment_is_created(client, database):
    lead = create_lead(client)

    response = add_note(client, "leads", lead["id"], title=None, body="Only text")

    assert response.status_code == 201, response.text
    assert response.json()["file_name"] is None and response.json()["file_size"] is None
    assert counts(database)["attachments"] == 0


def test_notes_are_listed_newest_first_and_only_for_their_record(client):
    lead = create_lead(client)
    other = create_lead(client)
    first = add_note(client, "leads", lead["id"], title="First").json()
    second = add_note(client, "leads", lead["id"], title="Second").json()
    add_note(client, "leads", other["id"], title="Elsewhere")

    listed = client.get(f"{API}/leads/{lead['id']}/notes").json()["items"]

    assert [note["id"] for note in listed] == [second["id"], first["id"]]


def test_the_attachment_downloads_as_the_same_bytes_and_never_inline(client):
    lead = create_lead(client)
    content = bytes(range(256)) * 4
    note = add_note(client, "leads", lead["id"], file=("data.bin", content, "application/x-thing")).json()

    response = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="data.bin"' in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("uploaded", "mime"),
    [
        ("../../etc/passwd", "text/plain"),
        ("evil.html", "text/html"),
        ("..\\..\\windows\\win.ini", "text/plain"),
        ('quote"; filename="evil.html', "text/html"),
        ("<script>alert(1)</script>.svg", "image/svg+xml"),
        ("line\r\nX-Injected: yes.txt", "text/plain"),
    ],
)
def test_a_hostile_file_name_downloads_under_a_safe_name(client, uploaded, mime):
    lead = create_lead(client)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    created = add_note(client, "leads", lead["id"], file=(uploaded, payload, mime))
    assert created.status_code == 201, created.text
    note = created.json()

    response = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")

    assert response.status_code == 200
    assert response.content == payload
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "inline" not in disposition
    plain_name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert plain_name and "/" not in plain_name and "\\" not in plain_name and ".." not in plain_name
    assert not set(plain_name) & set('<>"\r\n')
    assert "X-Injected" not in response.headers
    assert note["file_name"] == plain_name
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"  # never text/html
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_path_segments_are_stripped_from_the_file_name(client):
    lead = create_lead(client)

    note = add_note(client, "leads", lead["id"], file=("../../etc/passwd", b"root:x:0:0", "text/plain")).json()

    assert note["file_name"] == "passwd"


def test_a_non_ascii_file_name_survives_in_the_utf8_filename(client):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], file=("presupuesto año.pdf", b"%PDF", "application/pdf")).json()

    response = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")

    assert "filename*=UTF-8''presupuesto%20a%C3%B1o.pdf" in response.headers["Content-Disposition"]


def test_an_attachment_above_the_limit_is_refused_and_nothing_is_stored(client, database, settings):
    lead = create_lead(client)
    before = snapshot(database)

    response = add_note(
        client, "leads", lead["id"], file=("big.bin", b"x" * (settings.max_attachment_bytes + 1), "application/pdf")
    )

    error = assert_error(response, 413, "attachment_too_large")
    assert str(settings.max_attachment_bytes) in error["message"]
    assert snapshot(database) == before


def test_an_attachment_at_the_limit_is_accepted(client, database, settings):
    lead = create_lead(client)

    response = add_note(
        client, "leads", lead["id"], file=("max.bin", b"x" * settings.max_attachment_bytes, "application/pdf")
    )

    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == settings.max_attachment_bytes


def test_a_request_body_far_above_the_limit_is_refused_before_it_is_read(client, database, settings):
    lead = create_lead(client)
    before = snapshot(database)

    response = add_note(
        client, "leads", lead["id"], file=("huge.bin", b"x" * (settings.max_attachment_bytes * 4), "application/pdf")
    )

    assert_error(response, 413, "attachment_too_large")
    assert snapshot(database) == before


@pytest.mark.parametrize("close", ["qualify", "disqualify"])
def test_notes_on_a_closed_lead_are_refused(client, database, close):
    lead = create_lead(client)
    if close == "qualify":
        qualify(client, lead["id"])
    else:
        disqualify(client, lead["id"])
    before = snapshot(database)

    response = add_note(client, "leads", lead["id"], file=("late.txt", b"too late", "text/plain"))

    assert_error(response, 409, "lead_closed")
    assert snapshot(database) == before


def test_an_empty_note_is_refused(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = add_note(client, "leads", lead["id"], title=None, body=None)

    assert_error(response, 422, "empty_note")
    assert snapshot(database) == before


def test_notes_on_an_unknown_record_are_404(client, database):
    before = snapshot(database)

    assert_error(add_note(client, "leads", uuid.uuid4()), 404, "lead_not_found")
    assert_error(add_note(client, "opportunities", uuid.uuid4()), 404, "opportunity_not_found")
    assert_error(client.get(f"{API}/contacts/{uuid.uuid4()}/notes"), 404, "contact_not_found")
    assert snapshot(database) == before


def test_notes_on_an_unknown_table_are_refused(client):
    lead = create_lead(client)

    response = add_note(client, "users", lead["id"])

    assert_error(response, 422, "invalid_option")


def test_an_attachment_is_only_served_from_its_own_record(client):
    lead = create_lead(client)
    other = create_lead(client)
    note = add_note(client, "leads", lead["id"], file=("secret.txt", b"secret", "text/plain")).json()

    response = client.get(f"{API}/leads/{other['id']}/notes/{note['id']}/attachment")

    assert_error(response, 404, "note_not_found")


def test_a_note_without_attachment_has_nothing_to_download(client):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], title="Just text").json()

    response = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")

    assert_error(response, 404, "attachment_not_found")


def test_notes_work_on_accounts_contacts_and_opportunities(client):
    lead = create_lead(client)
    created = qualify(client, lead["id"])["created"]

    for table, record_id in (
        ("accounts", created["account_id"]),
        ("contacts", created["contact_id"]),
        ("opportunities", created["opportunity_ids"][0]),
    ):
        response = add_note(client, table, record_id, file=("f.txt", table.encode(), "text/plain"))
        assert response.status_code == 201, response.text
        note = response.json()
        download = client.get(f"{API}/{table}/{record_id}/notes/{note['id']}/attachment")
        assert download.content == table.encode()


def test_the_opportunity_timeline_serves_the_lead_attachment_without_copying_it(client, database):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], file=("brief.txt", b"brief", "text/plain")).json()
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]

    timeline = client.get(f"{API}/opportunities/{opportunity_id}/timeline").json()["items"]

    assert [entry["id"] for entry in timeline] == [note["id"]]
    # A note on the timeline keeps every field of the note, with its kind and when it was made.
    assert timeline[0] == {**note, "kind": "note", "at": note["created_at"]}
    assert timeline[0]["file_name"] == "brief.txt"
    assert counts(database)["attachments"] == 1
    download = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")
    assert download.content == b"brief"


def test_an_attachment_on_the_timeline_downloads_from_the_record_whose_timeline_shows_it(client):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], file=("brief.txt", b"brief", "text/plain")).json()
    created = qualify(client, lead["id"])["created"]
    unrelated = qualify(client, create_lead(client)["id"])["created"]["opportunity_ids"][0]

    for table, record_id in (("opportunities", created["opportunity_ids"][0]), ("accounts", created["account_id"])):
        download = client.get(f"{API}/{table}/{record_id}/notes/{note['id']}/attachment")
        assert download.status_code == 200, (table, download.text)
        assert download.content == b"brief"
    assert_error(client.get(f"{API}/opportunities/{unrelated}/notes/{note['id']}/attachment"), 404, "note_not_found")
