"""Demo data: about forty leads in Spanish and English, through every step of the lead lifecycle.

The data lives in ``demo/data`` as JSON files and attachments (read by ``leadflow.demo.data``);
one loop here turns each lead into records, always
through the services the app itself uses (create, add a note, qualify, disqualify, reactivate), so
the demo shows exactly what a seller would get and re-implements no business rule. The only
direct row edits are the ones no service offers: backdating ``created_at`` (so that the "opened this
week" and "opened last week" views have content) and the open status reason *Contacted*.

Loading twice adds nothing the second time:

* Campaigns are created here (there is no campaign service), with deterministic ids
  (``uuid5(DEMO_NAMESPACE, key)``); an existing campaign with the same code is reused.
* Leads cannot get deterministic ids: ``create_lead`` always draws ``uuid4()``, and changing a
  primary key after the insert would be a hack around the service. So a demo lead is recognised by
  its natural key, the (topic, last name) pair -- both required fields, unique within the demo
  data (a test checks it). Notes, accounts, contacts and opportunities hang off their lead, so
  they are created only together with it.
* Each lead is loaded in its own unit of work (the lead, its notes and its lifecycle steps): a
  lead is either completely there or not at all, and a run interrupted halfway is completed by
  the next one. (Two loads running at the very same moment are not guarded against on
  PostgreSQL; ``serve`` loads the demo only on the first start.)
* The product catalogue (``catalogue.json``) is created by the administrator through the catalogue
  services; a unit group, unit, family, product, discount list, price list or price list item that
  exists already (by name, number, or product and unit) is kept as it is.
* The opportunities of ``sales.json`` get their price list, products and quote through the sales
  services, each in its own unit of work and as its owner, only while the opportunity is open and
  has neither products nor quotes: loading twice adds nothing, and an opportunity someone worked on
  is left alone. The demo's won deal is won through its quote: the order is fulfilled and the
  invoice paid.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from leadflow.activities.activity import create_activity
from leadflow.activities.models import Activity, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.catalog import service as catalog
from leadflow.catalog.models import DiscountList, PriceList, PriceListItem, Product, ProductFamily, Unit, UnitGroup
from leadflow.catalog.pricing import to_precision
from leadflow.catalog.schemas import (
    DiscountListCreate,
    FamilyCreate,
    LineCreate,
    LineUpdate,
    PriceListCreate,
    PriceListItemCreate,
    ProductCreate,
    UnitCreate,
    UnitGroupCreate,
)
from leadflow.core.db import utcnow
from leadflow.core.formatting import DEFAULT_TIME_ZONE
from leadflow.core.schemas import parse
from leadflow.core.uow import Database, UnitOfWork
from leadflow.demo.data import (
    CAMPAIGNS,
    DEMO_ACTIVITIES,
    DEMO_CATALOGUE,
    DEMO_LEADS,
    DEMO_SALES,
    DEMO_UNITS,
    DEMO_USERS,
    attachment_bytes,
)
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.schemas import LeadCreate, QualifyOptions
from leadflow.leads.service import create_lead, disqualify_lead, qualify_lead, reactivate_lead
from leadflow.leads.views import start_of_week
from leadflow.opportunities import closing
from leadflow.opportunities.models import Opportunity, OpportunityProduct, OpportunityState
from leadflow.opportunities.schemas import LoseOpportunity, OpportunityUpdate
from leadflow.opportunities.service import update_opportunity
from leadflow.organisation.currencies import CurrencyUpdate, update_currency
from leadflow.organisation.models import Campaign, Currency
from leadflow.organisation.service import get_settings, update_settings
from leadflow.process.flow import move_stage
from leadflow.reporting.periods import PeriodKind, period_containing
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, Quote
from leadflow.sales.schemas import FulfilOrder, PayInvoice, QuoteUpdate, WinQuote
from leadflow.security.actor import Actor, actor_for_email, load_actor
from leadflow.security.models import BusinessUnit, User
from leadflow.security.service import create_business_unit, create_user

DEMO_NAMESPACE = uuid.UUID("6f1d3c1e-4c7a-5b8e-9d2f-0a1b2c3d4e5f")

# The demo organisation works on Madrid time, as its first sellers do.
DEMO_TIME_ZONE = "Europe/Madrid"

# The name and address its quotes, orders and invoices are printed with.
DEMO_COMPANY = {
    "company_name": "Leadflow Demo S.L.",
    "company_address": "Calle de Serrano 41, 3.º izquierda\n28001 Madrid\nEspaña",
}

# The demo's exchange rates, in units per euro (close to those of late 2025, for illustration), so
# that its pipeline, board and forecast convert dollars, pounds and pesos as a real one would.
DEMO_RATES = {"USD": Decimal("1.0825"), "GBP": Decimal("0.8571"), "MXN": Decimal("19.6500")}

# The demo's pipeline, so that a new demo's board and forecast show figures: each open opportunity's
# stage, probability, rating and estimated close date (days from the start of the current quarter, at
# most its last day), and one deal won (through its quote: see ``sales.json``) and one lost early in
# the quarter.
DEMO_PIPELINE: dict[str, tuple[str, int, str | None, int]] = {
    "Renovación de 120 sillas de oficina": ("propose", 60, "warm", 20),
    "Mobiliario para nueva oficina en Polanco": ("develop", 30, "cold", 75),
    "Silla ergonómica y mesa elevable para teletrabajo": ("develop", 20, None, 40),
    "Amueblamiento de sucursales en Monterrey": ("close", 80, "hot", 60),
    "Licencias CRM para 12 agentes inmobiliarios": ("develop", 50, "warm", 85),
    "CRM licences for a 25-seat sales team": ("propose", 70, "hot", 30),
    "Standing desks for the engineering floors": ("close", 90, "hot", 55),
    "Home-office furniture packages for remote staff": ("develop", 40, "warm", 70),
    "Training room furniture for 30 learners": ("develop", 25, "cold", 100),
}
DEMO_WON = "Acoustic phone booths (6 units)"
DEMO_LOST = "Renovación de 200 sillas del call center"
STAGES = ("develop", "propose", "close")

# The default attachment limit of the settings; the demo's files are a few hundred bytes.
MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024


# ----------------------------------------------------------------------------------------------
# lifecycle steps: each goes through a service, except Contacted which has none


def _mark_contacted(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
    # Contacted is an open status reason and no service sets it: it is a plain field change.
    lead.status_reason = LeadStatusReason.CONTACTED
    lead.modified_by_id = actor.user_id
    uow.flush()


def _qualify(create_opportunity: bool) -> Callable[..., uuid.UUID | None]:
    def step(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> uuid.UUID | None:
        # Explicit choices rather than QualifyOptions(): they also work when the organisation
        # asks the seller to choose which records qualifying creates (§6).
        options = QualifyOptions(create_account=True, create_contact=True, create_opportunity=create_opportunity)
        result = qualify_lead(lead.id, options, uow=uow, actor=actor)
        added["accounts"] += result.account_id is not None
        added["contacts"] += result.contact_id is not None
        added["opportunities"] += len(result.opportunity_ids)
        return result.opportunity_ids[0] if result.opportunity_ids else None

    return step


def _disqualify(reason: LeadStatusReason) -> Callable[..., None]:
    def step(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
        disqualify_lead(lead.id, reason, uow=uow, actor=actor)

    return step


def _reactivate(lead: Lead, *, uow: UnitOfWork, actor: Actor, added: Counter[str]) -> None:
    reactivate_lead(lead.id, uow=uow, actor=actor)


STEPS: Mapping[str, Callable[..., uuid.UUID | None]] = {
    "contacted": _mark_contacted,
    "qualify": _qualify(create_opportunity=True),
    "qualify_without_opportunity": _qualify(create_opportunity=False),
    "lost": _disqualify(LeadStatusReason.LOST),
    "cannot_contact": _disqualify(LeadStatusReason.CANNOT_CONTACT),
    "no_longer_interested": _disqualify(LeadStatusReason.NO_LONGER_INTERESTED),
    "canceled": _disqualify(LeadStatusReason.CANCELED),
    "reactivate": _reactivate,
}


# ----------------------------------------------------------------------------------------------
# loading


SPANISH_SELLER = "carlos.ruiz@leadflow.example"
ENGLISH_SELLER = "emma.clarke@leadflow.example"
_SPANISH_SPEAKING = {"España", "México", "Colombia", "Argentina", "Chile", "Perú"}


def load_demo(database: Database) -> str:
    """Load realistic demo data in Spanish and English; safe to run twice. Returns a one-line summary.

    Spanish-speaking leads belong to the Spanish seller, the others to the English one, so that
    each business unit sees its own pipeline.
    """
    now = utcnow()
    added: Counter[str] = Counter()
    with database.unit_of_work() as uow:
        _ensure_users(uow, added)
        campaign_ids = _ensure_campaigns(uow, added)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        sellers = {email: actor_for_email(uow.session, email) for email in (SPANISH_SELLER, ENGLISH_SELLER)}
    _ensure_time_zone(database)
    _ensure_exchange_rates(database)
    _ensure_company(database)
    _ensure_catalogue(database, added)
    for spec in DEMO_LEADS:
        spanish = spec["lead"].get("address_country") in _SPANISH_SPEAKING
        actor = sellers[SPANISH_SELLER if spanish else ENGLISH_SELLER]
        with database.unit_of_work() as uow:
            if _find_demo_lead(uow, spec["lead"]) is None:
                _load_lead(spec, campaign_ids=campaign_ids, now=now, uow=uow, actor=actor, added=added)
                uow.commit()
    _ensure_pipeline(database, now.date())
    _ensure_sales(database, now.date(), added)
    _ensure_activities(database, added)
    return _summary(added)


def _ensure_activities(database: Database, added: Counter[str]) -> None:
    """The sellers' activities of ``activities.json``, each as the owner of the record it regards, once
    (when no activity exists yet), dated from today in the organisation's time zone."""
    with database.unit_of_work(read_only=True) as uow:
        if uow.session.scalar(select(Activity.id).limit(1)) is not None:
            return
        zone = ZoneInfo(get_settings(uow.session).default_time_zone)
    today = datetime.now(zone).date()
    for spec in DEMO_ACTIVITIES:
        model: Any
        model, table, key = (
            (Lead, RegardingTable.LEADS, Lead.topic)
            if "lead" in spec
            else (Opportunity, RegardingTable.OPPORTUNITIES, Opportunity.name)
        )
        with database.unit_of_work() as uow:
            record: Any = uow.session.scalars(
                select(model).where(key == spec.get("lead", spec.get("opportunity")))
            ).first()
            if record is None or record.owner_user_id is None or not record.is_open:
                continue
            owner = uow.session.get(User, record.owner_user_id)
            assert owner is not None
            fields: dict[str, Any] = {
                name: spec[name]
                for name in (
                    "type",
                    "subject",
                    "description",
                    "priority",
                    "status_reason",
                    "phone_number",
                    "duration_minutes",
                    "percent_complete",
                    "location",
                    "to",
                )
                if name in spec
            }
            at = datetime.combine(
                today + timedelta(days=spec.get("due_days", spec.get("start_days", 0))), time(spec.get("hour", 9)), zone
            )
            if spec["type"] == "appointment":
                fields |= {"start": at, "end": at + timedelta(minutes=spec.get("minutes", 30))}
            elif "due_days" in spec:
                fields["due"] = at
            fields |= {"regarding_table": table, "regarding_id": record.id}
            create_activity(fields, uow=uow, actor=load_actor(uow.session, owner))
            uow.commit()
            added["activities"] += 1


