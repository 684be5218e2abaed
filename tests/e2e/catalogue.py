"""A product catalogue built over HTTP, for the lead-to-order tests: licences sold singly or in packs
of 10 on a euro price list with volume discounts, plus products that cannot be sold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.helpers import API


def created(response: Any) -> dict[str, Any]:
    """The JSON of a 201 answer."""
    assert response.status_code == 201, response.text
    return response.json()


def ok(response: Any) -> dict[str, Any]:
    """The JSON of a 200 answer."""
    assert response.status_code == 200, response.text
    return response.json()


@dataclass(frozen=True)
class Catalogue:
    licence: str  # the base unit of Licencias
    pack: str  # Pack 10
    hour: str  # the base unit of another group
    product: str  # LIC-STD, active: list price 100.00, standard cost 40.00, current cost 45.00
    draft_product: str
    retired_product: str
    price_list: str  # Tarifa EUR
    usd_price_list: str
    volume: str  # 5 % from 10 to 99 units
    pack_volume: str  # 3.5 % from 3 to 9 units


def build_catalogue(client: TestClient) -> Catalogue:
    """The catalogue, made by the System Administrator the client signs in as."""
    group = created(client.post(f"{API}/unit-groups", json={"name": "Licencias", "base_unit": "Licencia"}))
    licence = group["units"][0]["id"]
    pack = created(client.post(f"{API}/unit-groups/{group['id']}/units", json={"name": "Pack 10", "quantity": "10"}))
    hours = created(client.post(f"{API}/unit-groups", json={"name": "Horas", "base_unit": "Hora"}))

    def product(number: str, **fields: Any) -> str:
        body = {
            "number": number,
            "name": f"Licencia {number}",
            "unit_group_id": group["id"],
            "default_unit_id": licence,
        }
        return created(client.post(f"{API}/products", json=body | fields))["id"]

    active = product(
        "LIC-STD", name="Licencia estándar", list_price="100.00", standard_cost="40.00", current_cost="45.00"
    )
    ok(client.post(f"{API}/products/{active}/publish"))
    draft = product("LIC-DRAFT", list_price="10.00")
    retired = product("LIC-OLD", list_price="10.00")
    ok(client.post(f"{API}/products/{retired}/publish"))
    ok(client.post(f"{API}/products/{retired}/retire"))

    def tiers(name: str, begin: str, end: str, value: str) -> str:
        body = {"name": name, "tiers": [{"begin_quantity": begin, "end_quantity": end, "value": value}]}
        return created(client.post(f"{API}/discount-lists", json=body))["id"]

    volume = tiers("Volumen", "10", "99", "5")
    pack_volume = tiers("Volumen packs", "3", "9", "3.5")
    price_list = created(client.post(f"{API}/price-lists", json={"name": "Tarifa EUR", "currency": "EUR"}))["id"]
    usd = created(client.post(f"{API}/price-lists", json={"name": "Tarifa USD", "currency": "USD"}))["id"]

    def item(product_id: str, unit_id: str, **fields: Any) -> None:
        body = {"product_id": product_id, "unit_id": unit_id, **fields}
        created(client.post(f"{API}/price-lists/{price_list}/items", json=body))

    item(active, licence, pricing_method="percent_of_list", percentage="90", discount_list_id=volume)
    item(active, pack["id"], pricing_method="percent_of_list", percentage="850", discount_list_id=pack_volume)
    item(draft, licence, amount="10.00")
    item(retired, licence, amount="10.00")
    return Catalogue(
        licence=licence,
        pack=pack["id"],
        hour=hours["units"][0]["id"],
        product=active,
        draft_product=draft,
        retired_product=retired,
        price_list=price_list,
        usd_price_list=usd,
        volume=volume,
        pack_volume=pack_volume,
    )


def opportunity_with_price_list(client: TestClient, catalogue: Catalogue, **fields: Any) -> dict[str, Any]:
    """An open opportunity in euros on the catalogue's price list, its revenue computed from its products."""
    body = {"name": "Licencias 2027", "price_list_id": catalogue.price_list, "revenue_calculation": "system"}
    return created(client.post(f"{API}/opportunities", json=body | fields))
