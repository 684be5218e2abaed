"""The metadata documents of the Dataverse Web API, made from the table registry alone.

EntityDefinitions, their Attributes (with option sets), their relationships and the ``$metadata``
CSDL document: what Dynamics' clients look up before any record call (reference §2). Pure
functions: no HTTP, no database; each returns plain JSON-able values (the CSDL a str). Labels are
given in both of leadflow's languages, the request's one as ``UserLocalizedLabel``.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from typing import Any

from leadflow.customers.models import CustomerState
from leadflow.dataverse import options
from leadflow.dataverse.options import LANGUAGE_CODES, OptionSet
from leadflow.dataverse.tables import (
    BY_LOGICAL_NAME,
    CUSTOM_PREFIX,
    TABLES,
    Attribute,
    Kind,
    Table,
    all_attributes,
)
from leadflow.http.language import gettext
from leadflow.leads.models import STATE_OF_STATUS
from leadflow.opportunities.models import STATUS_REASONS

NAMESPACE = "Microsoft.Dynamics.CRM"
ALIAS = "mscrm"
ACTIVITIES = frozenset({"task", "phonecall", "appointment", "email", "opportunityclose"})

# The attributes a record cannot be saved without, beyond its primary key (RequiredLevel).
_APPLICATION_REQUIRED = frozenset(
    {("lead", "subject"), ("lead", "lastname"), ("contact", "lastname"), ("account", "name"), ("opportunity", "name")}
)
# statecode/statuscode are changed by an update (close, reopen) although no input field names them.
_STATE_UPDATABLE = frozenset({"lead", "opportunity"})

# The metadata type (``@odata.type`` cast) and the AttributeType of each kind.
_METADATA_TYPE = {
    Kind.ID: "Uniqueidentifier",
    Kind.STRING: "String",
    Kind.MEMO: "Memo",
    Kind.INTEGER: "Integer",
    Kind.BIGINT: "BigInt",
    Kind.DECIMAL: "Decimal",
    Kind.MONEY: "Money",
    Kind.BOOLEAN: "Boolean",
    Kind.DATETIME: "DateTime",
    Kind.DATE: "DateTime",
    Kind.PICKLIST: "Picklist",
    Kind.STATE: "State",
    Kind.STATUS: "Status",
    Kind.LOOKUP: "Lookup",
    Kind.CUSTOMER: "Lookup",
    Kind.OWNER: "Lookup",
}
# Dataverse has no DateOnly AttributeType: a date is a DateTime attribute whose Format is DateOnly.
_ATTRIBUTE_TYPE = {**{kind: kind.value for kind in Kind}, Kind.DATE: "DateTime"}

_EDM_TYPE = {
    Kind.ID: "Edm.Guid",
    Kind.STRING: "Edm.String",
    Kind.MEMO: "Edm.String",
    Kind.INTEGER: "Edm.Int32",
    Kind.BIGINT: "Edm.Int64",
    Kind.DECIMAL: "Edm.Decimal",
    Kind.MONEY: "Edm.Decimal",
    Kind.BOOLEAN: "Edm.Boolean",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.DATE: "Edm.Date",
    Kind.PICKLIST: "Edm.Int32",
    Kind.STATE: "Edm.Int32",
    Kind.STATUS: "Edm.Int32",
    Kind.LOOKUP: "Edm.Guid",
    Kind.CUSTOMER: "Edm.Guid",
    Kind.OWNER: "Edm.Guid",
}


def _metadata_id(kind: str, name: str) -> str:
    """A stable id: the same name gives the same id on every call and every server."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"leadflow:{kind}:{name}"))


def _label_of(texts: Mapping[str, str], language: str) -> dict[str, Any]:
    """A Label object from the text in each language (keys of LANGUAGE_CODES)."""
    localized = [
        {"Label": texts[code_language], "LanguageCode": code} for code_language, code in LANGUAGE_CODES.items()
    ]
    chosen = language if language in LANGUAGE_CODES else "en"
    return {
        "LocalizedLabels": localized,
        "UserLocalizedLabel": {"Label": texts[chosen], "LanguageCode": LANGUAGE_CODES[chosen]},
    }


def label(message: str, language: str) -> dict[str, Any]:
    """The Label object of an English message id, translated; an empty message gives an empty label."""
    if not message:  # gettext("") would answer the catalogue's header
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    return _label_of({code_language: gettext(code_language, message) for code_language in LANGUAGE_CODES}, language)


