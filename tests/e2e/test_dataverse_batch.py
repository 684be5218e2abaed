"""$batch and RetrieveDuplicates on the Dataverse Web API: change sets commit or roll back as one."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from fastapi.testclient import TestClient

BASE = "/api/data/v9.2"
CRLF = "\r\n"


def _request(method: str, url: str, body: dict | None = None, *, content_id: int | None = None) -> str:
    headers = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        headers.append(f"Content-ID: {content_id}")
    inner = [f"{method} {url} HTTP/1.1"]
    if body is not None:
        inner.append("Content-Type: application/json; type=entry")
    inner += ["", json.dumps(body) if body is not None else ""]
    return CRLF.join(headers) + CRLF + CRLF + CRLF.join(inner) + CRLF


def _batch(*items: str | list[str]) -> tuple[bytes, str]:
    """A multipart/mixed batch body as Microsoft's SDK writes it; a list is a change set."""
    out = []
    for number, item in enumerate(items):
        if isinstance(item, list):
            boundary = f"changeset_{number}"
            inner = "".join(f"--{boundary}{CRLF}{part}" for part in item) + f"--{boundary}--{CRLF}"
            out.append(f'--batch_t{CRLF}Content-Type: multipart/mixed; boundary="{boundary}"{CRLF}{CRLF}{inner}{CRLF}')
        else:
            out.append(f"--batch_t{CRLF}{item}")
    return ("".join(out) + f"--batch_t--{CRLF}").encode(), 'multipart/mixed; boundary="batch_t"'


def _statuses(text: str) -> list[int]:
    return [int(code) for code in re.findall(r"^HTTP/1\.1 (\d{3})", text, flags=re.MULTILINE)]


def _count(client: TestClient, entity_set: str, condition: str) -> int:
    answer = client.get(f"{BASE}/{entity_set}", params={"$filter": condition, "$count": "true", "$select": "createdon"})
    assert answer.status_code == 200, answer.text
    return answer.json()["@odata.count"]


def test_a_change_set_commits_its_requests_together_and_a_later_one_binds_an_earlier_record(client: TestClient) -> None:
    body, content_type = _batch(
        [
            _request("POST", f"https://testserver{BASE}/accounts", {"name": "Lote Uno SA"}, content_id=1),
            _request(
                "POST",
                f"https://testserver{BASE}/contacts",
                {"lastname": "Lote", "parentcustomerid_account@odata.bind": "$1"},
                content_id=2,
            ),
        ],
        _request("GET", f"{BASE}/accounts?$select=name&$filter=name%20eq%20'Lote%20Uno%20SA'"),
    )
    answer = client.post(f"{BASE}/$batch", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert _statuses(answer.text) == [204, 204, 200]
    account_id = re.search(r"accounts\(([0-9a-f-]{36})\)", answer.text).group(1)
    contacts = client.get(
        f"{BASE}/contacts", params={"$filter": "lastname eq 'Lote'", "$select": "_parentcustomerid_value"}
    )
    assert [row["_parentcustomerid_value"] for row in contacts.json()["value"]] == [account_id]
    assert '"name":"Lote Uno SA"' in answer.text  # the GET outside the change set saw the committed account


def test_a_failing_request_rolls_its_whole_change_set_back(client: TestClient) -> None:
    body, content_type = _batch(
        [
            _request("POST", f"{BASE}/accounts", {"name": "Nunca Guardada SL"}, content_id=1),
            _request("POST", f"{BASE}/contacts", {"firstname": "Sin apellido"}, content_id=2),  # lastname is required
        ]
    )
    answer = client.post(f"{BASE}/$batch", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200
    assert _statuses(answer.text) == [400]
    assert '"code":"0x80040203"' in answer.text
    assert _count(client, "accounts", "name eq 'Nunca Guardada SL'") == 0


def test_outside_change_sets_the_batch_stops_at_the_first_failure_unless_asked_to_continue(client: TestClient) -> None:
    parts = (
        _request("POST", f"{BASE}/leads", {"subject": "Primero", "lastname": "Uno"}),
        _request("POST", f"{BASE}/leads", {"subject": "Malo", "lastname": "Dos", "leadsourcecode": 99}),
        _request("POST", f"{BASE}/leads", {"subject": "Tercero", "lastname": "Tres"}),
    )
    body, content_type = _batch(*parts)
    stopped = client.post(f"{BASE}/$batch", content=body, headers={"Content-Type": content_type})
    assert _statuses(stopped.text) == [204, 400]
    assert '"code":"0x80044331"' in stopped.text
    assert _count(client, "leads", "subject eq 'Tercero'") == 0
    going = client.post(
        f"{BASE}/$batch",
        content=body,
        headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
    )
    assert _statuses(going.text) == [204, 400, 204]
    assert _count(client, "leads", "subject eq 'Tercero'") == 1


def test_a_batch_that_is_not_multipart_is_refused_in_dataverse_shape(client: TestClient) -> None:
    answer = client.post(f"{BASE}/$batch", json={"requests": []})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "0x80060888"


def test_a_change_set_takes_no_reads(client: TestClient) -> None:
    body, content_type = _batch([_request("GET", f"{BASE}/leads", content_id=1)])
    answer = client.post(f"{BASE}/$batch", content=body, headers={"Content-Type": content_type})
    assert _statuses(answer.text) == [400]


def test_retrieve_duplicates_lists_the_records_the_published_rules_match(client: TestClient) -> None:
    created = client.post(f"{BASE}/accounts", json={"name": "Contoso Ibérica", "emailaddress1": "hola@contoso.example"})
    assert created.status_code == 204
    account_id = re.search(r"\(([0-9a-f-]{36})\)$", created.headers["OData-EntityId"]).group(1)
    entity = quote(
        json.dumps({"@odata.type": "Microsoft.Dynamics.CRM.account", "emailaddress1": "HOLA@contoso.example"})
    )
    paging = quote(json.dumps({"PageNumber": 1, "Count": 10}))
    answer = client.get(
        f"{BASE}/RetrieveDuplicates(BusinessEntity=@p1,MatchingEntityName=@p2,PagingInfo=@p3)"
        f"?@p1={entity}&@p2='account'&@p3={paging}"
    )
    assert answer.status_code == 200, answer.text
    assert [row["accountid"] for row in answer.json()["value"]] == [account_id]
    unlike = quote(
        json.dumps({"@odata.type": "Microsoft.Dynamics.CRM.account", "emailaddress1": "otra@elsewhere.example"})
    )
    none = client.get(
        f"{BASE}/RetrieveDuplicates(BusinessEntity=@p1,MatchingEntityName=@p2,PagingInfo=@p3)"
        f"?@p1={unlike}&@p2='account'&@p3={paging}"
    )
    assert none.json()["value"] == []


def test_retrieve_duplicates_refuses_a_table_it_does_not_compare(client: TestClient) -> None:
    entity = quote(json.dumps({"@odata.type": "Microsoft.Dynamics.CRM.competitor", "name": "X"}))
    answer = client.get(f"{BASE}/RetrieveDuplicates(BusinessEntity=@p1,MatchingEntityName='competitor')?@p1={entity}")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "0x80040203"