def _ensure_users(uow: UnitOfWork, added: Counter[str]) -> None:
    """The demo business units and users, created if missing."""
    session = uow.session
    for unit in DEMO_UNITS:
        name, parent = str(unit["name"]), unit["parent"]
        if session.scalars(select(BusinessUnit.id).where(BusinessUnit.name == name)).first() is None:
            create_business_unit(name, parent_name=parent, uow=uow, actor=None)
    for user in DEMO_USERS:
        if session.scalars(select(User.id).where(User.email == user["email"])).first() is None:
            create_user(
                email=user["email"],
                full_name=user["name"],
                role_names=[user["role"]],
                business_unit_name=user["unit"] or None,
                password=user["password"],
                language=user["language"],
                uow=uow,
                actor=None,
            )
            added["users"] += 1


def _ensure_time_zone(database: Database) -> None:
    """The demo organisation's default time zone, set as an administrator would unless one was chosen."""
    with database.unit_of_work() as uow:
        if get_settings(uow.session).default_time_zone == DEFAULT_TIME_ZONE:
            admin = actor_for_email(uow.session, DEMO_USERS[0]["email"])
            update_settings({"default_time_zone": DEMO_TIME_ZONE}, uow=uow, actor=admin)
            uow.commit()


def _ensure_exchange_rates(database: Database) -> None:
    """The demo's rates, set as an administrator would on an organisation in euros whose other
    currencies are still at their starting rate of 1 (an administrator's own rates are kept)."""
    with database.unit_of_work() as uow:
        session = uow.session
        base = session.get(Currency, get_settings(session).base_currency_id)
        if base is None or base.iso_code != "EUR":
            return
        admin = actor_for_email(session, DEMO_USERS[0]["email"])
        for currency in session.scalars(select(Currency).where(Currency.iso_code.in_(DEMO_RATES))):
            if currency.exchange_rate == 1:
                update_currency(
                    currency.id, CurrencyUpdate(exchange_rate=DEMO_RATES[currency.iso_code]), uow=uow, actor=admin
                )
        uow.commit()