# --- states and status reasons ---------------------------------------------------------------------


@cache
def _status_states() -> dict[str, dict[int, int]]:
    """Per status option set (by name): each status value's state value, from the domains' own tables."""
    return {
        options.LEAD_STATUS.name: {
            _value(options.LEAD_STATUS, status): _value(options.LEAD_STATE, state)
            for status, state in STATE_OF_STATUS.items()
        },
        options.OPPORTUNITY_STATUS.name: {
            _value(options.OPPORTUNITY_STATUS, status): _value(options.OPPORTUNITY_STATE, state)
            for state, statuses in STATUS_REASONS.items()
            for status in statuses
        },
        # Accounts and contacts: one status reason per state, both sets numbering the same members.
        options.CUSTOMER_STATUS.name: {
            _value(options.CUSTOMER_STATUS, member): _value(options.CUSTOMER_STATE, member) for member in CustomerState
        },
    }


# The status option set whose values belong to each state option set's states.
_STATUS_OF_STATE = {
    options.LEAD_STATE.name: options.LEAD_STATUS,
    options.OPPORTUNITY_STATE.name: options.OPPORTUNITY_STATUS,
    options.CUSTOMER_STATE.name: options.CUSTOMER_STATUS,
}


def _value(option_set: OptionSet, member: Any) -> int:
    value = option_set.value_of(member)
    assert value is not None
    return value


def state_of_status(option_set: OptionSet, status_value: int) -> int | None:
    """The statecode value a status reason (``option_set`` is the statuscode set) belongs to.

    None when the set has no states or the value is not one of its statuses.
    """
    return _status_states().get(option_set.name, {}).get(status_value)


def default_status(state_set: OptionSet, state_value: int) -> int | None:
    """The first status reason (in the status set's order) of a state; None when the state has none."""
    status_set = _STATUS_OF_STATE.get(state_set.name)
    if status_set is None:
        return None
    for value in status_set.by_value:
        if state_of_status(status_set, value) == state_value:
            return value
    return None


# --- entity definitions ----------------------------------------------------------------------------


def entity_definition(table: Table, language: str) -> dict[str, Any]:
    """One EntityMetadata record."""
    return {
        "MetadataId": _metadata_id("entity", table.logical),
        "LogicalName": table.logical,
        "SchemaName": table.schema_name,
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "PrimaryIdAttribute": table.primary_id,
        "PrimaryNameAttribute": table.primary_name,
        "PrimaryImageAttribute": None,
        "ObjectTypeCode": table.object_type_code,
        "IsPrivate": False,
        "IsCustomEntity": False,
        "IsActivity": table.logical in ACTIVITIES,
        "OwnershipType": "UserOwned" if table.owned else "OrganizationOwned",
        "DisplayName": label(table.label, language),
        "DisplayCollectionName": label(table.plural_label, language),
        "Description": label("", language),
    }


def entity_definitions(language: str) -> list[dict[str, Any]]:
    """Every served table's EntityMetadata, in registry order."""
    return [entity_definition(table, language) for table in TABLES]


# --- attributes ------------------------------------------------------------------------------------


def _required_level(table: Table, attribute: Attribute) -> str:
    if attribute.kind is Kind.ID:
        return "SystemRequired"
    if (table.logical, attribute.name) in _APPLICATION_REQUIRED:
        return "ApplicationRequired"
    return "None"


def _option_set(attribute: Attribute, option_set: OptionSet, language: str) -> dict[str, Any]:
    texts = {code_language: dict(option_set.options(code_language)) for code_language in LANGUAGE_CODES}
    option_set_type = {Kind.STATE: "State", Kind.STATUS: "Status"}.get(attribute.kind, "Picklist")
    rows: list[dict[str, Any]] = []
    for value in option_set.by_value:
        row: dict[str, Any] = {
            "Value": value,
            "Label": _label_of(
                {code_language: texts[code_language][value] for code_language in LANGUAGE_CODES}, language
            ),
        }
        if attribute.kind is Kind.STATUS:
            row["State"] = state_of_status(option_set, value)
        elif attribute.kind is Kind.STATE:
            row["DefaultStatus"] = default_status(option_set, value)
        rows.append(row)
    return {
        "MetadataId": _metadata_id("optionset", option_set.name),
        "Name": option_set.name,
        "OptionSetType": option_set_type,
        "IsGlobal": False,
        "Options": rows,
    }


