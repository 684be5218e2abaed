"""The demo data, read from the JSON files and attachments beside this module.

``leads.json``: about forty leads in Spanish and English, each with its notes, the campaign it came
from, when it was opened (weeks ago, day of that week, hour) and the lifecycle steps it goes
through; ``campaigns.json`` and ``users.json`` (business units and users of several roles, with
passwords for trying leadflow out); ``catalogue.json``, the product catalogue of a Spanish software and
services company (unit groups, families, products, a discount list, price lists in euros and dollars);
``sales.json``, the products some demo opportunities get and how far their quote goes (draft, active,
or won with its order fulfilled and its invoice paid). The demo has no duplicate detection rules of its
own: it shows the out-of-box rules every new organisation publishes
(``leadflow.duplicates.rules.BUILTIN_RULES``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def attachment_bytes(file_name: str) -> bytes:
    """The content of one of the demo's attachments."""
    return (DATA / "attachments" / file_name).read_bytes()


DEMO_LEADS: list[dict[str, Any]] = _read("leads.json")
CAMPAIGNS: list[dict[str, str]] = _read("campaigns.json")
DEMO_UNITS: list[dict[str, str | None]] = _read("users.json")["business_units"]
DEMO_USERS: list[dict[str, str]] = _read("users.json")["users"]
DEMO_CATALOGUE: dict[str, list[dict[str, Any]]] = _read("catalogue.json")
DEMO_SALES: list[dict[str, Any]] = _read("sales.json")
# The demo sellers' tasks, calls, meetings and e-mails, dated relative to the day the demo is loaded.
DEMO_ACTIVITIES: list[dict[str, Any]] = _read("activities.json")