def _early_in_quarter(today: date) -> date:
    """When the demo's won and lost deals closed: ten days into the current quarter, or today if sooner."""
    return min(period_containing(today, PeriodKind.QUARTER).start + timedelta(days=10), today)


def _ensure_pipeline(database: Database, today: date) -> None:
    """The demo's stages, probabilities, close dates and its lost deal, set as an administrator would,
    once: not when any opportunity already has a close date or is closed (someone worked on them). The
    won deal is won through its quote afterwards (``_ensure_sales``)."""
    with database.unit_of_work() as uow:
        session = uow.session
        ids: dict[str, uuid.UUID] = {
            name: id_ for name, id_ in session.execute(select(Opportunity.name, Opportunity.id))
        }
        worked_on = session.scalar(
            select(func.count())
            .select_from(Opportunity)
            .where(or_(Opportunity.estimated_close_date.is_not(None), Opportunity.state != OpportunityState.OPEN))
        )
        if worked_on or not all(name in ids for name in (*DEMO_PIPELINE, DEMO_WON, DEMO_LOST)):
            return
        admin = actor_for_email(session, DEMO_USERS[0]["email"])
        quarter = period_containing(today, PeriodKind.QUARTER)
        for name, (stage, probability, rating, days) in DEMO_PIPELINE.items():
            update_opportunity(
                ids[name],
                parse(
                    OpportunityUpdate,
                    {
                        "probability": probability,
                        "rating": rating,
                        "estimated_close_date": min(quarter.start + timedelta(days=days), quarter.last_day),
                    },
                ),
                uow=uow,
                actor=admin,
            )
            for _ in range(STAGES.index(stage)):
                move_stage(ids[name], forward=True, uow=uow, actor=admin)
        closing.lose_opportunity(
            ids[DEMO_LOST], LoseOpportunity(close_date=_early_in_quarter(today)), uow=uow, actor=admin
        )
        uow.commit()


