"""The command line and the REST API allow and refuse the same things to the same person.

Every command of ``leadflow`` that acts as a user is run with ``--as`` for a salesperson, a sales
manager, a read-only user (Sales Team Member) and the administrator, and so is the API call that
does the same thing, each on a record of its own. Both must agree, and both must give the outcome
written by hand below: the access checks live in the services that both entry points call.

The organisation::

    Organisation (root: the administrator)
    └── Ventas    the salesperson, the sales manager and the read-only user

Records are owned by the salesperson, so that "own" (User level) and "business unit" reach them.
The product catalogue is an administrative area: every role reads it, the roles with the products
area change it; replacing a price list's price on a line takes the price overrides area too.
Commands that act on the installation rather than as a user (``db upgrade``, ``demo``, ``init``,
``serve``) have no API twin; ``test_operator_commands_refuse_a_non_administrator`` covers them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadflow.activities.activity import create_activity
from leadflow.catalog import service as catalog
from leadflow.catalog.models import PriceList, Product, UnitGroup
from leadflow.catalog.schemas import LineCreate, PriceListCreate, PriceListItemCreate, ProductCreate, UnitGroupCreate
from leadflow.cli import app as cli
from leadflow.core.config import Settings
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.schemas import AccountCreate
from leadflow.duplicates import merge as merging
from leadflow.leads import service as leads
from leadflow.leads.models import LeadStatusReason
from leadflow.leads.schemas import LeadCreate
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.opportunities.service import create_opportunity
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind
from leadflow.sales.schemas import WinQuote
from leadflow.scoring import service as scoring
from leadflow.scoring.schemas import ScoringModelIn
from leadflow.security import authentication
from leadflow.security import service as security
from leadflow.security.actor import actor_for_email, default_actor
from leadflow.security.models import User
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.factories import lead_data

SELLER = "seller@example.com"
MANAGER = "manager@example.com"
READER = "reader@example.com"
PEOPLE = {"salesperson": SELLER, "sales manager": MANAGER, "read-only user": READER, "administrator": ADMIN_EMAIL}
API = "/api/v1"


@pytest.fixture
def organisation(database: Database) -> Database:
    """The administrator at the root, and three colleagues of the Ventas unit."""
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        security.create_business_unit("Ventas", parent_name=None, uow=uow, actor=admin)
        for email, role in ((SELLER, "Salesperson"), (MANAGER, "Sales Manager"), (READER, "Sales Team Member")):
            security.create_user(
                email=email,
                full_name=email.split("@")[0].title(),
                role_names=[role],
                business_unit_name="Ventas",
                password=None,
                uow=uow,
                actor=admin,
            )
        uow.commit()
    return database


def _as(database: Database, email: str) -> Any:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def _unique() -> str:
    return uuid.uuid4().hex[:10]


def seller_lead(database: Database, **overrides: Any) -> uuid.UUID:
    """An open lead owned by the salesperson, unlike any other (so that no duplicate rule fires)."""
    seller = _as(database, SELLER)
    mark = _unique()
    data = lead_data(
        company_name=f"Empresa {mark}",
        last_name=f"Apellido {mark}",
        email=f"{mark}@example.com",
        business_phone=None,
        **overrides,
    )
    with database.unit_of_work() as uow:
        lead = leads.create_lead(parse(LeadCreate, data), uow=uow, actor=seller)
        uow.commit()
    return lead.id


def disqualified_lead(database: Database) -> uuid.UUID:
    lead_id = seller_lead(database)
    with database.unit_of_work() as uow:
        leads.disqualify_lead(lead_id, LeadStatusReason.LOST, uow=uow, actor=_as(database, SELLER))
        uow.commit()
    return lead_id


def seller_account(database: Database) -> uuid.UUID:
    with database.unit_of_work() as uow:
        account = customers.create_account(
            parse(AccountCreate, {"name": f"Cuenta {_unique()}"}), uow=uow, actor=_as(database, SELLER)
        )
        uow.commit()
    return account.id


def scoring_model(database: Database) -> uuid.UUID:
    """A scoring model made by the administrator, untrained."""
    with database.unit_of_work() as uow:
        model = scoring.create_model(
            ScoringModelIn(name=f"Modelo {_unique()}"), uow=uow, actor=_as(database, ADMIN_EMAIL)
        )
        uow.commit()
    return model.id


def two_accounts(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    return seller_account(database), seller_account(database)


def merged_accounts(database: Database) -> uuid.UUID:
    """A merge of two of the salesperson's accounts, made by the administrator: its id."""
    master, subordinate = two_accounts(database)
    with database.unit_of_work() as uow:
        journal = merging.merge_records("accounts", master, subordinate, uow=uow, actor=_as(database, ADMIN_EMAIL))
        uow.commit()
    return journal.id


