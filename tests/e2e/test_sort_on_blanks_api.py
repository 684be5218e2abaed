"""A list sorted on a built-in field that may be blank (an opportunity's estimated revenue, an
account's website) pages through every record once: blanks come first ascending and last descending,
on both databases, whichever page boundary falls among them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.helpers import API
from tests.e2e.test_custom_fields_api import create_record

REVENUES = [None, "500", None, "1200", "500", None, "90", None, "3000"]


def every_page(client: TestClient, table: str, sort: str, limit: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = client.get(f"{API}/{table}", params=params)
        assert answer.status_code == 200, answer.text
        seen += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_revenue_with_blanks_pages_through_every_opportunity_once_both_ways(client: TestClient, limit: int) -> None:
    made = [
        create_record(client, "opportunities", name=f"Deal {n}", **({"estimated_revenue": r} if r else {}))
        for n, r in enumerate(REVENUES)
    ]

    def key(item: dict[str, Any]) -> tuple[bool, Decimal, str]:
        revenue = item["estimated_revenue"]
        return (revenue is not None, Decimal(revenue or 0), item["id"])

    upwards = every_page(client, "opportunities", "estimated_revenue", limit)
    assert [item["id"] for item in upwards] == [item["id"] for item in sorted(made, key=key)]
    downwards = every_page(client, "opportunities", "-estimated_revenue", limit)
    assert [item["id"] for item in downwards] == [item["id"] for item in sorted(made, key=key, reverse=True)]


def test_a_text_field_with_blanks_pages_through_every_account_once(client: TestClient) -> None:
    sites = [None, "https://b.example", None, "https://a.example", None]
    made = [
        create_record(client, "accounts", name=f"Firm {n}", **({"website": w} if w else {}))
        for n, w in enumerate(sites)
    ]
    seen = every_page(client, "accounts", "-website", 2)
    assert sorted(item["id"] for item in seen) == sorted(item["id"] for item in made)
    assert [item["website"] for item in seen][-3:] == [None, None, None]
