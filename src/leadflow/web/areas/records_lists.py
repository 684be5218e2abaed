"""The lists of accounts, contacts and opportunities: the readable records, sorted, searched, keyset-paged.

Each list is a select filtered by the actor's read access in SQL; a page ends with the sort value and
id of its last (or first) row, and the next (or previous) page continues from there, so a deep page
costs what the first one does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session

from leadflow.core.db import Money
from leadflow.core.paging import CursorKind, contains, decode_cursor, encode_cursor
from leadflow.customers.models import Account, Contact
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.organisation.models import Currency
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS, STAGE_LABELS

PAGE_SIZE = 25
_NO_AMOUNT = Decimal(-1)
_NO_DATE = date(1, 1, 1)


def _text(column: Any) -> Any:
    """Text sorts without regard to letter case, blanks first (coalesce keeps the keyset total)."""
    return func.lower(func.coalesce(column, ""))


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # English message id
    sort: str | None = None  # the sort key of SortSpec, when the column sorts
    optional: bool = False  # hidden on narrow screens


@dataclass(frozen=True)
class SortKey:
    expression: Any
    kind: CursorKind  # text, datetime, date, money


@dataclass(frozen=True)
class ListSpec:
    model: type[Any]
    table: str
    columns: tuple[Column, ...]
    sorts: dict[str, SortKey]
    default_sort: str
    search_columns: tuple[Any, ...]
    search_label: str


# Every list ends with who owns the record and when it was created, newest or oldest first.
_OWNED_COLUMNS = (
    Column("owner", N_("Owner"), optional=True),
    Column("created_at", N_("Created on"), sort="created_at", optional=True),
)


def _created_sort(model: type[Any]) -> dict[str, SortKey]:
    return {"created_at": SortKey(model.created_at, "datetime")}


LISTS = {
    "accounts": ListSpec(
        Account,
        "accounts",
        (
            Column("name", N_("Account name"), sort="name"),
            Column("telephone", N_("Main phone")),
            Column("email", N_("Email"), optional=True),
            Column("city", N_("City"), sort="city", optional=True),
            *_OWNED_COLUMNS,
        ),
        {
            "name": SortKey(_text(Account.name), "text"),
            "city": SortKey(_text(Account.address_city), "text"),
            **_created_sort(Account),
        },
        "name",
        (Account.name,),
        N_("Search accounts by name"),
    ),
    "contacts": ListSpec(
        Contact,
        "contacts",
        (
            Column("name", N_("Full name"), sort="name"),
            Column("email", N_("Email"), sort="email"),
            Column("business_phone", N_("Business phone"), optional=True),
            Column("account", N_("Account name"), optional=True),
            Column("city", N_("City"), optional=True),
            *_OWNED_COLUMNS,
        ),
        {
            "name": SortKey(_text(Contact.full_name), "text"),
            "email": SortKey(_text(Contact.email), "text"),
            **_created_sort(Contact),
        },
        "name",
        (Contact.full_name, Contact.email),
        N_("Search contacts by name or email"),
    ),
    "opportunities": ListSpec(
        Opportunity,
        "opportunities",
        (
            Column("name", N_("Topic"), sort="name"),
            Column("customer", N_("Potential customer")),
            Column("estimated_revenue", N_("Est. revenue"), sort="estimated_revenue"),
            Column("estimated_close_date", N_("Est. close date"), sort="estimated_close_date", optional=True),
            Column("stage", N_("Stage"), optional=True),
            Column("state", N_("Status"), optional=True),
            *_OWNED_COLUMNS,
        ),
        {
            "name": SortKey(_text(Opportunity.name), "text"),
            "estimated_revenue": SortKey(
                func.coalesce(Opportunity.estimated_revenue, literal(_NO_AMOUNT, Money())), "money"
            ),
            "estimated_close_date": SortKey(
                func.coalesce(
                    Opportunity.estimated_close_date, literal(_NO_DATE, Opportunity.estimated_close_date.type)
                ),
                "date",
            ),
            **_created_sort(Opportunity),
        },
        "-created_at",
        (Opportunity.name,),
        N_("Search opportunities by topic"),
    ),
}


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    sort: str


def parse_sort(spec: ListSpec, sort: str | None) -> tuple[str, bool]:
    """The sort key and direction asked for; the list's default for anything it does not sort by."""
    wanted = (sort or spec.default_sort).strip()
    descending = wanted.startswith("-")
    key = wanted.lstrip("-+ ")
    if key not in spec.sorts:
        descending = spec.default_sort.startswith("-")
        key = spec.default_sort.lstrip("-")
    return key, descending


_INVALID_PAGE_LINK = "The page link is not valid for this list; start again from the first page."