def _ensure_company(database: Database) -> None:
    """The company name and address printed on the demo's documents, set as an administrator would
    unless one was chosen."""
    with database.unit_of_work() as uow:
        if not get_settings(uow.session).company_name:
            admin = actor_for_email(uow.session, DEMO_USERS[0]["email"])
            update_settings(dict(DEMO_COMPANY), uow=uow, actor=admin)
            uow.commit()


def _ensure_catalogue(database: Database, added: Counter[str]) -> None:
    """The demo's product catalogue, created by the administrator through the catalogue services; what
    exists already (by name, by number, or by price list, product and unit) is kept, what is missing is
    added."""
    spec = DEMO_CATALOGUE
    with database.unit_of_work() as uow:
        session = uow.session
        # What exists, by the names the demo data uses: a few queries when everything is there.
        groups = {group.name: group for group in session.scalars(select(UnitGroup))}
        units = set(session.execute(select(UnitGroup.name, Unit.name).join(Unit, Unit.group_id == UnitGroup.id)).all())
        families = dict(session.execute(select(ProductFamily.name, ProductFamily.id)).all())
        products = dict(session.execute(select(Product.number, Product.id)).all())
        discounts = dict(session.execute(select(DiscountList.name, DiscountList.id)).all())
        price_lists = dict(session.execute(select(PriceList.name, PriceList.id)).all())
        priced = set(
            session.execute(
                select(PriceList.name, Product.number, Unit.name)
                .join(PriceListItem, PriceListItem.price_list_id == PriceList.id)
                .join(Product, Product.id == PriceListItem.product_id)
                .join(Unit, Unit.id == PriceListItem.unit_id)
            ).all()
        )
        wanted_units = {
            (group["name"], unit)
            for group in spec["unit_groups"]
            for unit in (group["base_unit"], *(unit["name"] for unit in group["units"]))
        }
        wanted_items = {
            (price_list["name"], item["product"], item["unit"])
            for price_list in spec["price_lists"]
            for item in price_list["items"]
        }
        if (
            wanted_units <= units
            and {family["name"] for family in spec["families"]} <= set(families)
            and {product["number"] for product in spec["products"]} <= set(products)
            and {discount["name"] for discount in spec["discount_lists"]} <= set(discounts)
            and wanted_items <= priced
        ):
            return
        admin = actor_for_email(session, DEMO_USERS[0]["email"])
        unit_ids: dict[tuple[str, str], uuid.UUID] = {}
        for group_spec in spec["unit_groups"]:
            group = groups.get(group_spec["name"])
            if group is None:
                values = {key: group_spec[key] for key in ("name", "base_unit", "description")}
                group = groups[group_spec["name"]] = catalog.create_unit_group(
                    parse(UnitGroupCreate, values), uow=uow, actor=admin
                )
            for unit_spec in group_spec["units"]:
                if all(unit.name != unit_spec["name"] for unit in group.units):
                    catalog.add_unit(group.id, parse(UnitCreate, unit_spec), uow=uow, actor=admin)
            unit_ids.update({(group.name, unit.name): unit.id for unit in group.units})
        for family_spec in spec["families"]:
            if family_spec["name"] not in families:
                family = catalog.create_family(parse(FamilyCreate, family_spec), uow=uow, actor=admin)
                families[family.name] = family.id
        product_groups: dict[str, str] = {}
        for product_spec in spec["products"]:
            number, group_name = product_spec["number"], product_spec["unit_group"]
            product_groups[number] = group_name
            if number in products:
                continue
            values = {
                key: value
                for key, value in product_spec.items()
                if key not in ("family", "unit_group", "default_unit", "state")
            }
            values.update(
                family_id=families[product_spec["family"]],
                unit_group_id=groups[group_name].id,
                default_unit_id=unit_ids[(group_name, product_spec["default_unit"])],
            )
            product = catalog.create_product(parse(ProductCreate, values), uow=uow, actor=admin)
            products[number] = product.id
            added["products"] += 1
            if product_spec["state"] != "draft":
                catalog.change_product_state(product.id, publish=True, uow=uow, actor=admin)
            if product_spec["state"] == "retired":
                catalog.change_product_state(product.id, publish=False, uow=uow, actor=admin)
        for discount_spec in spec["discount_lists"]:
            if discount_spec["name"] not in discounts:
                discount = catalog.create_discount_list(parse(DiscountListCreate, discount_spec), uow=uow, actor=admin)
                discounts[discount.name] = discount.id
        for list_spec in spec["price_lists"]:
            price_list_id = price_lists.get(list_spec["name"])
            if price_list_id is None:
                values = {key: value for key, value in list_spec.items() if key != "items"}
                price_list_id = catalog.create_price_list(parse(PriceListCreate, values), uow=uow, actor=admin).id
                added["price_lists"] += 1
            for item_spec in list_spec["items"]:
                if (list_spec["name"], item_spec["product"], item_spec["unit"]) in priced:
                    continue
                values = {
                    key: value for key, value in item_spec.items() if key not in ("product", "unit", "discount_list")
                }
                values.update(
                    product_id=products[item_spec["product"]],
                    unit_id=unit_ids[(product_groups[item_spec["product"]], item_spec["unit"])],
                )
                if "discount_list" in item_spec:
                    values["discount_list_id"] = discounts[item_spec["discount_list"]]
                catalog.add_price_list_item(price_list_id, parse(PriceListItemCreate, values), uow=uow, actor=admin)
        uow.commit()


