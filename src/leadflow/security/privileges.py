"""Privileges, access levels and the built-in roles of §8, as data."""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Privilege(enum.StrEnum):
    CREATE = "create"
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    APPEND = "append"
    APPEND_TO = "append_to"
    ASSIGN = "assign"
    SHARE = "share"


class Depth(enum.IntEnum):
    """How far a privilege reaches: ordered, so that the widest grant of cumulative roles wins."""

    NONE = 0
    USER = 1  # records the user (or one of the user's teams) owns, or that are shared with them
    BUSINESS_UNIT = 2  # records owned in the user's business unit
    PARENT_CHILD = 3  # records owned in the user's business unit or any unit below it
    ORGANIZATION = 4  # every record

    @property
    def label(self) -> str:
        return {
            Depth.NONE: "None",
            Depth.USER: "User",
            Depth.BUSINESS_UNIT: "Business Unit",
            Depth.PARENT_CHILD: "Parent: Child Business Units",
            Depth.ORGANIZATION: "Organization",
        }[self]


# Tables whose records have owners; privileges on them are checked per record.
RECORD_TABLES = ("leads", "accounts", "contacts", "opportunities", "quotes", "orders", "invoices") + (
    ACTIVITY_TABLES := ("tasks", "phone_calls", "appointments", "emails")
)
# Administrative areas: a privilege at any depth above None allows the action.
# Organisation-wide reference data sits with them: competitors and currencies have no owner.
# The product catalogue ("products": units, products, price lists, discount lists) is read by every
# seller; "price_overrides" is the right to replace a catalogue price on a line by another.
# "webhooks": subscriptions that send the organisation's events to other systems (administrators only).
ADMIN_TABLES = (
    "users",
    "roles",
    "business_units",
    "settings",
    "audit",
    "competitors",
    "currencies",
    "products",
    "price_overrides",
    "webhooks",
)
TABLES = RECORD_TABLES + ADMIN_TABLES

N, U, B, P, O = Depth.NONE, Depth.USER, Depth.BUSINESS_UNIT, Depth.PARENT_CHILD, Depth.ORGANIZATION  # noqa: E741 (the letters of the matrix below)
_PRIVILEGE_ORDER = tuple(Privilege)


def _row(
    create: Depth,
    read: Depth,
    write: Depth,
    delete: Depth,
    append: Depth,
    append_to: Depth,
    assign: Depth,
    share: Depth,
) -> dict[Privilege, Depth]:
    return dict(zip(_PRIVILEGE_ORDER, (create, read, write, delete, append, append_to, assign, share), strict=True))


def _records(**row: Depth) -> dict[str, dict[Privilege, Depth]]:
    return {table: _row(**row) for table in RECORD_TABLES}


def _admin(depth_by_table: Mapping[str, tuple[Depth, Depth]]) -> dict[str, dict[Privilege, Depth]]:
    """Admin areas: (read depth, change depth) per table; change covers create/write/delete."""
    result = {}
    for table, (read, change) in depth_by_table.items():
        result[table] = {p: N for p in Privilege} | {
            Privilege.READ: read,
            Privilege.CREATE: change,
            Privilege.WRITE: change,
            Privilege.DELETE: change,
            Privilege.ASSIGN: change,
            Privilege.SHARE: change,
            Privilege.APPEND: change,
            Privilege.APPEND_TO: change,
        }
    return result


SYSTEM_ADMINISTRATOR = "System Administrator"
BUILTIN_ROLES: dict[str, dict[str, dict[Privilege, Depth]]] = {
    SYSTEM_ADMINISTRATOR: {
        **_records(create=O, read=O, write=O, delete=O, append=O, append_to=O, assign=O, share=O),
        **_admin({table: (O, O) for table in ADMIN_TABLES}),
    },
    "System Customizer": {
        **_records(create=U, read=O, write=U, delete=U, append=U, append_to=O, assign=U, share=U),
        **_admin(
            {
                "users": (O, N),
                "roles": (O, N),
                "business_units": (O, N),
                "settings": (O, O),
                "audit": (N, N),
                "competitors": (O, O),
                "currencies": (O, O),
                "products": (O, O),
                "price_overrides": (O, O),
                "webhooks": (N, N),
            }
        ),
    },
    "Vice President of Sales": {
        **_records(create=O, read=O, write=O, delete=P, append=O, append_to=O, assign=O, share=O),
        **_admin(
            {
                "users": (O, N),
                "roles": (O, N),
                "business_units": (O, N),
                "settings": (O, N),
                "audit": (O, N),
                "competitors": (O, O),
                "currencies": (O, N),
                "products": (O, O),
                "price_overrides": (O, O),
                "webhooks": (N, N),
            }
        ),
    },
    "Sales Manager": {
        **_records(create=B, read=P, write=P, delete=B, append=P, append_to=P, assign=P, share=P),
        **_admin(
            {
                "users": (O, N),
                "roles": (O, N),
                "business_units": (O, N),
                "settings": (O, N),
                "audit": (N, N),
                "competitors": (O, O),
                "currencies": (O, N),
                "products": (O, O),
                "price_overrides": (O, O),
                "webhooks": (N, N),
            }
        ),
    },
    "Salesperson": {
        **_records(create=U, read=B, write=U, delete=U, append=U, append_to=B, assign=U, share=U),
        **_admin(
            {
                "users": (O, N),
                "roles": (N, N),
                "business_units": (O, N),
                "settings": (O, N),
                "audit": (N, N),
                "competitors": (O, O),
                "currencies": (O, N),
                "products": (O, N),
                "price_overrides": (N, N),
                "webhooks": (N, N),
            }
        ),
    },
    "Sales Team Member": {
        **_records(create=N, read=B, write=N, delete=N, append=N, append_to=N, assign=N, share=N),
        # A team member records the calls, meetings and e-mails of their own day.
        **{
            table: _row(create=U, read=B, write=U, delete=U, append=U, append_to=U, assign=N, share=N)
            for table in ACTIVITY_TABLES
        },
        **_admin(
            {
                "users": (O, N),
                "roles": (N, N),
                "business_units": (O, N),
                "settings": (O, N),
                "audit": (N, N),
                "competitors": (O, N),
                "currencies": (O, N),
                "products": (O, N),
                "price_overrides": (N, N),
                "webhooks": (N, N),
            }
        ),
    },
}
