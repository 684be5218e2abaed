"""The Dataverse-compatible Web API (/api/data/v9.2) answers what Dynamics 365 clients send, as the
reference (/work/shared/reference/dataverse-web-api.md) says they need it, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_business_unit, create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import counts

B = "/api/data/v9.2"
V1 = "/api/v1"
ENTITY_ID = re.compile(r"\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)$")
ALL_ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"'}
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"
DETECT = {"MSCRM.SuppressDuplicateDetection": "false"}

NOT_FOUND = "0x80040217"
BAD_SEGMENT = "0x80060888"
STALE = "0x80060882"
ALREADY_EXISTS = "0x80040237"
INVALID = "0x80040203"
DUPLICATE = "0x80040333"
PRIVILEGE = "0x80040220"


# ----------------------------------------------------------------------------------------------
# helpers


def dataverse_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is Dataverse's error shape with this status and code; returns the error object."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    return error


def created_id(response: Response) -> str:
    assert response.status_code == 204, response.text
    match = ENTITY_ID.search(response.headers["OData-EntityId"])
    assert match is not None, response.headers["OData-EntityId"]
    return match.group(1)


def create(client: TestClient, entity_set: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    return created_id(client.post(f"{B}/{entity_set}", json=body, headers=headers))


def new_lead(client: TestClient, **fields: Any) -> str:
    return create(client, "leads", {"subject": "Office chairs", "lastname": "Ruiz", **fields})


def new_account(client: TestClient, name: str = "Muebles Turia", **fields: Any) -> str:
    return create(client, "accounts", {"name": name, **fields})


def new_contact(client: TestClient, lastname: str = "Fernández", **fields: Any) -> str:
    return create(client, "contacts", {"lastname": lastname, **fields})


def read(
    client: TestClient,
    entity_set: str,
    record_id: str,
    select: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    params = {"$select": select} if select else None
    response = client.get(f"{B}/{entity_set}({record_id})", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def values(
    client: TestClient, entity_set: str, params: dict[str, str] | None = None, **kw: Any
) -> list[dict[str, Any]]:
    response = client.get(f"{B}/{entity_set}", params=params, **kw)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def lead_ids(client: TestClient, filter_text: str) -> set[str]:
    return {item["leadid"] for item in values(client, "leads", {"$filter": filter_text, "$select": "leadid"})}


def etag_version(entity: dict[str, Any]) -> str:
    match = re.fullmatch(r'W/"(\d+)"', entity["@odata.etag"])
    assert match is not None, entity["@odata.etag"]
    return match.group(1)


def qualify(client: TestClient, lead_id: str, headers: dict[str, str] | None = None, **options: Any) -> Response:
    body = {"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3, **options}
    return client.post(f"{B}/leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead", json=body, headers=headers)


def created_of(response: Response) -> dict[str, str]:
    """{logical name: id} of a QualifyLead answer."""
    assert response.status_code == 200, response.text
    out = {}
    for item in response.json()["value"]:
        logical = item["@odata.type"].removeprefix("#Microsoft.Dynamics.CRM.")
        out[logical] = item[f"{logical}id"]
    return out


def new_opportunity(client: TestClient, **fields: Any) -> str:
    account = new_account(client, name=f"Cliente {uuid.uuid4().hex[:6]}")
    return create(
        client,
        "opportunities",
        {"name": "100 chairs", "customerid_account@odata.bind": f"/accounts({account})", **fields},
    )


def user_client(client: TestClient, database: Database, email: str) -> TestClient:
    return TestClient(client.app, headers=bearer_headers(database, email))


def make_user(database: Database, email: str, roles: list[str], business_unit: str | None = None) -> str:
    with database.unit_of_work() as uow:
        if business_unit is not None:
            create_business_unit(business_unit, parent_name=None, uow=uow, actor=None)
        user = create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=roles,
            business_unit_name=business_unit,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
        return str(user.id)


# ----------------------------------------------------------------------------------------------
# create


def test_creating_a_lead_answers_204_with_its_address_in_odata_entityid(client):
    response = client.post(f"{B}/leads", json={"subject": "Office chairs", "lastname": "Ruiz"})

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["OData-EntityId"].startswith("http")
    assert "/api/data/v9.2/leads(" in response.headers["OData-EntityId"]
    lead_id = created_id(response)
    assert read(client, "leads", lead_id, "subject")["subject"] == "Office chairs"


def test_creating_with_return_representation_answers_201_with_the_entity(client):
    response = client.post(
        f"{B}/leads",
        json={"subject": "Office chairs", "firstname": "Ana", "lastname": "Ruiz"},
        headers={"Prefer": "return=representation"},
    )

    assert response.status_code == 201, response.text
    entity = response.json()
    assert ENTITY_ID.search(response.headers["OData-EntityId"]).group(1) == entity["leadid"]
    assert entity["@odata.context"].endswith("$metadata#leads/$entity")
    assert re.fullmatch(r'W/"\d+"', entity["@odata.etag"])
    assert entity["subject"] == "Office chairs"
    assert entity["firstname"] == "Ana"
    assert entity["lastname"] == "Ruiz"
    assert entity["fullname"] == "Ana Ruiz"
    assert entity["statecode"] == 0
    assert entity["statuscode"] == 1


def test_choices_travel_as_integers_both_ways(client):
    lead_id = new_lead(
        client,
        leadsourcecode=7,
        leadqualitycode=2,
        purchasetimeframe=0,
        budgetstatus=3,
        need=1,
        purchaseprocess=1,
        decisionmaker=True,
        budgetamount=1500.5,
    )

    entity = read(client, "leads", lead_id)
    assert entity["leadsourcecode"] == 7
    assert entity["leadqualitycode"] == 2
    assert entity["purchasetimeframe"] == 0
    assert entity["budgetstatus"] == 3
    assert entity["need"] == 1
    assert entity["purchaseprocess"] == 1
    assert entity["decisionmaker"] is True
    assert entity["budgetamount"] == 1500.5
    v1 = client.get(f"{V1}/leads/{lead_id}").json()
    assert v1["lead_source"] == "trade_show"
    assert v1["rating"] == "warm"
    assert v1["purchase_timeframe"] == "immediate"
    assert v1["budget_status"] == "will_buy"
    assert v1["need"] == "should_have"
    assert v1["decision_maker"] is True


@pytest.mark.parametrize("value", [0, 1, 2, 3, 4])
def test_every_purchase_timeframe_from_0_to_4_is_accepted(client, value):
    lead_id = new_lead(client, purchasetimeframe=value)

    assert read(client, "leads", lead_id, "purchasetimeframe")["purchasetimeframe"] == value


def test_a_v1_lead_reads_back_with_dataverse_choice_values(client):
    v1 = client.post(
        f"{V1}/leads", json={"topic": "Chairs", "last_name": "Ruiz", "lead_source": "trade_show", "rating": "hot"}
    )
    assert v1.status_code == 201, v1.text

    entity = read(client, "leads", v1.json()["id"], "leadsourcecode,leadqualitycode")
    assert entity["leadsourcecode"] == 7
    assert entity["leadqualitycode"] == 1


@pytest.mark.parametrize(
    "address", ["/accounts({id})", "http://testserver/api/data/v9.2/accounts({id})", "accounts({id})"]
)
def test_a_lookup_is_bound_by_address_and_read_back_as_its_value(client, address):
    account = new_account(client)

    lead_id = new_lead(client, **{"parentaccountid@odata.bind": address.format(id=account)})

    assert read(client, "leads", lead_id, "_parentaccountid_value")["_parentaccountid_value"] == account
    assert client.get(f"{V1}/leads/{lead_id}").json()["parent_account_id"] == account


def test_a_lookup_is_cleared_with_null(client):
    account = new_account(client)
    lead_id = new_lead(client, **{"parentaccountid@odata.bind": f"/accounts({account})"})

    response = client.patch(f"{B}/leads({lead_id})", json={"parentaccountid@odata.bind": None})

    assert response.status_code == 204, response.text
    assert read(client, "leads", lead_id, "_parentaccountid_value")["_parentaccountid_value"] is None


def test_the_currency_is_bound_through_transactioncurrencyid(client):
    currencies = values(client, "transactioncurrencies", {"$select": "transactioncurrencyid,isocurrencycode"})
    euro = next(item["transactioncurrencyid"] for item in currencies if item["isocurrencycode"] == "EUR")

    lead_id = new_lead(
        client, budgetamount=100, **{"transactioncurrencyid@odata.bind": f"/transactioncurrencies({euro})"}
    )

    assert read(client, "leads", lead_id, "_transactioncurrencyid_value")["_transactioncurrencyid_value"] == euro


def test_a_contact_names_its_account_through_parentcustomerid_account(client):
    account = new_account(client)

    contact = new_contact(client, **{"parentcustomerid_account@odata.bind": f"/accounts({account})"})

    entity = read(client, "contacts", contact, "_parentcustomerid_value", headers=ALL_ANNOTATIONS)
    assert entity["_parentcustomerid_value"] == account
    assert entity["_parentcustomerid_value" + LOOKUP_NAME] == "account"


def test_an_opportunity_customer_is_an_account_named_with_its_lookuplogicalname(client):
    account = new_account(client, name="Muebles Turia")

    opportunity = create(
        client, "opportunities", {"name": "Chairs", "customerid_account@odata.bind": f"/accounts({account})"}
    )

    entity = read(client, "opportunities", opportunity, "_customerid_value", headers=ALL_ANNOTATIONS)
    assert entity["_customerid_value"] == account
    assert entity["_customerid_value" + LOOKUP_NAME] == "account"
    assert entity["_customerid_value" + FORMATTED] == "Muebles Turia"


def test_an_opportunity_customer_is_a_contact_named_with_its_lookuplogicalname(client):
    contact = new_contact(client, firstname="Lucía", lastname="Fernández")

    opportunity = create(
        client, "opportunities", {"name": "Chairs", "customerid_contact@odata.bind": f"/contacts({contact})"}
    )

    entity = read(client, "opportunities", opportunity, "_customerid_value", headers=ALL_ANNOTATIONS)
    assert entity["_customerid_value"] == contact
    assert entity["_customerid_value" + LOOKUP_NAME] == "contact"
    assert entity["_customerid_value" + FORMATTED] == "Lucía Fernández"


# ----------------------------------------------------------------------------------------------
# read one


def test_select_returns_the_chosen_attributes_and_always_the_primary_key(client):
    lead_id = new_lead(client, firstname="Ana", jobtitle="Buyer")

    response = client.get(f"{B}/leads({lead_id})", params={"$select": "jobtitle"})

    assert response.status_code == 200, response.text
    entity = response.json()
    assert {key for key in entity if not key.startswith("@")} == {"leadid", "jobtitle"}
    assert entity["leadid"] == lead_id
    assert entity["jobtitle"] == "Buyer"
    assert entity["@odata.context"].endswith("$metadata#leads(jobtitle)/$entity")
    assert "@odata.etag" in entity


def test_an_unknown_id_is_404_with_object_does_not_exist(client):
    response = client.get(f"{B}/leads({uuid.uuid4()})")

    dataverse_error(response, 404, NOT_FOUND)


def test_if_none_match_with_the_current_etag_answers_304(client):
    lead_id = new_lead(client)
    etag = read(client, "leads", lead_id)["@odata.etag"]

    response = client.get(f"{B}/leads({lead_id})", headers={"If-None-Match": etag})

    assert response.status_code == 304


def test_if_none_match_with_an_old_etag_answers_the_record(client):
    lead_id = new_lead(client)
    old = read(client, "leads", lead_id)["@odata.etag"]
    assert client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}).status_code == 204

    response = client.get(f"{B}/leads({lead_id})", headers={"If-None-Match": old})

    assert response.status_code == 200
    assert response.json()["jobtitle"] == "CEO"


def test_v9_0_and_v9_1_are_served_as_aliases(client):
    lead_id = new_lead(client)

    for version in ("v9.0", "v9.1"):
        response = client.get(f"/api/data/{version}/leads({lead_id})")
        assert response.status_code == 200, (version, response.text)
        assert response.json()["leadid"] == lead_id


# ----------------------------------------------------------------------------------------------
# queries


@pytest.fixture
def three_leads(client) -> dict[str, str]:
    """Three leads that differ in every way the filters below compare."""
    account = new_account(client, name="Muebles Turia")
    return {
        "ana": new_lead(
            client,
            firstname="Ana",
            lastname="Ruiz",
            emailaddress1="ana@turia.example",
            leadsourcecode=7,
            leadqualitycode=1,
            budgetamount=1000,
            decisionmaker=True,
            **{"parentaccountid@odata.bind": f"/accounts({account})"},
        ),
        "bea": new_lead(
            client,
            firstname="Bea",
            lastname="Soler",
            emailaddress1="bea@soler.example",
            leadsourcecode=8,
            leadqualitycode=2,
            budgetamount=5000,
            decisionmaker=False,
        ),
        "carlos": new_lead(
            client, firstname="Carlos", lastname="Martínez", leadsourcecode=1, leadqualitycode=3, budgetamount=9000
        ),
        "account": account,
    }


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("firstname eq 'Ana'", {"ana"}),
        ("firstname ne 'Ana'", {"bea", "carlos"}),
        ("budgetamount gt 1000", {"bea", "carlos"}),
        ("budgetamount ge 5000", {"bea", "carlos"}),
        ("budgetamount lt 5000", {"ana"}),
        ("budgetamount le 5000", {"ana", "bea"}),
        ("budgetamount gt 500 and budgetamount lt 6000", {"ana", "bea"}),
        ("firstname eq 'Ana' or firstname eq 'Carlos'", {"ana", "carlos"}),
        ("not (firstname eq 'Ana')", {"bea", "carlos"}),
        ("(firstname eq 'Ana' or firstname eq 'Bea') and budgetamount gt 2000", {"bea"}),
        ("contains(lastname,'OLE')", {"bea"}),
        ("startswith(firstname,'car')", {"carlos"}),
        ("endswith(emailaddress1,'TURIA.EXAMPLE')", {"ana"}),
        ("emailaddress1 eq null", {"carlos"}),
        ("emailaddress1 ne null", {"ana", "bea"}),
        ("decisionmaker eq true", {"ana"}),
        ("leadsourcecode eq 7", {"ana"}),
        ("leadqualitycode ne 1", {"bea", "carlos"}),
        ("createdon ge 2020-01-01T00:00:00Z", {"ana", "bea", "carlos"}),
        ("createdon lt 2020-01-01T00:00:00Z", set()),
        ("""Microsoft.Dynamics.CRM.In(PropertyName='leadsourcecode',PropertyValues=["7","8"])""", {"ana", "bea"}),
        (
            """Microsoft.Dynamics.CRM.NotIn(PropertyName='leadsourcecode',PropertyValues=["7","8"])""",
            {"carlos"},
        ),
        ("lastname eq 'Martínez'", {"carlos"}),
    ],
)
def test_filter_selects_the_matching_leads(client, three_leads, filter_text, expected):
    assert lead_ids(client, filter_text) == {three_leads[name] for name in expected}


def test_filter_compares_a_lookup_by_its_value(client, three_leads):
    assert lead_ids(client, f"_parentaccountid_value eq {three_leads['account']}") == {three_leads["ana"]}


def test_filter_reads_a_quote_escaped_as_two_quotes(client):
    lead_id = new_lead(client, lastname="O'Brien")
    new_lead(client, lastname="Brien")

    assert lead_ids(client, "lastname eq 'O''Brien'") == {lead_id}


def test_orderby_sorts_ascending_and_descending(client, three_leads):
    ascending = values(client, "leads", {"$select": "budgetamount", "$orderby": "budgetamount asc"})
    descending = values(client, "leads", {"$select": "budgetamount", "$orderby": "budgetamount desc"})

    assert [item["budgetamount"] for item in ascending] == [1000, 5000, 9000]
    assert [item["budgetamount"] for item in descending] == [9000, 5000, 1000]


def test_orderby_sorts_by_two_keys(client):
    ids = {
        (last, first): new_lead(client, firstname=first, lastname=last)
        for last, first in (("Ruiz", "Bea"), ("Abad", "Zoe"), ("Ruiz", "Ana"), ("Abad", "Ana"))
    }

    listed = values(client, "leads", {"$select": "lastname,firstname", "$orderby": "lastname desc,firstname"})

    assert [item["leadid"] for item in listed] == [
        ids["Ruiz", "Ana"],
        ids["Ruiz", "Bea"],
        ids["Abad", "Ana"],
        ids["Abad", "Zoe"],
    ]


def test_top_caps_the_records_and_gives_no_next_link(client, three_leads):
    response = client.get(f"{B}/leads", params={"$top": "2"}, headers={"Prefer": "odata.maxpagesize=5"})

    assert response.status_code == 200
    assert len(response.json()["value"]) == 2
    assert "@odata.nextLink" not in response.json()


def test_count_true_gives_the_count_of_every_match(client, three_leads):
    response = client.get(
        f"{B}/leads",
        params={"$count": "true", "$filter": "budgetamount gt 10"},
        headers={"Prefer": "odata.maxpagesize=1"},
    )

    assert response.status_code == 200
    assert response.json()["@odata.count"] == 3
    assert len(response.json()["value"]) == 1


def follow_every_page(client: TestClient, first: str, prefer: str) -> tuple[list[str], list[str]]:
    """(every leadid, every nextLink) of a list, following the nextLinks verbatim with the same Prefer."""
    ids, links, url = [], [], first
    for _ in range(100):
        response = client.get(url, headers={"Prefer": prefer})
        assert response.status_code == 200, response.text
        ids.extend(item["leadid"] for item in response.json()["value"])
        url = response.json().get("@odata.nextLink")
        if url is None:
            return ids, links
        links.append(url)
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("orderby", [None, "lastname", "lastname desc,firstname"])
def test_following_next_links_verbatim_yields_every_match_exactly_once(client, orderby):
    wanted = [new_lead(client, lastname=("Ruiz", "Abad", "Soler")[n % 3], firstname=f"N{n}") for n in range(8)]
    new_lead(client, lastname="Ruiz", subject="Other topic")
    query = "$select=lastname&$filter=subject eq 'Office chairs'" + (f"&$orderby={orderby}" if orderby else "")

    ids, links = follow_every_page(client, f"{B}/leads?{query}", "odata.maxpagesize=3")

    assert sorted(ids) == sorted(wanted)
    assert len(links) == 2
    assert all(link.startswith("http://testserver/api/data/v9.2/leads?") for link in links)


def test_next_links_keep_the_annotations_preference(client):
    for n in range(3):
        new_lead(client, firstname=f"N{n}", leadsourcecode=7)
    prefer = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue",odata.maxpagesize=2'

    first = client.get(f"{B}/leads?$select=leadsourcecode", headers={"Prefer": prefer}).json()
    second = client.get(first["@odata.nextLink"], headers={"Prefer": prefer}).json()

    assert len(second["value"]) == 1
    assert second["value"][0]["leadsourcecode" + FORMATTED] == "Trade show"


def test_expand_of_parentaccountid_brings_the_account_with_its_selected_name(client, three_leads):
    response = client.get(
        f"{B}/leads({three_leads['ana']})", params={"$select": "fullname", "$expand": "parentaccountid($select=name)"}
    )

    assert response.status_code == 200, response.text
    expanded = response.json()["parentaccountid"]
    assert expanded["accountid"] == three_leads["account"]
    assert expanded["name"] == "Muebles Turia"


def test_expand_in_a_list_is_null_where_the_lookup_is_empty(client, three_leads):
    listed = values(
        client,
        "leads",
        {"$select": "firstname", "$expand": "parentaccountid($select=name)", "$orderby": "firstname"},
    )

    assert [item["parentaccountid"] and item["parentaccountid"]["name"] for item in listed] == [
        "Muebles Turia",
        None,
        None,
    ]


@pytest.mark.parametrize(
    "query",
    [
        "%24filter=lastname+eq+%27Soler%27&%24select=lastname",  # requests' params: + for spaces
        "$filter=lastname%20eq%20'Soler'&$select=lastname",  # the SDK: raw %20
        "$filter=lastname%20eq%20'Soler'&$select=lastname&",  # a trailing &
    ],
)
def test_query_strings_are_read_however_they_are_encoded(client, three_leads, query):
    response = client.get(f"{B}/leads?{query}")

    assert response.status_code == 200, response.text
    assert [item["leadid"] for item in response.json()["value"]] == [three_leads["bea"]]


def test_a_trailing_bare_question_mark_lists_every_record(client, three_leads):
    response = client.get(f"{B}/leads?")

    assert response.status_code == 200, response.text
    assert len(response.json()["value"]) == 3


def test_a_filter_with_a_plus_sign_and_requests_params_reads_spaces(client, three_leads):
    response = client.get(f"{B}/leads", params={"$filter": "firstname eq 'Bea' or firstname eq 'Ana'"})

    assert response.status_code == 200, response.text
    assert {item["leadid"] for item in response.json()["value"]} == {three_leads["ana"], three_leads["bea"]}


def test_every_list_answer_has_the_context_and_the_odata_headers(client, three_leads):
    response = client.get(f"{B}/leads", params={"$select": "fullname"})

    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#leads(fullname)")
    assert all(re.fullmatch(r'W/"\d+"', item["@odata.etag"]) for item in body["value"])


# ----------------------------------------------------------------------------------------------
# formatted values


@pytest.fixture
def formatted_lead(client) -> str:
    account = new_account(client, name="Muebles Turia")
    return new_lead(
        client,
        leadsourcecode=7,
        decisionmaker=True,
        budgetamount=25000,
        **{"parentaccountid@odata.bind": f"/accounts({account})"},
    )


SELECT_FORMATTED = "leadsourcecode,statecode,statuscode,decisionmaker,budgetamount,_parentaccountid_value"


def test_formatted_values_in_english(client, formatted_lead):
    entity = read(
        client,
        "leads",
        formatted_lead,
        SELECT_FORMATTED,
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
    )

    assert entity["leadsourcecode" + FORMATTED] == "Trade show"
    assert entity["statecode" + FORMATTED] == "Open"
    assert entity["statuscode" + FORMATTED] == "New"
    assert entity["decisionmaker" + FORMATTED] == "Yes"
    assert entity["budgetamount" + FORMATTED] == "€25,000.00"
    assert entity["_parentaccountid_value" + FORMATTED] == "Muebles Turia"
    assert "_parentaccountid_value" + LOOKUP_NAME not in entity


def test_formatted_values_in_spanish(client, formatted_lead):
    entity = read(
        client, "leads", formatted_lead, SELECT_FORMATTED, headers={**ALL_ANNOTATIONS, "Accept-Language": "es"}
    )

    assert entity["leadsourcecode" + FORMATTED] == "Feria comercial"
    assert entity["statecode" + FORMATTED] == "Abierto"
    assert entity["statuscode" + FORMATTED] == "Nuevo"
    assert entity["decisionmaker" + FORMATTED] == "Sí"
    assert entity["budgetamount" + FORMATTED] == "25.000,00\xa0€"
    assert entity["_parentaccountid_value" + FORMATTED] == "Muebles Turia"
    assert entity["_parentaccountid_value" + LOOKUP_NAME] == "account"


def test_the_annotations_preference_is_read_unquoted_as_dataverse_api_sends_it(client, formatted_lead):
    entity = read(
        client,
        "leads",
        formatted_lead,
        "leadsourcecode",
        headers={"Prefer": "odata.include-annotations=OData.Community.Display.V1.FormattedValue"},
    )

    assert entity["leadsourcecode" + FORMATTED] == "Trade show"


def test_without_the_preference_there_are_no_annotations(client, formatted_lead):
    entity = read(client, "leads", formatted_lead, SELECT_FORMATTED)

    assert [key for key in entity if "@" in key and not key.startswith("@odata.")] == []


# ----------------------------------------------------------------------------------------------
# PATCH and concurrency


def test_patch_updates_and_answers_204_with_odata_version(client):
    lead_id = new_lead(client)

    response = client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO", "leadqualitycode": 1})

    assert response.status_code == 204, response.text
    assert response.headers["OData-Version"] == "4.0"
    entity = read(client, "leads", lead_id, "jobtitle,leadqualitycode")
    assert (entity["jobtitle"], entity["leadqualitycode"]) == ("CEO", 1)


def test_patch_with_if_match_star_on_an_unknown_id_is_404(client):
    response = client.patch(f"{B}/leads({uuid.uuid4()})", json={"jobtitle": "CEO"}, headers={"If-Match": "*"})

    dataverse_error(response, 404, NOT_FOUND)
    assert response.headers["OData-Version"] == "4.0"


def test_patch_without_if_match_on_an_unknown_id_creates_the_record_with_that_id(client):
    chosen = uuid.uuid4()
    before = counts_of(client)

    response = client.patch(f"{B}/leads({chosen})", json={"subject": "Chairs", "lastname": "Ruiz"})

    assert response.status_code == 204, response.text
    assert response.headers["OData-EntityId"].endswith(f"/leads({chosen})")
    assert counts_of(client) == before + 1
    entity = read(client, "leads", str(chosen), "subject,lastname,statecode")
    assert (entity["subject"], entity["lastname"], entity["statecode"]) == ("Chairs", "Ruiz", 0)
    assert client.get(f"{V1}/leads/{chosen}").json()["topic"] == "Chairs"


def test_a_second_upsert_to_the_same_id_updates_the_record_it_created(client):
    chosen = uuid.uuid4()
    client.patch(f"{B}/accounts({chosen})", json={"name": "Upsert SA"})

    again = client.patch(f"{B}/accounts({chosen})", json={"name": "Upsert SA", "telephone1": "+34 900 000 000"})

    assert again.status_code == 204, again.text
    accounts = client.get(f"{B}/accounts", params={"$filter": "name eq 'Upsert SA'", "$select": "telephone1"})
    assert [row["accountid"] for row in accounts.json()["value"]] == [str(chosen)]
    assert accounts.json()["value"][0]["telephone1"] == "+34 900 000 000"


def test_an_upsert_that_would_create_an_invalid_record_saves_nothing(client):
    chosen = uuid.uuid4()
    before = counts_of(client)

    response = client.patch(f"{B}/leads({chosen})", json={"jobtitle": "CEO"})  # no subject, no last name

    dataverse_error(response, 400, "0x80040203")
    assert counts_of(client) == before
    dataverse_error(client.get(f"{B}/leads({chosen})"), 404, NOT_FOUND)


def test_if_none_match_star_creates_only_and_never_overwrites(client):
    chosen = uuid.uuid4()
    created = client.patch(f"{B}/contacts({chosen})", json={"lastname": "Nuevo"}, headers={"If-None-Match": "*"})
    assert created.status_code == 204, created.text

    again = client.patch(f"{B}/contacts({chosen})", json={"lastname": "Otro"}, headers={"If-None-Match": "*"})

    dataverse_error(again, 412, "0x80040237")
    assert read(client, "contacts", str(chosen), "lastname")["lastname"] == "Nuevo"


def counts_of(client: TestClient) -> int:
    return client.get(f"{B}/leads", params={"$count": "true", "$top": "0"}).json()["@odata.count"]


@pytest.mark.parametrize("weak", [True, False])
def test_if_match_with_the_current_version_is_accepted_weak_or_strong(client, weak):
    lead_id = new_lead(client)
    version = etag_version(read(client, "leads", lead_id))
    tag = f'W/"{version}"' if weak else f'"{version}"'

    response = client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}, headers={"If-Match": tag})

    assert response.status_code == 204, response.text
    assert read(client, "leads", lead_id, "jobtitle")["jobtitle"] == "CEO"


def test_a_stale_if_match_is_refused_with_412_and_nothing_changes(client):
    lead_id = new_lead(client, jobtitle="Buyer")
    old = read(client, "leads", lead_id)["@odata.etag"]
    assert client.patch(f"{B}/leads({lead_id})", json={"mobilephone": "600 000 000"}).status_code == 204
    current = read(client, "leads", lead_id)

    response = client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}, headers={"If-Match": old})

    dataverse_error(response, 412, STALE)
    assert response.headers["OData-Version"] == "4.0"
    assert read(client, "leads", lead_id) == current


def test_a_stale_if_match_on_a_state_change_is_refused_with_412(client):
    lead_id = new_lead(client)
    old = read(client, "leads", lead_id)["@odata.etag"]
    assert client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}).status_code == 204

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 4}, headers={"If-Match": old})

    dataverse_error(response, 412, STALE)
    assert read(client, "leads", lead_id, "statecode")["statecode"] == 0


def test_if_none_match_star_on_an_existing_record_is_412_already_exists(client):
    lead_id = new_lead(client, jobtitle="Buyer")

    response = client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}, headers={"If-None-Match": "*"})

    dataverse_error(response, 412, ALREADY_EXISTS)
    assert read(client, "leads", lead_id, "jobtitle")["jobtitle"] == "Buyer"


def test_the_etag_changes_on_every_write(client):
    lead_id = new_lead(client)
    first = read(client, "leads", lead_id)["@odata.etag"]
    assert client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}).status_code == 204

    assert read(client, "leads", lead_id)["@odata.etag"] != first


# ----------------------------------------------------------------------------------------------
# lead state


def state_of(client: TestClient, lead_id: str) -> tuple[int, int]:
    entity = read(client, "leads", lead_id, "statecode,statuscode")
    return entity["statecode"], entity["statuscode"]


def test_statecode_2_with_a_reason_disqualifies_the_lead(client):
    lead_id = new_lead(client)

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 5})

    assert response.status_code == 204, response.text
    assert state_of(client, lead_id) == (2, 5)
    v1 = client.get(f"{V1}/leads/{lead_id}").json()
    assert (v1["state"], v1["status_reason"]) == ("disqualified", "cannot_contact")


def test_statecode_2_alone_disqualifies_as_lost(client):
    lead_id = new_lead(client)

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 2})

    assert response.status_code == 204, response.text
    assert state_of(client, lead_id) == (2, 4)


def test_a_statuscode_of_another_state_is_refused(client):
    lead_id = new_lead(client)

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 3})

    dataverse_error(response, 400, INVALID)
    assert state_of(client, lead_id) == (0, 1)


def test_a_lead_with_an_opportunity_from_its_qualification_cannot_be_disqualified(client):
    lead_id = new_lead(client, companyname="Muebles Turia")
    created_of(qualify(client, lead_id))
    assert client.patch(f"{B}/leads({lead_id})", json={"statecode": 0, "statuscode": 1}).status_code == 204

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 4})

    dataverse_error(response, 400, INVALID)
    assert state_of(client, lead_id) == (0, 1)


def test_a_disqualified_lead_is_reactivated_with_statecode_0(client):
    lead_id = new_lead(client)
    assert client.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 6}).status_code == 204

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 0, "statuscode": 1})

    assert response.status_code == 204, response.text
    assert state_of(client, lead_id) == (0, 1)
    assert client.get(f"{V1}/leads/{lead_id}").json()["state"] == "open"


def test_a_closed_lead_is_read_only(client):
    lead_id = new_lead(client, jobtitle="Buyer")
    assert client.patch(f"{B}/leads({lead_id})", json={"statecode": 2}).status_code == 204

    response = client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]
    assert read(client, "leads", lead_id, "jobtitle")["jobtitle"] == "Buyer"


def test_statecode_1_is_refused_in_favour_of_qualifylead(client):
    lead_id = new_lead(client)

    response = client.patch(f"{B}/leads({lead_id})", json={"statecode": 1, "statuscode": 3})

    error = dataverse_error(response, 400, INVALID)
    assert "QualifyLead" in error["message"]
    assert state_of(client, lead_id) == (0, 1)


# ----------------------------------------------------------------------------------------------
# DELETE


def test_delete_answers_204_and_then_the_record_is_gone(client):
    lead_id = new_lead(client)

    response = client.delete(f"{B}/leads({lead_id})", headers={"If-Match": "*"})

    assert response.status_code == 204, response.text
    dataverse_error(client.get(f"{B}/leads({lead_id})"), 404, NOT_FOUND)
    dataverse_error(client.delete(f"{B}/leads({lead_id})"), 404, NOT_FOUND)


def test_delete_with_a_stale_if_match_is_412_and_keeps_the_record(client):
    lead_id = new_lead(client)
    old = read(client, "leads", lead_id)["@odata.etag"]
    assert client.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}).status_code == 204

    response = client.delete(f"{B}/leads({lead_id})", headers={"If-Match": old})

    dataverse_error(response, 412, STALE)
    assert read(client, "leads", lead_id)["leadid"] == lead_id


# ----------------------------------------------------------------------------------------------
# QualifyLead


@pytest.mark.parametrize("missing", ["CreateAccount", "CreateContact", "CreateOpportunity", "Status"])
def test_qualifylead_needs_all_four_parameters(client, database, missing):
    lead_id = new_lead(client, companyname="Muebles Turia")
    body = {"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3}
    del body[missing]
    before = counts(database)

    response = client.post(f"{B}/leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead", json=body)

    dataverse_error(response, 400, INVALID)
    assert counts(database) == before
    assert state_of(client, lead_id) == (0, 1)


def test_qualifylead_lists_only_the_records_it_created_each_with_its_type(client):
    lead_id = new_lead(client, companyname="Muebles Turia")

    response = qualify(client, lead_id, CreateContact=False)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)")
    assert [item["@odata.type"] for item in body["value"]] == [
        "#Microsoft.Dynamics.CRM.account",
        "#Microsoft.Dynamics.CRM.opportunity",
    ]


def test_qualifylead_creates_linked_records_and_qualifies_the_lead(client):
    lead_id = new_lead(
        client,
        firstname="Ana",
        lastname="Ruiz",
        companyname="Muebles Turia",
        emailaddress1="ana@turia.example",
        subject="100 chairs",
    )

    created = created_of(qualify(client, lead_id))

    assert set(created) == {"account", "contact", "opportunity"}
    account = read(client, "accounts", created["account"])
    assert account["name"] == "Muebles Turia"
    assert account["_originatingleadid_value"] == lead_id
    contact = read(client, "contacts", created["contact"])
    assert contact["fullname"] == "Ana Ruiz"
    assert contact["emailaddress1"] == "ana@turia.example"
    assert contact["_parentcustomerid_value"] == created["account"]
    opportunity = read(client, "opportunities", created["opportunity"])
    assert opportunity["name"] == "100 chairs"
    assert opportunity["_originatingleadid_value"] == lead_id
    assert opportunity["_customerid_value"] == created["account"]
    lead = read(client, "leads", lead_id)
    assert (lead["statecode"], lead["statuscode"]) == (1, 3)
    assert lead["_qualifyingopportunityid_value"] == created["opportunity"]
    assert lead["_parentaccountid_value"] == created["account"]
    assert lead["_parentcontactid_value"] == created["contact"]


def test_qualifylead_reuses_the_account_the_lead_already_names(client, database):
    account = new_account(client, name="Muebles Turia")
    lead_id = new_lead(client, companyname="Muebles Turia", **{"parentaccountid@odata.bind": f"/accounts({account})"})
    accounts_before = counts(database)["accounts"]

    created = created_of(qualify(client, lead_id))

    assert "account" not in created
    assert counts(database)["accounts"] == accounts_before
    assert read(client, "opportunities", created["opportunity"])["_customerid_value"] == account
    assert read(client, "contacts", created["contact"])["_parentcustomerid_value"] == account


def test_qualifylead_on_a_closed_lead_is_refused(client, database):
    lead_id = new_lead(client, companyname="Muebles Turia")
    assert client.patch(f"{B}/leads({lead_id})", json={"statecode": 2}).status_code == 204
    before = counts(database)

    response = qualify(client, lead_id)

    dataverse_error(response, 400, INVALID)
    assert counts(database) == before


# ----------------------------------------------------------------------------------------------
# WinOpportunity and LoseOpportunity


def test_winopportunity_closes_it_as_won_and_records_the_close(client):
    opportunity = new_opportunity(client)

    response = client.post(
        f"{B}/WinOpportunity",
        json={
            "Status": 3,
            "OpportunityClose": {
                "subject": "Won the chairs",
                "actualrevenue": 12000,
                "opportunityid@odata.bind": f"/opportunities({opportunity})",
            },
        },
    )

    assert response.status_code == 204, response.text
    entity = read(client, "opportunities", opportunity, "statecode,statuscode,actualvalue,actualclosedate")
    assert (entity["statecode"], entity["statuscode"]) == (1, 3)
    assert entity["actualvalue"] == 12000
    assert entity["actualclosedate"] is not None
    closes = values(client, "opportunitycloses", {"$filter": f"_opportunityid_value eq {opportunity}"})
    assert len(closes) == 1
    assert closes[0]["actualrevenue"] == 12000
    assert closes[0]["_opportunityid_value"] == opportunity


@pytest.mark.parametrize("status", [4, 5])
def test_loseopportunity_closes_it_as_lost_with_the_status_given(client, database, status):
    opportunity = new_opportunity(client)
    close: dict[str, Any] = {"subject": "Lost", "opportunityid@odata.bind": f"/opportunities({opportunity})"}
    if status == 5:
        competitor = client.post(f"{V1}/competitors", json={"name": "Sillas Baratas"})
        assert competitor.status_code == 201, competitor.text
        close["competitorid@odata.bind"] = f"/competitors({competitor.json()['id']})"

    response = client.post(f"{B}/LoseOpportunity", json={"Status": status, "OpportunityClose": close})

    assert response.status_code == 204, response.text
    entity = read(client, "opportunities", opportunity, "statecode,statuscode")
    assert (entity["statecode"], entity["statuscode"]) == (2, status)


def test_loseopportunity_as_out_sold_without_a_competitor_is_what_leadflow_decides(client):
    opportunity = new_opportunity(client)

    response = client.post(
        f"{B}/LoseOpportunity",
        json={"Status": 5, "OpportunityClose": {"opportunityid@odata.bind": f"/opportunities({opportunity})"}},
    )

    # leadflow refuses Out-Sold without the competitor, in Dataverse's error shape, and leaves it open.
    dataverse_error(response, 400, INVALID)
    assert read(client, "opportunities", opportunity, "statecode")["statecode"] == 0


def test_closing_a_closed_opportunity_is_refused(client):
    opportunity = new_opportunity(client)
    body = {"Status": 3, "OpportunityClose": {"opportunityid@odata.bind": f"/opportunities({opportunity})"}}
    assert client.post(f"{B}/WinOpportunity", json=body).status_code == 204

    again = client.post(f"{B}/WinOpportunity", json=body)
    lose = client.post(f"{B}/LoseOpportunity", json={**body, "Status": 4})

    dataverse_error(again, 400, INVALID)
    dataverse_error(lose, 400, INVALID)
    assert len(values(client, "opportunitycloses", {"$filter": f"_opportunityid_value eq {opportunity}"})) == 1


# ----------------------------------------------------------------------------------------------
# Merge


def merge_body(target: str, subordinate: str, kind: str = "account", **more: Any) -> dict[str, Any]:
    return {
        "Target": {f"{kind}id": target, "@odata.type": f"Microsoft.Dynamics.CRM.{kind}"},
        "Subordinate": {f"{kind}id": subordinate, "@odata.type": f"Microsoft.Dynamics.CRM.{kind}"},
        "PerformParentingChecks": False,
        **more,
    }


def test_merge_folds_the_subordinate_into_the_target(client):
    target = new_account(client, name="Muebles Turia")
    subordinate = new_account(client, name="Muebles Turia S.L.")
    contact = new_contact(client, **{"parentcustomerid_account@odata.bind": f"/accounts({subordinate})"})

    response = client.post(
        f"{B}/Merge",
        json=merge_body(
            target,
            subordinate,
            UpdateContent={"telephone1": "+34 960 000 000", "@odata.type": "Microsoft.Dynamics.CRM.account"},
        ),
    )

    assert response.status_code == 204, response.text
    gone = read(client, "accounts", subordinate, "statecode,statuscode,merged,_masterid_value")
    assert (gone["statecode"], gone["statuscode"]) == (1, 2)
    assert gone["merged"] is True
    assert gone["_masterid_value"] == target
    assert read(client, "contacts", contact, "_parentcustomerid_value")["_parentcustomerid_value"] == target
    kept = read(client, "accounts", target, "telephone1,statecode,merged")
    assert kept["telephone1"] == "+34 960 000 000"
    assert (kept["statecode"], kept["merged"]) == (0, False)


def test_merge_of_a_record_with_itself_is_refused(client):
    account = new_account(client)

    dataverse_error(client.post(f"{B}/Merge", json=merge_body(account, account)), 400, INVALID)
    assert read(client, "accounts", account, "statecode")["statecode"] == 0


def test_merge_of_two_tables_is_refused(client):
    account, contact = new_account(client), new_contact(client)
    body = merge_body(account, contact)
    body["Subordinate"] = {"contactid": contact, "@odata.type": "Microsoft.Dynamics.CRM.contact"}

    dataverse_error(client.post(f"{B}/Merge", json=body), 400, INVALID)
    assert read(client, "contacts", contact, "statecode")["statecode"] == 0


def test_merge_without_odata_type_is_refused(client):
    target, subordinate = new_account(client, name="A uno"), new_account(client, name="B dos")
    body = merge_body(target, subordinate)
    del body["Subordinate"]["@odata.type"]

    dataverse_error(client.post(f"{B}/Merge", json=body), 400, INVALID)
    assert read(client, "accounts", subordinate, "statecode")["statecode"] == 0


# ----------------------------------------------------------------------------------------------
# CreateMultiple, UpdateMultiple, WhoAmI


def typed_lead(**fields: Any) -> dict[str, Any]:
    return {"subject": "Office chairs", "lastname": "Ruiz", "@odata.type": "Microsoft.Dynamics.CRM.lead", **fields}


def test_createmultiple_answers_the_ids_in_order(client):
    response = client.post(
        f"{B}/leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [typed_lead(firstname=f"N{n}") for n in range(3)]},
    )

    assert response.status_code == 200, response.text
    ids = response.json()["Ids"]
    assert [read(client, "leads", lead_id, "firstname")["firstname"] for lead_id in ids] == ["N0", "N1", "N2"]


def test_createmultiple_with_one_invalid_target_saves_none(client, database):
    before = counts(database)

    response = client.post(
        f"{B}/leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [typed_lead(firstname="N0"), typed_lead(leadsourcecode=99), typed_lead(firstname="N2")]},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"].startswith("0x")
    assert counts(database) == before


def test_updatemultiple_updates_every_target(client):
    first, second = new_lead(client), new_lead(client)

    response = client.post(
        f"{B}/leads/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {"leadid": first, "jobtitle": "CEO", "@odata.type": "Microsoft.Dynamics.CRM.lead"},
                {"leadid": second, "jobtitle": "CFO", "@odata.type": "Microsoft.Dynamics.CRM.lead"},
            ]
        },
    )

    assert response.status_code == 204, response.text
    assert read(client, "leads", first, "jobtitle")["jobtitle"] == "CEO"
    assert read(client, "leads", second, "jobtitle")["jobtitle"] == "CFO"


def test_whoami_names_the_signed_in_user(client, actor: Actor):
    response = client.get(f"{B}/WhoAmI")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["UserId"] == str(actor.user_id)
    assert body["BusinessUnitId"] == str(actor.business_unit_id)
    uuid.UUID(body["OrganizationId"])
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")


# ----------------------------------------------------------------------------------------------
# duplicate detection (§6): only when the request asks


@pytest.mark.parametrize("header", [None, "true"])
def test_a_duplicate_lead_saves_unless_detection_is_asked_for(client, header):
    new_lead(client, firstname="Ana", lastname="Ruiz", emailaddress1="ana@turia.example")
    headers = {"MSCRM.SuppressDuplicateDetection": header} if header else None

    second = create(
        client,
        "leads",
        {"subject": "Chairs", "firstname": "Zoe", "lastname": "Abad", "emailaddress1": "ana@turia.example"},
        headers=headers,
    )

    assert lead_ids(client, "emailaddress1 eq 'ana@turia.example'") >= {second}
    assert len(lead_ids(client, "emailaddress1 eq 'ana@turia.example'")) == 2


def test_a_duplicate_lead_is_refused_when_detection_is_asked_for(client, database):
    new_lead(client, firstname="Ana", lastname="Ruiz", emailaddress1="ana@turia.example")
    before = counts(database)

    response = client.post(
        f"{B}/leads",
        json={"subject": "Chairs", "firstname": "Zoe", "lastname": "Abad", "emailaddress1": "ana@turia.example"},
        headers=DETECT,
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == DUPLICATE
    assert response.json()["error"]["message"]
    assert counts(database) == before


def test_a_lead_that_is_no_duplicate_saves_with_detection_asked_for(client):
    new_lead(client, firstname="Ana", lastname="Ruiz", emailaddress1="ana@turia.example")

    create(
        client,
        "leads",
        {"subject": "Chairs", "firstname": "Zoe", "lastname": "Abad", "emailaddress1": "zoe@abad.example"},
        headers=DETECT,
    )


def test_a_duplicate_in_createmultiple_with_detection_saves_none(client, database):
    new_lead(client, firstname="Ana", lastname="Ruiz", emailaddress1="ana@turia.example")
    before = counts(database)

    response = client.post(
        f"{B}/leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                typed_lead(firstname="Zoe", lastname="Abad", emailaddress1="zoe@abad.example"),
                typed_lead(firstname="Eva", lastname="Sanz", emailaddress1="ana@turia.example"),
            ]
        },
        headers=DETECT,
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == DUPLICATE
    assert counts(database) == before


def test_a_duplicate_in_createmultiple_without_detection_saves_all(client):
    new_lead(client, firstname="Ana", lastname="Ruiz", emailaddress1="ana@turia.example")

    response = client.post(
        f"{B}/leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [typed_lead(firstname="Eva", lastname="Sanz", emailaddress1="ana@turia.example")]},
    )

    assert response.status_code == 200, response.text
    assert len(lead_ids(client, "emailaddress1 eq 'ana@turia.example'")) == 2


def test_qualifylead_meeting_a_duplicate_account_is_refused_when_detection_is_asked_for(client, database):
    new_account(client, name="Muebles Turia")
    lead_id = new_lead(client, companyname="Muebles Turia")
    before = counts(database)

    response = qualify(client, lead_id, headers=DETECT, CreateContact=False, CreateOpportunity=False)

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == DUPLICATE
    assert counts(database) == before
    assert state_of(client, lead_id) == (0, 1)


def test_qualifylead_meeting_a_duplicate_account_goes_ahead_without_detection(client):
    new_account(client, name="Muebles Turia")
    lead_id = new_lead(client, companyname="Muebles Turia")

    created = created_of(qualify(client, lead_id, CreateContact=False, CreateOpportunity=False))

    assert set(created) == {"account"}
    assert state_of(client, lead_id) == (1, 3)


# ----------------------------------------------------------------------------------------------
# access: exactly as /api/v1


@pytest.fixture
def seller(client, database) -> TestClient:
    """A Salesperson in a business unit of their own, who cannot see the administrator's records."""
    make_user(database, "seller@example.com", ["Salesperson"], business_unit="North")
    return user_client(client, database, "seller@example.com")