def _ensure_sales(database: Database, today: date, added: Counter[str]) -> None:
    """The products and quotes of the opportunities of ``sales.json``, each opportunity in its own unit
    of work and as its owner, while it is open with neither products nor quotes (so, once)."""
    names = [spec["opportunity"] for spec in DEMO_SALES]
    with database.unit_of_work(read_only=True) as uow:
        pending = dict(
            uow.session.execute(
                select(Opportunity.name, Opportunity.id).where(
                    Opportunity.name.in_(names),
                    Opportunity.state == OpportunityState.OPEN,
                    ~exists().where(OpportunityProduct.opportunity_id == Opportunity.id),
                    ~exists().where(Quote.opportunity_id == Opportunity.id),
                )
            ).all()
        )
    for spec in DEMO_SALES:
        if spec["opportunity"] not in pending:
            continue
        with database.unit_of_work() as uow:
            opportunity = uow.session.get(Opportunity, pending[spec["opportunity"]])
            assert opportunity is not None and opportunity.owner_user_id is not None
            owner = uow.session.get(User, opportunity.owner_user_id)
            assert owner is not None
            _sell(spec, opportunity.id, today=today, uow=uow, actor=load_actor(uow.session, owner), added=added)
            uow.commit()


def _sell(
    spec: Mapping[str, Any],
    opportunity_id: uuid.UUID,
    *,
    today: date,
    uow: UnitOfWork,
    actor: Actor,
    added: Counter[str],
) -> None:
    """One opportunity's price list, products (with their tax, typed as a seller types it) and quote,
    taken as far as ``spec`` says: a draft, an active quote, or won with its order fulfilled and its
    invoice paid."""
    session = uow.session
    price_list_id = session.scalars(select(PriceList.id).where(PriceList.name == spec["price_list"])).one()
    changes = {"price_list_id": price_list_id}
    changes.update({key: spec[key] for key in ("revenue_calculation", "freight_amount") if key in spec})
    update_opportunity(opportunity_id, parse(OpportunityUpdate, changes), uow=uow, actor=actor)
    tax_rate = Decimal(spec["tax_rate"]) / 100
    for line_spec in spec["lines"]:
        line = sales.add_opportunity_product(
            opportunity_id, parse(LineCreate, _line_values(session, line_spec)), uow=uow, actor=actor
        )
        if tax_rate:
            tax = to_precision(line.extended_amount * tax_rate, 2)
            sales.update_opportunity_product(opportunity_id, line.id, LineUpdate(tax=tax), uow=uow, actor=actor)
        added["opportunity_products"] += 1
    quote_spec = spec.get("quote")
    if quote_spec is None:
        return
    outcome = quote_spec["outcome"]
    won_on = _early_in_quarter(today)
    starts = won_on - timedelta(days=14) if outcome == "won" else today
    quote = sales.quote_from_opportunity(opportunity_id, uow=uow, actor=actor)
    terms = {
        "payment_terms": quote_spec["payment_terms"],
        "description": quote_spec["description"],
        "effective_from": starts,
        "effective_to": starts + timedelta(days=30),
    }
    sales.update_document(DocumentKind.QUOTE, quote.id, parse(QuoteUpdate, terms), uow=uow, actor=actor)
    added["quotes"] += 1
    if outcome == "draft":
        return
    sales.activate_quote(quote.id, uow=uow, actor=actor)
    if outcome == "active":
        return
    _, order, _ = sales.win_quote(quote.id, WinQuote(date_won=won_on), uow=uow, actor=actor)
    assert order is not None
    sales.submit_order(order.id, uow=uow, actor=actor)
    sales.fulfil_order(
        order.id, FulfilOrder(date_fulfilled=min(won_on + timedelta(days=7), today)), uow=uow, actor=actor
    )
    invoice = sales.invoice_from_order(order.id, uow=uow, actor=actor)
    sales.pay_invoice(invoice.id, PayInvoice(date_paid=min(won_on + timedelta(days=30), today)), uow=uow, actor=actor)
    added["orders"] += 1
    added["invoices"] += 1