def administrator_token(database: Database) -> uuid.UUID:
    with database.unit_of_work() as uow:
        issued = authentication.create_personal_token(ADMIN_EMAIL, name="matrix", days=1, uow=uow, actor=None)
        uow.commit()
    return issued.token.id


def user_id(database: Database, email: str) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(User.id).where(User.email == email)).one()


def scan_job(database: Database) -> uuid.UUID:
    from leadflow.duplicates import scan

    job = scan.start_job("accounts", database=database, actor=_as(database, ADMIN_EMAIL))
    return scan.run_job(job.id, database=database).id


def new_team(database: Database) -> str:
    name = f"Equipo {_unique()}"
    with database.unit_of_work() as uow:
        security.create_team(name, business_unit_name="Ventas", uow=uow, actor=_as(database, ADMIN_EMAIL))
        uow.commit()
    return name


@dataclass(frozen=True)
class SmallCatalogue:
    """A unit group, an active product priced 10.00 a unit on a euro price list, and a draft product."""

    unit_group: uuid.UUID
    unit: uuid.UUID
    product: uuid.UUID
    price_list: uuid.UUID


PRODUCT = "MAT-1"


def small_catalogue(database: Database) -> SmallCatalogue:
    """The catalogue, made by the administrator the first time a test asks for it."""
    with database.unit_of_work() as uow:
        if uow.session.scalars(select(UnitGroup.id).where(UnitGroup.name == "Unidades")).first() is None:
            admin = _as(database, ADMIN_EMAIL)
            group = catalog.create_unit_group(
                UnitGroupCreate(name="Unidades", base_unit="Unidad"), uow=uow, actor=admin
            )
            product = catalog.create_product(
                ProductCreate(
                    number=PRODUCT, name="Material", unit_group_id=group.id, default_unit_id=group.base_unit.id
                ),
                uow=uow,
                actor=admin,
            )
            catalog.change_product_state(product.id, publish=True, uow=uow, actor=admin)
            price_list = catalog.create_price_list(
                PriceListCreate(name="Tarifa EUR", currency="EUR"), uow=uow, actor=admin
            )
            catalog.add_price_list_item(
                price_list.id,
                PriceListItemCreate(product_id=product.id, unit_id=group.base_unit.id, amount=Decimal("10.00")),
                uow=uow,
                actor=admin,
            )
            uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        group = session.scalars(select(UnitGroup).where(UnitGroup.name == "Unidades")).one()
        return SmallCatalogue(
            unit_group=group.id,
            unit=group.base_unit.id,
            product=session.scalars(select(Product.id).where(Product.number == PRODUCT)).one(),
            price_list=session.scalars(select(PriceList.id).where(PriceList.name == "Tarifa EUR")).one(),
        )


def draft_product(database: Database) -> uuid.UUID:
    """A draft product of the catalogue, unlike any other."""
    units = small_catalogue(database)
    with database.unit_of_work() as uow:
        product = catalog.create_product(
            ProductCreate(
                number=f"MAT-{_unique()}", name="Borrador", unit_group_id=units.unit_group, default_unit_id=units.unit
            ),
            uow=uow,
            actor=_as(database, ADMIN_EMAIL),
        )
        uow.commit()
    return product.id


def seller_opportunity(database: Database) -> uuid.UUID:
    """An open opportunity of the salesperson, priced from the euro price list."""
    price_list = small_catalogue(database).price_list
    with database.unit_of_work() as uow:
        opportunity = create_opportunity(
            OpportunityCreate(name=f"Trato {_unique()}", price_list_id=price_list), uow=uow, actor=_as(database, SELLER)
        )
        uow.commit()
    return opportunity.id


