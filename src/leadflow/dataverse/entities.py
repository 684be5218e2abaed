"""Records as the Web API reads and writes them: entity JSON in logical names, queries, and the
translation of a request body into the input of leadflow's own services."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from leadflow.activities.models import Note, RegardingTable
from leadflow.core.formatting import format_money, locale_of
from leadflow.core.records import record_label
from leadflow.dataverse import options as option_sets
from leadflow.dataverse.errors import (
    PICKLIST_OUT_OF_RANGE,
    RECORD_NOT_FOUND,
    DataverseError,
    bad_request,
    invalid,
)
from leadflow.dataverse.query import Expand, Prefer, Query, entity_type, make_skiptoken, unknown_property
from leadflow.dataverse.tables import (
    BY_ENTITY_SET,
    BY_LOGICAL_NAME,
    OPPORTUNITY_CLOSE,
    Attribute,
    Kind,
    Table,
    all_attributes,
    nest_custom,
)
from leadflow.http.language import gettext
from leadflow.opportunities.models import OpportunityClose
from leadflow.organisation.models import Currency
from leadflow.organisation.service import time_zone_of
from leadflow.security.access import access_condition, require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
_BOUND = re.compile(r"(?:^|/)(?P<set>[A-Za-z_]\w*)\((?P<id>[0-9A-Fa-f-]{36})\)/?$")


def record_missing(table: Table, record_id: object) -> DataverseError:
    """404 as Dataverse words it."""
    return DataverseError(
        404, RECORD_NOT_FOUND, "%(table)s With Id = %(id)s Does Not Exist", table=table.logical, id=record_id
    )


# ----------------------------------------------------------------------------------------------
# access


def readable(table: Table, actor: Actor) -> ColumnElement[bool]:
    """The rows of the table's model the actor may read through this table."""
    model = table.model
    if table.owned:
        condition: ColumnElement[bool] = access_condition(actor, Privilege.READ, table.privilege_table, model)
    elif model is Note:
        condition = or_(
            *(
                and_(Note.regarding_table == regarding, Note.regarding_id.in_(_readable_ids(regarding.value, actor)))
                for regarding in RegardingTable
            )
        )
    elif table is OPPORTUNITY_CLOSE:
        condition = OpportunityClose.opportunity_id.in_(_readable_ids("opportunities", actor))
    else:
        require_admin(actor, table.privilege_table, Privilege.READ)
        condition = true()
    return and_(condition, table.where()) if table.where is not None else condition


def _readable_ids(privilege_table: str, actor: Actor) -> Any:
    served = next(
        table for table in BY_LOGICAL_NAME.values() if table.privilege_table == privilege_table and table.owned
    )
    model = served.model
    return select(model.id).where(access_condition(actor, Privilege.READ, privilege_table, model))


def get_readable(session: Session, table: Table, record_id: uuid.UUID, actor: Actor) -> Any:
    """One record the actor may read; 404 when it does not exist or they may not read it."""
    record = session.scalars(select(table.model).where(table.model.id == record_id, readable(table, actor))).first()
    if record is None:
        raise record_missing(table, record_id)
    return record


def held_elsewhere(session: Session, table: Table, record_id: uuid.UUID) -> bool:
    """Whether the id is a record of the table's model that another table serves (a phone call's id
    under tasks)."""
    return table.where is not None and session.get(table.model, record_id) is not None


def exists(session: Session, table: Table, record_id: uuid.UUID) -> bool:
    statement = select(table.model.id).where(table.model.id == record_id)
    if table.where is not None:
        statement = statement.where(table.where())
    return session.scalar(statement) is not None


# ----------------------------------------------------------------------------------------------
# reading


@dataclass
class Page:
    records: list[Any]
    skiptoken: str | None
    count: int | None


