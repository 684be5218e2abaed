"""Factories for the records tests need, built through the same services the app uses."""

from __future__ import annotations

from typing import Any

from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads import service
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate
from leadflow.security.actor import Actor

_counter = iter(range(1, 10**9))


def lead_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid lead as an API client would send it."""
    n = next(_counter)
    data: dict[str, Any] = {
        "topic": f"Interested in 100 office chairs #{n}",
        "first_name": "Ana",
        "last_name": f"García {n}",
        "company_name": f"Muebles Ibéricos {n} S.L.",
        "email": f"ana.garcia{n}@example.com",
        "business_phone": f"+34 910 {n // 1000 % 1000:03d} {n % 1000:03d}",
        "job_title": "Purchasing manager",
        "website": f"https://muebles{n}.example.com",
        "address_city": "Madrid",
        "address_country": "Spain",
        "lead_source": "trade_show",
        "rating": "hot",
        "purchase_timeframe": "this_quarter",
        "budget_amount": "25000.00",
        "budget_status": "can_buy",
        "purchase_process": "committee",
        "decision_maker": True,
        "need": "must_have",
        "qualification_comments": "Replacing all chairs of the Madrid office.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_lead(database: Database, actor: Actor, **overrides: Any) -> Lead:
    """Create and commit a lead through the service."""
    with database.unit_of_work() as uow:
        lead = service.create_lead(parse(LeadCreate, lead_data(**overrides)), uow=uow, actor=actor)
        uow.commit()
    return lead
