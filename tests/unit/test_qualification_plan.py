"""How the qualification settings of §6 and the request options decide what qualify creates."""

import uuid

import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.core.schemas import parse
from leadflow.leads.qualification import QualifyPlan, resolve_plan
from leadflow.leads.schemas import OpportunityChoice, QualifyOptions
from leadflow.organisation.models import OrganisationSettings, QualificationExperience, RecordCreation

AUTO, SELLER = RecordCreation.AUTOMATIC, RecordCreation.SELLER


def legacy(create_by_default: bool) -> OrganisationSettings:
    return OrganisationSettings(
        qualification_experience=QualificationExperience.LEGACY, create_records_on_qualify=create_by_default
    )


def per_record(account=AUTO, contact=AUTO, opportunity=AUTO) -> OrganisationSettings:
    return OrganisationSettings(
        qualification_experience=QualificationExperience.PER_RECORD,
        create_records_on_qualify=True,
        account_creation=account,
        contact_creation=contact,
        opportunity_creation=opportunity,
    )


def test_legacy_yes_creates_all_three_records_automatically():
    assert resolve_plan(legacy(True), QualifyOptions()) == QualifyPlan(True, True, True)


def test_legacy_yes_still_honours_an_explicit_choice():
    plan = resolve_plan(legacy(True), QualifyOptions(create_opportunity=False))
    assert plan == QualifyPlan(True, True, False)


def test_legacy_no_requires_the_seller_to_choose():
    with pytest.raises(ValidationFailed) as refused:
        resolve_plan(legacy(False), QualifyOptions())
    assert refused.value.code == "qualification_choice_required"
    assert refused.value.details == {"choices": ["account", "contact", "opportunity"]}


def test_legacy_no_accepts_the_sellers_choices():
    options = QualifyOptions(create_account=False, create_contact=True, create_opportunity=True)
    assert resolve_plan(legacy(False), options) == QualifyPlan(False, True, True)


def test_per_record_seller_choice_is_satisfied_by_picking_an_existing_record():
    settings = per_record(account=SELLER)
    plan = resolve_plan(settings, QualifyOptions(existing_account_id=uuid.uuid4()))
    assert plan.account is False and plan.contact is True


def test_per_record_seller_opportunity_may_list_up_to_five():
    options = QualifyOptions(opportunities=[OpportunityChoice(name=f"Deal {n}") for n in range(5)])
    assert resolve_plan(per_record(opportunity=SELLER), options).opportunity is True


def test_more_than_five_opportunities_are_refused():
    with pytest.raises(ValidationFailed) as refused:
        parse(QualifyOptions, {"opportunities": [{"name": f"Deal {n}"} for n in range(6)]})
    assert refused.value.details["fields"][0]["field"] == "opportunities"


def test_several_opportunities_need_the_seller_setting():
    options = QualifyOptions(opportunities=[OpportunityChoice(), OpportunityChoice()])
    with pytest.raises(ValidationFailed) as refused:
        resolve_plan(per_record(opportunity=AUTO), options)
    assert refused.value.code == "multiple_opportunities_not_allowed"


def test_an_empty_opportunity_list_means_no_opportunity():
    assert resolve_plan(per_record(opportunity=SELLER), QualifyOptions(opportunities=[])).opportunity is False


def test_status_reason_other_than_qualified_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        parse(QualifyOptions, {"status_reason": "lost"})
    assert refused.value.code == "invalid_option"


def test_refusing_an_opportunity_while_listing_one_is_contradictory():
    options = QualifyOptions(create_opportunity=False, opportunities=[OpportunityChoice(name="Deal")])
    with pytest.raises(ValidationFailed) as refused:
        resolve_plan(per_record(opportunity=SELLER), options)
    assert refused.value.code == "contradictory_options"
