"""An integrator's scripts against leadflow's Dataverse Web API (``/api/data/v9.2``), with the clients
an integrator would use: Microsoft's SDK (PyPI ``powerplatform-dataverse-client``, ``PowerPlatform.Dataverse``)
and ``dataverse-api`` (PyPI, ``dataverse_api``).

leadflow is served over HTTPS (the SDK refuses any other base URL) with a certificate of
``make_dev_certificates``; the clients trust its CA through ``REQUESTS_CA_BUNDLE``, as they use
``requests``. Both authenticate with a leadflow personal token: the SDK asks an ``azure.core``
TokenCredential (``LeadflowToken`` below), dva takes a ``requests.Session`` that already carries the
``Authorization`` header. Where the SDK has no method (QualifyLead, WinOpportunity, Merge, a PATCH with
a real ETag, the duplicate-detection header) the script uses plain ``requests``, with the same CA
bundle and token, as an integrator would.

Every request and answer is printed as it passes (pytest shows them for a failing test): when a
client call fails, the exchange that made it fail is in the captured output.
"""

from __future__ import annotations

import gc
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken
from dataverse_api import DataverseClient as DvaClient  # type: ignore[import-untyped]
from PowerPlatform.Dataverse import QueryResult, col
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.duplicates import rules as rule_service
from leadflow.http.certificates import make_dev_certificates
from tests.builtin_rules import builtin_rules_of
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.live import serving

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
STALE_ETAG = "0x80060882"
DUPLICATE = "0x80040333"
NOT_FOUND = "0x80040217"
FORMATTED = "OData.Community.Display.V1.FormattedValue"


class LeadflowToken:
    """A leadflow personal token handed to Microsoft's Dataverse SDK.

    The SDK takes any ``azure.core`` TokenCredential: an object whose ``get_token(*scopes, **kwargs)``
    returns an ``AccessToken(token, expires_on)``. It asks for the scope ``"<base URL>/.default"``
    before each request and sends ``Authorization: Bearer <token>``; leadflow accepts its personal
    tokens there (``leadflow admin`` or the web app's profile page issues them), so the scope is not
    looked at and the token is said to last one more hour whenever it is asked for.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


# ---------------------------------------------------------------------------------------------- the traffic


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
_SHOWN_HEADERS = ("if-match", "if-none-match", "prefer", "mscrm.suppressduplicatedetection")


def _excerpt(body: bytes, limit: int = 600) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(body)} bytes)"


class Recorder:
    """ASGI middleware printing each request to the app and its answer, headers that matter included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = bytearray()
        answered = bytearray()
        status = 0
        answer_headers: list[str] = []

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                asked.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() in (b"odata-entityid", b"location", b"etag"):
                        answer_headers.append(f"{name.decode()}: {value.decode()}")
            elif message["type"] == "http.response.body":
                answered.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            query = scope.get("query_string", b"").decode()
            headers = [
                f"{name.decode()}: {value.decode()}"
                for name, value in scope.get("headers", [])
                if name.decode().lower() in _SHOWN_HEADERS
            ]
            print(
                f"→ {scope['method']} {scope['path']}{'?' + query if query else ''} {headers} {_excerpt(bytes(asked))}\n"
                f"← {status} {answer_headers} {_excerpt(bytes(answered))}",
                flush=True,
            )


def said(response: requests.Response) -> str:
    """A raw exchange, for an assertion's message."""
    request = response.request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return f"{request.method} {request.url} {body}\n→ {response.status_code} {response.text[:1000]}"


def error_code(response: requests.Response) -> str:
    """The Dataverse error code of an error answer (its JSON body is ``{"error": {"code", "message"}}``)."""
    body = response.json()
    assert isinstance(body.get("error", {}).get("message"), str), said(response)
    return str(body["error"]["code"])


def service_code(error: HttpError) -> Any:
    return error.details.get("service_error_code")


# ---------------------------------------------------------------------------------------------- leadflow served