def attribute_metadata(table: Table, attribute: Attribute, language: str) -> dict[str, Any]:
    """One AttributeMetadata record, typed by its ``@odata.type``."""
    metadata_type = _METADATA_TYPE[attribute.kind]
    attribute_type = _ATTRIBUTE_TYPE[attribute.kind]
    writable = attribute.writes is not None
    state_update = attribute.kind in (Kind.STATE, Kind.STATUS) and table.logical in _STATE_UPDATABLE
    record: dict[str, Any] = {
        "@odata.type": f"#{NAMESPACE}.{metadata_type}AttributeMetadata",
        "MetadataId": _metadata_id("attribute", f"{table.logical}.{attribute.name}"),
        "LogicalName": attribute.name,
        "SchemaName": attribute.name.capitalize(),
        "EntityLogicalName": table.logical,
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": f"{attribute_type}Type"},
        "DisplayName": _label_of(dict(zip(("en", "es"), attribute.display, strict=True)), language)
        if attribute.display
        else label(attribute.label, language),
        "Description": label("", language),
        "IsPrimaryId": attribute.kind is Kind.ID,
        "IsPrimaryName": attribute.name == table.primary_name,
        "IsValidForCreate": writable,
        "IsValidForUpdate": writable or state_update,
        "IsValidForRead": True,
        "IsCustomAttribute": attribute.name.startswith(CUSTOM_PREFIX),
        "RequiredLevel": {"Value": _required_level(table, attribute)},
    }
    if attribute.kind is Kind.DATE:
        record["Format"] = "DateOnly"
        record["DateTimeBehavior"] = {"Value": "DateOnly"}
    elif attribute.kind is Kind.DATETIME:
        record["Format"] = "DateAndTime"
    if attribute.is_lookup:
        record["Targets"] = list(attribute.targets)
    if attribute.options is not None and attribute.kind in (Kind.PICKLIST, Kind.STATE, Kind.STATUS):
        record["OptionSet"] = _option_set(attribute, attribute.options, language)
    return record