def test_a_salesperson_lists_what_v1_lists_for_them(client, seller):
    for n in range(3):
        new_lead(client, firstname=f"Admin {n}")
    for n in range(2):
        created_id(seller.post(f"{B}/leads", json={"subject": "Chairs", "lastname": f"Own {n}"}))

    v1 = seller.get(f"{V1}/leads", params={"limit": 200})
    dataverse = seller.get(f"{B}/leads", params={"$count": "true", "$select": "leadid"})

    assert v1.status_code == 200 and dataverse.status_code == 200
    assert dataverse.json()["@odata.count"] == len(v1.json()["items"]) == 2
    assert {item["leadid"] for item in dataverse.json()["value"]} == {item["id"] for item in v1.json()["items"]}


def test_another_users_record_is_404_for_a_salesperson(client, seller):
    lead_id = new_lead(client)
    version = etag_version(read(client, "leads", lead_id))

    assert seller.get(f"{V1}/leads/{lead_id}").status_code == 404
    dataverse_error(seller.get(f"{B}/leads({lead_id})"), 404, NOT_FOUND)
    dataverse_error(seller.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}), 404, NOT_FOUND)
    dataverse_error(seller.delete(f"{B}/leads({lead_id})"), 404, NOT_FOUND)
    dataverse_error(qualify(seller, lead_id), 404, NOT_FOUND)
    assert etag_version(read(client, "leads", lead_id)) == version