def query_records(session: Session, table: Table, query: Query, actor: Actor, *, page_size: int) -> Page:
    """One page of the records a query selects, with the token of the next page."""
    model = table.model
    conditions = [readable(table, actor)]
    if query.where is not None:
        conditions.append(query.where)
    statement = select(model).where(*conditions)
    count = session.scalar(select(func.count()).select_from(model).where(*conditions)) if query.count else None
    token = query.skiptoken
    # $top caps the whole result; the pages carry what is left of it.
    left = None if query.top is None else _whole(token.get("left", query.top), most=query.top)
    limit = page_size if left is None else min(left, page_size)
    if query.order:
        columns = [getattr(model, attribute.column) for attribute, _ in query.order if attribute.column]
        ordering = [
            column.desc().nulls_last() if descending else column.asc().nulls_first()
            for column, (_, descending) in zip(columns, query.order, strict=True)
        ]
        offset = _whole(token.get("offset", 0))
        statement = statement.order_by(*ordering, model.id).offset(offset)
        next_token: dict[str, Any] = {"offset": offset + limit}
    else:
        after = token.get("after")
        if after is not None:
            try:
                statement = statement.where(model.id > uuid.UUID(str(after)))
            except ValueError:
                raise bad_request(
                    "The $skiptoken is not one this server gave; follow @odata.nextLink as it is."
                ) from None
        statement = statement.order_by(model.id)
        next_token = {}
    records = list(session.scalars(statement.limit(limit + 1)))
    more = len(records) > limit and (left is None or left > limit)
    records = records[:limit]
    if more and not query.order:
        next_token = {"after": str(records[-1].id)}
    if more and left is not None:
        next_token["left"] = left - limit
    return Page(records, make_skiptoken(next_token) if more else None, count)


