"""Currencies and money in them: the administration of currencies, and the exchange rate a record
captures with its amounts, which gives each amount its twin in base currency (Dynamics' ``_base``).

A record's rate is the currency's rate when one of its amounts or its currency was last saved, or its
state changed; a later change of the currency's rate does not rewrite it (closed records keep theirs),
and ``recalculate_open_records`` applies the current rates to the open ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from babel.numbers import get_currency_name, get_currency_symbol
from pydantic import Field, StringConstraints
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from leadflow.core.db import MONEY_SCALE, mapped_class
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.core.records import check_version, not_found
from leadflow.core.schemas import MAX_MONEY, InputModel, NotCleared, RecordOut
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings, normalise_currency_code
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

TABLE = "currencies"
BASE_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

# The money columns of each table that has them; each has a ``<name>_base`` twin.
MONEY_FIELDS: dict[str, tuple[str, ...]] = {
    "opportunities": ("estimated_revenue", "actual_revenue"),
    "leads": ("budget_amount",),
}
# Tables whose records name a currency: a currency they name cannot be deleted.
CURRENCY_TABLES = (
    "leads",
    "accounts",
    "contacts",
    "opportunities",
    "opportunity_closes",
    "price_lists",
    "discount_lists",
    "quotes",
    "orders",
    "invoices",
)

ExchangeRate = Annotated[Decimal, Field(gt=0, le=Decimal("1e11"), max_digits=22, decimal_places=10)]
Precision = Annotated[int, Field(ge=0, le=4)]
Text80 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]


class CurrencyCreate(InputModel):
    iso_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=3)]
    name: Text80 | None = None
    symbol: Symbol | None = None
    precision: Precision = 2
    exchange_rate: ExchangeRate


class CurrencyUpdate(InputModel):
    name: Annotated[Text80 | None, NotCleared] = None
    symbol: Annotated[Symbol | None, NotCleared] = None
    precision: Annotated[Precision | None, NotCleared] = None
    exchange_rate: Annotated[ExchangeRate | None, NotCleared] = None


class CurrencyOut(RecordOut):
    iso_code: str
    name: str
    symbol: str
    precision: int
    exchange_rate: Decimal
    is_base: bool


# ----------------------------------------------------------------------------------------- money


def in_base(amount: Decimal | None, rate: Decimal) -> Decimal | None:
    """An amount in base currency: the amount divided by its currency's rate, to four places.

    A currency worth a tiny fraction of the base one can make an amount larger than any stored amount
    may be: that is refused (422 ``amount_too_large``) rather than overflowing the column."""
    if amount is None:
        return None
    base = (amount / rate).quantize(BASE_QUANTUM)
    if abs(base) > MAX_MONEY:
        raise ValidationFailed(
            f"The amount in the base currency would be over {MAX_MONEY:,}, the most an amount can be; "
            "check the currency's exchange rate.",
            code="amount_too_large",
        )
    return base


def rate_values(session: Session, table: str, values: Mapping[str, Any], *, current: Any = None) -> dict[str, Any]:
    """The exchange rate and base amounts to save with ``values`` (a new record's, or the changes to
    ``current``): the currency's rate now, when the values name an amount or the currency; else none."""
    fields = MONEY_FIELDS[table]
    if current is not None and not {"currency_id", *fields} & set(values):
        return {}

    def value(name: str) -> Any:
        if name in values:
            return values[name]
        return None if current is None else getattr(current, name)

    currency_id = value("currency_id")
    currency = session.get(Currency, currency_id) if currency_id else None
    rate = currency.exchange_rate if currency is not None else Decimal(1)
    amounts = {name: in_precision(value(name), currency) for name in fields}
    return {
        # Each amount to its currency's precision (Dynamics' "currency precision"), as it is saved.
        **{name: amount for name, amount in amounts.items() if name in values or amount != value(name)},
        "exchange_rate": rate,
        **{f"{name}_base": in_base(amount, rate) for name, amount in amounts.items()},
    }


