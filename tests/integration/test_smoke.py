from leadflow.leads import service
from leadflow.leads.models import LeadState
from leadflow.leads.schemas import QualifyOptions
from tests.factories import make_lead


def test_qualify_creates_account_contact_and_opportunity(database, actor):
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    assert result.lead.state is LeadState.QUALIFIED
    assert result.account_id and result.contact_id and len(result.opportunity_ids) == 1
