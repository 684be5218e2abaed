"""The Web API's actions and functions: QualifyLead, WinOpportunity, LoseOpportunity, Merge,
CreateMultiple, UpdateMultiple and WhoAmI, each translated onto leadflow's own use case."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from leadflow.core.errors import ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.dataverse.entities import bound_id, creation_input, read_body, validated
from leadflow.dataverse.errors import invalid
from leadflow.dataverse.tables import ACCOUNT, BY_LOGICAL_NAME, CONTACT, LEAD, OPPORTUNITY_CLOSE, Table
from leadflow.duplicates import merge as merging
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable
from leadflow.duplicates.tables import TABLES as DETECTION_TABLES
from leadflow.leads import service as leads
from leadflow.leads.models import LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import closing
from leadflow.opportunities.models import OpportunityStatusReason
from leadflow.opportunities.schemas import LoseOpportunity, WinOpportunity
from leadflow.organisation.models import Currency, OrganisationSettings
from leadflow.security.actor import Actor

# The most records one CreateMultiple or UpdateMultiple takes (Dataverse advises 100 to 1,000).
MAX_TARGETS = 5000
MERGEABLE = {"account": ACCOUNT, "contact": CONTACT, "lead": LEAD}


def _object(body: dict[str, Any], name: str, action: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise invalid("%(action)s: %(name)s must be an object.", action=action, name=name)
    return value


def _typed(entity: dict[str, Any] | None, name: str, action: str, *, allowed: dict[str, Table]) -> tuple[Table, Any]:
    """The table and id of an entity parameter (``{"accountid": ..., "@odata.type": ...}``)."""
    if entity is None:
        raise invalid("%(action)s needs the parameter %(name)s.", action=action, name=name)
    kind = str(entity.get("@odata.type", "")).removeprefix("#").removeprefix("Microsoft.Dynamics.CRM.")
    table = allowed.get(kind)
    if table is None:
        raise invalid(
            "%(action)s: %(name)s needs an @odata.type of %(types)s.",
            action=action,
            name=name,
            types=", ".join(f"Microsoft.Dynamics.CRM.{logical}" for logical in allowed),
        )
    try:
        return table, uuid.UUID(str(entity.get(table.primary_id)))
    except ValueError:
        raise invalid(
            "%(action)s: %(name)s needs its %(key)s.", action=action, name=name, key=table.primary_id
        ) from None


def _flag(body: dict[str, Any], name: str, action: str, *, required: bool = True) -> bool | None:
    if name not in body or body[name] is None:
        if required:
            raise invalid("%(action)s needs the parameter %(name)s (true or false).", action=action, name=name)
        return None
    if not isinstance(body[name], bool):
        raise invalid("%(action)s: %(name)s takes true or false.", action=action, name=name)
    return body[name]


def _status(body: dict[str, Any], action: str, allowed: dict[int, Any], default: Any) -> Any:
    value = body.get("Status")
    if value is None or value == -1:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise invalid(
            "%(action)s: Status must be one of %(values)s.", action=action, values=", ".join(map(str, allowed))
        )
    return allowed[value]


def qualify_lead(
    lead_id: uuid.UUID, body: dict[str, Any], *, uow: UnitOfWork, actor: Actor, suppress: bool
) -> list[dict[str, Any]]:
    """QualifyLead: the records created, each with its @odata.type; the booleans are explicit."""
    action = "QualifyLead"
    create = {name: _flag(body, name, action) for name in ("CreateAccount", "CreateContact", "CreateOpportunity")}
    if "Status" not in body:
        raise invalid("%(action)s needs the parameter %(name)s (3, Qualified).", action=action, name="Status")
    _status(body, action, {LeadStatusReason.QUALIFIED.code: LeadStatusReason.QUALIFIED}, LeadStatusReason.QUALIFIED)
    currency = _object(body, "OpportunityCurrencyId", action)
    customer = _object(body, "OpportunityCustomerId", action)
    campaign = _object(body, "SourceCampaignId", action)
    code = None
    if currency is not None:
        currency_id = _typed(currency, "OpportunityCurrencyId", action, allowed={"transactioncurrency": _currency()})[1]
        code = uow.session.scalar(select(Currency.iso_code).where(Currency.id == currency_id))
        if code is None:
            raise invalid("%(action)s: no currency has the id %(id)s.", action=action, id=currency_id)
    customer_id = None
    if customer is not None:
        customer_id = _typed(
            customer, "OpportunityCustomerId", action, allowed={"account": ACCOUNT, "contact": CONTACT}
        )[1]
    campaign_id = None
    if campaign is not None:
        try:
            campaign_id = uuid.UUID(str(campaign.get("campaignid")))
        except ValueError:
            raise invalid("%(action)s: SourceCampaignId needs its campaignid.", action=action) from None
    try:
        options = QualifyOptions(
            create_account=create["CreateAccount"],
            create_contact=create["CreateContact"],
            create_opportunity=create["CreateOpportunity"],
            opportunity_currency=code,
            opportunity_customer_id=customer_id,
            source_campaign_id=campaign_id,
            suppress_duplicate_detection=suppress,
        )
    except ValueError as error:
        raise invalid("%(action)s: %(problem)s", action=action, problem=str(error).splitlines()[0]) from None
    result = leads.qualify_lead(lead_id, options, uow=uow, actor=actor)
    created: list[dict[str, Any]] = []
    if result.account_id is not None:
        created.append({"@odata.type": "#Microsoft.Dynamics.CRM.account", "accountid": str(result.account_id)})
    if result.contact_id is not None:
        created.append({"@odata.type": "#Microsoft.Dynamics.CRM.contact", "contactid": str(result.contact_id)})
    for opportunity_id in result.opportunity_ids:
        created.append({"@odata.type": "#Microsoft.Dynamics.CRM.opportunity", "opportunityid": str(opportunity_id)})
    return created


def _currency() -> Table:
    return BY_LOGICAL_NAME["transactioncurrency"]


def _close_date(value: Any, action: str) -> date | None:
    if value is None:
        return None
    try:
        return (
            datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
            if "T" in str(value)
            else date.fromisoformat(str(value))
        )
    except ValueError:
        raise invalid("%(action)s: actualend takes a date such as 2026-12-31.", action=action) from None


def close_opportunity(body: dict[str, Any], *, won: bool, uow: UnitOfWork, actor: Actor) -> None:
    """WinOpportunity / LoseOpportunity: close the opportunity the OpportunityClose binds."""
    action = "WinOpportunity" if won else "LoseOpportunity"
    close = _object(body, "OpportunityClose", action)
    if close is None:
        raise invalid("%(action)s needs the parameter OpportunityClose.", action=action)
    bind = close.get("opportunityid@odata.bind")
    if bind is None and isinstance(close.get("opportunityid"), dict):
        bind = f"/opportunities({close['opportunityid'].get('opportunityid')})"
    if bind is None:
        raise invalid("%(action)s: OpportunityClose needs opportunityid@odata.bind.", action=action)
    opportunity_id = bound_id(OPPORTUNITY_CLOSE, "opportunityid", "opportunity", bind)
    revenue = close.get("actualrevenue")
    if revenue is not None and (isinstance(revenue, bool) or not isinstance(revenue, (int, float, str))):
        raise invalid("%(action)s: actualrevenue takes a number.", action=action)
    fields: dict[str, Any] = {"close_date": _close_date(close.get("actualend"), action)}
    if revenue is not None or "actualrevenue" in close:
        fields["actual_revenue"] = revenue
    text = close.get("description") or close.get("subject")
    if text is not None:
        fields["description"] = text
    try:
        if won:
            _status(body, action, {3: OpportunityStatusReason.WON}, OpportunityStatusReason.WON)
            closing.win_opportunity(opportunity_id, WinOpportunity(**fields), uow=uow, actor=actor)
            return
        reason = _status(
            body,
            action,
            {4: OpportunityStatusReason.CANCELED, 5: OpportunityStatusReason.OUT_SOLD},
            OpportunityStatusReason.CANCELED,
        )
        competitor = close.get("competitorid@odata.bind")
        if competitor is not None:
            fields["competitor_id"] = bound_id(OPPORTUNITY_CLOSE, "competitorid", "competitor", competitor)
        closing.lose_opportunity(opportunity_id, LoseOpportunity(status_reason=reason, **fields), uow=uow, actor=actor)
    except ValueError as error:
        if isinstance(error, ValidationFailed):
            raise
        raise invalid("%(action)s: %(problem)s", action=action, problem=str(error).splitlines()[0]) from None


def merge(body: dict[str, Any], *, uow: UnitOfWork, actor: Actor, suppress: bool) -> None:
    """Merge: the subordinate into the target, then UpdateContent applied to the target."""
    action = "Merge"
    table, target_id = _typed(_object(body, "Target", action), "Target", action, allowed=MERGEABLE)
    other, subordinate_id = _typed(_object(body, "Subordinate", action), "Subordinate", action, allowed=MERGEABLE)
    if other is not table:
        raise invalid("Merge: the Target and the Subordinate must be of the same table.")
    if target_id == subordinate_id:
        raise invalid("Merge: the Target and the Subordinate must be two different records.")
    checks = _flag(body, "PerformParentingChecks", action, required=False)
    content = _object(body, "UpdateContent", action) or {}
    merging.merge_records(table.entity_set, target_id, subordinate_id, force_parenting=not checks, uow=uow, actor=actor)
    changes = read_body(
        table,
        {key: value for key, value in content.items() if key != table.primary_id},
        session=uow.session,
        creating=False,
    )
    if changes.values and table.writer is not None:
        data = validated(table, table.writer.update_input, changes.values)
        table.writer.update(target_id, data, uow=uow, actor=actor, suppress_duplicates=suppress)


def targets(body: Any, action: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("Targets"), list):
        raise invalid("%(action)s needs Targets: a list of records.", action=action)
    items = body["Targets"]
    if not items or len(items) > MAX_TARGETS:
        raise invalid("%(action)s takes 1 to %(most)s records in Targets.", action=action, most=MAX_TARGETS)
    if not all(isinstance(item, dict) for item in items):
        raise invalid("%(action)s: every item of Targets must be a record object.", action=action)
    return items


def create_multiple(table: Table, body: Any, *, uow: UnitOfWork, actor: Actor, suppress: bool) -> list[str]:
    """CreateMultiple: every record or none; the ids in the order given."""
    writer = table.writer
    assert writer is not None
    inputs = [
        creation_input(table, read_body(table, item, session=uow.session, creating=True).values)
        for item in targets(body, "CreateMultiple")
    ]
    if writer.create_many is not None:
        records = writer.create_many(inputs, uow=uow, actor=actor, suppress_duplicates=suppress)
    else:
        records = [writer.create(data, uow=uow, actor=actor, suppress_duplicates=suppress) for data in inputs]
    return [str(record.id) for record in records]


def update_multiple(table: Table, body: Any, *, uow: UnitOfWork, actor: Actor, suppress: bool) -> None:
    """UpdateMultiple: every record or none, each named by its primary key."""
    assert table.writer is not None
    for item in targets(body, "UpdateMultiple"):
        changes = read_body(table, item, session=uow.session, creating=False)
        if changes.record_id is None:
            raise invalid("UpdateMultiple: every record needs its %(key)s.", key=table.primary_id)
        data = validated(table, table.writer.update_input, changes.values)
        table.writer.update(changes.record_id, data, uow=uow, actor=actor, suppress_duplicates=suppress)


def who_am_i(*, uow: UnitOfWork, actor: Actor) -> dict[str, str]:
    """WhoAmI: the user, their business unit and the organisation."""
    organisation = uow.session.scalar(select(OrganisationSettings.id))
    return {
        "BusinessUnitId": str(actor.business_unit_id),
        "UserId": str(actor.user_id),
        "OrganizationId": str(organisation),
    }


def retrieve_duplicates(
    entity: Any, matching: Any, paging: Any, *, uow: UnitOfWork, actor: Actor
) -> tuple[Table, list[uuid.UUID]]:
    """RetrieveDuplicates: the records of ``matching`` that the published rules say duplicate the
    values of ``entity`` (a record not yet saved, in logical names); the ids, best match first."""
    action = "RetrieveDuplicates"
    if not isinstance(entity, dict):
        raise invalid("%(action)s needs BusinessEntity: an object with its @odata.type.", action=action)
    kind = str(entity.get("@odata.type", "")).removeprefix("#").removeprefix("Microsoft.Dynamics.CRM.")
    table = BY_LOGICAL_NAME.get(kind)
    target = BY_LOGICAL_NAME.get(str(matching)) if isinstance(matching, str) else None
    if table is None or table.writer is None or target is None or target.writer is None:
        raise invalid(
            "%(action)s compares leads, accounts, contacts and opportunities: name them in BusinessEntity's "
            "@odata.type and in MatchingEntityName.",
            action=action,
        )
    page, count = 1, 50
    if isinstance(paging, dict):
        page = paging.get("PageNumber", 1) if isinstance(paging.get("PageNumber", 1), int) else 1
        count = paging.get("Count", 50) if isinstance(paging.get("Count", 50), int) else 50
    page, count = max(page, 1), min(max(count, 1), 5000)
    values = read_body(
        table, {k: v for k, v in entity.items() if k != table.primary_id}, session=uow.session, creating=True
    ).values
    detection = DetectionTable(table.entity_set)
    compared = DETECTION_TABLES[detection].columns
    matches = check_record(uow.session, detection, {k: v for k, v in values.items() if k in compared}, actor=actor)
    ids = [
        match.id for match in sorted(matches, key=lambda match: -match.score) if match.table.value == target.entity_set
    ]
    unique = list(dict.fromkeys(ids))
    return target, unique[(page - 1) * count : page * count]