def seller_draft_quote(database: Database) -> uuid.UUID:
    """A draft quote of the salesperson with one line, made from their opportunity."""
    opportunity_id, seller = seller_opportunity(database), _as(database, SELLER)
    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            opportunity_id,
            LineCreate(product_id=small_catalogue(database).product, quantity=Decimal(2)),
            uow=uow,
            actor=seller,
        )
        quote = sales.quote_from_opportunity(opportunity_id, uow=uow, actor=seller)
        uow.commit()
    return quote.id


def seller_order(database: Database) -> uuid.UUID:
    """An active order of the salesperson, from their won quote."""
    quote_id, seller = seller_draft_quote(database), _as(database, SELLER)
    with database.unit_of_work() as uow:
        sales.activate_quote(quote_id, uow=uow, actor=seller)
        _, order, _ = sales.win_quote(quote_id, WinQuote(close_opportunity=False), uow=uow, actor=seller)
        uow.commit()
    assert order is not None
    return order.id


def seller_invoice(database: Database) -> uuid.UUID:
    """An active invoice of the salesperson, from their order."""
    order_id = seller_order(database)
    with database.unit_of_work() as uow:
        invoice = sales.invoice_from_order(order_id, uow=uow, actor=_as(database, SELLER))
        uow.commit()
    return invoice.id


def seller_task(database: Database) -> uuid.UUID:
    """An open task of the salesperson."""
    with database.unit_of_work() as uow:
        task, _ = create_activity(
            {"type": "task", "subject": f"Llamar {_unique()}"}, uow=uow, actor=_as(database, SELLER)
        )
        uow.commit()
    return task.id


def _first_line(database: Database, kind: DocumentKind, document_id: uuid.UUID) -> uuid.UUID:
    """The id of a document's first line (the API names a line by id, the command line by number)."""
    with database.unit_of_work(read_only=True) as uow:
        record = sales.document(kind, document_id, uow=uow, actor=_as(database, ADMIN_EMAIL))
        return record.lines[0].id  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Case:
    """One command and its API twin; ``expected`` is Y (allowed) or N (refused) per person, in PEOPLE's order.

    A refusal is for a missing privilege (``forbidden``) or an unreadable record, unless ``refusals``
    names the code a person is refused with (a right that is not a record's privilege)."""

    name: str
    expected: str
    cli: Callable[[Database, Any], list[str]]
    api: Callable[[Database, Any], tuple[str, str, Any]]
    target: Callable[[Database], Any] = lambda database: None
    refusals: Mapping[str, str] = field(default_factory=dict)


def _product_json(database: Database) -> dict[str, Any]:
    units = small_catalogue(database)
    return {
        "number": f"MAT-{_unique()}",
        "name": "Nuevo",
        "unit_group_id": str(units.unit_group),
        "default_unit_id": str(units.unit),
    }


def _lead_json() -> dict[str, Any]:
    mark = _unique()
    return {"topic": f"Sillas {mark}", "last_name": f"Apellido {mark}"}


