"""How a person's name is composed: one rule for leads, contacts and merges."""

from __future__ import annotations


def compose_full_name(first_name: str | None, last_name: str | None) -> str:
    """The derived full name: first and last name joined by a space."""
    return " ".join(part for part in (first_name, last_name) if part)