def _line_values(session: Session, line_spec: Mapping[str, Any]) -> dict[str, Any]:
    """A line of ``sales.json`` as the line service takes it: a catalogue product in one of its units
    (found by number and name), or a write-in product with its price."""
    values = {key: line_spec[key] for key in ("quantity", "description") if key in line_spec}
    if "write_in" in line_spec:
        return values | {"write_in_name": line_spec["write_in"], "price_per_unit": line_spec["price_per_unit"]}
    product = session.scalars(select(Product).where(Product.number == line_spec["product"])).one()
    unit = next(unit for unit in product.unit_group.units if unit.name == line_spec["unit"])
    return values | {"product_id": product.id, "unit_id": unit.id}


def _ensure_campaigns(uow: UnitOfWork, added: Counter[str]) -> dict[str, uuid.UUID]:
    """The demo campaigns' ids by key, creating those that are missing."""
    session = uow.session
    ids: dict[str, uuid.UUID] = {}
    for data in CAMPAIGNS:
        campaign_id = uuid.uuid5(DEMO_NAMESPACE, data["key"])
        campaign = (
            session.get(Campaign, campaign_id)
            or session.scalars(select(Campaign).where(Campaign.code == data["code"])).first()
        )
        if campaign is None:
            campaign = Campaign(id=campaign_id, name=data["name"], code=data["code"])
            session.add(campaign)
            added["campaigns"] += 1
        ids[data["key"]] = campaign.id
    uow.flush()
    return ids