def in_precision(amount: Decimal | None, currency: Currency | None) -> Decimal | None:
    """An amount rounded to its currency's precision (half away from zero); as it is without a currency."""
    if amount is None or currency is None:
        return amount
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-currency.precision), rounding=ROUND_HALF_UP)
    return rounded.quantize(BASE_QUANTUM)  # written as every stored amount reads back: four places


# What else follows a record's newly captured rate: functions of the domains above (the custom money
# fields' base amounts), registered there, called with the session and the record after the capture.
RATE_FOLLOWERS: list[Callable[[Session, Any], None]] = []


def capture_rate(session: Session, record: Any) -> None:
    """Capture the record's currency rate now and recompute its base amounts (a state change, a recalculation)."""
    for name, value in rate_values(session, record.__tablename__, _money_of(record)).items():
        setattr(record, name, value)
    for follow in RATE_FOLLOWERS:
        follow(session, record)


def _money_of(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in ("currency_id", *MONEY_FIELDS[record.__tablename__])}


def recalculate_open_records(*, uow: UnitOfWork, actor: Actor, batch: int = 500) -> dict[str, int]:
    """Apply each currency's current rate to the open leads and opportunities whose rate differs;
    how many records of each table changed."""
    require_admin(actor, TABLE, Privilege.WRITE)
    session = uow.session
    rates: dict[uuid.UUID, Decimal] = dict(session.execute(select(Currency.id, Currency.exchange_rate)).all())
    changed: dict[str, int] = {}
    for table in MONEY_FIELDS:
        model = mapped_class(table)
        count = 0
        for currency_id, rate in rates.items():
            stale = (
                select(model)
                .where(model.state == "open", model.currency_id == currency_id)
                .where((model.exchange_rate.is_(None)) | (model.exchange_rate != rate))
                .order_by(model.id)
                .limit(batch)
            )
            while records := session.scalars(stale).all():
                for record in records:
                    capture_rate(session, record)
                    record.modified_by_id = actor.user_id
                count += len(records)
                uow.flush()
        changed[table] = count
    record_action(
        session, actor, "recalculate", table=TABLE, summary=", ".join(f"{t}: {n}" for t, n in changed.items())
    )
    return changed


# ------------------------------------------------------------------------------------ currencies


def list_currencies(*, uow: UnitOfWork, actor: Actor) -> Sequence[Currency]:
    """Every enabled currency, the base first, then by ISO code."""
    require_admin(actor, TABLE, Privilege.READ)
    return uow.session.scalars(select(Currency).order_by(Currency.is_base.desc(), Currency.iso_code)).all()


def read_currency(currency_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, for_update: bool = False) -> Currency:
    """One currency (not found for those who may not read currencies)."""
    require_admin(actor, TABLE, Privilege.READ)
    currency = uow.session.get(Currency, currency_id, with_for_update=for_update)
    if currency is None:
        raise not_found(label="currency", record_id=currency_id)
    return currency


def create_currency(data: CurrencyCreate, *, uow: UnitOfWork, actor: Actor) -> Currency:
    """Enable a currency with its rate to the base currency; name and symbol default to the ISO standard's."""
    require_admin(actor, TABLE, Privilege.CREATE)
    code = normalise_currency_code(data.iso_code)
    if uow.session.scalar(select(exists().where(Currency.iso_code == code))):
        raise Conflict(f"The currency {code} is already enabled.", code="currency_exists")
    currency = Currency(
        id=uuid.uuid4(),
        iso_code=code,
        name=data.name or get_currency_name(code, locale="en"),
        symbol=data.symbol or get_currency_symbol(code, locale="en"),
        precision=data.precision,
        exchange_rate=data.exchange_rate,
        is_base=False,
    )
    uow.session.add(currency)
    record_action(uow.session, actor, "create", table=TABLE, record_id=currency.id, summary=code)
    uow.flush()
    return currency