def list_page(
    session: Session,
    spec: ListSpec,
    *,
    actor: Actor,
    q: str | None = None,
    sort: str | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of the records of a list the actor may read."""
    model = spec.model
    key, descending = parse_sort(spec, sort)
    sort_key = spec.sorts[key]
    expression = sort_key.expression
    statement = select(model).where(access_condition(actor, Privilege.READ, spec.table, model))
    if q and q.strip():
        statement = statement.where(contains(spec.search_columns, q.strip()[:200]))
    cursor = after or before
    backwards = bool(before) and not after
    if cursor:
        value, last_id = decode_cursor(cursor, sort_key.kind, refusal=_INVALID_PAGE_LINK)
        position = tuple_(expression, model.id)
        last = tuple_(literal(value, expression.type), literal(last_id, model.id.type))
        statement = statement.where(position < last if descending != backwards else position > last)
    ascending = descending == backwards
    order = (expression.asc(), model.id.asc()) if ascending else (expression.desc(), model.id.desc())
    rows = list(session.execute(statement.add_columns(expression).order_by(*order).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    items = [record for record, _ in rows]
    first, last_row = (rows[0], rows[-1]) if rows else (None, None)
    has_next = more if not backwards else True
    has_previous = (more if backwards else bool(cursor)) and first is not None
    sort_text = f"-{key}" if descending else key
    return Page(
        items=items,
        next_cursor=encode_cursor(last_row[1], last_row[0].id) if has_next and last_row is not None else None,
        previous_cursor=encode_cursor(first[1], first[0].id) if has_previous and first is not None else None,
        sort=sort_text,
    )


# ---------------------------------------------------------------------------------------------- names


def owner_names(session: Session, records: Iterable[Any]) -> dict[uuid.UUID, str]:
    """The names of the users and teams owning these records."""
    records = list(records)
    return lookups.owner_names(
        session, user_ids=(r.owner_user_id for r in records), team_ids=(r.owner_team_id for r in records)
    )


def owner_of(record: Any, names: dict[uuid.UUID, str]) -> str:
    """The name of the user or team owning a record, from ``owner_names``."""
    owner = record.owner_user_id or record.owner_team_id
    return names.get(owner, "") if owner else ""


def readable_names(
    session: Session, actor: Actor, model: type[Any], ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """The names of the records among ``ids`` the actor may read (others stay unnamed)."""
    wanted = {record_id for record_id in ids if record_id}
    if not wanted:
        return {}
    name = model.full_name if model is Contact else model.name
    statement = select(model.id, name).where(
        model.id.in_(wanted), access_condition(actor, Privilege.READ, model.__tablename__, model)
    )
    return dict(session.execute(statement).all())


def currency_codes(session: Session) -> dict[uuid.UUID, str]:
    """The ISO code of every currency, by id."""
    return dict(session.execute(select(Currency.id, Currency.iso_code)).all())


@dataclass(frozen=True)
class Cell:
    """One cell of a list row: text, a link, a date, an amount or a badge."""

    kind: str  # text, link, datetime, date, money, label (a message id)
    value: Any = None
    href: str | None = None
    currency: str | None = None


def rows_of(session: Session, spec: ListSpec, items: list[Any], *, actor: Actor) -> list[dict[str, Cell]]:
    """The cells of each record of a page, keyed by column."""
    owners = owner_names(session, items)
    rows = []
    if spec.table == "accounts":
        for account in items:
            rows.append(
                {
                    "name": Cell("link", account.name, href=f"/accounts/{account.id}"),
                    "telephone": Cell("text", account.telephone),
                    "email": Cell("text", account.email),
                    "city": Cell("text", account.address_city),
                    "owner": Cell("text", owner_of(account, owners)),
                    "created_at": Cell("datetime", account.created_at),
                }
            )
    elif spec.table == "contacts":
        accounts = readable_names(session, actor, Account, (c.account_id for c in items))
        for contact in items:
            account_name = accounts.get(contact.account_id) if contact.account_id else None
            rows.append(
                {
                    "name": Cell("link", contact.full_name, href=f"/contacts/{contact.id}"),
                    "email": Cell("text", contact.email),
                    "business_phone": Cell("text", contact.business_phone),
                    "account": Cell("link", account_name, href=f"/accounts/{contact.account_id}")
                    if account_name
                    else Cell("text", ""),
                    "city": Cell("text", contact.address_city),
                    "owner": Cell("text", owner_of(contact, owners)),
                    "created_at": Cell("datetime", contact.created_at),
                }
            )
    else:
        accounts = readable_names(
            session, actor, Account, (o.customer_id for o in items if o.customer_kind is CustomerKind.ACCOUNT)
        )
        contacts = readable_names(
            session, actor, Contact, (o.customer_id for o in items if o.customer_kind is CustomerKind.CONTACT)
        )
        codes = currency_codes(session)
        for opportunity in items:
            customer = Cell("text", "")
            if opportunity.customer_id in accounts:
                customer = Cell("link", accounts[opportunity.customer_id], href=f"/accounts/{opportunity.customer_id}")
            elif opportunity.customer_id in contacts:
                customer = Cell("link", contacts[opportunity.customer_id], href=f"/contacts/{opportunity.customer_id}")
            rows.append(
                {
                    "name": Cell("link", opportunity.name, href=f"/opportunities/{opportunity.id}"),
                    "customer": customer,
                    "estimated_revenue": Cell(
                        "money", opportunity.estimated_revenue, currency=codes.get(opportunity.currency_id, "EUR")
                    ),
                    "estimated_close_date": Cell("date", opportunity.estimated_close_date),
                    "stage": Cell("label", STAGE_LABELS.get(opportunity.process_stage, opportunity.process_stage)),
                    "state": Cell("label", CHOICE_LABELS[type(opportunity.state)][opportunity.state.value]),
                    "owner": Cell("text", owner_of(opportunity, owners)),
                    "created_at": Cell("datetime", opportunity.created_at),
                }
            )
    return rows
