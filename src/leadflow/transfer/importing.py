"""Import a spreadsheet's rows into a table: each row read, checked and saved whole or not at all.

A row becomes the same command the API's create and update take (``LeadCreate``, ``AccountUpdate``...)
and is saved by the same service function, so every rule holds on import as it does on a form:
privileges, validation, duplicate detection (``detect_on_save``), audit. Each row runs in a savepoint
of its batch's transaction; a row refused rolls back alone and is reported with its reason.

Duplicates are the importer's choice (``OnDuplicate``): skip the row, create it anyway (detection
suppressed: what the API's ``suppress_duplicate_detection`` needs, which is nothing more than saving),
or update the match. The match is found by a key column (``match_on``: the record's id, or a column
such as e-mail) or else by the published duplicate rules. Rows earlier in the same file are saved
(flushed) before later ones are checked, so the file's own duplicates are caught like any other.
A row that an earlier import of the very same file (same bytes) saved is recognised by its position,
so importing a file again with ``skip`` adds nothing twice.

An empty cell leaves a field as it is: an update never clears a field through an import.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.errors import DuplicateDetected, LeadflowError, NotFound, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.fields.models import FieldKind
from leadflow.fields.service import fields_of
from leadflow.fields.values import FieldProblem, to_stored
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate, LeadUpdate, QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.organisation.models import Currency
from leadflow.security.access import access_condition, require_admin
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.transfer.fields import Column, Kind, columns_of, custom_field_of
from leadflow.transfer.models import TransferTable
from leadflow.transfer.reading import SheetRow
from leadflow.transfer.values import (
    ValueProblem,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_integer,
)
from leadflow.transfer.writing import unneutralise


class OnDuplicate(enum.StrEnum):
    """What a row that matches an existing record comes to."""

    SKIP = "skip"
    CREATE = "create"
    UPDATE = "update"


class RowStatus(enum.StrEnum):
    """What one row came to."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class TableService:
    """The model, commands and service functions an import of one table calls."""

    model: type[Any]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    create: Callable[..., Any]
    update: Callable[..., Any]
    required: tuple[str, ...]


SERVICES: dict[TransferTable, TableService] = {
    TransferTable.LEADS: TableService(
        Lead, LeadCreate, LeadUpdate, leads.create_lead, leads.update_lead, ("topic", "last_name")
    ),
    TransferTable.ACCOUNTS: TableService(
        Account, AccountCreate, AccountUpdate, customers.create_account, customers.update_account, ("name",)
    ),
    TransferTable.CONTACTS: TableService(
        Contact, ContactCreate, ContactUpdate, customers.create_contact, customers.update_contact, ("last_name",)
    ),
    TransferTable.OPPORTUNITIES: TableService(
        Opportunity,
        OpportunityCreate,
        OpportunityUpdate,
        opportunities.create_opportunity,
        opportunities.update_opportunity,
        ("name",),
    ),
}
# Columns a key match may use: the id, and columns that name one record.
KEY_COLUMNS = frozenset({"id", "email", "name", "topic", "telephone", "business_phone", "mobile_phone", "website"})


@dataclass(frozen=True)
class ImportOptions:
    """How a file is imported: into which table, which header fills which column, what duplicates come to."""

    table: TransferTable
    columns: Mapping[str, str | None]
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    match_on: str | None = None
    create_missing_accounts: bool = False
    # How ambiguous numbers and dates are read ("1.234", "03/04/2026"): as written in this language.
    language: str = "en"

    def as_parameters(self) -> dict[str, Any]:
        """The options as a job keeps them."""
        return {
            "table": self.table.value,
            "columns": dict(self.columns),
            "on_duplicate": self.on_duplicate.value,
            "match_on": self.match_on,
            "create_missing_accounts": self.create_missing_accounts,
            "language": self.language,
        }

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ImportOptions:
        """The options a job kept."""
        return cls(
            table=TransferTable(parameters["table"]),
            columns=dict(parameters.get("columns") or {}),
            on_duplicate=OnDuplicate(parameters.get("on_duplicate", OnDuplicate.SKIP.value)),
            match_on=parameters.get("match_on"),
            create_missing_accounts=bool(parameters.get("create_missing_accounts")),
            language=str(parameters.get("language") or "en"),
        )


@dataclass
class RowOutcome:
    """What one row came to, with the values it was read as (for a preview) and its refusal."""

    number: int
    status: RowStatus
    record_id: uuid.UUID | None = None
    error: LeadflowError | None = None
    values: dict[str, Any] = field(default_factory=dict)
    qualified: bool = False


def _refusal(message: str, code: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=details or None)


