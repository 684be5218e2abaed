"""State rules of the lead record (§1-§4), without a database."""

import uuid

import pytest

from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.leads.models import LEAD_HAS_OPPORTUNITY, LEAD_IS_CLOSED, Lead, LeadState, LeadStatusReason


def open_lead() -> Lead:
    return Lead(topic="Chairs", last_name="García", state=LeadState.OPEN, status_reason=LeadStatusReason.NEW)


def test_status_reason_codes_match_the_reference_numbering():
    assert [reason.code for reason in LeadStatusReason] == [1, 2, 3, 4, 5, 6, 7]
    assert [state.code for state in LeadState] == [0, 1, 2]


def test_each_status_reason_belongs_to_its_state():
    assert LeadStatusReason.NEW.state is LeadState.OPEN
    assert LeadStatusReason.CONTACTED.state is LeadState.OPEN
    assert LeadStatusReason.QUALIFIED.state is LeadState.QUALIFIED
    for reason in ("lost", "cannot_contact", "no_longer_interested", "canceled"):
        assert LeadStatusReason(reason).state is LeadState.DISQUALIFIED


def test_qualify_closes_the_lead_as_qualified_and_records_the_opportunity():
    lead = open_lead()
    opportunity_id = uuid.uuid4()
    lead.qualify(opportunity_id=opportunity_id)
    assert (lead.state, lead.status_reason) == (LeadState.QUALIFIED, LeadStatusReason.QUALIFIED)
    assert lead.qualifying_opportunity_id == opportunity_id
    assert lead.closed_at is not None


@pytest.mark.parametrize("closing", ["qualify", "disqualify"])
def test_qualifying_a_closed_lead_is_refused_with_the_documented_message(closing):
    lead = open_lead()
    if closing == "qualify":
        lead.qualify(opportunity_id=None)
    else:
        lead.disqualify(LeadStatusReason.LOST, has_opportunity=False)
    with pytest.raises(InvalidState) as refused:
        lead.qualify(opportunity_id=None)
    assert refused.value.message == LEAD_IS_CLOSED
    assert refused.value.code == "lead_closed"


def test_disqualifying_a_closed_lead_is_refused_with_the_same_message():
    lead = open_lead()
    lead.qualify(opportunity_id=None)
    with pytest.raises(InvalidState) as refused:
        lead.disqualify(LeadStatusReason.LOST, has_opportunity=False)
    assert refused.value.message == LEAD_IS_CLOSED


def test_disqualify_is_refused_when_an_opportunity_exists():
    lead = open_lead()
    with pytest.raises(InvalidState) as refused:
        lead.disqualify(LeadStatusReason.CANCELED, has_opportunity=True)
    assert refused.value.message == LEAD_HAS_OPPORTUNITY
    assert lead.state is LeadState.OPEN


@pytest.mark.parametrize("reason", [LeadStatusReason.NEW, LeadStatusReason.QUALIFIED, LeadStatusReason.CONTACTED])
def test_disqualify_refuses_a_reason_that_is_not_a_disqualification(reason):
    lead = open_lead()
    with pytest.raises(ValidationFailed):
        lead.disqualify(reason, has_opportunity=False)
    assert lead.state is LeadState.OPEN


@pytest.mark.parametrize("reason", ["lost", "cannot_contact", "no_longer_interested", "canceled"])
def test_disqualify_keeps_the_chosen_reason(reason):
    lead = open_lead()
    lead.disqualify(LeadStatusReason(reason), has_opportunity=False)
    assert (lead.state, lead.status_reason.value) == (LeadState.DISQUALIFIED, reason)


def test_reactivate_returns_a_closed_lead_to_open_new_keeping_its_links():
    lead = open_lead()
    opportunity_id = uuid.uuid4()
    lead.qualify(opportunity_id=opportunity_id)
    lead.reactivate()
    assert (lead.state, lead.status_reason) == (LeadState.OPEN, LeadStatusReason.NEW)
    assert lead.qualifying_opportunity_id == opportunity_id
    assert lead.closed_at is None


def test_reactivating_an_open_lead_is_refused():
    with pytest.raises(InvalidState):
        open_lead().reactivate()


def test_a_closed_lead_is_read_only():
    lead = open_lead()
    lead.disqualify(LeadStatusReason.LOST, has_opportunity=False)
    with pytest.raises(InvalidState):
        lead.ensure_editable()