def test_systemusers_are_refused_to_whom_v1_refuses_users(client, database):
    role = client.post(f"{V1}/roles", json={"name": "Lead reader", "privileges": {"leads": {"read": 4}}})
    assert role.status_code == 201, role.text
    make_user(database, "reader@example.com", ["Lead reader"])
    reader = user_client(client, database, "reader@example.com")

    v1 = reader.get(f"{V1}/users")
    dataverse = reader.get(f"{B}/systemusers")

    assert v1.status_code == 403, v1.text
    dataverse_error(dataverse, 403, PRIVILEGE)


def test_a_reader_is_refused_every_write_v1_refuses_and_nothing_changes(client, database):
    role = client.post(f"{V1}/roles", json={"name": "Lead reader", "privileges": {"leads": {"read": 4}}})
    assert role.status_code == 201, role.text
    make_user(database, "reader@example.com", ["Lead reader"])
    reader = user_client(client, database, "reader@example.com")
    lead_id = new_lead(client)
    version = etag_version(read(client, "leads", lead_id))
    before = counts_of(client)

    assert reader.post(f"{V1}/leads", json={"topic": "Chairs", "last_name": "Ruiz"}).status_code == 403
    dataverse_error(reader.post(f"{B}/leads", json={"subject": "Chairs", "lastname": "Ruiz"}), 403, PRIVILEGE)
    many = {"Targets": [{"subject": "Chairs", "lastname": "Ruiz", "@odata.type": "Microsoft.Dynamics.CRM.lead"}]}
    dataverse_error(reader.post(f"{B}/leads/Microsoft.Dynamics.CRM.CreateMultiple", json=many), 403, PRIVILEGE)
    assert reader.patch(f"{V1}/leads/{lead_id}", json={"job_title": "CEO"}).status_code == 403
    dataverse_error(reader.patch(f"{B}/leads({lead_id})", json={"jobtitle": "CEO"}), 403, PRIVILEGE)
    dataverse_error(reader.patch(f"{B}/leads({lead_id})", json={"statecode": 2, "statuscode": 4}), 403, PRIVILEGE)
    dataverse_error(reader.delete(f"{B}/leads({lead_id})"), 403, PRIVILEGE)
    dataverse_error(qualify(reader, lead_id), 403, PRIVILEGE)
    assert counts_of(client) == before
    assert etag_version(read(client, "leads", lead_id)) == version