def attributes(table: Table, language: str, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Every attribute of a table; with ``kind`` (``PicklistAttributeMetadata``, optionally with its
    namespace) only those of that metadata type: State and Status attributes are not Picklists."""
    records = [attribute_metadata(table, attribute, language) for attribute in all_attributes(table)]
    if kind is None:
        return records
    cast = kind.lstrip("#").removeprefix(f"{NAMESPACE}.")
    return [record for record in records if record["@odata.type"] == f"#{NAMESPACE}.{cast}"]


# --- relationships ---------------------------------------------------------------------------------


def _referenced_attribute(target: str) -> str:
    served = BY_LOGICAL_NAME.get(target)
    return served.primary_id if served is not None else f"{target}id"


def _many_to_one(table: Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for attribute in all_attributes(table):
        if not attribute.is_lookup:
            continue
        for target in attribute.targets:
            schema_name = f"{target}_{table.logical}_{attribute.name}"
            rows.append(
                {
                    "MetadataId": _metadata_id("relationship", schema_name),
                    "SchemaName": schema_name,
                    "RelationshipType": "OneToManyRelationship",
                    "ReferencedEntity": target,
                    "ReferencedAttribute": _referenced_attribute(target),
                    "ReferencingEntity": table.logical,
                    "ReferencingAttribute": attribute.name,
                    "ReferencingEntityNavigationPropertyName": attribute.navigation(target),
                    "ReferencedEntityNavigationPropertyName": schema_name,
                    "IsCustomRelationship": False,
                }
            )
    return rows


def relationships(table: Table, language: str, *, many_to_one: bool) -> list[dict[str, Any]]:
    """OneToManyRelationshipMetadata records: the table's lookups (``many_to_one``), or every lookup of
    any table that points at it. ``language`` is accepted for a uniform signature (no labels here)."""
    if many_to_one:
        return _many_to_one(table)
    return [row for other in TABLES for row in _many_to_one(other) if row["ReferencedEntity"] == table.logical]


# --- $metadata (CSDL) ------------------------------------------------------------------------------

_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"
_BASE = f"{ALIAS}.crmbaseentity"


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def _parameter(action: ET.Element, name: str, type_: str, nullable: bool = True) -> None:
    attrs = {"Name": name, "Type": type_}
    if not nullable:
        attrs["Nullable"] = "false"
    ET.SubElement(action, "Parameter", attrs)


def _entity_type(schema: ET.Element, table: Table) -> None:
    entity = _sub(schema, "EntityType", Name=table.logical, BaseType=_BASE)
    key = _sub(entity, "Key")
    _sub(key, "PropertyRef", Name=table.primary_id)
    for attribute in all_attributes(table):
        _sub(entity, "Property", Name=attribute.read_name, Type=_EDM_TYPE[attribute.kind])
    for attribute in all_attributes(table):
        if not attribute.is_lookup:
            continue
        for target in attribute.targets:
            if target in BY_LOGICAL_NAME:
                _sub(entity, "NavigationProperty", Name=attribute.navigation(target), Type=f"{ALIAS}.{target}")


def _actions(schema: ET.Element) -> None:
    qualify = _sub(schema, "Action", Name="QualifyLead", IsBound="true")
    _parameter(qualify, "entity", f"{ALIAS}.lead", nullable=False)
    for flag in ("CreateAccount", "CreateContact", "CreateOpportunity"):
        _parameter(qualify, flag, "Edm.Boolean", nullable=False)
    _parameter(qualify, "Status", "Edm.Int32", nullable=False)
    for reference in ("OpportunityCurrencyId", "OpportunityCustomerId", "SourceCampaignId"):
        _parameter(qualify, reference, _BASE)
    _sub(qualify, "ReturnType", Type=f"Collection({_BASE})", Nullable="false")

    for name in ("WinOpportunity", "LoseOpportunity"):
        close = _sub(schema, "Action", Name=name)
        _parameter(close, "OpportunityClose", f"{ALIAS}.opportunityclose", nullable=False)
        _parameter(close, "Status", "Edm.Int32", nullable=False)

    merge = _sub(schema, "Action", Name="Merge")
    _parameter(merge, "Target", _BASE, nullable=False)
    _parameter(merge, "Subordinate", _BASE, nullable=False)
    _parameter(merge, "UpdateContent", _BASE)
    _parameter(merge, "PerformParentingChecks", "Edm.Boolean", nullable=False)

    for table in TABLES:
        if table.writer is None:
            continue
        create = _sub(schema, "Action", Name="CreateMultiple", IsBound="true")
        _parameter(create, "entityset", f"Collection({ALIAS}.{table.logical})", nullable=False)
        _parameter(create, "Targets", f"Collection({_BASE})", nullable=False)
        _sub(create, "ReturnType", Type=f"{ALIAS}.CreateMultipleResponse", Nullable="false")
        update = _sub(schema, "Action", Name="UpdateMultiple", IsBound="true")
        _parameter(update, "entityset", f"Collection({ALIAS}.{table.logical})", nullable=False)
        _parameter(update, "Targets", f"Collection({_BASE})", nullable=False)

    who = _sub(schema, "Function", Name="WhoAmI")
    _sub(who, "ReturnType", Type=f"{ALIAS}.WhoAmIResponse", Nullable="false")


def csdl(language: str) -> str:
    """The ``$metadata`` document (OData CSDL XML 4.0) of every served table and action.

    ``language`` is accepted for a uniform signature: the document carries no labels.
    """
    root = ET.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": _EDMX})
    services = _sub(root, "edmx:DataServices")
    schema = ET.SubElement(services, "Schema", {"Namespace": NAMESPACE, "Alias": ALIAS, "xmlns": _EDM})

    _sub(schema, "EntityType", Name="crmbaseentity", Abstract="true")
    for table in TABLES:
        _entity_type(schema, table)

    who = _sub(schema, "ComplexType", Name="WhoAmIResponse")
    for name in ("BusinessUnitId", "UserId", "OrganizationId"):
        _sub(who, "Property", Name=name, Type="Edm.Guid", Nullable="false")
    created = _sub(schema, "ComplexType", Name="CreateMultipleResponse")
    _sub(created, "Property", Name="Ids", Type="Collection(Edm.Guid)", Nullable="false")

    _actions(schema)

    container = _sub(schema, "EntityContainer", Name="System")
    for table in TABLES:
        _sub(container, "EntitySet", Name=table.entity_set, EntityType=f"{NAMESPACE}.{table.logical}")
    for name in ("WinOpportunity", "LoseOpportunity", "Merge"):
        _sub(container, "ActionImport", Name=name, Action=f"{NAMESPACE}.{name}")
    _sub(container, "FunctionImport", Name="WhoAmI", Function=f"{NAMESPACE}.WhoAmI", IncludeInServiceDocument="false")

    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