@dataclass(frozen=True)
class Plan:
    """A file's headers checked against the options: each imported cell's position and column."""

    options: ImportOptions
    headers: tuple[str, ...]
    cells: tuple[tuple[int, Column], ...]

    @property
    def service(self) -> TableService:
        return SERVICES[self.options.table]

    def header_of(self, field_name: str) -> str:
        """The file's header of the column that fills ``field_name`` (for messages)."""
        for position, column in self.cells:
            if field_name in (column.name, column.field):
                return self.headers[position]
        return field_name


def plan_import(options: ImportOptions, headers: list[str], *, actor: Actor) -> Plan:
    """Check the mapping against the file's headers before any row; refused with what to change."""
    table = options.table
    require_admin(actor, table.value, Privilege.CREATE)
    if options.on_duplicate is OnDuplicate.UPDATE:
        require_admin(actor, table.value, Privilege.WRITE)
    known = {column.name: column for column in columns_of(table)}
    cells: list[tuple[int, Column]] = []
    claimed: dict[str, str] = {}
    for position, header in enumerate(headers):
        name = options.columns.get(header)
        if not name:
            continue
        column = known.get(name)
        if column is None or not column.imported:
            importable = ", ".join(candidate for candidate, c in known.items() if c.imported)
            raise _refusal(
                f"The column '{header}' is mapped to {name!r}, which an import of {table.value} cannot fill; "
                f"map it to one of: {importable}, or leave it out.",
                "column_not_importable",
                column=header,
            )
        if name in claimed:
            raise _refusal(
                f"The columns '{claimed[name]}' and '{header}' are both mapped to {name!r}; map only one of them.",
                "column_mapped_twice",
                column=header,
            )
        claimed[name] = header
        cells.append((position, column))
    updating_by_id = options.match_on == "id" and options.on_duplicate is OnDuplicate.UPDATE
    missing = [name for name in SERVICES[table].required if name not in claimed]
    if missing and not updating_by_id:
        raise _refusal(
            f"No column of the file is mapped to {', '.join(missing)}, which every new record of {table.value} "
            "needs; map a column to it.",
            "required_column_unmapped",
            column=missing[0],
        )
    if options.match_on is not None:
        if options.match_on not in KEY_COLUMNS or options.match_on not in claimed:
            raise _refusal(
                f"Matching by {options.match_on!r} needs a column of the file mapped to it, and it must be one of: "
                f"{', '.join(sorted(KEY_COLUMNS & set(known)))}.",
                "invalid_match_column",
                column=options.match_on,
            )
    return Plan(options=options, headers=tuple(headers), cells=tuple(cells))


# ----------------------------------------------------------------------------------------------
# reading one row


def _problem(header: str, code: str, message: str, value: str) -> dict[str, Any]:
    return {"field": header, "code": code, "message": f"{header}: {message}", "value": value[:200]}


def _first(session: Session, statement: Any, *, text: str, what: str) -> uuid.UUID:
    """The one record ``statement`` finds, or a problem naming the column: none, or several."""
    found = session.scalars(statement.limit(2)).all()
    if not found:
        raise ValueProblem("lookup_not_found", f"no {what} goes by '{text}'; create it first or check the spelling.")
    if len(found) > 1:
        raise ValueProblem("lookup_ambiguous", f"several {what}s go by '{text}'; write the {what}'s id instead.")
    return found[0]


def _as_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