def test_systemusers_are_listed_to_a_salesperson_as_v1_lists_users(client, seller):
    v1 = seller.get(f"{V1}/users")
    dataverse = seller.get(f"{B}/systemusers", params={"$select": "internalemailaddress"})

    assert v1.status_code == 200, v1.text
    assert dataverse.status_code == 200, dataverse.text
    assert "seller@example.com" in {item["internalemailaddress"] for item in dataverse.json()["value"]}


def test_no_token_is_401_with_www_authenticate_and_the_error_shape(anonymous_client):
    response = anonymous_client.get(f"{B}/leads")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"].startswith("0x")
    assert body["error"]["message"]


def test_a_wrong_token_is_401(anonymous_client):
    response = anonymous_client.get(f"{B}/WhoAmI", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["message"]


# ----------------------------------------------------------------------------------------------
# metadata


def test_entitydefinitions_finds_a_table_by_logical_name(client):
    response = client.get(
        f"{B}/EntityDefinitions",
        params={"$select": "LogicalName,EntitySetName,PrimaryIdAttribute", "$filter": "LogicalName eq 'lead'"},
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["value"]
    assert (item["LogicalName"], item["EntitySetName"], item["PrimaryIdAttribute"]) == ("lead", "leads", "leadid")


def test_entitydefinitions_of_an_unknown_name_is_empty(client):
    response = client.get(
        f"{B}/EntityDefinitions",
        params={"$select": "LogicalName,EntitySetName,PrimaryIdAttribute", "$filter": "LogicalName eq 'nosuchtable'"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["value"] == []


def test_picklist_metadata_lists_the_lead_source_options(client):
    response = client.get(
        f"{B}/EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )

    assert response.status_code == 200, response.text
    source = next(item for item in response.json()["value"] if item["LogicalName"] == "leadsourcecode")
    options = {option["Value"]: option for option in source["OptionSet"]["Options"]}
    assert options[7]["Label"]["LocalizedLabels"][0]["Label"] == "Trade show"
    assert options[7]["Label"]["LocalizedLabels"][0]["LanguageCode"] == 1033


def test_keys_of_a_table_are_empty(client):
    response = client.get(
        f"{B}/EntityDefinitions(LogicalName='lead')/Keys", params={"$select": "SchemaName,KeyAttributes"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["value"] == []


def test_metadata_is_csdl_xml_with_the_leads_entity_set(client):
    response = client.get(f"{B}/$metadata")

    assert response.status_code == 200
    assert "xml" in response.headers["Content-Type"]
    assert response.text.lstrip().startswith("<?xml")
    assert re.search(r'<EntitySet Name="leads"', response.text)


def test_sdkmessagefilters_name_createmultiple_and_updatemultiple(client):
    response = client.get(
        f"{B}/sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$expand": "sdkmessageid($select=name)",
            "$filter": "(sdkmessageid/name eq 'CreateMultiple' or sdkmessageid/name eq 'UpdateMultiple') "
            "and primaryobjecttypecode eq 'lead'",
        },
    )

    assert response.status_code == 200, response.text
    assert {item["sdkmessageid"]["name"] for item in response.json()["value"]} == {"CreateMultiple", "UpdateMultiple"}
