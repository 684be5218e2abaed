"""The page of one account, contact or opportunity, and the empty form of a new one: the record's
form with the user's input and any refusal, the related records, the opportunity's sales process
and the timeline (notes, activities and close records, drawn by ``leadflow.web.timeline``). The routes
that show them are in ``records``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import and_, or_, select

from leadflow.activities.models import RegardingTable
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.http.errors import status_for
from leadflow.leads.models import Lead
from leadflow.opportunities.models import CustomerKind, Opportunity, OpportunityStatusReason
from leadflow.organisation.models import Campaign, Currency
from leadflow.organisation.service import get_settings
from leadflow.process.flow import opportunity_process
from leadflow.security.access import access_condition, can, get_accessible
from leadflow.security.privileges import Depth, Privilege
from leadflow.web import custom_values
from leadflow.web.areas.opportunities_page import close_entries, opportunity_panel
from leadflow.web.areas.opportunity_products_page import products_panel
from leadflow.web.areas.records_forms import (
    ACCOUNTS,
    CONTACTS,
    OPPORTUNITIES,
    STEP_FIELDS,
    RecordKind,
    form_values,
    option_lists,
)
from leadflow.web.areas.records_lists import owner_names, readable_names
from leadflow.web.areas.sales_lines import SectionFailure
from leadflow.web.areas.sharing import share_panel
from leadflow.web.forms import Refusal, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS, DECISION_LABELS, STAGE_LABELS, STEP_LABELS
from leadflow.web.notes import EMPTY_NOTE, PostedNote, file_size, max_attachment_bytes
from leadflow.web.pages import WebSession, database_of, render
from leadflow.web.timeline import QuickForm, TimelineQuery, build_timeline

# Related records listed on a record's page (the rest are a search away in the lists).
RELATED_LIMIT = 50

STAGE_STATUS_LABELS = {
    "completed": N_("Completed stage"),
    "active": N_("Active stage"),
    "pending": N_("Stage not started"),
}


def refused_page(request: Request, session: WebSession, kind: RecordKind, error: LeadflowError) -> Response:
    """A record the user cannot open: 404 when it does not exist, 403 when they may not read it."""
    return render(
        request,
        session,
        "records/refused.html",
        status_code=status_for(error),
        kind=kind,
        refusal=refusal(session.language, error),
    )


def can_create(session: WebSession, table: str) -> bool:
    """Whether the user may create records of the table at all."""
    return session.actor.depth(table, Privilege.CREATE) is not Depth.NONE


def readable_record(uow: UnitOfWork, session: WebSession, kind: RecordKind, record_id: uuid.UUID) -> Any:
    """The record, refused as not found or forbidden unless the user may read it."""
    return get_accessible(
        uow.session, kind.model, record_id, label=kind.singular.lower(), actor=session.actor, privilege=Privilege.READ
    )


def _readable(uow: UnitOfWork, session: WebSession, statement: Any, model: type[Any]) -> list[Any]:
    condition = access_condition(session.actor, Privilege.READ, model.__tablename__, model)
    return list(uow.session.scalars(statement.where(condition).limit(RELATED_LIMIT)))


def _opportunities_of(record_id: uuid.UUID, parent_column: Any, customer_kind: CustomerKind) -> Any:
    """The opportunities whose parent, or whose potential customer, is this account or contact, newest first."""
    return (
        select(Opportunity)
        .where(
            or_(
                parent_column == record_id,
                and_(Opportunity.customer_kind == customer_kind, Opportunity.customer_id == record_id),
            )
        )
        .order_by(Opportunity.created_at.desc(), Opportunity.id)
    )


def _related(uow: UnitOfWork, session: WebSession, kind: RecordKind, record: Any) -> dict[str, Any]:
    """The records shown beside this one: an account's contacts and opportunities, a contact's account..."""
    db = uow.session
    actor = session.actor
    related: dict[str, Any] = {}
    if kind is ACCOUNTS:
        related["contacts"] = _readable(
            uow,
            session,
            select(Contact).where(Contact.account_id == record.id).order_by(Contact.full_name, Contact.id),
            Contact,
        )
        related["opportunities"] = _readable(
            uow, session, _opportunities_of(record.id, Opportunity.parent_account_id, CustomerKind.ACCOUNT), Opportunity
        )
        related["primary_contact"] = readable_names(db, actor, Contact, [record.primary_contact_id])
    elif kind is CONTACTS:
        related["account"] = readable_names(db, actor, Account, [record.account_id])
        related["opportunities"] = _readable(
            uow, session, _opportunities_of(record.id, Opportunity.parent_contact_id, CustomerKind.CONTACT), Opportunity
        )
    else:
        customer_model = Account if record.customer_kind is CustomerKind.ACCOUNT else Contact
        customer_name = readable_names(db, actor, customer_model, [record.customer_id]).get(record.customer_id)
        related["customer"] = (
            (customer_name, f"/{customer_model.__tablename__}/{record.customer_id}") if customer_name else None
        )
        account = readable_names(db, actor, Account, [record.parent_account_id]).get(record.parent_account_id)
        contact = readable_names(db, actor, Contact, [record.parent_contact_id]).get(record.parent_contact_id)
        related["parent_account"] = (account, f"/accounts/{record.parent_account_id}") if account else None
        related["parent_contact"] = (contact, f"/contacts/{record.parent_contact_id}") if contact else None
        campaign = db.get(Campaign, record.campaign_id) if record.campaign_id else None
        related["campaign"] = campaign.name if campaign else None
    related["lead"] = _originating_lead(uow, session, record)
    if "opportunities" in related:
        codes = dict(db.execute(select(Currency.id, Currency.iso_code)).all())
        related["currency_codes"] = codes
    return related


def _originating_lead(uow: UnitOfWork, session: WebSession, record: Any) -> dict[str, Any] | None:
    """The lead a record came from: a link when the user may read it, a plain mention otherwise."""
    if not record.originating_lead_id:
        return None
    lead = uow.session.get(Lead, record.originating_lead_id)
    if lead is None:
        return None
    if not can(uow.session, session.actor, Privilege.READ, "leads", lead):
        return {"name": None, "href": None}
    return {"name": f"{lead.full_name} · {lead.topic}", "href": f"/leads/{lead.id}"}


def _form_page(
    request: Request,
    session: WebSession,
    uow: UnitOfWork,
    kind: RecordKind,
    record: Any,
    *,
    values: dict[str, Any],
    failure: Refusal | None,
    status_code: int,
    **context: Any,
) -> Response:
    """The record form, stored or new, with what every record form shows."""
    options = option_lists(
        kind, session=uow.session, actor=session.actor, record=record, values=values, language=session.language
    )
    custom_inputs = custom_values.form_inputs(
        uow.session, kind.path, actor=session.actor, language=session.language, values=values
    )
    return render(
        request,
        session,
        "records/record.html",
        status_code=status_code,
        kind=kind,
        record=record,
        values=values,
        options=options,
        refusal=failure,
        field_errors=failure.fields if failure else {},
        max_attachment=file_size(session.language, max_attachment_bytes(request)),
        stage_labels=STAGE_LABELS,
        step_labels=STEP_LABELS,
        step_fields=STEP_FIELDS,
        choice_labels=CHOICE_LABELS,
        decision_maker_labels=DECISION_LABELS,
        stage_status_labels=STAGE_STATUS_LABELS,
        custom_inputs=custom_inputs,
        **context,
    )


def record_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    record_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    note_failure: Refusal | None = None,
    note_values: PostedNote = EMPTY_NOTE,
    notice: str | None = None,
    form_version: int | None = None,
    products_failure: SectionFailure | None = None,
    timeline_query: TimelineQuery | None = None,
    quick: QuickForm | None = None,
) -> Response:
    """The record's page: its form (with the given input and refusal), related records, process and timeline;
    an opportunity's products too (``products_failure``: a refused form of theirs, shown beside it).
    ``timeline_query`` narrows and pages the timeline; ``quick`` is a refused quick-create form to open again.

    A refused form keeps the row version its input was based on (``form_version``), so saving it
    again stays refused until the user reloads the record: a stale form never overwrites a newer one.
    """
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            record = readable_record(uow, session, kind, record_id)
        except LeadflowError as error:
            return refused_page(request, session, kind, error)
        actor = session.actor
        stored: dict[str, Any] = {
            **form_values(kind, record, session=uow.session, language=session.language),
            **custom_values.form_values(
                uow.session, kind.path, record.custom, language=session.language, zone=session.time_zone
            ),
        }
        may_write = can(uow.session, actor, Privilege.WRITE, kind.path, record)
        # A won or lost opportunity is read-only until it is reopened (its page offers Reopen instead).
        editable = getattr(record, "is_open", True)
        opportunity = opportunity_panel(uow, session, record, may_write=may_write) if kind is OPPORTUNITIES else None
        products = (
            products_panel(uow, session, record, may_write=may_write, failure=products_failure)
            if kind is OPPORTUNITIES
            else None
        )
        timeline = build_timeline(
            request,
            uow,
            session,
            RegardingTable(kind.path),
            record,
            query=timeline_query or TimelineQuery(),
            editable=editable,
            quick=quick,
            close_entries=lambda closes: close_entries(uow, session, closes),
        )
        return _form_page(
            request,
            session,
            uow,
            kind,
            record,
            values={**stored, **(values or {})},
            failure=failure,
            status_code=status_code,
            title=kind.display_name(record),
            form_version=form_version or record.row_version,
            note_refusal=note_failure,
            note_values=note_values,
            notice=notice,
            creating=False,
            can_write=may_write and editable,
            can_delete=can(uow.session, actor, Privilege.DELETE, kind.path, record),
            can_append=editable and can(uow.session, actor, Privilege.APPEND_TO, kind.path, record),
            share=share_panel(uow, session, kind.path, record),
            related=_related(uow, session, kind, record),
            timeline=timeline,
            owner=owner_names(uow.session, [record]).get(record.owner_user_id or record.owner_team_id, ""),
            process=opportunity_process(record.id, uow=uow, actor=actor) if kind is OPPORTUNITIES else None,
            opportunity=opportunity,
            products=products,
        )


def new_page(
    request: Request,
    session: WebSession,
    kind: RecordKind,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    """An empty form for a new record (owned by the user, in the base currency), or the refused one again."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        defaults: dict[str, Any] = {item.name: "" for item in kind.fields(creating=True)}
        defaults.update(
            custom_values.form_values(uow.session, kind.path, None, language=session.language, zone=session.time_zone)
        )
        defaults["owner_user_id"] = str(session.actor.user_id)
        if kind is OPPORTUNITIES:
            settings = get_settings(uow.session)
            base = uow.session.get(Currency, settings.base_currency_id) if settings.base_currency_id else None
            defaults["currency"] = base.iso_code if base else ""
            defaults["status_reason"] = OpportunityStatusReason.IN_PROGRESS.value
        return _form_page(
            request,
            session,
            uow,
            kind,
            None,
            values=values if values is not None else defaults,
            failure=failure,
            status_code=status_code,
            title=gettext(session.language, kind.new_title),
            notice=None,
            creating=True,
            can_write=can_create(session, kind.path),
            can_delete=False,
            can_append=False,
            related={},
            timeline=None,
            process=None,
            note_refusal=None,
            note_values=EMPTY_NOTE,
            owner="",
            opportunity=None,
        )