CASES = (
    # leads
    Case(
        "leads list",
        "YYYY",
        lambda d, t: ["leads", "list", "--view", "all"],
        lambda d, t: ("GET", "/leads?view=all", None),
    ),
    Case(
        "leads create",
        "YYNY",
        lambda d, t: ["leads", "create", "--topic", (data := _lead_json())["topic"], "--last-name", data["last_name"]],
        lambda d, t: ("POST", "/leads", _lead_json()),
    ),
    Case(
        "leads qualify",
        "YYNY",
        lambda d, t: ["leads", "qualify", str(t)],
        lambda d, t: ("POST", f"/leads/{t}/qualify", {}),
        seller_lead,
    ),
    Case(
        "leads disqualify",
        "YYNY",
        lambda d, t: ["leads", "disqualify", str(t), "--reason", "lost"],
        lambda d, t: ("POST", f"/leads/{t}/disqualify", {"status_reason": "lost"}),
        seller_lead,
    ),
    Case(
        "leads reactivate",
        "YYNY",
        lambda d, t: ["leads", "reactivate", str(t)],
        lambda d, t: ("POST", f"/leads/{t}/reactivate", None),
        disqualified_lead,
    ),
    # accounts, contacts, opportunities
    Case("accounts list", "YYYY", lambda d, t: ["accounts", "list"], lambda d, t: ("GET", "/accounts", None)),
    Case(
        "accounts show",
        "YYYY",
        lambda d, t: ["accounts", "show", str(t)],
        lambda d, t: ("GET", f"/accounts/{t}", None),
        seller_account,
    ),
    Case(
        "accounts create",
        "YYNY",
        lambda d, t: ["accounts", "create", json.dumps({"name": f"Cuenta {_unique()}"})],
        lambda d, t: ("POST", "/accounts", {"name": f"Cuenta {_unique()}"}),
    ),
    Case(
        "accounts delete",
        "YYNY",
        lambda d, t: ["accounts", "delete", str(t)],
        lambda d, t: ("DELETE", f"/accounts/{t}", None),
        seller_account,
    ),
    Case(
        "contacts create",
        "YYNY",
        lambda d, t: ["contacts", "create", json.dumps({"last_name": f"Ruiz {_unique()}"})],
        lambda d, t: ("POST", "/contacts", {"last_name": f"Ruiz {_unique()}"}),
    ),
    Case(
        "opportunities list",
        "YYYY",
        lambda d, t: ["opportunities", "list"],
        lambda d, t: ("GET", "/opportunities", None),
    ),
    Case(
        "opportunities create",
        "YYNY",
        lambda d, t: ["opportunities", "create", json.dumps({"name": f"Trato {_unique()}"})],
        lambda d, t: ("POST", "/opportunities", {"name": f"Trato {_unique()}"}),
    ),
    # the product catalogue
    Case("products list", "YYYY", lambda d, t: ["products", "list"], lambda d, t: ("GET", "/products", None)),
    Case(
        "products create",
        "NYNY",
        lambda d, t: [
            "products",
            "create",
            (data := _product_json(d))["number"],
            data["name"],
            "--unit-group",
            "Unidades",
        ],
        lambda d, t: ("POST", "/products", _product_json(d)),
    ),
    Case(
        "products publish",
        "NYNY",
        lambda d, t: ["products", "publish", str(t)],
        lambda d, t: ("POST", f"/products/{t}/publish", None),
        draft_product,
    ),
    Case(
        "price-lists create",
        "NYNY",
        lambda d, t: ["price-lists", "create", f"Tarifa {_unique()}", "--currency", "EUR"],
        lambda d, t: ("POST", "/price-lists", {"name": f"Tarifa {_unique()}", "currency": "EUR"}),
    ),
    # lead to order
    Case(
        "opportunities add-product",
        "YYNY",
        lambda d, t: ["opportunities", "add-product", str(t), "--product", PRODUCT, "--quantity", "3"],
        lambda d, t: (
            "POST",
            f"/opportunities/{t}/products",
            {"product_id": str(small_catalogue(d).product), "quantity": "3"},
        ),
        seller_opportunity,
    ),
    Case(
        "opportunities add-product with an overridden price",
        "NYNY",
        lambda d, t: ["opportunities", "add-product", str(t), "--product", PRODUCT, "--quantity", "3", "--price", "8"],
        lambda d, t: (
            "POST",
            f"/opportunities/{t}/products",
            {"product_id": str(small_catalogue(d).product), "quantity": "3", "price_per_unit": "8"},
        ),
        seller_opportunity,
        refusals={"salesperson": "price_override_forbidden"},
    ),
    Case(
        "quotes from-opportunity",
        "YYNY",
        lambda d, t: ["quotes", "from-opportunity", str(t)],
        lambda d, t: ("POST", f"/opportunities/{t}/quotes", None),
        seller_opportunity,
    ),
    Case(
        "quotes activate",
        "YYNY",
        lambda d, t: ["quotes", "activate", str(t)],
        lambda d, t: ("POST", f"/quotes/{t}/activate", None),
        seller_draft_quote,
    ),
    Case(
        "orders update",
        "YYNY",
        lambda d, t: ["orders", "update", str(t), "--name", "Pedido cambiado", "--status-reason", "pending"],
        lambda d, t: ("PATCH", f"/orders/{t}", {"name": "Pedido cambiado", "status_reason": "pending"}),
        seller_order,
    ),
    Case(
        "orders update-line",
        "YYNY",
        lambda d, t: ["orders", "update-line", str(t), "1", "--quantity", "5"],
        lambda d, t: ("PATCH", f"/orders/{t}/lines/{_first_line(d, DocumentKind.ORDER, t)}", {"quantity": "5"}),
        seller_order,
    ),
    Case(
        "orders cancel",
        "YYNY",
        lambda d, t: ["orders", "cancel", str(t)],
        lambda d, t: ("POST", f"/orders/{t}/cancel", None),
        seller_order,
    ),
    Case(
        "invoices update",
        "YYNY",
        lambda d, t: ["invoices", "update", str(t), "--name", "Factura cambiada", "--due-date", "2027-03-01"],
        lambda d, t: ("PATCH", f"/invoices/{t}", {"name": "Factura cambiada", "due_date": "2027-03-01"}),
        seller_invoice,
    ),
    Case(
        "invoices cancel",
        "YYNY",
        lambda d, t: ["invoices", "cancel", str(t)],
        lambda d, t: ("POST", f"/invoices/{t}/cancel", None),
        seller_invoice,
    ),
    # users, roles, tokens, business units, teams
    Case("users list", "YYYY", lambda d, t: ["users", "list"], lambda d, t: ("GET", "/users", None)),
    Case(
        "users create",
        "NNNY",
        lambda d, t: [
            "users",
            "create",
            "--email",
            f"{_unique()}@example.com",
            "--name",
            "Nuevo",
            "--role",
            "Salesperson",
        ],
        lambda d, t: (
            "POST",
            "/users",
            {"email": f"{_unique()}@example.com", "full_name": "Nuevo", "roles": ["Salesperson"]},
        ),
    ),
    Case(
        "users set-password",
        "NNNY",
        lambda d, t: ["users", "set-password", READER, "--password", "a long enough secret"],
        lambda d, t: ("PUT", f"/users/{user_id(d, READER)}/password", {"password": "a long enough secret"}),
    ),
    Case("roles list", "NYNY", lambda d, t: ["roles", "list"], lambda d, t: ("GET", "/roles", None)),
    Case(
        "roles show",
        "NYNY",
        lambda d, t: ["roles", "show", "Salesperson"],
        lambda d, t: ("GET", "/roles/Salesperson", None),
    ),
    Case(
        "roles create",
        "NNNY",
        lambda d, t: ["roles", "create", f"Rol {_unique()}", "--grant", "leads:read:user"],
        lambda d, t: ("POST", "/roles", {"name": f"Rol {_unique()}", "privileges": {"leads": {"read": 1}}}),
    ),
    Case(
        "roles grant",
        "NNNY",
        lambda d, t: ["roles", "grant", "Sales Manager", "--user", READER],
        lambda d, t: ("POST", f"/users/{user_id(d, READER)}/roles", {"role": "Sales Manager"}),
    ),
    Case("tokens list (own)", "YYYY", lambda d, t: ["tokens", "list"], lambda d, t: ("GET", "/tokens", None)),
    Case(
        "tokens list (another user's)",
        "NNNY",
        lambda d, t: ["tokens", "list", "--user", ADMIN_EMAIL],
        lambda d, t: ("GET", f"/tokens?user={ADMIN_EMAIL}", None),
    ),
    Case(
        "tokens create",
        "NNNY",
        lambda d, t: ["tokens", "create", "--user", READER],
        lambda d, t: ("POST", "/tokens", {"email": READER}),
    ),
    Case(
        "tokens revoke (another user's)",
        "NNNY",
        lambda d, t: ["tokens", "revoke", str(t)],
        lambda d, t: ("DELETE", f"/tokens/{t}", None),
        administrator_token,
    ),
    Case(
        "business-units create",
        "NNNY",
        lambda d, t: ["business-units", "create", f"Unidad {_unique()}"],
        lambda d, t: ("POST", "/business-units", {"name": f"Unidad {_unique()}"}),
    ),
    Case(
        "teams create",
        "NNNY",
        lambda d, t: ["teams", "create", f"Equipo {_unique()}"],
        lambda d, t: ("POST", "/teams", {"name": f"Equipo {_unique()}"}),
    ),
    Case(
        "teams add-member",
        "NNNY",
        lambda d, t: ["teams", "add-member", t, "--user", READER],
        lambda d, t: ("POST", f"/teams/{t}/members", {"email": READER}),
        new_team,
    ),
    Case("audit", "NNNY", lambda d, t: ["audit"], lambda d, t: ("GET", "/audit", None)),
    # duplicate detection
    Case(
        "duplicates rules list",
        "YYYY",
        lambda d, t: ["duplicates", "rules", "list"],
        lambda d, t: ("GET", "/duplicate-rules", None),
    ),
    Case(
        "duplicates rules create",
        "NNNY",
        lambda d, t: [
            "duplicates",
            "rules",
            "create",
            json.dumps(
                {
                    "name": f"Regla {_unique()}",
                    "base_table": "contacts",
                    "conditions": [{"base_column": "job_title", "criterion": "exact_match"}],
                }
            ),
        ],
        lambda d, t: (
            "POST",
            "/duplicate-rules",
            {
                "name": f"Regla {_unique()}",
                "base_table": "contacts",
                "conditions": [{"base_column": "job_title", "criterion": "exact_match"}],
            },
        ),
    ),
    Case(
        "duplicates check",
        "YYYY",
        lambda d, t: ["duplicates", "check", "contacts", '{"email": "nadie@example.com"}'],
        lambda d, t: ("POST", "/duplicates/check", {"table": "contacts", "record": {"email": "nadie@example.com"}}),
    ),
    Case(
        "duplicates scan",
        "NNNY",
        lambda d, t: ["duplicates", "scan", "accounts"],
        lambda d, t: ("POST", "/duplicate-jobs", {"table": "accounts"}),
    ),
    Case(
        "duplicates sets",
        "YYYY",
        lambda d, t: ["duplicates", "sets", str(t)],
        lambda d, t: ("GET", f"/duplicate-jobs/{t}/sets", None),
        scan_job,
    ),
    Case(
        "duplicates merge",
        "YYNY",
        lambda d, t: ["duplicates", "merge", "accounts", str(t[0]), str(t[1])],
        lambda d, t: ("POST", "/merges", {"table": "accounts", "master_id": str(t[0]), "subordinate_id": str(t[1])}),
        two_accounts,
    ),
    Case(
        "duplicates undo",
        "YYNY",
        lambda d, t: ["duplicates", "undo", str(t)],
        lambda d, t: ("POST", f"/merges/{t}/undo", None),
        merged_accounts,
    ),
    # activities
    Case(
        "activities list",
        "YYYY",
        lambda d, t: ["activities", "list"],
        lambda d, t: ("GET", "/activities", None),
    ),
    Case(
        "activities show",
        "YYYY",
        lambda d, t: ["activities", "show", str(t)],
        lambda d, t: ("GET", f"/activities/{t}", None),
        seller_task,
    ),
    Case(
        "activities add-task",
        "YYYY",
        lambda d, t: ["activities", "add-task", "Llamar"],
        lambda d, t: ("POST", "/activities", {"type": "task", "subject": "Llamar"}),
    ),
    Case(
        "activities add-task regarding a lead",
        "YYNY",
        lambda d, t: ["activities", "add-task", "Llamar", "--regarding", f"lead:{t}"],
        lambda d, t: (
            "POST",
            "/activities",
            {"type": "task", "subject": "Llamar", "regarding_table": "leads", "regarding_id": str(t)},
        ),
        seller_lead,
    ),
    Case(
        "activities complete",
        "YYNY",
        lambda d, t: ["activities", "complete", str(t)],
        lambda d, t: ("POST", f"/activities/{t}/complete", None),
        seller_task,
    ),
    Case(
        "activities delete",
        "YYNY",
        lambda d, t: ["activities", "delete", str(t)],
        lambda d, t: ("DELETE", f"/activities/{t}", None),
        seller_task,
    ),
    Case(
        "activities timeline",
        "YYYY",
        lambda d, t: ["activities", "timeline", "lead", str(t)],
        lambda d, t: ("GET", f"/leads/{t}/timeline", None),
        seller_lead,
    ),
    Case(
        "activities calendar-feed issue",
        "YYYY",
        lambda d, t: ["activities", "calendar-feed", "issue"],
        lambda d, t: ("POST", "/me/calendar-feed", None),
    ),
    Case(
        "leads disqualify --cancel-activities",
        "YYNY",
        lambda d, t: ["leads", "disqualify", str(t), "--reason", "lost", "--cancel-activities"],
        lambda d, t: ("POST", f"/leads/{t}/disqualify", {"status_reason": "lost", "cancel_open_activities": True}),
        seller_lead,
    ),
    # predictive scoring: every role reads the models (settings Read), only administrators change them,
    # and a lead's score is read by whoever reads the lead
    Case("scoring list", "YYYY", lambda d, t: ["scoring", "list"], lambda d, t: ("GET", "/scoring-models", None)),
    Case(
        "scoring show",
        "YYYY",
        lambda d, t: ["scoring", "show", str(t)],
        lambda d, t: ("GET", f"/scoring-models/{t}", None),
        scoring_model,
    ),
    Case(
        "scoring create",
        "NNNY",
        lambda d, t: ["scoring", "create", f"Modelo {_unique()}"],
        lambda d, t: ("POST", "/scoring-models", {"name": f"Modelo {_unique()}"}),
    ),
    Case(
        "scoring change",
        "NNNY",
        lambda d, t: ["scoring", "change", str(t), "--thresholds", "80,50,20"],
        lambda d, t: ("PATCH", f"/scoring-models/{t}", {"thresholds": {"A": 80, "B": 50, "C": 20}}),
        scoring_model,
    ),
    Case(
        "scoring lead",
        "YYYY",
        lambda d, t: ["scoring", "lead", str(t)],
        lambda d, t: ("GET", f"/leads/{t}/score", None),
        seller_lead,
    ),
)


