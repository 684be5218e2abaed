"""The Dataverse metadata documents made from the table registry, without HTTP or a database."""

import xml.etree.ElementTree as ET

from leadflow.dataverse import metadata, options
from leadflow.dataverse.tables import BY_LOGICAL_NAME, TABLES, UNSERVED

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
LEAD = BY_LOGICAL_NAME["lead"]


def by_name(records: list[dict], name: str) -> dict:
    [record] = [record for record in records if record["LogicalName"] == name]
    return record


def option(record: dict, value: int) -> dict:
    [row] = [row for row in record["OptionSet"]["Options"] if row["Value"] == value]
    return row


def label_in(label: dict, code: int) -> str:
    [text] = [localized["Label"] for localized in label["LocalizedLabels"] if localized["LanguageCode"] == code]
    return text


def test_the_lead_definition_names_its_entity_set_and_primary_key():
    definition = by_name(metadata.entity_definitions("en"), "lead")
    assert definition["EntitySetName"] == "leads"
    assert definition["PrimaryIdAttribute"] == "leadid"
    assert definition["PrimaryNameAttribute"] == "fullname"
    assert definition["IsPrivate"] is False
    assert definition["OwnershipType"] == "UserOwned"
    assert by_name(metadata.entity_definitions("en"), "task")["IsActivity"] is True


def test_every_table_has_one_definition():
    names = [definition["LogicalName"] for definition in metadata.entity_definitions("es")]
    assert sorted(names) == sorted(table.logical for table in TABLES)


def test_labels_give_both_languages_and_the_asked_one_as_the_user_label():
    display = metadata.entity_definition(LEAD, "es")["DisplayName"]
    assert {localized["LanguageCode"] for localized in display["LocalizedLabels"]} == {1033, 3082}
    assert display["UserLocalizedLabel"]["LanguageCode"] == 3082
    assert display["UserLocalizedLabel"]["Label"] == label_in(display, 3082)
    assert label_in(display, 1033) == "Lead"


def test_the_picklist_cast_lists_lead_source_with_its_translated_labels():
    picklists = metadata.attributes(LEAD, "en", kind="PicklistAttributeMetadata")
    trade_show = option(by_name(picklists, "leadsourcecode"), 7)["Label"]
    assert label_in(trade_show, 1033) == "Trade show"
    assert label_in(trade_show, 3082) == "Feria comercial"
    assert trade_show["UserLocalizedLabel"] == {"Label": "Trade show", "LanguageCode": 1033}


def test_the_picklist_cast_leaves_out_state_and_status():
    picklists = metadata.attributes(LEAD, "en", kind="PicklistAttributeMetadata")
    names = {record["LogicalName"] for record in picklists}
    assert "statecode" not in names and "statuscode" not in names
    assert all(record["@odata.type"] == "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata" for record in picklists)
    assert metadata.attributes(LEAD, "en", kind="Microsoft.Dynamics.CRM.PicklistAttributeMetadata") == picklists
    assert [r["LogicalName"] for r in metadata.attributes(LEAD, "en", kind="StateAttributeMetadata")] == ["statecode"]


def test_every_attribute_is_listed_without_a_cast():
    assert len(metadata.attributes(LEAD, "en")) == len(LEAD.attributes)


def test_lead_status_reasons_carry_their_state_and_states_their_default_status():
    records = metadata.attributes(LEAD, "en")
    lost = option(by_name(records, "statuscode"), 4)
    assert label_in(lost["Label"], 1033) == "Lost"
    assert lost["State"] == 2
    assert option(by_name(records, "statecode"), 1)["DefaultStatus"] == 3
    assert option(by_name(records, "statecode"), 0)["DefaultStatus"] == 1


def test_state_helpers_answer_for_customers_and_opportunities():
    assert metadata.state_of_status(options.CUSTOMER_STATUS, 2) == 1  # Inactive
    assert metadata.default_status(options.CUSTOMER_STATE, 0) == 1  # Active
    assert metadata.state_of_status(options.OPPORTUNITY_STATUS, 3) == 1  # Won
    assert metadata.default_status(options.OPPORTUNITY_STATE, 2) == 4  # Lost: Canceled
    assert metadata.state_of_status(options.LEAD_STATUS, 99) is None
    assert metadata.default_status(options.ACTIVITY_STATE, 0) is None