def update_currency(
    currency_id: uuid.UUID,
    changes: CurrencyUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Currency:
    """Change a currency; the base currency's rate is 1 by definition. Records keep the rate they
    captured until their next save (or ``recalculate_open_records``)."""
    currency = read_currency(currency_id, uow=uow, actor=actor, for_update=True)
    require_admin(actor, TABLE, Privilege.WRITE)
    check_version(currency, expected_version)
    values = changes.model_dump(exclude_unset=True)
    if currency.is_base and values.get("exchange_rate", Decimal(1)) != Decimal(1):
        raise ValidationFailed(
            f"{currency.iso_code} is the base currency: its exchange rate is 1.",
            code="base_currency_rate",
            details={
                "fields": [
                    {
                        "field": "exchange_rate",
                        "code": "base_currency_rate",
                        "message": "exchange_rate: the base currency's rate is 1.",
                    }
                ]
            },
        )
    changed = {
        name: {"old": str(getattr(currency, name)), "new": str(value)}
        for name, value in values.items()
        if getattr(currency, name) != value
    }
    for name, value in values.items():
        setattr(currency, name, value)
    if changed:
        record_action(uow.session, actor, "update", table=TABLE, record_id=currency.id, changes=changed)
    uow.flush()
    return currency


def delete_currency(
    currency_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Remove a currency that is not the base and that no record names."""
    session = uow.session
    currency = read_currency(currency_id, uow=uow, actor=actor, for_update=True)
    require_admin(actor, TABLE, Privilege.DELETE)
    check_version(currency, expected_version)
    if currency.is_base:
        raise Conflict(f"{currency.iso_code} is the base currency; it cannot be removed.", code="base_currency")
    for table in CURRENCY_TABLES:
        model = mapped_class(table)
        if session.scalar(select(exists().where(model.currency_id == currency.id))):
            raise Conflict(
                f"Records in {currency.iso_code} exist ({table}); the currency cannot be removed while they do.",
                code="currency_in_use",
            )
    record_action(session, actor, "delete", table=TABLE, record_id=currency.id, summary=currency.iso_code)
    session.delete(currency)
    uow.flush()


# Tables whose amounts are in base currency without naming a currency (a competitor's reported revenue).
BASE_AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "competitors": ("reported_revenue",),
    # A product's list price and costs are in base currency.
    "products": ("list_price", "standard_cost", "current_cost"),
}
RATE_QUANTUM = Decimal(1).scaleb(-10)


def money_in_use(session: Session) -> str | None:
    """The first table whose records name a currency or hold an amount, or None."""
    for table in CURRENCY_TABLES:
        model = mapped_class(table)
        amounts = [getattr(model, name).is_not(None) for name in MONEY_FIELDS.get(table, ())]
        if session.scalar(select(exists().where(or_(model.currency_id.is_not(None), *amounts)))):
            return table
    for table, names in BASE_AMOUNT_COLUMNS.items():
        model = mapped_class(table)
        if session.scalar(select(exists().where(or_(*(getattr(model, name).is_not(None) for name in names))))):
            return table
    return None


def change_base_currency(currency_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Currency:
    """Make another enabled currency the base currency, as long as no record holds an amount or names a
    currency (afterwards every base amount would change meaning). Every rate is re-expressed per unit of
    the new base: a currency at 1.0825 per euro becomes 1 when it is the base, and the euro 1/1.0825."""
    session = uow.session
    require_admin(actor, TABLE, Privilege.WRITE)
    chosen = read_currency(currency_id, uow=uow, actor=actor, for_update=True)
    if chosen.is_base:
        return chosen
    used = money_in_use(session)
    if used is not None:
        raise Conflict(
            f"Records with amounts or currencies exist ({used}); the base currency cannot change once records use it.",
            code="base_currency_in_use",
            details={"table": used},
        )
    factor = chosen.exchange_rate
    old_code = None
    for currency in session.scalars(select(Currency).with_for_update()):
        if currency.is_base:
            old_code = currency.iso_code
        currency.is_base = currency.id == chosen.id
        currency.exchange_rate = (
            Decimal(1) if currency.is_base else (currency.exchange_rate / factor).quantize(RATE_QUANTUM)
        )
    get_settings(session).base_currency_id = chosen.id
    record_action(
        session,
        actor,
        "base_currency",
        table=TABLE,
        record_id=chosen.id,
        changes={"base_currency": {"old": old_code, "new": chosen.iso_code}},
    )
    uow.flush()
    return chosen
