"""Users, roles, business units, teams, assignment and sharing (§8); signing in is ``authentication``.

This is their one front door: the use cases live in ``users``, ``roles``, ``business_units``, ``teams``
and ``sharing`` (what several of them share, in ``common``), and every entry point imports them from here.
"""

from __future__ import annotations

from leadflow.security.business_units import business_unit_by_name, create_business_unit, update_business_unit
from leadflow.security.common import LAST_ADMINISTRATOR_ROLE, NAME_LENGTH, is_administrator
from leadflow.security.roles import (
    ROLE_NAME_LENGTH,
    copy_role,
    create_role,
    ensure_builtin_roles,
    grant_role,
    require_two_factor_for,
    revoke_role,
    role_by_name,
    role_matrix,
    update_role_privileges,
)
from leadflow.security.sharing import (
    SHARE_PRIVILEGES,
    SHARE_RIGHTS,
    ShareEntry,
    Sharing,
    assign_record,
    grantable_rights,
    share_record,
    sharing_of,
    unshare_record,
)
from leadflow.security.teams import (
    add_team_member,
    add_to_team,
    create_team,
    grant_team_role,
    remove_from_team,
    revoke_team_role,
)
from leadflow.security.users import (
    OWNED_TABLES,
    checked_time_zone,
    create_first_administrator,
    create_user,
    deactivate_user,
    move_user_to_business_unit,
    reactivate_user,
    reassign_records,
    set_language,
    set_password,
    set_time_zone,
)

__all__ = [
    "LAST_ADMINISTRATOR_ROLE",
    "NAME_LENGTH",
    "OWNED_TABLES",
    "ROLE_NAME_LENGTH",
    "SHARE_PRIVILEGES",
    "SHARE_RIGHTS",
    "ShareEntry",
    "Sharing",
    "add_team_member",
    "add_to_team",
    "assign_record",
    "business_unit_by_name",
    "checked_time_zone",
    "copy_role",
    "create_business_unit",
    "create_first_administrator",
    "create_role",
    "create_team",
    "create_user",
    "deactivate_user",
    "ensure_builtin_roles",
    "grant_role",
    "grant_team_role",
    "grantable_rights",
    "is_administrator",
    "move_user_to_business_unit",
    "reactivate_user",
    "reassign_records",
    "remove_from_team",
    "require_two_factor_for",
    "revoke_role",
    "revoke_team_role",
    "role_by_name",
    "role_matrix",
    "set_language",
    "set_password",
    "set_time_zone",
    "share_record",
    "sharing_of",
    "unshare_record",
    "update_business_unit",
    "update_role_privileges",
]
