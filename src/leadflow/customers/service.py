"""Account and contact use cases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_timeline_of
from leadflow.core.errors import ValidationFailed
from leadflow.core.names import compose_full_name
from leadflow.core.records import check_version, clear_lookups
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.duplicates.detection import detect_on_save
from leadflow.fields.service import apply_custom, clear_custom_lookups
from leadflow.security.access import can, get_accessible, linkable, require
from leadflow.security.actor import Actor
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege


def _checked(values: dict[str, Any], *, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """Check every record the values name (linking one needs Append To on it); derive the owner's unit."""
    session = uow.session
    with_owner_unit(session, values)
    for field, model in (("account_id", Account), ("primary_contact_id", Contact)):
        if values.get(field):
            linkable(session, actor, model, values[field], field=field)
    return values


def linkable_customer(session: Session, actor: Actor, customer_id: uuid.UUID, *, field: str) -> Account | Contact:
    """The account or contact a request names in ``field`` as a customer; linking needs Append To on it.

    One the actor may not read is answered exactly like one that does not exist (a 422 naming the field).
    """
    customer = session.get(Account, customer_id) or session.get(Contact, customer_id)
    if customer is None or not can(session, actor, Privilege.READ, customer.__tablename__, customer):
        raise ValidationFailed(
            f"{field} names no existing account or contact (id {customer_id}).",
            code=f"{field}_not_found",
            details={"fields": [{"field": field, "code": "not_found", "message": "No such account or contact."}]},
        )
    require(session, actor, Privilege.APPEND_TO, customer.__tablename__, customer)
    return customer


def _for_change(
    uow: UnitOfWork, actor: Actor, model: type[Any], record_id: uuid.UUID, label: str, privilege: Privilege
) -> Any:
    return get_accessible(uow.session, model, record_id, label=label, actor=actor, privilege=privilege, for_update=True)


def _delete(uow: UnitOfWork, actor: Actor, record: Any, *, summary: str) -> None:
    """Delete a customer with its notes; what named it (opportunities' customer) forgets it."""
    table = RegardingTable(record.__tablename__)
    delete_timeline_of(uow.session, table, record.id)
    clear_lookups(uow.session, table.value, record.id)
    clear_custom_lookups(uow.session, table.value, record.id)
    delete_owned(record, summary=summary, uow=uow, actor=actor)


def create_account(
    data: AccountCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    suppress_duplicates: bool = False,
    record_id: uuid.UUID | None = None,
) -> Account:
    """Create an active account owned by the actor unless another owner is named (with the id the
    client chose, when it chose one)."""
    values = _checked(data.model_dump(exclude_unset=True), uow=uow, actor=actor)
    apply_custom(uow.session, "accounts", values, actor=actor)
    if record_id is not None:
        values["id"] = record_id
    account = create_owned(Account, values, summary_of="name", uow=uow, actor=actor)
    detect_on_save(uow.session, account, actor=actor, suppress=suppress_duplicates)
    return account


def update_account(
    account_id: uuid.UUID,
    changes: AccountUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
    suppress_duplicates: bool = False,
) -> Account:
    """Change the given fields of an account."""
    account = _for_change(uow, actor, Account, account_id, "account", Privilege.WRITE)
    check_version(account, expected_version)
    values = _checked(changes.model_dump(exclude_unset=True), uow=uow, actor=actor)
    apply_custom(uow.session, "accounts", values, actor=actor, current=account)
    change_owned(account, values, uow=uow, actor=actor)
    detect_on_save(uow.session, account, actor=actor, suppress=suppress_duplicates, changed=values)
    return account


def delete_account(
    account_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an account and its notes; its contacts and opportunities lose the link."""
    account = _for_change(uow, actor, Account, account_id, "account", Privilege.DELETE)
    check_version(account, expected_version)
    _delete(uow, actor, account, summary=account.name)


def create_contact(
    data: ContactCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    suppress_duplicates: bool = False,
    record_id: uuid.UUID | None = None,
) -> Contact:
    """Create an active contact owned by the actor unless another owner is named (with the id the
    client chose, when it chose one)."""
    values = _checked(data.model_dump(exclude_unset=True), uow=uow, actor=actor)
    apply_custom(uow.session, "contacts", values, actor=actor)
    if record_id is not None:
        values["id"] = record_id
    values["full_name"] = compose_full_name(values.get("first_name"), values.get("last_name"))
    contact = create_owned(Contact, values, summary_of="full_name", uow=uow, actor=actor)
    detect_on_save(uow.session, contact, actor=actor, suppress=suppress_duplicates)
    return contact


def update_contact(
    contact_id: uuid.UUID,
    changes: ContactUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
    suppress_duplicates: bool = False,
) -> Contact:
    """Change the given fields of a contact."""
    contact = _for_change(uow, actor, Contact, contact_id, "contact", Privilege.WRITE)
    check_version(contact, expected_version)
    values = _checked(changes.model_dump(exclude_unset=True), uow=uow, actor=actor)
    apply_custom(uow.session, "contacts", values, actor=actor, current=contact)
    first, last = values.get("first_name", contact.first_name), values.get("last_name", contact.last_name)
    change_owned(contact, {**values, "full_name": compose_full_name(first, last)}, uow=uow, actor=actor)
    detect_on_save(uow.session, contact, actor=actor, suppress=suppress_duplicates, changed={*values, "full_name"})
    return contact


def delete_contact(
    contact_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a contact and its notes."""
    contact = _for_change(uow, actor, Contact, contact_id, "contact", Privilege.DELETE)
    check_version(contact, expected_version)
    _delete(uow, actor, contact, summary=contact.full_name)