def test_attribute_shapes_by_kind():
    records = metadata.attributes(LEAD, "en")
    leadid = by_name(records, "leadid")
    assert leadid["IsPrimaryId"] is True and leadid["RequiredLevel"] == {"Value": "SystemRequired"}
    assert by_name(records, "fullname")["IsPrimaryName"] is True
    assert by_name(records, "lastname")["RequiredLevel"] == {"Value": "ApplicationRequired"}
    assert by_name(records, "firstname")["IsValidForCreate"] is True
    assert by_name(records, "fullname")["IsValidForUpdate"] is False
    assert by_name(records, "statecode")["IsValidForUpdate"] is True
    parent = by_name(records, "parentaccountid")
    assert parent["@odata.type"] == "#Microsoft.Dynamics.CRM.LookupAttributeMetadata"
    assert parent["Targets"] == ["account"]
    owner = by_name(records, "ownerid")
    assert owner["AttributeType"] == "Owner" and owner["@odata.type"].endswith("LookupAttributeMetadata")
    close_date = by_name(metadata.attributes(BY_LOGICAL_NAME["opportunity"], "en"), "estimatedclosedate")
    assert close_date["@odata.type"] == "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata"
    assert close_date["Format"] == "DateOnly"


def test_relationship_targets_exist_and_link_back():
    for table in TABLES:
        for row in metadata.relationships(table, "en", many_to_one=True):
            assert row["ReferencingEntity"] == table.logical
            target = row["ReferencedEntity"]
            assert target in BY_LOGICAL_NAME or target in UNSERVED
            if target in BY_LOGICAL_NAME:
                served = BY_LOGICAL_NAME[target]
                assert row["ReferencedAttribute"] == served.primary_id
                assert served.attribute(row["ReferencedAttribute"]) is not None
                back = metadata.relationships(served, "en", many_to_one=False)
                assert row["SchemaName"] in {other["SchemaName"] for other in back}


def test_the_contact_company_lookup_navigates_by_target():
    rows = metadata.relationships(BY_LOGICAL_NAME["contact"], "en", many_to_one=True)
    navigations = {row["ReferencingEntityNavigationPropertyName"] for row in rows}
    assert "parentcustomerid_account" in navigations
    one_to_many = metadata.relationships(BY_LOGICAL_NAME["account"], "en", many_to_one=False)
    assert any(row["ReferencingEntity"] == "contact" for row in one_to_many)


def test_the_csdl_parses_and_describes_every_table():
    root = ET.fromstring(metadata.csdl("en"))
    [schema] = root.iter(f"{EDM}Schema")
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    [container] = schema.iter(f"{EDM}EntityContainer")
    entity_sets = {entity_set.get("Name"): entity_set.get("EntityType") for entity_set in container}
    assert {table.entity_set for table in TABLES} <= set(entity_sets)
    assert entity_sets["leads"] == "Microsoft.Dynamics.CRM.lead"

    types = {entity.get("Name"): entity for entity in schema.findall(f"{EDM}EntityType")}
    lead = types["lead"]
    assert [ref.get("Name") for ref in lead.iter(f"{EDM}PropertyRef")] == ["leadid"]
    navigations = {nav.get("Name"): nav.get("Type") for nav in lead.findall(f"{EDM}NavigationProperty")}
    assert navigations["parentaccountid"] == "mscrm.account"
    properties = {prop.get("Name"): prop.get("Type") for prop in lead.findall(f"{EDM}Property")}
    assert properties["_parentaccountid_value"] == "Edm.Guid"
    assert properties["leadsourcecode"] == "Edm.Int32"
    assert types["crmbaseentity"].get("Abstract") == "true"
    for entity in types.values():
        names = [child.get("Name") for child in entity if child.tag in (f"{EDM}Property", f"{EDM}NavigationProperty")]
        assert len(names) == len(set(names)), entity.get("Name")


def test_the_csdl_declares_the_actions_and_who_am_i():
    root = ET.fromstring(metadata.csdl("es"))
    actions = {action.get("Name") for action in root.iter(f"{EDM}Action")}
    assert {"QualifyLead", "WinOpportunity", "LoseOpportunity", "Merge", "CreateMultiple", "UpdateMultiple"} <= actions
    [who] = [function for function in root.iter(f"{EDM}Function") if function.get("Name") == "WhoAmI"]
    assert who.find(f"{EDM}ReturnType").get("Type") == "mscrm.WhoAmIResponse"
    [qualify] = [action for action in root.iter(f"{EDM}Action") if action.get("Name") == "QualifyLead"]
    parameters = {parameter.get("Name"): parameter.get("Type") for parameter in qualify.iter(f"{EDM}Parameter")}
    assert parameters["CreateOpportunity"] == "Edm.Boolean"
    assert parameters["Status"] == "Edm.Int32"


def test_metadata_ids_are_stable_and_unique():
    first = [record["MetadataId"] for table in TABLES for record in metadata.attributes(table, "en")]
    again = [record["MetadataId"] for table in TABLES for record in metadata.attributes(table, "es")]
    assert first == again
    assert len(set(first)) == len(first)
    entities = [definition["MetadataId"] for definition in metadata.entity_definitions("en")]
    assert entities == [definition["MetadataId"] for definition in metadata.entity_definitions("es")]
    assert len(set(entities)) == len(entities)