def _find_demo_lead(uow: UnitOfWork, fields: Mapping[str, Any]) -> uuid.UUID | None:
    """The id of the lead already loaded for this demo entry, found by its natural key."""
    return uow.session.scalars(
        select(Lead.id).where(Lead.topic == fields["topic"], Lead.last_name == fields["last_name"]).limit(1)
    ).first()


def _load_lead(
    spec: Mapping[str, Any],
    *,
    campaign_ids: Mapping[str, uuid.UUID],
    now: datetime,
    uow: UnitOfWork,
    actor: Actor,
    added: Counter[str],
) -> None:
    """Create one demo lead, add its notes, then walk it through its lifecycle steps."""
    fields = dict(spec["lead"])
    if "campaign" in spec:
        fields["campaign_id"] = campaign_ids[spec["campaign"]]
    lead = create_lead(parse(LeadCreate, fields), uow=uow, actor=actor)
    lead.created_at = opened_at(spec["opened"], now)
    uow.flush()
    added["leads"] += 1

    # Notes first: closed leads refuse new notes.
    for note in spec.get("notes", ()):
        _add_note(RegardingTable.LEADS, lead.id, note, uow=uow, actor=actor, added=added)

    opportunity_id: uuid.UUID | None = None
    for step in spec.get("then", ()):
        opportunity_id = STEPS[step](lead, uow=uow, actor=actor, added=added) or opportunity_id

    for note in spec.get("opportunity_notes", ()):
        if opportunity_id is None:
            raise ValueError(f"Demo lead {fields['topic']!r} has opportunity notes but no opportunity.")
        _add_note(RegardingTable.OPPORTUNITIES, opportunity_id, note, uow=uow, actor=actor, added=added)

    added[f"status:{lead.status_reason.value}"] += 1


