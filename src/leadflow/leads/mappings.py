"""Which lead column feeds which column of the records qualify creates (§2.2), as data.

Each entry is (lead column, target column). Changing what qualify copies means editing these
tables, not the qualify code.
"""

from __future__ import annotations

from typing import Any

from leadflow.customers.address import ADDRESS_FIELDS

_ADDRESS = tuple((field, field) for field in ADDRESS_FIELDS)

LEAD_TO_ACCOUNT: tuple[tuple[str, str], ...] = (
    ("company_name", "name"),
    ("website", "website"),
    ("business_phone", "telephone"),
    ("email", "email"),
    ("currency_id", "currency_id"),
    *_ADDRESS,
)

LEAD_TO_CONTACT: tuple[tuple[str, str], ...] = (
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("full_name", "full_name"),
    ("job_title", "job_title"),
    ("email", "email"),
    ("business_phone", "business_phone"),
    ("mobile_phone", "mobile_phone"),
    ("website", "website"),
    ("currency_id", "currency_id"),
    *_ADDRESS,
)

LEAD_TO_OPPORTUNITY: tuple[tuple[str, str], ...] = (
    ("topic", "name"),
    ("budget_amount", "estimated_revenue"),
    ("description", "description"),
    ("currency_id", "currency_id"),
    ("campaign_id", "campaign_id"),
    ("purchase_timeframe", "purchase_timeframe"),
    ("purchase_process", "purchase_process"),
    ("decision_maker", "decision_maker"),
    ("need", "need"),
    ("qualification_comments", "qualification_comments"),
)


def mapped_values(source: Any, mapping: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The target column values that ``mapping`` takes from ``source``."""
    return {target: getattr(source, column) for column, target in mapping}