class RowReader:
    """Turns one row's cells into a command's values, looking up the records they name."""

    def __init__(self, plan: Plan, *, uow: UnitOfWork, actor: Actor) -> None:
        self.plan = plan
        self.uow = uow
        self.session = uow.session
        self.actor = actor
        self.language = plan.options.language
        # Users and currencies found, for the batch: neither is created or removed by an import.
        self._owners: dict[str, uuid.UUID] = {}
        self._currencies: set[str] = set()

    def _readable(self, model: type[Any]) -> Any:
        return select(model.id).where(access_condition(self.actor, Privilege.READ, model.__tablename__, model))

    def _account(self, text: str, header: str, current: uuid.UUID | None) -> uuid.UUID:
        by_id = _as_id(text)
        if by_id is not None:
            return by_id
        if current is not None:
            name = self.session.scalar(select(Account.name).where(Account.id == current))
            if name is not None and name.casefold() == text.casefold():
                return current
        statement = self._readable(Account).where(func.lower(Account.name) == text.lower())
        try:
            return _first(self.session, statement, text=text, what="account")
        except ValueProblem as problem:
            if problem.code != "lookup_not_found" or not self.plan.options.create_missing_accounts:
                raise
        # Created with duplicate detection on: it holds the name's match codes until the batch commits,
        # so that an import running beside this one, naming the same account, finds this one instead of
        # creating a second.
        savepoint = self.session.begin_nested()
        try:
            account = customers.create_account(AccountCreate(name=text[:160]), uow=self.uow, actor=self.actor)
        except DuplicateDetected as duplicate:
            savepoint.rollback()
            matches = [item for item in (duplicate.details or {}).get("matches", []) if isinstance(item, dict)]
            if len(matches) == 1:
                return uuid.UUID(str(matches[0]["id"]))
            raise ValueProblem(
                "lookup_ambiguous", f"several accounts look like '{text}'; write the account's id instead."
            ) from None
        savepoint.commit()
        return account.id

    def _contact(self, text: str, header: str, current: uuid.UUID | None) -> uuid.UUID:
        by_id = _as_id(text)
        if by_id is not None:
            return by_id
        if current is not None:
            known = self.session.execute(select(Contact.email, Contact.full_name).where(Contact.id == current)).first()
            if known is not None and text.casefold() in {(known[0] or "").casefold(), known[1].casefold()}:
                return current
        column = Contact.email if "@" in text else Contact.full_name
        statement = self._readable(Contact).where(func.lower(column) == text.lower())
        return _first(self.session, statement, text=text, what="contact")

    def _customer(self, text: str, header: str, current: uuid.UUID | None) -> uuid.UUID:
        try:
            return self._account(text, header, current)
        except ValueProblem as problem:
            if problem.code != "lookup_not_found":
                raise
            return self._contact(text, header, current)

    def _owner(self, text: str, header: str) -> uuid.UUID:
        by_id = _as_id(text)
        if by_id is not None:
            return by_id
        key = text.lower()
        if key not in self._owners:  # a file names the same few owners on every row
            statement = select(User.id).where(func.lower(User.email) == key)
            self._owners[key] = _first(self.session, statement, text=text, what="user")
        return self._owners[key]

    def _currency(self, text: str) -> str:
        code = text.strip().upper()
        if code not in self._currencies:
            if self.session.scalar(select(Currency.id).where(Currency.iso_code == code)) is None:
                raise ValueProblem("lookup_not_found", f"no enabled currency has the code '{text}'.")
            self._currencies.add(code)
        return code

    def _custom(self, column: Column, text: str) -> Any:
        """A custom field's cell: numbers and dates as the file's language writes them; the rest as
        text, which the field reads (an option by its value or its label in either language)."""
        field = custom_field_of(self.plan.options.table, column)
        if field.kind is FieldKind.WHOLE_NUMBER:
            return parse_integer(text, language=self.language)
        if field.kind in (FieldKind.DECIMAL, FieldKind.MONEY):
            return parse_decimal(text, language=self.language)
        if field.kind is FieldKind.DATE:
            return parse_date(text, language=self.language)
        if field.kind is FieldKind.YES_NO:
            return parse_bool(text)
        return text

    def value(self, column: Column, text: str, header: str, current: Any = None) -> Any:
        """The value of one cell for its column; ValueProblem when it cannot be read."""
        kind = column.kind
        if kind in (Kind.TEXT, Kind.ID):
            return text
        if kind is Kind.CHOICE:
            return parse_choice(text, column.choice_labels())
        if kind is Kind.DECIMAL:
            return parse_decimal(text, language=self.language)
        if kind is Kind.INTEGER:
            return parse_integer(text, language=self.language)
        if kind is Kind.DATE:
            return parse_date(text, language=self.language)
        if kind is Kind.BOOLEAN:
            return parse_bool(text)
        if kind is Kind.CURRENCY:
            return self._currency(text)
        if kind is Kind.CUSTOM:
            return self._custom(column, text)
        if kind is Kind.OWNER:
            return self._owner(text, header)
        current_link = getattr(current, column.field, None) if current is not None else None
        if kind is Kind.ACCOUNT:
            return self._account(text, header, current_link)
        if kind is Kind.CONTACT:
            return self._contact(text, header, current_link)
        if kind is Kind.CUSTOMER:
            return self._customer(text, header, current_link)
        raise AssertionError(kind)

    def values(self, row: SheetRow, *, current: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The row's values by input field, and a problem for each cell that cannot be read."""
        headers = self.plan.headers
        if len(row.cells) != len(headers):
            raise _refusal(
                f"Row {row.number} has {len(row.cells)} values but the header has {len(headers)} columns; "
                "check the row's separators and quotes.",
                "ragged_row",
                cells=len(row.cells),
                headers=len(headers),
            )
        values: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        for position, column in self.plan.cells:
            text = unneutralise(row.cells[position])
            if not text:
                continue
            header = headers[position]
            try:
                values[column.field] = self.value(column, text, header, current)
            except ValueProblem as problem:
                problems.append(_problem(header, problem.code, problem.message, text))
        return values, problems


# ----------------------------------------------------------------------------------------------
# saving one row


def _command(plan: Plan, schema: type[BaseModel], values: dict[str, Any], problems: list[dict[str, Any]]) -> BaseModel:
    """The service's command from the row's values; refused with every problem of the row at once (the
    cells that could not be read and the values the command refuses), each naming the file's header."""
    items = list(problems)
    unread = {item["field"] for item in problems}
    given = {name: value for name, value in values.items() if name not in ("id", "qualify")}
    custom = {name.removeprefix("custom."): given.pop(name) for name in list(given) if name.startswith("custom.")}
    if custom:
        given["custom"] = custom
    try:
        command = parse(schema, given)
    except ValidationFailed as error:
        command = None
        for item in (error.details or {}).get("fields", []):
            header = plan.header_of(str(item.get("field", "")))
            if header not in unread:
                items.append({**item, "field": header, "message": f"{header}: {item.get('message', '')}"})
    if items or command is None:
        code = items[0]["code"] if len({item["code"] for item in items}) == 1 else "invalid_cells"
        raise ValidationFailed(" ".join(item["message"] for item in items), code=code, details={"fields": items})
    return command


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, Decimal) or isinstance(new, Decimal):
        try:
            return current is not None and new is not None and Decimal(current) == Decimal(new)
        except (ArithmeticError, TypeError, ValueError):
            return False
    if isinstance(current, enum.Enum):
        current = current.value
    if isinstance(new, enum.Enum):
        new = new.value
    return bool(current == new)