def opened_at(opened: Sequence[int], now: datetime) -> datetime:
    """When a demo lead was created: (weeks ago, day of that week, hour), weeks starting Monday UTC.

    Leads of the current week are spread over the part of the week already elapsed, so that they
    are never in the future, whatever the day the demo is loaded.
    """
    weeks_ago, day, hour = opened
    week = start_of_week(now)
    offset = timedelta(days=day, hours=hour)
    if weeks_ago == 0:
        moment = week + (now - week) * (offset / timedelta(weeks=1))
    else:
        moment = week - timedelta(weeks=weeks_ago) + offset
    return moment.replace(microsecond=0)


def _add_note(
    table: RegardingTable,
    record_id: uuid.UUID,
    note: Mapping[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    added: Counter[str],
) -> None:
    attachment = None
    if note.get("attachment"):
        file_name = note["attachment"]["file"]
        attachment = AttachmentUpload(file_name, note["attachment"]["mime_type"], attachment_bytes(file_name))
    add_note(
        table,
        record_id,
        title=note.get("title"),
        body=note.get("body"),
        attachment=attachment,
        max_attachment_bytes=MAX_ATTACHMENT_BYTES,
        uow=uow,
        actor=actor,
    )
    added["notes"] += 1
    added["attachments"] += attachment is not None


# What the catalogue and sales steps count, as the summary names them (singular, plural).
SALES_COUNTED = {
    "products": ("product", "products"),
    "price_lists": ("price list", "price lists"),
    "opportunity_products": ("opportunity product", "opportunity products"),
    "quotes": ("quote", "quotes"),
    "orders": ("order", "orders"),
    "invoices": ("invoice", "invoices"),
    "activities": ("activity", "activities"),
}


def _summary(added: Counter[str]) -> str:
    """One line for the CLI: what this run added, or that everything was already there."""
    if not any(added[key] for key in ("leads", "campaigns", "users", *SALES_COUNTED)):
        return (
            f"nothing new added; the {len(DEMO_LEADS)} demo leads and {len(CAMPAIGNS)} demo "
            "campaigns are already there."
        )
    parts = []
    if added["leads"] or added["campaigns"] or not any(added[key] for key in SALES_COUNTED):
        statuses = ", ".join(
            f"{added[f'status:{reason.value}']} {reason.value.replace('_', ' ')}"
            for reason in LeadStatusReason
            if added[f"status:{reason.value}"]
        )
        leads = _count(added["leads"], "lead") + (f" ({statuses})" if statuses else "")
        parts.append(
            f"{leads}, {_count(added['campaigns'], 'campaign')}, "
            f"{_count(added['notes'], 'note')} ({added['attachments']} with attachments), "
            f"{_count(added['accounts'], 'account')}, {_count(added['contacts'], 'contact')} and "
            f"{_count(added['opportunities'], 'opportunity', 'opportunities')}"
        )
    sold = [_count(added[key], *names) for key, names in SALES_COUNTED.items() if added[key]]
    if sold:
        parts.append(", ".join(sold[:-1]) + (" and " if len(sold) > 1 else "") + sold[-1])
    if added["users"]:
        parts.append(_count(added["users"], "demo user"))
    return "added " + "; ".join(parts) + "."


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