def _whole(value: Any, *, most: int | None = None) -> int:
    """A count read from a skiptoken: a whole number from 0 (to ``most``), else the token is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (most is not None and value > most):
        raise bad_request("The $skiptoken is not one this server gave; follow @odata.nextLink as it is.")
    return value


def _raw(attribute: Attribute, record: Any) -> Any:
    if attribute.compute is not None:
        return attribute.compute(record)
    return getattr(record, attribute.column) if attribute.column else None


def lookup_target(attribute: Attribute, record: Any) -> str:
    """The logical name of the table a lookup of ``record`` points into."""
    if attribute.kind_column:
        kind = getattr(record, attribute.kind_column)
        if kind is not None:
            return record_label(str(getattr(kind, "value", kind)))
    return attribute.targets[0]


def json_value(attribute: Attribute, value: Any) -> Any:
    """A stored value as the Web API writes it."""
    if value is None:
        return None
    if attribute.options is not None:
        return attribute.options.value_of(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and attribute.kind is not Kind.MONEY else float(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class Renderer:
    """Writes records as entity JSON, with the annotations and expansions a request asks for."""

    def __init__(self, session: Session, actor: Actor, *, prefer: Prefer, language: str) -> None:
        self.session, self.actor, self.prefer, self.language = session, actor, prefer, language
        self._currencies: dict[uuid.UUID, str] | None = None
        self._base_currency: str | None = None
        self._names: dict[str, dict[uuid.UUID, str]] = {}
        self._zone: tzinfo | None = None

    def entities(
        self, table: Table, records: Sequence[Any], select: Sequence[Attribute] | None, expand: Sequence[Expand] = ()
    ) -> list[dict[str, Any]]:
        """Entity JSON of several records of one table."""
        attributes = self._attributes(table, select)
        if self.prefer.formatted_values:
            self._load_names(records, attributes)
        expanded = {item.navigation: self._expand(records, item) for item in expand}
        out = []
        for record in records:
            entity = self.entity(table, record, attributes)
            for item in expand:
                key = getattr(record, item.attribute.column or "", None)
                matches = lookup_target(item.attribute, record) == item.target
                entity[item.navigation] = expanded[item.navigation].get(key) if key is not None and matches else None
            out.append(entity)
        return out

    def _attributes(self, table: Table, select: Sequence[Attribute] | None) -> list[Attribute]:
        if select is None:
            return [attribute for attribute in all_attributes(table) if not attribute.on_request]
        primary = table.attribute(table.primary_id)
        assert primary is not None
        return [primary, *(attribute for attribute in select if attribute is not primary)]

    def entity(self, table: Table, record: Any, attributes: Sequence[Attribute]) -> dict[str, Any]:
        """Entity JSON of one record."""
        entity: dict[str, Any] = {"@odata.etag": f'W/"{record.row_version}"'}
        for attribute in attributes:
            value = _raw(attribute, record)
            name = attribute.read_name
            if self.prefer.formatted_values and value is not None:
                text = self.formatted(table, attribute, record, value)
                if text is not None:
                    entity[name + FORMATTED] = text
            if attribute.is_lookup and value is not None:
                target = lookup_target(attribute, record)
                if self.prefer.lookup_names:
                    entity[name + NAVIGATION] = attribute.navigation(target)
                    entity[name + LOOKUP_NAME] = target
            entity[name] = json_value(attribute, value)
        return entity

    def formatted(self, table: Table, attribute: Attribute, record: Any, value: Any) -> str | None:
        """The value as a person reads it, in the request's language."""
        if attribute.options is not None:
            member = attribute.options.choices(getattr(value, "value", value))
            return attribute.options.label(member, self.language)
        if attribute.kind is Kind.BOOLEAN:
            return gettext(self.language, option_sets.YES_NO[bool(value)])
        if attribute.kind is Kind.MONEY:
            return format_money(value, self._currency_of(record, base=attribute.name.endswith("_base")), self.language)
        if attribute.kind is Kind.DATETIME:
            from babel.dates import format_datetime

            # As a person reads it: in their own time zone (else the organisation's), as the web app shows it.
            if self._zone is None:
                self._zone = time_zone_of(self.actor, session=self.session)
            return format_datetime(value, "short", tzinfo=self._zone, locale=locale_of(self.language))
        if attribute.kind is Kind.DATE:
            from babel.dates import format_date

            return format_date(value, "short", locale=locale_of(self.language))
        if attribute.is_lookup:
            return self._names.get(lookup_target(attribute, record), {}).get(value)
        if attribute.kind in (Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL):
            from babel.numbers import format_decimal

            return format_decimal(value, locale=locale_of(self.language))
        return None

    def _currency_of(self, record: Any, *, base: bool) -> str | None:
        if self._currencies is None:
            rows = self.session.execute(select(Currency.id, Currency.iso_code, Currency.is_base)).all()
            self._currencies = {row.id: row.iso_code for row in rows}
            self._base_currency = next((row.iso_code for row in rows if row.is_base), None)
        currency_id = getattr(record, "currency_id", None)
        if base or currency_id is None:
            return self._base_currency
        return self._currencies.get(currency_id, self._base_currency)

    def _load_names(self, records: Sequence[Any], attributes: Iterable[Attribute]) -> None:
        """The primary names of the records the lookups point to, one query per target table."""
        wanted: dict[str, set[uuid.UUID]] = {}
        for attribute in attributes:
            if not attribute.is_lookup:
                continue
            for record in records:
                value = _raw(attribute, record)
                if value is not None:
                    wanted.setdefault(lookup_target(attribute, record), set()).add(value)
        for target, ids in wanted.items():
            table = BY_LOGICAL_NAME.get(target)
            name = table.attribute(table.primary_name) if table else None
            if table is None or name is None or name.column is None:
                continue
            known = self._names.setdefault(target, {})
            missing = [record_id for record_id in ids if record_id not in known]
            column = getattr(table.model, name.column)
            for chunk in range(0, len(missing), 500):
                part = missing[chunk : chunk + 500]
                known.update(
                    dict(self.session.execute(select(table.model.id, column).where(table.model.id.in_(part))).all())
                )

    def _expand(self, records: Sequence[Any], item: Expand) -> dict[uuid.UUID, dict[str, Any]]:
        table = BY_LOGICAL_NAME.get(item.target)
        if table is None:
            return {}
        ids = {
            getattr(record, item.attribute.column or "")
            for record in records
            if lookup_target(item.attribute, record) == item.target
        } - {None}
        if not ids:
            return {}
        select_attributes = None
        if item.select:
            select_attributes = []
            for name in item.select:
                attribute = table.attribute(name)
                if attribute is None:
                    raise unknown_property(table, name)
                select_attributes.append(attribute)
        found = list(
            self.session.scalars(select(table.model).where(table.model.id.in_(ids), readable(table, self.actor)))
        )
        rendered = self.entities(table, found, select_attributes)
        return {record.id: entity for record, entity in zip(found, rendered, strict=True)}


