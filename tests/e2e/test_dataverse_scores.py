"""A Dynamics client reads leadflow's predictive score as Dynamics' msdyn_leadscore on the lead:
read-only, filterable and sortable, on SQLite and PostgreSQL."""

from __future__ import annotations

from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.scoring import service
from leadflow.scoring.schemas import ScoringModelIn
from leadflow.security.actor import Actor
from tests.e2e.test_dataverse_api import INVALID, B, dataverse_error, new_lead


def _publish(database: Database, actor: Actor) -> None:
    load_history(database, {"es": actor, "en": actor}, count=240)
    with database.unit_of_work() as uow:
        model = service.create_model(ScoringModelIn(name="Dataverse"), uow=uow, actor=actor)
        version = service.begin_training(model.id, uow=uow, actor=actor)
        uow.commit()
    service.run_training(version.id, database=database, step=lambda _step: None)
    with database.unit_of_work() as uow:
        service.publish(version.id, uow=uow, actor=actor)
        uow.commit()


def test_a_lead_carries_its_score_as_msdyn_leadscore_and_sorts_by_it(client, database, actor):
    _publish(database, actor)
    strong = new_lead(client, leadsourcecode=7, budgetstatus=3, leadqualitycode=1, emailaddress1="ana@empresa.example")
    weak = new_lead(client, leadsourcecode=1, budgetstatus=0, leadqualitycode=3, emailaddress1="ana@gmail.com")
    scores = {
        lead_id: client.get(f"{B}/leads({lead_id})?$select=msdyn_leadscore").json()["msdyn_leadscore"]
        for lead_id in (strong, weak)
    }
    assert scores[strong] > scores[weak]
    assert scores == {lead_id: client.get(f"/api/v1/leads/{lead_id}").json()["score"] for lead_id in (strong, weak)}

    ordered = client.get(
        f"{B}/leads?$select=msdyn_leadscore&$filter=msdyn_leadscore ge {scores[weak]}&$orderby=msdyn_leadscore desc"
    ).json()["value"]
    listed = [row["leadid"] for row in ordered]
    assert listed.index(strong) < listed.index(weak)
    assert [row["msdyn_leadscore"] for row in ordered] == sorted(
        (row["msdyn_leadscore"] for row in ordered), reverse=True
    )


def test_msdyn_leadscore_cannot_be_written(client):
    lead = new_lead(client)
    dataverse_error(client.patch(f"{B}/leads({lead})", json={"msdyn_leadscore": 99}), 400, INVALID)
    assert client.get(f"{B}/leads({lead})?$select=msdyn_leadscore").json()["msdyn_leadscore"] is None