def run_cli(database: Database, email: str, arguments: list[str]) -> Any:
    return CliRunner().invoke(cli, ["--database-url", database.url, "--as", email, *arguments])


def cli_allowed(result: Any, refusal: str | None = None) -> bool:
    """0: done; a refusal for a missing privilege (exit 1, 'forbidden') or an unreadable record (exit 3),
    or (``refusal``) the refusal with that code."""
    if result.exit_code == 0:
        return True
    output = " ".join(result.output.split())
    refused = f"({refusal})" in output if refusal else "(forbidden)" in output or result.exit_code == 3
    assert refused, f"neither done nor refused for lack of access: exit {result.exit_code}\n{result.output}"
    return False


def api_allowed(response: Any, refusal: str | None = None) -> bool:
    if 200 <= response.status_code < 300:
        return True
    assert response.status_code in (403, 404), f"neither done nor refused for lack of access: {response.text}"
    if refusal:
        assert response.json()["error"]["code"] == refusal, response.text
    return False


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_command_line_and_the_api_allow_and_refuse_alike(organisation: Database, case: Case) -> None:
    database = organisation
    settings = Settings(database_url=database.url)
    outcomes = {}
    for person, email in PEOPLE.items():
        refusal = case.refusals.get(person)
        from_cli = cli_allowed(run_cli(database, email, case.cli(database, case.target(database))), refusal)
        method, path, body = case.api(database, case.target(database))
        with TestClient(app_for(database, settings), headers=bearer_headers(database, email)) as client:
            from_api = api_allowed(client.request(method, API + path, json=body), refusal)
        assert from_cli == from_api, (
            f"{person}: the command line {'allows' if from_cli else 'refuses'}, the API does not"
        )
        outcomes[person] = "Y" if from_cli else "N"
    assert "".join(outcomes.values()) == case.expected, outcomes


def test_operator_commands_refuse_a_non_administrator(organisation: Database) -> None:
    for arguments in (["demo"], ["db", "upgrade"]):
        refused = run_cli(organisation, SELLER, arguments)
        assert refused.exit_code == 1 and "operator command" in " ".join(refused.output.split()), refused.output
    assert run_cli(organisation, ADMIN_EMAIL, ["db", "upgrade"]).exit_code == 0