# ----------------------------------------------------------------------------------------------
# writing


@dataclass
class Changes:
    """A request body as leadflow's input: the service fields, and any state change asked."""

    values: dict[str, Any]
    state: int | None = None
    status: int | None = None
    record_id: uuid.UUID | None = None


def bound_id(table: Table, navigation: str, target: str, value: Any) -> uuid.UUID:
    """The id an ``@odata.bind`` names: ``/accounts(<guid>)``, relative or absolute."""
    match = _BOUND.search(value) if isinstance(value, str) else None
    target_table = BY_LOGICAL_NAME.get(target)
    if match is None:
        raise bad_request(
            "%(name)s@odata.bind takes the address of a record, such as /%(set)s(00000000-0000-0000-0000-000000000000).",
            name=navigation,
            set=target_table.entity_set if target_table else target + "s",
        )
    named = BY_ENTITY_SET.get(match.group("set"))
    expected = target_table.entity_set if target_table else None
    if named is None and match.group("set") != (expected or match.group("set")):
        raise bad_request("%(name)s@odata.bind must name a record of %(set)s.", name=navigation, set=expected)
    if named is not None and named.logical != target:
        raise bad_request("%(name)s@odata.bind must name a record of %(set)s.", name=navigation, set=expected)
    return uuid.UUID(match.group("id"))