def _custom_changes(session: Session, record: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """The custom values of a row that differ from the record's, compared as stored (an option's
    label and its value are the same choice); one the field refuses counts as a change, for the
    service to refuse."""
    fields = {field.name: field for field in fields_of(session, record.__tablename__)}
    differing = {}
    for name, value in given.items():
        field = fields.get(name)
        try:
            same = field is not None and to_stored(field, value) == (record.custom or {}).get(name)
        except FieldProblem:
            same = False
        if not same:
            differing[name] = value
    return differing


def _changes(record: Any, command: BaseModel, session: Session) -> dict[str, Any]:
    """The fields of ``command`` whose value differs from the record's."""
    changed = {}
    for name in command.model_fields_set:
        new = getattr(command, name)
        if name == "currency":
            code = session.scalar(select(Currency.iso_code).where(Currency.id == record.currency_id))
            if (code or None) != (new or None):
                changed[name] = new
            continue
        if name == "custom":
            differing = _custom_changes(session, record, new or {})
            if differing:
                changed[name] = differing
            continue
        if not _same(getattr(record, name, None), new):
            changed[name] = new
    return changed


class RowSaver:
    """Saves rows of one plan, each in a savepoint of the caller's transaction."""

    def __init__(self, plan: Plan, *, uow: UnitOfWork, actor: Actor, earlier: Mapping[int, uuid.UUID]) -> None:
        self.plan = plan
        self.uow = uow
        self.session = uow.session
        self.actor = actor
        self.reader = RowReader(plan, uow=uow, actor=actor)
        self.service = plan.service
        # Records that earlier imports of this same file saved, by the row's position.
        self.earlier = earlier

    def save(self, row: SheetRow, position: int) -> RowOutcome:
        """Save one row whole or not at all; its outcome says what it came to."""
        savepoint = self.session.begin_nested()
        try:
            outcome = self._save(row, position)
        except LeadflowError as error:
            savepoint.rollback()
            return RowOutcome(row.number, RowStatus.FAILED, error=error)
        except DuplicateSkip as skipped:
            savepoint.rollback()
            return RowOutcome(row.number, RowStatus.SKIPPED, record_id=skipped.record_id, error=skipped.error)
        savepoint.commit()
        return outcome

    def _existing(self, record_id: uuid.UUID) -> Any:
        model = self.service.model
        return self.session.get(model, record_id)

    def _match_by_key(self, values: dict[str, Any]) -> uuid.UUID | None:
        """The record the key column names, among those the user may read; None when none does."""
        key = self.plan.options.match_on
        assert key is not None
        model = self.service.model
        value = values.get(key)
        if value in (None, ""):
            return None
        if key == "id":
            record_id = _as_id(str(value))
            if record_id is None:
                raise _refusal(f"'{value}' is not a record id.", "invalid_id", column=key)
            statement = select(model.id).where(model.id == record_id)
        else:
            statement = select(model.id).where(func.lower(getattr(model, key)) == str(value).lower())
        statement = statement.where(access_condition(self.actor, Privilege.READ, model.__tablename__, model))
        found = self.session.scalars(statement.limit(2)).all()
        if len(found) > 1:
            raise _refusal(
                f"Several records have this {key}; match by their id instead.", "ambiguous_match", column=key
            )
        return found[0] if found else None

    def _save(self, row: SheetRow, position: int) -> RowOutcome:
        options = self.plan.options
        earlier = self.earlier.get(position)
        if earlier is not None and self._existing(earlier) is None:
            earlier = None
        if earlier is not None and options.on_duplicate is OnDuplicate.SKIP:
            raise DuplicateSkip(
                earlier,
                InvalidRow(
                    "An earlier import of this same file saved this row; it was skipped.", code="already_imported"
                ),
            )
        values, problems = self.reader.values(row)
        qualify = bool(values.pop("qualify", False))
        match: uuid.UUID | None = earlier if options.on_duplicate is OnDuplicate.UPDATE else None
        if match is None and options.match_on is not None and options.on_duplicate is not OnDuplicate.CREATE:
            match = self._match_by_key(values)
            if match is not None and options.on_duplicate is OnDuplicate.SKIP:
                raise DuplicateSkip(
                    match,
                    InvalidRow(
                        f"A record with the same {options.match_on} exists; the row was skipped.", code="key_match"
                    ),
                )
        if match is None and options.match_on == "id" and values.get("id"):
            raise NotFound(f"No {options.table.value[:-1]} has the id {values['id']}.", code="not_found")
        if match is not None:
            outcome = self._update(row, match)
        else:
            outcome = self._create(row, values, problems)
        if qualify and options.table is TransferTable.LEADS and outcome.record_id is not None:
            leads.qualify_lead(outcome.record_id, QualifyOptions(), uow=self.uow, actor=self.actor)
            outcome.qualified = True
        return outcome

    def _create(self, row: SheetRow, values: dict[str, Any], problems: list[dict[str, Any]]) -> RowOutcome:
        options = self.plan.options
        command = _command(self.plan, self.service.create_schema, values, problems)
        suppress = options.on_duplicate is OnDuplicate.CREATE
        # Only a match to update needs the refused create undone apart; otherwise the row's own
        # savepoint (``save``) undoes it with the rest of the row.
        savepoint = self.session.begin_nested() if options.on_duplicate is OnDuplicate.UPDATE else None
        try:
            record = self.service.create(command, uow=self.uow, actor=self.actor, suppress_duplicates=suppress)
        except DuplicateDetected as duplicate:
            if savepoint is None:
                raise DuplicateSkip(None, duplicate) from None
            savepoint.rollback()
            matches = [item for item in (duplicate.details or {}).get("matches", []) if isinstance(item, dict)]
            if options.on_duplicate is OnDuplicate.UPDATE:
                if len(matches) != 1:
                    raise _refusal(
                        f"{len(matches)} records match this row by the duplicate detection rules; "
                        "choose a key column (such as the id or the e-mail) to say which one to update.",
                        "ambiguous_match",
                    ) from None
                return self._update(row, uuid.UUID(str(matches[0]["id"])))
            raise DuplicateSkip(None, duplicate) from None
        if savepoint is not None:
            savepoint.commit()
        return RowOutcome(row.number, RowStatus.CREATED, record_id=record.id, values=values)

    def _update(self, row: SheetRow, record_id: uuid.UUID) -> RowOutcome:
        record = self._existing(record_id)
        if record is None:
            raise NotFound(f"The record {record_id} no longer exists.", code="not_found")
        values, problems = self.reader.values(row, current=record)
        values.pop("qualify", None)
        command = _command(self.plan, self.service.update_schema, values, problems)
        changes = _changes(record, command, self.session)
        if not changes:
            return RowOutcome(row.number, RowStatus.UNCHANGED, record_id=record_id, values=values)
        changed = self.service.update_schema.model_validate(changes)
        self.service.update(record_id, changed, uow=self.uow, actor=self.actor, suppress_duplicates=True)
        return RowOutcome(row.number, RowStatus.UPDATED, record_id=record_id, values=values)


class InvalidRow(LeadflowError):
    """A row that is not saved for a reason of the import itself (already imported, matched by key)."""


class DuplicateSkip(Exception):
    """The row matches a record and the import skips such rows."""

    def __init__(self, record_id: uuid.UUID | None, error: LeadflowError) -> None:
        super().__init__(error.message)
        self.record_id = record_id
        self.error = error
