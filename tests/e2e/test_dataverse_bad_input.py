"""Strange requests to the Web API: each is answered with a 4xx in Dataverse's error shape, the one
a Dynamics client can read (``{"error": {"code": "0x...", "message": ...}}``), and nothing is saved."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.helpers import snapshot

B = "/api/data/v9.2"
CODE = re.compile(r"0x[0-9A-Fa-f]{8}")
BAD_SEGMENT = "0x80060888"
NOT_FOUND = "0x80040217"
PICKLIST = "0x80044331"
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Strange:
    """One strange request: the method, the path (``{lead}``, ``{account}`` filled in) and what it sends."""

    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    status: int = 400
    code: str | None = None  # the code the reference names; None: any 0x code


def lead_body(**fields: Any) -> dict[str, Any]:
    return {"subject": "Office chairs", "lastname": "Ruiz", **fields}


CASES: dict[str, Strange] = {
    "a body that is not JSON": Strange("POST", "leads", content=b"subject=Chairs&lastname=Ruiz"),
    "a truncated JSON body": Strange("POST", "leads", content=b'{"subject": "Chairs", "lastname": '),
    "a JSON array body": Strange("POST", "leads", json=[lead_body()]),
    "a JSON string body": Strange("POST", "leads", json="Chairs"),
    "a PATCH body that is an array": Strange("PATCH", "leads({lead})", json=[{"jobtitle": "CEO"}]),
    "an unknown attribute": Strange("POST", "leads", json=lead_body(shoesize=42), code=BAD_SEGMENT),
    "an unknown attribute in a PATCH": Strange("PATCH", "leads({lead})", json={"nope": 1}, code=BAD_SEGMENT),
    "an unknown navigation property in @odata.bind": Strange(
        "POST", "leads", json=lead_body(**{"nosuchnav@odata.bind": "/accounts({account})"}), code=BAD_SEGMENT
    ),
    "@odata.bind to a record of the wrong set": Strange(
        "POST", "leads", json=lead_body(**{"parentaccountid@odata.bind": "/contacts({account})"})
    ),
    "@odata.bind to an unknown set": Strange(
        "POST", "leads", json=lead_body(**{"parentaccountid@odata.bind": "/nosuchset({account})"})
    ),
    "@odata.bind with a malformed address": Strange(
        "POST", "leads", json=lead_body(**{"parentaccountid@odata.bind": "accounts/{account}"})
    ),
    "@odata.bind that is a number": Strange("POST", "leads", json=lead_body(**{"parentaccountid@odata.bind": 7})),
    "@odata.bind to an unknown id": Strange(
        "POST",
        "leads",
        json=lead_body(**{"parentaccountid@odata.bind": f"/accounts({MISSING})"}),
        status=404,
        code=NOT_FOUND,
    ),
    "@odata.bind to an unknown currency": Strange(
        "POST",
        "leads",
        json=lead_body(**{"transactioncurrencyid@odata.bind": f"/transactioncurrencies({MISSING})"}),
        status=404,
        code=NOT_FOUND,
    ),
    "a lookup written by its value": Strange("POST", "leads", json=lead_body(_parentaccountid_value="{account}")),
    "a read-only attribute": Strange("POST", "leads", json=lead_body(fullname="Ana Ruiz")),
    "a read-only attribute in a PATCH": Strange("PATCH", "leads({lead})", json={"versionnumber": 1}),
    "a picklist value out of range": Strange("POST", "leads", json=lead_body(leadsourcecode=99), code=PICKLIST),
    "a picklist value out of range in a PATCH": Strange(
        "PATCH", "leads({lead})", json={"leadqualitycode": 0}, code=PICKLIST
    ),
    "a picklist given as a string": Strange("POST", "leads", json=lead_body(leadsourcecode="7")),
    "a picklist given as a label": Strange("POST", "leads", json=lead_body(leadsourcecode="Trade show")),
    "a picklist given as a boolean": Strange("POST", "leads", json=lead_body(leadsourcecode=True)),
    "a boolean given as a string": Strange("POST", "leads", json=lead_body(decisionmaker="true")),
    "money given as text": Strange("POST", "leads", json=lead_body(budgetamount="a lot")),
    "money given as an object": Strange("POST", "leads", json=lead_body(budgetamount={"value": 1})),
    "a text given as a number": Strange("POST", "leads", json=lead_body(jobtitle=12)),
    "a subject of 10,000 characters": Strange("POST", "leads", json=lead_body(subject="x" * 10_000)),
    "a missing lastname": Strange("POST", "leads", json={"subject": "Office chairs"}),
    "a leadid in the body of a POST": Strange("POST", "leads", json=lead_body(leadid=str(uuid.uuid4()))),
    "a statecode in the body of a POST": Strange("POST", "leads", json=lead_body(statecode=2)),
    "a statecode out of range": Strange("PATCH", "leads({lead})", json={"statecode": 9}, code=PICKLIST),
    "another leadid in a PATCH body": Strange("PATCH", "leads({lead})", json={"leadid": str(uuid.uuid4())}),
    "a POST to an unknown entity set": Strange("POST", "nosuchset", json={"name": "x"}, status=404, code=BAD_SEGMENT),
    "a GET of an unknown entity set": Strange("GET", "nosuchset", status=404, code=BAD_SEGMENT),
    "an unknown segment after a record": Strange("GET", "leads({lead})/nosuch", status=404, code=BAD_SEGMENT),
    "an unknown action": Strange("POST", "leads({lead})/Microsoft.Dynamics.CRM.Nope", json={}, status=404),
    "an unknown API version": Strange("GET", "/api/data/v8.0/leads", status=404),
    "a bad GUID in the address": Strange("GET", "leads(not-a-guid)"),
    "a bad GUID in a PATCH address": Strange("PATCH", "leads(1234)", json={"jobtitle": "CEO"}),
    "a bad GUID in a DELETE address": Strange("DELETE", "leads(zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz)"),
    "a PUT": Strange("PUT", "leads({lead})", json=lead_body(), status=405),
    "a filter that is garbage": Strange("GET", "leads", params={"$filter": "lastname eq eq 'Ruiz'"}, code=BAD_SEGMENT),
    "a filter on an unknown attribute": Strange("GET", "leads", params={"$filter": "nope eq 1"}, code=BAD_SEGMENT),
    "a filter with an unknown function": Strange(
        "GET", "leads", params={"$filter": "soundslike(lastname,'Ruiz')"}, code=BAD_SEGMENT
    ),
    "a filter with Microsoft.Dynamics.CRM.Today": Strange(
        "GET", "leads", params={"$filter": "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')"}, code=BAD_SEGMENT
    ),
    "a filter with unbalanced parentheses": Strange(
        "GET", "leads", params={"$filter": "((lastname eq 'Ruiz')"}, code=BAD_SEGMENT
    ),
    "a filter with an unclosed quote": Strange(
        "GET", "leads", params={"$filter": "lastname eq 'Ruiz"}, code=BAD_SEGMENT
    ),
    "a filter of 9000 characters": Strange(
        "GET", "leads", params={"$filter": " or ".join(["lastname eq 'Ruiz'"] * 450)}, code=BAD_SEGMENT
    ),
    "a filter nested 3000 deep and unbalanced": Strange(
        "GET", "leads", params={"$filter": "(" * 3000 + "lastname eq 'R'" + ")" * 2999}, code=BAD_SEGMENT
    ),
    "a $batch that is not multipart": Strange("POST", "$batch", json={"requests": []}),
    "a $batch whose parts are not requests": Strange(
        "POST", "$batch", content=b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    ),
    "a filter comparing a choice with text": Strange("GET", "leads", params={"$filter": "leadsourcecode eq 'web'"}),
    "a filter comparing a lookup with text": Strange(
        "GET", "leads", params={"$filter": "_parentaccountid_value eq 'acme'"}, code=BAD_SEGMENT
    ),
    "a filter comparing a date with a number": Strange("GET", "leads", params={"$filter": "createdon ge 2020"}),
    "a filter that is not a condition": Strange("GET", "leads", params={"$filter": "lastname"}, code=BAD_SEGMENT),
    "a filter that is a bare number": Strange("GET", "leads", params={"$filter": "0"}, code=BAD_SEGMENT),
    "a filter that is a bare text": Strange("GET", "leads", params={"$filter": "'a'"}, code=BAD_SEGMENT),
    "a top of -1": Strange("GET", "leads", params={"$top": "-1"}, code=BAD_SEGMENT),
    "a top that is not a number": Strange("GET", "leads", params={"$top": "ten"}, code=BAD_SEGMENT),
    "an orderby sideways": Strange("GET", "leads", params={"$orderby": "lastname sideways"}, code=BAD_SEGMENT),
    "an orderby of an unknown attribute": Strange("GET", "leads", params={"$orderby": "nope"}, code=BAD_SEGMENT),
    "a select of an unknown attribute": Strange("GET", "leads", params={"$select": "nope"}, code=BAD_SEGMENT),
    "a select of an unknown attribute on one record": Strange(
        "GET", "leads({lead})", params={"$select": "nope"}, code=BAD_SEGMENT
    ),
    "an expand of an unknown navigation property": Strange(
        "GET", "leads", params={"$expand": "nope($select=name)"}, code=BAD_SEGMENT
    ),
    "an expand selecting an unknown attribute": Strange(
        "GET", "leads({lead})", params={"$expand": "parentaccountid($select=nope)"}, code=BAD_SEGMENT
    ),
    "a skiptoken that is garbage": Strange("GET", "leads", params={"$skiptoken": "garbage!"}, code=BAD_SEGMENT),
    "a skip": Strange("GET", "leads", params={"$skip": "5"}, code=BAD_SEGMENT),
    "a count that is not a boolean": Strange("GET", "leads", params={"$count": "maybe"}, code=BAD_SEGMENT),
    "an unknown query option": Strange("GET", "leads", params={"$search": "Ruiz"}, code=BAD_SEGMENT),
    "Merge with strings instead of objects": Strange(
        "POST", "Merge", json={"Target": "{account}", "Subordinate": "{account}", "PerformParentingChecks": False}
    ),
    "Merge with an array body": Strange("POST", "Merge", json=[]),
    "Merge of an unknown subordinate": Strange(
        "POST",
        "Merge",
        json={
            "Target": {"accountid": "{account}", "@odata.type": "Microsoft.Dynamics.CRM.account"},
            "Subordinate": {"accountid": MISSING, "@odata.type": "Microsoft.Dynamics.CRM.account"},
        },
        status=404,
        code=NOT_FOUND,
    ),
    "Merge of an unsupported table": Strange(
        "POST",
        "Merge",
        json={
            "Target": {"opportunityid": MISSING, "@odata.type": "Microsoft.Dynamics.CRM.opportunity"},
            "Subordinate": {"opportunityid": MISSING, "@odata.type": "Microsoft.Dynamics.CRM.opportunity"},
        },
    ),
    "QualifyLead with CreateAccount as a string": Strange(
        "POST",
        "leads({lead})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": "yes", "CreateContact": True, "CreateOpportunity": True, "Status": 3},
    ),
    "QualifyLead with Status 4": Strange(
        "POST",
        "leads({lead})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 4},
    ),
    "QualifyLead with an array body": Strange("POST", "leads({lead})/Microsoft.Dynamics.CRM.QualifyLead", json=[]),
    "QualifyLead of an unknown lead": Strange(
        "POST",
        f"leads({MISSING})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3},
        status=404,
        code=NOT_FOUND,
    ),
    "WinOpportunity without OpportunityClose": Strange("POST", "WinOpportunity", json={"Status": 3}),
    "WinOpportunity of an unknown opportunity": Strange(
        "POST",
        "WinOpportunity",
        json={"Status": 3, "OpportunityClose": {"opportunityid@odata.bind": f"/opportunities({MISSING})"}},
        status=404,
        code=NOT_FOUND,
    ),
    "CreateMultiple without Targets": Strange("POST", "leads/Microsoft.Dynamics.CRM.CreateMultiple", json={}),
    "CreateMultiple with an empty list": Strange(
        "POST", "leads/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": []}
    ),
    "CreateMultiple with strings as targets": Strange(
        "POST", "leads/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": ["a", "b"]}
    ),
    "UpdateMultiple without the primary key": Strange(
        "POST", "leads/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [{"jobtitle": "CEO"}]}
    ),
    "a Prefer maxpagesize that is not a number": Strange("GET", "leads", params={}, code=BAD_SEGMENT),
}
# Headers some cases send beside their body.
HEADERS: dict[str, dict[str, str]] = {
    "a Prefer maxpagesize that is not a number": {"Prefer": "odata.maxpagesize=many"},
    "a body that is not JSON": {"Content-Type": "application/json"},
    "a truncated JSON body": {"Content-Type": "application/json"},
    "a $batch whose parts are not requests": {"Content-Type": "multipart/mixed; boundary=b"},
}


def fill(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with ``{lead}`` and ``{account}`` replaced by the ids of this test's records."""
    if isinstance(value, str):
        return value.replace("{lead}", ids["lead"]).replace("{account}", ids["account"])
    if isinstance(value, dict):
        return {fill(key, ids): fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


@pytest.fixture
def records(client) -> dict[str, str]:
    """A lead and an account the strange requests name."""
    ids = {}
    for key, entity_set, body in (("lead", "leads", lead_body()), ("account", "accounts", {"name": "Muebles Turia"})):
        response = client.post(f"{B}/{entity_set}", json=body)
        assert response.status_code == 204, response.text
        ids[key] = re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)
    return ids


