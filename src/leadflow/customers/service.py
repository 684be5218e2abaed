"""Account and contact use cases."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_notes_of
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.duplicates.detection import detect_on_save
from leadflow.core.names import compose_full_name
from leadflow.security.audit import changed_fields, record_action
from leadflow.core.records import apply_changes, check_version, clear_lookups, get_reference
from leadflow.security.access import get_accessible
from leadflow.security.access import require, require_create
from leadflow.security.privileges import Privilege
from leadflow.security.service import delete_shares_of
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.core.uow import UnitOfWork


def _checked(values: dict[str, Any], *, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """Check every record the values name (linking one needs Append To on it); derive the owner's unit."""
    session = uow.session
    if values.get("owner_user_id"):
        owner = get_reference(session, User, values["owner_user_id"], field="owner_user_id", label="user")
        values["owning_business_unit_id"] = owner.business_unit_id
    for field, model, label in (("account_id", Account, "account"), ("primary_contact_id", Contact, "contact")):
        if values.get(field):
            linked = get_reference(session, model, values[field], field=field, label=label)
            require(session, actor, Privilege.APPEND_TO, model.__tablename__, linked)
    return values


def _for_change(uow: UnitOfWork, actor: Actor, model: type, record_id: uuid.UUID, label: str, privilege: Privilege) -> Any:
    return get_accessible(uow.session, model, record_id, label=label, actor=actor, privilege=privilege, for_update=True)


def _apply_with_audit(uow: UnitOfWork, actor: Actor, record: Any, values: dict[str, Any]) -> None:
    """Apply changes (an owner change needs Assign), audit the changed fields, flush."""
    table = record.__tablename__
    if "owner_user_id" in values and values["owner_user_id"] != record.owner_user_id:
        require(uow.session, actor, Privilege.ASSIGN, table, record)
    apply_changes(record, values)
    record.modified_by_id = actor.user_id
    record_action(uow.session, actor, "update", table=table, record_id=record.id, changes=changed_fields(record))
    uow.flush()


def _ownership(actor: Actor) -> dict[str, uuid.UUID]:
    return {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }


def create_account(
    data: AccountCreate, *, uow: UnitOfWork, actor: Actor, suppress_duplicates: bool = False
) -> Account:
    """Create an active account owned by the actor unless another owner is named."""
    values = {**_ownership(actor), **_checked(data.model_dump(exclude_unset=True), uow=uow, actor=actor)}
    account = Account(id=uuid.uuid4(), **values)
    require_create(actor, "accounts", owner_user_id=account.owner_user_id, owning_unit_id=account.owning_business_unit_id)
    uow.session.add(account)
    uow.flush()
    detect_on_save(uow.session, account, actor=actor, suppress=suppress_duplicates)
    record_action(uow.session, actor, "create", table="accounts", record_id=account.id, summary=account.name)
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
    _apply_with_audit(uow, actor, account, values)
    detect_on_save(uow.session, account, actor=actor, suppress=suppress_duplicates, changed=values)
    return account


def delete_account(
    account_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an account and its notes; its contacts and opportunities lose the link."""
    account = _for_change(uow, actor, Account, account_id, "account", Privilege.DELETE)
    check_version(account, expected_version)
    delete_notes_of(uow.session, RegardingTable.ACCOUNTS, account.id)
    delete_shares_of(uow.session, "accounts", account.id)
    clear_lookups(uow.session, "accounts", account.id)
    uow.session.delete(account)
    uow.flush()
    record_action(uow.session, actor, "delete", table="accounts", record_id=account_id, summary=account.name)


def create_contact(
    data: ContactCreate, *, uow: UnitOfWork, actor: Actor, suppress_duplicates: bool = False
) -> Contact:
    """Create an active contact owned by the actor unless another owner is named."""
    values = {**_ownership(actor), **_checked(data.model_dump(exclude_unset=True), uow=uow, actor=actor)}
    contact = Contact(id=uuid.uuid4(), **values)
    require_create(actor, "contacts", owner_user_id=contact.owner_user_id, owning_unit_id=contact.owning_business_unit_id)
    contact.full_name = compose_full_name(contact.first_name, contact.last_name)
    uow.session.add(contact)
    uow.flush()
    detect_on_save(uow.session, contact, actor=actor, suppress=suppress_duplicates)
    record_action(uow.session, actor, "create", table="contacts", record_id=contact.id, summary=contact.full_name)
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
    first, last = values.get("first_name", contact.first_name), values.get("last_name", contact.last_name)
    _apply_with_audit(uow, actor, contact, {**values, "full_name": compose_full_name(first, last)})
    detect_on_save(uow.session, contact, actor=actor, suppress=suppress_duplicates, changed={*values, "full_name"})
    return contact


def delete_contact(
    contact_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a contact and its notes."""
    contact = _for_change(uow, actor, Contact, contact_id, "contact", Privilege.DELETE)
    check_version(contact, expected_version)
    delete_notes_of(uow.session, RegardingTable.CONTACTS, contact.id)
    delete_shares_of(uow.session, "contacts", contact.id)
    clear_lookups(uow.session, "contacts", contact.id)
    uow.session.delete(contact)
    uow.flush()
    record_action(uow.session, actor, "delete", table="contacts", record_id=contact_id, summary=contact.full_name)
