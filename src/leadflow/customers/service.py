"""Account and contact use cases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from leadflow.activity.models import RegardingTable
from leadflow.activity.service import delete_notes_of
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.leads.models import compose_full_name
from leadflow.opportunities.models import Opportunity
from leadflow.records import apply_changes, check_version, get_record, get_reference
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.uow import UnitOfWork


def _checked(values: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Check every record the values name and derive the owner's business unit."""
    session = uow.session
    if values.get("owner_user_id"):
        owner = get_reference(session, User, values["owner_user_id"], field="owner_user_id", label="user")
        values["owning_business_unit_id"] = owner.business_unit_id
    if values.get("account_id"):
        get_reference(session, Account, values["account_id"], field="account_id", label="account")
    if values.get("primary_contact_id"):
        get_reference(session, Contact, values["primary_contact_id"], field="primary_contact_id", label="contact")
    return values


def _ownership(actor: Actor) -> dict[str, uuid.UUID]:
    return {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }


def _forget_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """Opportunities of a deleted customer keep existing without one (like their parent links)."""
    uow.session.execute(
        update(Opportunity)
        .where(Opportunity.customer_id == customer_id)
        .values(customer_id=None, customer_kind=None, row_version=Opportunity.row_version + 1)
        .execution_options(synchronize_session="fetch")
    )


def create_account(data: AccountCreate, *, uow: UnitOfWork, actor: Actor) -> Account:
    """Create an active account owned by the actor unless another owner is named."""
    values = {**_ownership(actor), **_checked(data.model_dump(exclude_unset=True), uow=uow)}
    account = Account(id=uuid.uuid4(), **values)
    uow.session.add(account)
    uow.flush()
    return account


def update_account(
    account_id: uuid.UUID, changes: AccountUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Account:
    """Change the given fields of an account."""
    account = get_record(uow.session, Account, account_id, label="account", for_update=True)
    check_version(account, expected_version)
    apply_changes(account, _checked(changes.model_dump(exclude_unset=True), uow=uow))
    account.modified_by_id = actor.user_id
    uow.flush()
    return account


def delete_account(
    account_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an account and its notes; its contacts and opportunities lose the link."""
    account = get_record(uow.session, Account, account_id, label="account", for_update=True)
    check_version(account, expected_version)
    delete_notes_of(uow.session, RegardingTable.ACCOUNTS, account.id)
    _forget_customer(uow, account.id)
    uow.session.delete(account)
    uow.flush()


def create_contact(data: ContactCreate, *, uow: UnitOfWork, actor: Actor) -> Contact:
    """Create an active contact owned by the actor unless another owner is named."""
    values = {**_ownership(actor), **_checked(data.model_dump(exclude_unset=True), uow=uow)}
    contact = Contact(id=uuid.uuid4(), **values)
    contact.full_name = compose_full_name(contact.first_name, contact.last_name)
    uow.session.add(contact)
    uow.flush()
    return contact


def update_contact(
    contact_id: uuid.UUID, changes: ContactUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Contact:
    """Change the given fields of a contact."""
    contact = get_record(uow.session, Contact, contact_id, label="contact", for_update=True)
    check_version(contact, expected_version)
    apply_changes(contact, _checked(changes.model_dump(exclude_unset=True), uow=uow))
    contact.full_name = compose_full_name(contact.first_name, contact.last_name)
    contact.modified_by_id = actor.user_id
    uow.flush()
    return contact


def delete_contact(
    contact_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a contact and its notes."""
    contact = get_record(uow.session, Contact, contact_id, label="contact", for_update=True)
    check_version(contact, expected_version)
    delete_notes_of(uow.session, RegardingTable.CONTACTS, contact.id)
    _forget_customer(uow, contact.id)
    uow.session.delete(contact)
    uow.flush()
