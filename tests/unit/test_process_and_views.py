"""The business process flow (§7) and view helpers (§10), without a database."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from leadflow.activities.service import safe_file_name
from leadflow.core.paging import encode_cursor
from leadflow.leads.models import Lead, LeadState, LeadStatusReason, PurchaseTimeframe
from leadflow.leads.views import decode_lead_cursor, start_of_week
from leadflow.opportunities.models import Opportunity
from leadflow.process.flow import STAGE_NAMES, process_state


def test_the_flow_has_the_four_documented_stages_in_order():
    assert STAGE_NAMES == ("qualify", "develop", "propose", "close")


def test_an_open_lead_is_at_qualify_with_its_filled_steps_complete():
    lead = Lead(
        id=uuid.uuid4(), state=LeadState.OPEN, purchase_timeframe=PurchaseTimeframe.THIS_QUARTER, decision_maker=False
    )
    state = process_state(lead, None)
    assert state.active_stage == "qualify"
    steps = {step.name: step.complete for step in state.stages[0].steps}
    assert steps["purchase_timeframe"] is True
    assert steps["identify_decision_maker"] is False  # "no" is not an identified decision maker
    assert steps["estimated_budget"] is False


def test_a_qualified_lead_with_an_opportunity_continues_at_develop_on_the_opportunity():
    opportunity = Opportunity(id=uuid.uuid4(), process_stage="develop", customer_need="Ergonomic chairs")
    lead = Lead(
        id=uuid.uuid4(),
        state=LeadState.QUALIFIED,
        status_reason=LeadStatusReason.QUALIFIED,
        qualifying_opportunity_id=opportunity.id,
    )
    state = process_state(lead, opportunity)
    assert state.active_stage == "develop"
    assert [stage.status for stage in state.stages] == ["completed", "active", "pending", "pending"]
    assert state.stages[1].record_id == opportunity.id
    assert state.stages[1].steps[0].complete is True


def test_a_qualified_lead_without_an_opportunity_stays_at_qualify():
    lead = Lead(id=uuid.uuid4(), state=LeadState.QUALIFIED, status_reason=LeadStatusReason.QUALIFIED)
    assert process_state(lead, None).active_stage == "qualify"


def test_weeks_start_on_monday_at_midnight_utc():
    thursday = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    assert start_of_week(thursday) == datetime(2026, 11, 23, tzinfo=UTC)


def test_cursors_round_trip_each_sort_key_type():
    lead_id = uuid.uuid4()
    moment = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert decode_lead_cursor(encode_cursor(moment, lead_id), "created_at") == (moment, lead_id)
    assert decode_lead_cursor(encode_cursor(Decimal("12.5000"), lead_id), "budget_amount") == (
        Decimal("12.5000"),
        lead_id,
    )
    assert decode_lead_cursor(encode_cursor("Chairs", lead_id), "topic") == ("Chairs", lead_id)


def test_uploaded_file_names_lose_their_path():
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\x\\evil.html") == "evil.html"
    assert safe_file_name("...") == "attachment"