def read_body(table: Table, body: Any, *, session: Session, creating: bool) -> Changes:
    """Translate an entity body in logical names into the table's service input."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object of the %(table)s's attributes.", table=table.logical)
    changes = Changes(values={})
    for key, value in body.items():
        if not isinstance(key, str):
            continue
        if key.endswith("@odata.bind"):
            _bind(table, key.removesuffix("@odata.bind"), value, changes, session)
            continue
        if key.startswith("@odata.") or "@" in key:
            continue  # annotations such as @odata.type or @odata.etag carry nothing to save
        attribute = table.attribute(key)
        if attribute is None:
            raise DataverseError(
                400,
                "0x80060888",
                "The property '%(name)s' does not exist on type '%(type)s'. Make sure to only use property names "
                "that are defined by the type.",
                name=key,
                type=entity_type(table),
            )
        if attribute.kind is Kind.ID:
            if creating:
                raise invalid(
                    "leadflow chooses the id of a new %(table)s: leave %(name)s out.", table=table.logical, name=key
                )
            changes.record_id = _guid(attribute, value)
            continue
        if attribute.kind is Kind.STATE:
            changes.state = _option_number(table, attribute, value)
            continue
        if attribute.kind is Kind.STATUS and attribute.writes is None:
            changes.status = _option_number(table, attribute, value)
            continue
        if attribute.is_lookup:
            raise bad_request(
                "Set the lookup %(name)s with %(nav)s@odata.bind, as /%(set)s(<id>), not by value.",
                name=key,
                nav=attribute.navigation(attribute.targets[0]),
                set=_set_of(attribute.targets[0]),
            )
        if attribute.writes is None:
            raise invalid("%(name)s is read-only: leadflow sets it.", name=key)
        if attribute.kind is Kind.STATUS:
            changes.status = _option_number(table, attribute, value)
        changes.values[attribute.writes] = _input_value(table, attribute, value)
    return changes


def _set_of(target: str) -> str:
    table = BY_LOGICAL_NAME.get(target)
    return table.entity_set if table else target + "s"


def _bind(table: Table, navigation: str, value: Any, changes: Changes, session: Session) -> None:
    bound = table.navigation(navigation)
    if bound is None:
        raise bad_request(
            "An undeclared property '%(name)s' which only has property annotations in the payload but no property "
            "value was found in the payload.",
            name=navigation,
        )
    attribute, target = bound
    if attribute.writes is None:
        raise invalid("%(name)s is read-only: leadflow sets it.", name=navigation)
    if value is None:
        changes.values[attribute.writes] = None
        if attribute.writes_kind:
            changes.values[attribute.writes_kind] = None
        return
    record_id = bound_id(table, navigation, target, value)
    if attribute.writes_kind:
        changes.values[attribute.writes_kind] = _set_of(target)
    target_table = BY_LOGICAL_NAME.get(target)
    if target_table is not None and not exists(session, target_table, record_id):
        raise record_missing(target_table, record_id)
    if attribute.writes == "currency":
        code = session.scalar(select(Currency.iso_code).where(Currency.id == record_id))
        if code is None:
            raise DataverseError(
                404, RECORD_NOT_FOUND, "%(table)s With Id = %(id)s Does Not Exist", table=target, id=record_id
            )
        changes.values["currency"] = code
        return
    changes.values[attribute.writes] = record_id


def _guid(attribute: Attribute, value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise invalid("%(name)s must be a GUID, not %(value)s.", name=attribute.name, value=str(value)[:100]) from None


def _option_number(table: Table, attribute: Attribute, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("%(name)s takes a whole number, one of its option values.", name=attribute.name)
    assert attribute.options is not None
    if attribute.options.member_of(value) is None:
        raise out_of_range(table, attribute, value)
    return value


def out_of_range(table: Table, attribute: Attribute, value: Any) -> DataverseError:
    return DataverseError(
        400,
        PICKLIST_OUT_OF_RANGE,
        "A validation error occurred. The value %(value)s of '%(name)s' on record of type '%(table)s' is outside "
        "the valid range.",
        value=str(value)[:100],
        name=attribute.name,
        table=table.logical,
    )


def _input_value(table: Table, attribute: Attribute, value: Any) -> Any:
    """A JSON value as the service input of ``attribute``; pydantic checks the rest."""
    if value is None:
        return None
    if attribute.options is not None:
        number = _option_number(table, attribute, value)
        member = attribute.options.member_of(number)
        return getattr(member, "value", member)
    if attribute.kind in (Kind.MONEY, Kind.DECIMAL):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise invalid("%(name)s takes a number.", name=attribute.name)
        return Decimal(str(value)) if not isinstance(value, str) else value
    if attribute.kind is Kind.BOOLEAN and not isinstance(value, bool):
        raise invalid("%(name)s takes true or false.", name=attribute.name)
    if attribute.kind in (Kind.STRING, Kind.MEMO) and not isinstance(value, str):
        raise invalid("%(name)s takes a text.", name=attribute.name)
    return value


def creation_input(table: Table, values: Mapping[str, Any]) -> Any:
    """The validated input that creates a record of ``table``, with what the table itself implies
    (an activity table its type)."""
    assert table.writer is not None
    return validated(table, table.writer.create_input, {**table.writer.create_defaults, **values})


def validated(table: Table, schema: type[Any], values: Mapping[str, Any]) -> Any:
    """The service input, validated as leadflow's API validates it; a refusal names logical names."""
    try:
        return schema.model_validate(nest_custom(values))
    except ValidationError as error:
        names = {attribute.writes: attribute.name for attribute in all_attributes(table) if attribute.writes}
        problems = []
        for item in error.errors(include_url=False):
            location = [str(part) for part in item.get("loc", ())]
            field = names.get(location[0], location[0]) if location else table.logical
            problems.append(f"{field}: {item.get('msg', 'invalid value')}")
        raise invalid(
            "The %(table)s was not saved: %(problems)s", table=table.logical, problems="; ".join(problems)
        ) from None


def state_values(table: Table, changes: Changes) -> tuple[Any, Any]:
    """The state and status members a body's statecode/statuscode ask for (None where not given)."""
    state_attribute, status_attribute = table.attribute("statecode"), table.attribute("statuscode")
    state = status = None
    if changes.state is not None and state_attribute is not None and state_attribute.options is not None:
        state = state_attribute.options.member_of(changes.state)
    if changes.status is not None and status_attribute is not None and status_attribute.options is not None:
        status = status_attribute.options.member_of(changes.status)
    return state, status
