"""A history of closed leads whose true drivers are known, for the demo's scoring model, the tests of
scoring's quality and its benchmark.

Each generated lead qualifies with a probability set by a planted logistic model: its budget status,
lead source, rating and e-mail domain move the odds by fixed amounts (trade-show and referral leads
with a committed budget qualify most often); every other field is noise. A lead's planted driver is
the field whose planted effect moves its odds most away from an average lead's, the same measure the
model's reasons use, so a test can ask whether the learned model names the true driver first.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from leadflow.core.db import utcnow
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads.models import (
    DISQUALIFY_REASONS,
    BudgetStatus,
    Lead,
    LeadSource,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadflow.leads.schemas import LeadCreate
from leadflow.leads.service import create_leads
from leadflow.security.actor import Actor

# Planted effects on the log-odds of qualifying, per field value (None: left blank).
EFFECTS: dict[str, dict[str | None, float]] = {
    "budget_status": {
        "will_buy": 2.3,
        "can_buy": 1.05,
        "may_buy": -0.15,
        "no_committed_budget": -2.1,
        None: -0.75,
    },
    "lead_source": {
        "trade_show": 1.75,
        "employee_referral": 1.35,
        "external_referral": 0.85,
        "partner": 0.45,
        "word_of_mouth": 0.2,
        "seminar": 0.05,
        "public_relations": -0.35,
        "other": -0.55,
        "web": -0.95,
        "advertisement": -1.45,
        None: -0.65,
    },
    "rating": {"hot": 0.9, "warm": 0.05, "cold": -1.0, None: -0.3},
    "email_kind": {"company": 0.3, "free": -0.7},
}
BASE = -0.1  # the log-odds of a lead whose planted effects are all zero
BLANKS = {"budget_status": 0.15, "lead_source": 0.1, "rating": 0.15}  # how often the generator leaves each blank
EMAIL_KINDS = ("company", "company", "free")


def _chance(key: str, value: str | None) -> float:
    """How often the generator gives a field this value."""
    if key == "email_kind":
        return EMAIL_KINDS.count(value or "") / len(EMAIL_KINDS)
    blank = BLANKS[key]
    return blank if value is None else (1 - blank) / (len(EFFECTS[key]) - 1)


# An average lead's planted effect per field, weighted as the generator draws the values: the
# baseline the model's reasons are measured from too (its training leads' average).
MEANS = {
    key: sum(_chance(key, value) * effect for value, effect in effects.items()) for key, effects in EFFECTS.items()
}

_FIRST = "Ana Luis Marta Javier Lucía Pablo Elena Sergio Carmen Diego Laura Andrés Sofía Mario Paula Raúl".split()
_LAST = "García Martín López Sánchez Romero Navarro Torres Ruiz Ortega Molina Castro Vidal Rubio Serrano Blanco".split()
_FIRST_EN = "James Olivia Henry Grace Thomas Emily Jack Chloe Oliver Amelia Harry Isla Charlie Ava George Mia".split()
_LAST_EN = "Smith Jones Taylor Brown Evans Wilson Walker Wright Hughes Green Hall Wood Harris Lewis Clarke".split()
_COMPANIES = "Aceros Bravo,Logística Sur,Vinos del Duero,Textil Levante,Óptica Norte,Clínica Mar,Hotel Arenal".split(
    ","
)
_COMPANIES_EN = "Harbour Foods,Kestrel Print,Oakfield Dairy,Brightwater Labs,Northgate Tools,Elm Systems".split(",")
_COUNTRIES = ("España", "España", "España", "México", "Colombia", "United Kingdom", "United Kingdom", "Ireland")
_FREE = ("gmail.com", "hotmail.com", "yahoo.es", "outlook.com")
_TOPICS = ("Renovación de equipos", "Ampliación de licencias", "Proyecto piloto", "Equipment upgrade", "New site")


@dataclass(frozen=True)
class PlantedLead:
    """One generated closed lead: the fields to create it with, when it opened and closed, its outcome
    and its planted driver."""

    fields: dict[str, Any]
    created_at: datetime
    closed_at: datetime
    qualified: bool
    driver: str

    def row(self) -> dict[str, Any]:
        """The lead as ``leadflow.scoring.features.values_of`` reads a stored one."""
        fields = self.fields
        return {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, fields["email"]),
            "lead_source": fields.get("lead_source"),
            "rating": fields.get("rating"),
            "budget_status": fields.get("budget_status"),
            "budget_amount_base": fields.get("budget_amount"),
            "purchase_timeframe": fields.get("purchase_timeframe"),
            "purchase_process": fields.get("purchase_process"),
            "need": fields.get("need"),
            "decision_maker": fields.get("decision_maker"),
            "address_country": fields.get("address_country"),
            "email": fields["email"],
            "company_name": fields.get("company_name"),
            "job_title": fields.get("job_title"),
            "business_phone": fields.get("business_phone"),
            "website": fields.get("website"),
            "notes_count": 0,
            "activities_count": 0,
            "created_at": self.created_at,
            "closed_at": self.closed_at,
        }


def _pick(rng: random.Random, values: list[Any], blank: float = 0.15) -> Any:
    return None if rng.random() < blank else rng.choice(values)


def planted_leads(count: int, *, seed: int = 7, now: datetime | None = None, days: int = 365) -> Iterator[PlantedLead]:
    """``count`` closed leads over the last ``days`` days, oldest first, from the planted model."""
    rng = random.Random(seed)
    now = now or utcnow()
    for index in range(count):
        spanish = rng.random() < 0.6
        first = rng.choice(_FIRST if spanish else _FIRST_EN)
        last = rng.choice(_LAST if spanish else _LAST_EN)
        company = rng.choice(_COMPANIES if spanish else _COMPANIES_EN) if rng.random() < 0.85 else None
        chosen: dict[str, str | None] = {
            "budget_status": _pick(rng, [member.value for member in BudgetStatus], BLANKS["budget_status"]),
            "lead_source": _pick(rng, [member.value for member in LeadSource], BLANKS["lead_source"]),
            "rating": _pick(rng, [member.value for member in Rating], BLANKS["rating"]),
            "email_kind": rng.choice(EMAIL_KINDS),
        }
        domain = (
            rng.choice(_FREE)
            if chosen["email_kind"] == "free"
            else f"{(company or last).lower().replace(' ', '')}.example"
        )
        shares = {key: EFFECTS[key][chosen[key]] - MEANS[key] for key in EFFECTS}
        logit = BASE + sum(EFFECTS[key][chosen[key]] for key in EFFECTS)
        qualified = rng.random() < 1 / (1 + math.exp(-logit))
        closed_at = (now - timedelta(days=days) + timedelta(days=days * (index + 0.5) / count)).replace(microsecond=0)
        created_at = closed_at - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))
        budget = rng.choice([None, 5_000, 20_000, 80_000, 300_000])
        fields: dict[str, Any] = {
            "topic": rng.choice(_TOPICS),
            "first_name": first,
            "last_name": last,
            "company_name": company,
            "email": f"{first.lower()}.{index}@{domain}".encode("ascii", "ignore").decode(),
            "job_title": rng.choice([None, "Director de compras", "Gerente", "Purchasing manager", "CTO"]),
            "address_country": rng.choice(_COUNTRIES),
            "lead_source": chosen["lead_source"],
            "rating": chosen["rating"],
            "budget_status": chosen["budget_status"],
            "budget_amount": budget,
            "purchase_timeframe": _pick(rng, [member.value for member in PurchaseTimeframe]),
            "purchase_process": _pick(rng, [member.value for member in PurchaseProcess]),
            "need": _pick(rng, [member.value for member in Need]),
            "decision_maker": rng.choice([None, True, False]),
            "business_phone": rng.choice(
                [None, f"+34 91 {index % 1000:03d} {rng.randint(10, 99)} {rng.randint(10, 99)}"]
            ),
            "website": rng.choice([None, f"https://{domain}"]),
        }
        yield PlantedLead(
            fields={key: value for key, value in fields.items() if value is not None},
            created_at=created_at,
            closed_at=closed_at,
            qualified=qualified,
            driver=max(shares, key=lambda key: abs(shares[key])),
        )


def load_history(
    database: Database, sellers: Mapping[str, Actor], *, count: int = 480, seed: int = 7, now: datetime | None = None
) -> Counter[str]:
    """Create a year of closed leads, as imported from an earlier CRM: each created by the seller of its
    language and closed as qualified or disqualified on its day (closing records only: qualifying
    them created no account, contact or opportunity then). Skipped when it is already there."""
    added: Counter[str] = Counter()
    spanish_seller, english_seller = sellers["es"], sellers["en"]
    leads = list(planted_leads(count, seed=seed, now=now))
    with database.unit_of_work() as uow:
        if uow.session.scalar(select(Lead.id).where(Lead.email == leads[0].fields["email"]).limit(1)) is not None:
            return added
        for language, actor in (("es", spanish_seller), ("en", english_seller)):
            mine = [
                lead
                for lead in leads
                if (lead.fields.get("address_country") in _SPANISH_SPEAKING) == (language == "es")
            ]
            created = create_leads(
                [parse(LeadCreate, lead.fields) for lead in mine], uow=uow, actor=actor, suppress_duplicates=True
            )
            for number, (record, planted) in enumerate(zip(created, mine, strict=True)):
                record.created_at = planted.created_at
                if planted.qualified:
                    record.qualify(opportunity_id=None)
                else:
                    record.disqualify(_REASONS[number % len(_REASONS)], has_opportunity=False)
                record.closed_at = planted.closed_at
                added["qualified" if planted.qualified else "disqualified"] += 1
        uow.commit()
    return added


_SPANISH_SPEAKING = {"España", "México", "Colombia"}
_REASONS = DISQUALIFY_REASONS[:3]  # lost, cannot contact, no longer interested