def assert_dataverse_error(response: Any, status: int, code: str | None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "innererror"}, error
    assert CODE.fullmatch(error["code"]), error
    if code is not None:
        assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    return error


@pytest.mark.parametrize("name", list(CASES))
def test_a_strange_request_is_refused_in_dataverse_error_shape_and_saves_nothing(client, database, records, name):
    case = CASES[name]
    before = snapshot(database)

    response = client.request(
        case.method,
        case.path if case.path.startswith("/") else f"{B}/{fill(case.path, records)}",
        json=fill(case.json, records) if case.json is not None else None,
        content=case.content,
        params=case.params or None,
        headers=HEADERS.get(name),
    )

    assert_dataverse_error(response, case.status, case.code)
    assert response.headers["OData-Version"] == "4.0"
    assert snapshot(database) == before


def test_batch_is_answered_as_a_batch_or_501_saying_it_is_not_implemented(client, database):
    before = snapshot(database)

    response = client.post(
        f"{B}/$batch",
        content=b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        b"GET leads?$select=fullname HTTP/1.1\r\nAccept: application/json\r\n\r\n--batch_1--\r\n",
        headers={"Content-Type": "multipart/mixed; boundary=batch_1"},
    )

    # 501 (with a message) is the only server error allowed: it says $batch is not implemented.
    if response.status_code == 501:
        assert "$batch" in assert_dataverse_error(response, 501, None)["message"]
    else:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("multipart/mixed")
        assert "HTTP/1.1 200" in response.text
    assert snapshot(database) == before


