"""The postal address columns shared by leads, accounts and contacts."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "address_line3",
    "address_city",
    "address_state_or_province",
    "address_postal_code",
    "address_country",
)


class AddressMixin:
    """address1_line1..3, _city, _stateorprovince, _postalcode, _country."""

    address_line1: Mapped[str | None] = mapped_column(String(250))
    address_line2: Mapped[str | None] = mapped_column(String(250))
    address_line3: Mapped[str | None] = mapped_column(String(250))
    address_city: Mapped[str | None] = mapped_column(String(80))
    address_state_or_province: Mapped[str | None] = mapped_column(String(50))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_country: Mapped[str | None] = mapped_column(String(80))
