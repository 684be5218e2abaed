"""The demo's predictive scoring: a year of closed leads, and a model trained on them and published,
so that the demo's open leads show scores, grades and reasons from the first start."""

from __future__ import annotations

from sqlalchemy import select

from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.demo.load import ENGLISH_SELLER, SPANISH_SELLER
from leadflow.scoring import service
from leadflow.scoring.models import ScoringModel
from leadflow.scoring.schemas import ScoringModelIn
from leadflow.security.actor import actor_for_email

ADMINISTRATOR = "admin@leadflow.example"
MODEL_NAME = "Todos los leads · All leads"


def load_scoring_demo(database: Database) -> str:
    """Load the history and train, publish and apply the demo model (once); a line saying what it did."""
    with database.unit_of_work(read_only=True) as uow:
        sellers = {
            "es": actor_for_email(uow.session, SPANISH_SELLER),
            "en": actor_for_email(uow.session, ENGLISH_SELLER),
        }
        admin = actor_for_email(uow.session, ADMINISTRATOR)
        exists = uow.session.scalar(select(ScoringModel.id).where(ScoringModel.name == MODEL_NAME))
    added = load_history(database, sellers)
    if exists is not None:
        return "the scoring history and model are already there."
    with database.unit_of_work() as uow:
        model = service.create_model(ScoringModelIn(name=MODEL_NAME), uow=uow, actor=admin)
        version = service.begin_training(model.id, uow=uow, actor=admin)
        uow.commit()
    trained = service.run_training(version.id, database=database, step=lambda _step: None)
    with database.unit_of_work() as uow:
        service.publish(version.id, uow=uow, actor=admin)
        uow.commit()
    scored = service.rescore_all(database=database)
    auc = (trained.report or {}).get("auc")
    history = (
        f"{added['qualified']} qualified and {added['disqualified']} disqualified leads of history; " if added else ""
    )
    return f"{history}a scoring model trained (AUC {auc}) and published, {scored} open leads scored."