def test_a_refusal_is_in_the_language_asked_for(client, records):
    english = client.get(f"{B}/leads", params={"$select": "nope"})
    spanish = client.get(f"{B}/leads", params={"$select": "nope"}, headers={"Accept-Language": "es"})

    assert_dataverse_error(english, 400, BAD_SEGMENT)
    assert_dataverse_error(spanish, 400, BAD_SEGMENT)


# ----------------------------------------------------------------------------------------------
# property: no query option text makes the server fail

QUERY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="()',\"[]=/$ -_.eqandornotlt0123456789Microsoft.Dynamics.CRM.In:TZ", max_size=120),
    st.lists(
        st.sampled_from(
            [
                "lastname",
                "leadsourcecode",
                "_parentaccountid_value",
                "createdon",
                "budgetamount",
                "decisionmaker",
                "eq",
                "ne",
                "gt",
                "and",
                "or",
                "not",
                "(",
                ")",
                "'x'",
                "''",
                "7",
                "-1",
                "1e400",
                "null",
                "true",
                "2020-01-01T00:00:00Z",
                "2020-13-45",
                MISSING,
                "contains(",
                ",",
                "asc",
                "desc",
                "in",
                "Microsoft.Dynamics.CRM.In(PropertyName='leadsourcecode',PropertyValues=[",
                '"7"',
                "]",
                "/",
                "any(x:x",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)


@pytest.mark.parametrize("option", ["$filter", "$orderby", "$select", "$expand"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUERY_TEXT)
def test_no_query_option_text_answers_a_server_error(client: Any, records: dict[str, str], option: str, text: str):
    response = client.get(f"{B}/leads", params={option: text})

    assert response.status_code < 500, (option, text, response.status_code, response.text)
    if response.status_code >= 400:
        assert_dataverse_error(response, response.status_code, None)
