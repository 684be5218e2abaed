"""Input and output shapes of accounts and contacts."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints

from leadflow.core.schemas import (
    AddressFields,
    AddressOut,
    CustomIn,
    CustomOut,
    Email,
    InputModel,
    NotCleared,
    RecordOut,
    RequiredName,
    Text50,
    Text100,
    Text200,
)
from leadflow.customers.models import CustomerState, PaymentTerms

AccountName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]


class AccountFields(AddressFields):
    custom: CustomIn = None
    website: Text200 | None = None
    telephone: Text50 | None = None
    email: Email | None = None
    description: str | None = None
    payment_terms: PaymentTerms | None = None
    owner_user_id: uuid.UUID | None = None
    primary_contact_id: uuid.UUID | None = None


class AccountCreate(AccountFields, InputModel):
    name: AccountName


class AccountUpdate(AccountFields, InputModel):
    name: Annotated[AccountName | None, NotCleared] = None


class AccountOut(RecordOut, AddressOut):
    custom: CustomOut
    name: str
    website: str | None
    telephone: str | None
    email: str | None
    description: str | None
    payment_terms: PaymentTerms | None
    owner_user_id: uuid.UUID | None
    primary_contact_id: uuid.UUID | None
    originating_lead_id: uuid.UUID | None
    master_id: uuid.UUID | None
    state: CustomerState


class ContactFields(AddressFields):
    custom: CustomIn = None
    first_name: Text50 | None = None
    job_title: Text100 | None = None
    email: Email | None = None
    business_phone: Text50 | None = None
    mobile_phone: Text50 | None = None
    website: Text200 | None = None
    description: str | None = None
    account_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None


class ContactCreate(ContactFields, InputModel):
    last_name: RequiredName


class ContactUpdate(ContactFields, InputModel):
    last_name: Annotated[RequiredName | None, NotCleared] = None


class ContactOut(RecordOut, AddressOut):
    custom: CustomOut
    first_name: str | None
    last_name: str
    full_name: str
    job_title: str | None
    email: str | None
    business_phone: str | None
    mobile_phone: str | None
    website: str | None
    description: str | None
    account_id: uuid.UUID | None
    owner_user_id: uuid.UUID | None
    originating_lead_id: uuid.UUID | None
    master_id: uuid.UUID | None
    state: CustomerState