@dataclass
class Served:
    """leadflow on HTTPS, with the SDK and a plain ``requests`` session that both speak to it."""

    base_url: str  # what the SDK is given: https://127.0.0.1:<port>
    token: str
    sdk: DataverseClient
    raw: requests.Session

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/data/v9.2"

    def get(self, path: str, params: dict[str, str] | None = None, **headers: str) -> requests.Response:
        return self.raw.get(f"{self.api}/{path}", params=params, headers=headers, timeout=60)

    def post(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.raw.post(f"{self.api}/{path}", data=json.dumps(body), headers=headers, timeout=120)

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.raw.patch(f"{self.api}/{path}", data=json.dumps(body), headers=headers, timeout=60)

    def count(self, table_set: str, odata_filter: str) -> int:
        answer = self.get(
            table_set, {"$filter": odata_filter, "$count": "true", "$select": "createdon"}, Prefer="odata.maxpagesize=1"
        )
        assert answer.status_code == 200, said(answer)
        return int(answer.json()["@odata.count"])


@pytest.fixture
def served(tmp_path: Path, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    made = make_dev_certificates(tmp_path / "certs")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(made.ca))  # what `leadflow certs dev` tells integrators to set
    monkeypatch.setenv("NO_PROXY", "*")
    token = bearer_headers(database, ADMIN_EMAIL)["Authorization"].removeprefix("Bearer ")
    app = Recorder(app_for(database, settings))  # create_app(database, settings), built once per process
    with serving(app, ssl_certfile=str(made.certificate), ssl_keyfile=str(made.key)) as port:
        base_url = f"https://127.0.0.1:{port}"
        with requests.Session() as raw, DataverseClient(base_url, LeadflowToken(token)) as sdk:
            raw.headers.update(
                {
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "OData-MaxVersion": "4.0",
                    "OData-Version": "4.0",
                }
            )
            yield Served(base_url, token, sdk, raw)
        # An HttpError a test caught keeps the response's socket open (through its traceback's frames)
        # until the garbage collector breaks that cycle; the server would wait for it to close.
        gc.collect()


def _lead(**fields: Any) -> dict[str, Any]:
    return {"subject": "Forty desks", "firstname": "Marta", "lastname": "Ibáñez", **fields}


# ---------------------------------------------------------------------------------------------- 1, 2: create and query


def test_the_sdk_creates_a_thousand_leads_and_queries_them(served: Served) -> None:
    sdk = served.sdk
    one = sdk.records.create("lead", _lead(subject="Single", firstname="Uno", lastname="Solo", leadsourcecode=8))
    assert GUID.fullmatch(one), one

    rows = [
        {
            "subject": f"Batch lead {index}",
            "firstname": f"{index:04d}",
            "lastname": "Batch",
            "companyname": f"Batch Co {index % 7}",
            "emailaddress1": f"batch{index:04d}@example.com",
            "leadsourcecode": 8 if index % 2 else 9,  # Web for odd numbers, Word of Mouth for even ones
        }
        for index in range(1000)
    ]
    ids = sdk.records.create("lead", rows)  # CreateMultiple
    assert len(ids) == 1000 and len(set(ids)) == 1000 and one not in ids
    assert all(GUID.fullmatch(lead_id) for lead_id in ids)
    assert served.count("leads", "lastname eq 'Batch'") == 1000
    assert served.count("leads", "lastname eq 'Batch' or lastname eq 'Solo'") == 1001

    # Retrieve by id: the ids came back in the order of the rows.
    seventeen = sdk.records.retrieve("lead", ids[17], select=["firstname", "lastname", "leadsourcecode"])
    assert seventeen is not None
    assert (seventeen["leadid"], seventeen["firstname"], seventeen["leadsourcecode"]) == (ids[17], "0017", 8)
    assert seventeen.etag is not None and seventeen.etag.startswith('W/"'), seventeen.etag
    assert sdk.records.retrieve("lead", str(uuid.uuid4())) is None  # a 404, which the SDK turns into None

    # Every lead once, page after page through @odata.nextLink (no $orderby: the server's own order).
    everything = sdk.records.list("lead", select=["leadid"], page_size=150)
    seen = [record["leadid"] for record in everything]
    assert len(seen) == 1001 and set(seen) == {one, *ids}

    # Pages of the size asked for, in the order asked for, with only the columns selected.
    pages = list(
        sdk.records.list_pages(
            "lead", filter="lastname eq 'Batch'", select=["firstname"], orderby=["firstname asc"], page_size=150
        )
    )
    assert [len(page) for page in pages] == [150] * 6 + [100]
    records = [record for page in pages for record in page]
    assert [record["firstname"] for record in records] == [f"{index:04d}" for index in range(1000)]
    assert [record["leadid"] for record in records] == ids
    assert {frozenset(record.keys()) for record in records} == {frozenset({"leadid", "firstname"})}

    # The query builder: In with strings, In with a choice's values (the SDK quotes them), and, or, not.
    chosen = (
        sdk.query.builder("lead")
        .select("firstname", "leadsourcecode")
        .where(col("firstname").in_(["0003", "0500", "0998", "9999"]))
        .where(col("lastname") == "Batch")
        .order_by("firstname", descending=True)
        .execute()
    )
    assert isinstance(chosen, QueryResult)
    assert [(record["firstname"], record["leadsourcecode"]) for record in chosen] == [
        ("0998", 9),
        ("0500", 9),
        ("0003", 8),
    ]
    word_of_mouth = (
        sdk.query.builder("lead")
        .select("firstname")
        .where(col("leadsourcecode").in_([9]) & col("firstname").startswith("00"))
        .count()
        .page_size(20)
        .execute()
    )
    assert isinstance(word_of_mouth, QueryResult)
    assert sorted(record["firstname"] for record in word_of_mouth) == [f"{index:04d}" for index in range(0, 100, 2)]
    either = (
        sdk.query.builder("lead")
        .select("firstname")
        .where(((col("firstname") == "0001") | (col("firstname") == "0002")) & ~(col("leadsourcecode") == 8))
        .execute()
    )
    assert isinstance(either, QueryResult)
    assert [record["firstname"] for record in either] == ["0002"]

    # $top caps the total across pages.
    last = sdk.records.list(
        "lead", filter="lastname eq 'Batch'", select=["firstname"], orderby=["firstname desc"], top=25, page_size=10
    )
    assert [record["firstname"] for record in last] == [f"{index:04d}" for index in range(999, 974, -1)]


# ---------------------------------------------------------------------------------------------- 3: updates, ETags


def test_the_sdk_updates_and_a_stale_etag_is_refused(served: Served) -> None:
    sdk = served.sdk
    lead_id = sdk.records.create("lead", _lead(emailaddress1="marta@muebles.example"))

    # The SDK sends If-Match: *, and turns the choice's label into its value through the metadata.
    sdk.records.update("lead", lead_id, {"jobtitle": "Buyer", "leadqualitycode": "Hot"})
    record = sdk.records.retrieve("lead", lead_id, select=["jobtitle", "leadqualitycode"])
    assert record is not None and (record["jobtitle"], record["leadqualitycode"]) == ("Buyer", 1)
    etag = record.etag
    assert etag is not None

    changed = served.patch(f"leads({lead_id})", {"jobtitle": "Head of buying"}, **{"If-Match": etag})
    assert changed.status_code == 204, said(changed)
    stale = served.patch(f"leads({lead_id})", {"jobtitle": "Intern"}, **{"If-Match": etag})
    assert stale.status_code == 412, said(stale)
    assert error_code(stale) == STALE_ETAG

    now = sdk.records.retrieve("lead", lead_id, select=["jobtitle"])
    assert now is not None and now["jobtitle"] == "Head of buying" and now.etag != etag

    # If-Match: * never creates: an unknown id is a 404, and no lead is made with it.
    unknown = str(uuid.uuid4())
    with pytest.raises(HttpError) as refused:
        sdk.records.update("lead", unknown, {"jobtitle": "Ghost"})
    assert refused.value.status_code == 404 and service_code(refused.value) == NOT_FOUND
    assert sdk.records.retrieve("lead", unknown) is None


# ---------------------------------------------------------------------------------------------- 4: QualifyLead


def test_a_lead_qualified_through_the_web_api_makes_an_account_a_contact_and_an_opportunity(served: Served) -> None:
    sdk = served.sdk
    lead_id = sdk.records.create(
        "lead",
        _lead(
            companyname="Muebles Ibáñez",
            emailaddress1="marta@muebles.example",
            telephone1="+34 954 000 111",
            jobtitle="Owner",
            budgetamount=12000,
        ),
    )

    qualified = served.post(
        f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead",
        {"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3},
    )
    assert qualified.status_code == 200, said(qualified)
    made = {item["@odata.type"]: item for item in qualified.json()["value"]}
    assert set(made) == {f"#Microsoft.Dynamics.CRM.{table}" for table in ("account", "contact", "opportunity")}
    account_id = made["#Microsoft.Dynamics.CRM.account"]["accountid"]
    contact_id = made["#Microsoft.Dynamics.CRM.contact"]["contactid"]
    opportunity_id = made["#Microsoft.Dynamics.CRM.opportunity"]["opportunityid"]

    account = sdk.records.retrieve("account", account_id)
    assert account is not None
    assert (account["name"], account["emailaddress1"]) == ("Muebles Ibáñez", "marta@muebles.example")
    assert account["_originatingleadid_value"] == lead_id

    contact = sdk.records.retrieve("contact", contact_id)
    assert contact is not None
    assert (contact["firstname"], contact["lastname"], contact["emailaddress1"], contact["jobtitle"]) == (
        "Marta",
        "Ibáñez",
        "marta@muebles.example",
        "Owner",
    )
    assert contact["_parentcustomerid_value"] == account_id and contact["_originatingleadid_value"] == lead_id

    opportunity = sdk.records.retrieve("opportunity", opportunity_id)
    assert opportunity is not None
    assert opportunity["name"] == "Forty desks"
    assert opportunity["_customerid_value"] == account_id
    assert (opportunity["_parentaccountid_value"], opportunity["_parentcontactid_value"]) == (account_id, contact_id)
    assert opportunity["_originatingleadid_value"] == lead_id

    lead = sdk.records.retrieve("lead", lead_id)
    assert lead is not None
    assert (lead["statecode"], lead["statuscode"]) == (1, 3)
    assert lead["_qualifyingopportunityid_value"] == opportunity_id
    assert (lead["_parentaccountid_value"], lead["_parentcontactid_value"]) == (account_id, contact_id)

    again = served.post(
        f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead",
        {"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3},
    )
    assert again.status_code == 400, said(again)  # a lead that is not open
    assert served.count("accounts", "name eq 'Muebles Ibáñez'") == 1
    # leadflow's opportunity keeps the lead's budget as its estimated revenue (leads/mappings.py); it has no
    # budget column of its own, so Dynamics' opportunity budgetamount is not served.
    assert opportunity.get("estimatedvalue") == 12000


# ---------------------------------------------------------------------------------------------- 5: duplicates


def test_duplicate_detection_runs_only_when_the_request_asks_for_it(served: Served, database: Database) -> None:
    with database.unit_of_work() as uow:
        rule_service.ensure_builtin_rules(uow.session)  # a new organisation has them; made sure of here
        uow.commit()
    assert "Leads with the same email address" in builtin_rules_of(database, "leads")

    sdk = served.sdk
    sdk.records.create(
        "lead",
        _lead(subject="First enquiry", firstname="Jonas", lastname="Berg", emailaddress1="jonas.berg@fjord.example"),
    )
    second = _lead(
        subject="Second enquiry", firstname="Kari", lastname="Nordmann", emailaddress1="jonas.berg@fjord.example"
    )
    same_email = "emailaddress1 eq 'jonas.berg@fjord.example'"

    refused = served.post("leads", second, **{"MSCRM.SuppressDuplicateDetection": "false"})
    assert refused.status_code >= 400, said(refused)
    assert error_code(refused) == DUPLICATE
    assert served.count("leads", same_email) == 1

    saved = served.post("leads", second)  # no header: Dataverse does not look for duplicates
    assert saved.status_code == 204, said(saved)
    assert GUID.search(saved.headers["OData-EntityId"])
    assert served.count("leads", same_email) == 2

    # An update that makes a duplicate is refused the same way when asked.
    third = sdk.records.create(
        "lead", _lead(subject="Third enquiry", firstname="Ola", lastname="Hansen", emailaddress1="ola@fjord.example")
    )
    changed = served.patch(
        f"leads({third})",
        {"emailaddress1": "jonas.berg@fjord.example"},
        **{"MSCRM.SuppressDuplicateDetection": "false", "If-Match": "*"},
    )
    assert changed.status_code >= 400, said(changed)
    assert error_code(changed) == DUPLICATE
    assert served.count("leads", same_email) == 2


# ---------------------------------------------------------------------------------------------- 6: disqualify


def test_the_sdk_disqualifies_a_lead_and_reactivates_it(served: Served) -> None:
    sdk = served.sdk
    lead_id = sdk.records.create("lead", _lead())

    sdk.records.update("lead", lead_id, {"statecode": 2, "statuscode": 6})  # No Longer Interested
    lead = sdk.records.retrieve("lead", lead_id, select=["statecode", "statuscode"], include_annotations=FORMATTED)
    assert lead is not None and (lead["statecode"], lead["statuscode"]) == (2, 6)
    assert lead[f"statecode@{FORMATTED}"] and lead[f"statuscode@{FORMATTED}"]

    with pytest.raises(HttpError) as refused:  # a closed lead is read-only
        sdk.records.update("lead", lead_id, {"jobtitle": "Buyer"})
    assert refused.value.status_code == 400

    sdk.records.update("lead", lead_id, {"statecode": 0, "statuscode": 1})
    lead = sdk.records.retrieve("lead", lead_id, select=["statecode", "statuscode"])
    assert lead is not None and (lead["statecode"], lead["statuscode"]) == (0, 1)


# ---------------------------------------------------------------------------------------------- 7: Merge


def test_two_accounts_merged_leave_the_subordinate_inactive_under_its_master(served: Served) -> None:
    sdk = served.sdk
    master = sdk.records.create("account", {"name": "Contoso Ltd", "telephone1": "+44 20 7946 0000"})
    subordinate = sdk.records.create("account", {"name": "Contoso Limited", "emailaddress1": "info@contoso.example"})
    contact = sdk.records.create(
        "contact",
        {"firstname": "Ana", "lastname": "Ruiz", "parentcustomerid_account@odata.bind": f"/accounts({subordinate})"},
    )

    def merge() -> requests.Response:
        return served.post(
            "Merge",
            {
                "Target": {"accountid": master, "@odata.type": "Microsoft.Dynamics.CRM.account"},
                "Subordinate": {"accountid": subordinate, "@odata.type": "Microsoft.Dynamics.CRM.account"},
                "UpdateContent": {
                    "websiteurl": "https://contoso.example",
                    "@odata.type": "Microsoft.Dynamics.CRM.account",
                },
                "PerformParentingChecks": False,
            },
        )

    merged = merge()
    assert merged.status_code == 204, said(merged)

    gone = sdk.records.retrieve("account", subordinate)
    assert gone is not None
    assert (gone["statecode"], gone["statuscode"], gone["merged"]) == (1, 2, True)
    assert gone["_masterid_value"] == master
    kept = sdk.records.retrieve("account", master)
    assert kept is not None
    assert (kept["statecode"], kept["websiteurl"], kept["name"]) == (0, "https://contoso.example", "Contoso Ltd")
    moved = sdk.records.retrieve("contact", contact, select=["_parentcustomerid_value"])
    assert moved is not None and moved["_parentcustomerid_value"] == master

    again = merge()
    assert again.status_code == 400, said(again)  # already merged


# ---------------------------------------------------------------------------------------------- 8: WinOpportunity


def test_an_opportunity_won_through_the_web_api_is_closed_as_won(served: Served) -> None:
    sdk = served.sdk
    account = sdk.records.create("account", {"name": "Fabrikam"})
    opportunity = sdk.records.create(
        "opportunity",
        {"name": "Forty desks", "estimatedvalue": 25000, "customerid_account@odata.bind": f"/accounts({account})"},
    )

    def win() -> requests.Response:
        return served.post(
            "WinOpportunity",
            {
                "Status": 3,
                "OpportunityClose": {
                    "subject": "Won: forty desks",
                    "actualrevenue": 24000,
                    "opportunityid@odata.bind": f"/opportunities({opportunity})",
                },
            },
        )

    won = win()
    assert won.status_code == 204, said(won)
    record = sdk.records.retrieve(
        "opportunity", opportunity, select=["statecode", "statuscode", "actualvalue", "actualclosedate"]
    )
    assert record is not None
    assert (record["statecode"], record["statuscode"], record["actualvalue"]) == (1, 3, 24000)
    assert record["actualclosedate"]

    again = win()
    assert again.status_code == 400, said(again)  # not open any more


# ---------------------------------------------------------------------------------------------- 9: delete


def test_the_sdk_deletes_a_record(served: Served) -> None:
    sdk = served.sdk
    lead_id = sdk.records.create("lead", _lead())
    sdk.records.delete("lead", lead_id)
    assert sdk.records.retrieve("lead", lead_id) is None
    with pytest.raises(HttpError) as refused:
        sdk.records.delete("lead", lead_id)
    assert refused.value.status_code == 404 and service_code(refused.value) == NOT_FOUND


# ---------------------------------------------------------------------------------------------- dataverse-api


def test_the_dataverse_api_client_creates_and_reads_leads(served: Served) -> None:
    session = requests.Session()  # dva takes a session that authenticates its requests itself
    session.headers["Authorization"] = f"Bearer {served.token}"
    client = DvaClient(session=session, environment_url=f"{served.base_url}/")
    leads = client.entity("lead")  # five metadata requests
    assert (leads.entity_set_name, leads.primary_id_attr) == ("leads", "leadid")
    assert leads.supports_create_multiple

    rows = [
        {
            "subject": f"Dva lead {index}",
            "firstname": f"D{index:02d}",
            "lastname": "Dva",
            "emailaddress1": f"d{index:02d}@dva.example",
        }
        for index in range(12)
    ]
    one_by_one = leads.create(rows[:5])
    assert [answer.status_code for answer in one_by_one] == [204] * 5, [said(answer) for answer in one_by_one]
    together = leads.create(rows[5:], mode="multiple")
    assert [answer.status_code for answer in together] == [200], [said(answer) for answer in together]
    assert len(together[0].json()["Ids"]) == 7
    shown = leads.create([{"subject": "Dva lead 12", "firstname": "D12", "lastname": "Dva"}], return_created=True)
    assert shown[0].status_code == 201, said(shown[0])
    assert GUID.fullmatch(shown[0].json()["leadid"]) and shown[0].json()["@odata.etag"]

    top = leads.read(
        select=["firstname", "emailaddress1"], filter="lastname eq 'Dva'", top=3, order_by="firstname desc"
    )
    assert [row["firstname"] for row in top] == ["D12", "D11", "D10"]
    assert top[1]["emailaddress1"] == "d11@dva.example"
    every = leads.read(select=["leadid"], filter="lastname eq 'Dva'", page_size=5)  # through three pages
    assert len({row["leadid"] for row in every}) == len(every) == 13

    duplicate = leads.create(
        [{"subject": "Again", "firstname": "Other", "lastname": "Person", "emailaddress1": "d03@dva.example"}],
        detect_duplicates=True,
    )
    assert len(duplicate) == 1 and duplicate[0].status_code >= 400, said(duplicate[0])  # dva logs it and goes on
    assert error_code(duplicate[0]) == DUPLICATE
    assert served.count("leads", "emailaddress1 eq 'd03@dva.example'") == 1
