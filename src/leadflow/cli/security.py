"""`leadflow users|roles|tokens|business-units|teams ...`: who may do what."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.common import (
    JsonFlag,
    console,
    emit,
    errors,
    in_time_zone,
    moment,
    page_of,
    read,
    run,
    settings_of,
    zone_name,
)
from leadflow.core.config import public_url
from leadflow.core.mail import deliver
from leadflow.core.paging import MAX_LIMIT
from leadflow.security import authentication, directory
from leadflow.security import service as security_service
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.privileges import Depth, Privilege

users_app = typer.Typer(help="Users of the organisation.", no_args_is_help=True)
roles_app = typer.Typer(help="Security roles and their privileges.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
units_app = typer.Typer(help="Business units.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams: they own records and receive shares together.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    role: Annotated[list[str], typer.Option(help="A role name; repeat for several (roles are cumulative).")],
    business_unit: Annotated[str | None, typer.Option(help="Business unit name (default: the root).")] = None,
    language: Annotated[str | None, typer.Option(help="en or es; by default pages follow the browser.")] = None,
    set_password: Annotated[bool, typer.Option("--set-password", help="Prompt for a password now.")] = False,
) -> None:
    """Create a user with one or more roles."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if set_password else None
    user = run(
        ctx,
        lambda uow, actor: security_service.create_user(
            email=email,
            full_name=name,
            role_names=role,
            business_unit_name=business_unit,
            password=password,
            language=language,
            uow=uow,
            actor=actor,
        ),
    )
    console.print(f"Created user [bold]{user.email}[/] ({', '.join(role)})")


@users_app.command("set-password")
def users_set_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password (and lift a lock-out)."""
    run(ctx, lambda uow, actor: security_service.set_password(email, password, uow=uow, actor=actor))
    console.print(f"Password set for [bold]{email}[/]")


@users_app.command("reset-password")
def users_reset_password(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Print a one-time link, valid 24 hours, with which the user sets a new password (and e-mail it to
    them when LEADFLOW_SMTP_URL names a mail server)."""
    settings = settings_of(ctx)
    link, zone = run(
        ctx,
        in_time_zone(
            lambda uow, actor: authentication.make_reset_link(
                _user_id(uow, email, active=True), base_url=public_url(settings), uow=uow, actor=actor
            )
        ),
    )
    console.print(f"Give {email} this link (valid until {moment(link.expires_at, zone)} {zone_name(zone)}, once):")
    console.print(link.url, soft_wrap=True, markup=False, highlight=False)
    delivery = deliver(settings, authentication.reset_link_mail(link))
    if delivery.sent:
        console.print(f"It was also e-mailed to {email}.")
    elif delivery.problem:
        console.print(f"[yellow]It could not be e-mailed: {escape(delivery.problem)}[/]", soft_wrap=True)


@users_app.command("deactivate")
def users_deactivate(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Deactivate a user: no more sign-in, every token stops; their records keep them as owner."""
    run(
        ctx,
        lambda uow, actor: security_service.deactivate_user(_user_id(uow, email, active=None), uow=uow, actor=actor),
    )
    console.print(f"{email} is deactivated; hand their records over with `leadflow users reassign-records`.")


@users_app.command("reactivate")
def users_reactivate(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Let a deactivated user sign in again."""
    run(
        ctx,
        lambda uow, actor: security_service.reactivate_user(_user_id(uow, email, active=None), uow=uow, actor=actor),
    )
    console.print(f"{email} can sign in again.")


@users_app.command("reassign-records")
def users_reassign_records(
    ctx: typer.Context, email: Annotated[str, typer.Argument()], to: Annotated[str, typer.Option("--to")]
) -> None:
    """Give every lead, account, contact and opportunity a user owns to another user."""
    moved = run(
        ctx,
        lambda uow, actor: security_service.reassign_records(
            _user_id(uow, email, active=None), _user_id(uow, to, active=True), uow=uow, actor=actor
        ),
    )
    console.print(", ".join(f"{count} {table}" for table, count in moved.items()) + f" now belong to {to}.")


@users_app.command("two-factor-off")
def users_two_factor_off(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Turn a user's two-factor sign-in off (a lost phone); they can set it up again."""
    run(
        ctx,
        lambda uow, actor: authentication.turn_off_two_factor(_user_id(uow, email, active=None), uow=uow, actor=actor),
    )
    console.print(f"Two-factor sign-in is off for {email}.")


def _user_id(uow: Any, email: str, *, active: bool | None) -> uuid.UUID:
    """The id of the user with this email (of any state unless ``active`` says)."""
    return directory.user_by_email(email, uow=uow, active=active).id


# The paging options of the lists below; by default a page holds as many as a page may.
Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many at most.")]
Cursor = Annotated[str | None, typer.Option(help="The cursor printed under the previous page.")]


def _next_page(next_cursor: str | None) -> None:
    if next_cursor:
        console.print(f"Next page: --cursor {next_cursor}")


@users_app.command("list")
def users_list(ctx: typer.Context, limit: Limit = MAX_LIMIT, cursor: Cursor = None, as_json: JsonFlag = False) -> None:
    """List users with their roles and business unit, by email."""
    from leadflow.api.security import UserOut  # the API's fields; imported here to keep the CLI quick to start

    page = read(ctx, lambda uow, actor: directory.list_users(uow=uow, actor=actor, limit=limit, cursor=cursor))

    def render() -> None:
        table = Table(title="Users")
        for column in ("email", "name", "roles", "business unit", "active"):
            table.add_column(column)
        for entry in sorted(page.items, key=lambda entry: entry.user.email):
            user = entry.user
            table.add_row(
                user.email,
                user.full_name,
                ", ".join(entry.roles),
                entry.business_unit,
                "yes" if user.is_active else "no",
            )
        console.print(table)
        _next_page(page.next_cursor)

    emit(as_json, page_of((UserOut.model_validate(entry.user) for entry in page.items), page.next_cursor), render)


@roles_app.command("list")
def roles_list(ctx: typer.Context, limit: Limit = MAX_LIMIT, cursor: Cursor = None, as_json: JsonFlag = False) -> None:
    """List the roles, by name (with --json, each with its privilege matrix)."""
    from leadflow.api.security import role_out

    def roles(uow: Any, actor: Actor) -> tuple[Any, dict[str, Any] | None]:
        page = directory.list_roles(uow=uow, actor=actor, limit=limit, cursor=cursor)
        return page, page_of((role_out(uow, entry.role) for entry in page.items), page.next_cursor) if as_json else None

    page, document = read(ctx, roles)

    def render() -> None:
        table = Table(title="Roles")
        table.add_column("role")
        table.add_column("kind")
        for entry in page.items:
            table.add_row(entry.role.name, "built-in" if entry.role.is_builtin else "custom")
        console.print(table)
        _next_page(page.next_cursor)

    emit(as_json, document, render)


@roles_app.command("show")
def roles_show(ctx: typer.Context, name: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """Show a role's privilege matrix: table × privilege → access level."""
    from leadflow.api.security import role_out

    def one(uow: Any, actor: Actor) -> tuple[Any, Any, Any]:
        role, matrix = directory.get_role(name, uow=uow, actor=actor)
        return role, matrix, role_out(uow, role, matrix)

    role, matrix, document = read(ctx, one)

    def render() -> None:
        table = Table(title=f"Role: {role.name}")
        table.add_column("table")
        for privilege in Privilege:
            table.add_column(privilege.value)
        for table_name, row in matrix.items():
            table.add_row(table_name, *(row[privilege].label for privilege in Privilege))
        console.print(table)

    emit(as_json, document, render)


@roles_app.command("create")
def roles_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    grant: Annotated[
        list[str],
        typer.Option(
            help="TABLE:PRIVILEGE:LEVEL, e.g. leads:read:business_unit; repeat. Levels: "
            "none, user, business_unit, parent_child, organization."
        ),
    ],
) -> None:
    """Create a custom role from grants."""
    matrix: dict[str, dict[Privilege, Depth]] = {}
    for item in grant:
        try:
            table_name, privilege, level = item.split(":")
            matrix.setdefault(table_name, {})[Privilege(privilege)] = Depth[level.upper()]
        except (ValueError, KeyError):
            errors.print(f"Cannot read the grant {item!r}; write TABLE:PRIVILEGE:LEVEL, e.g. leads:read:user.")
            raise typer.Exit(code=2) from None
    role = run(ctx, lambda uow, actor: security_service.create_role(name, matrix, uow=uow, actor=actor))
    console.print(f"Created role [bold]{role.name}[/]")


@roles_app.command("require-two-factor")
def roles_require_two_factor(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    required: Annotated[
        bool, typer.Option("--on/--off", help="Require a second factor of the role's holders, or not.")
    ] = True,
) -> None:
    """Make holders of a role sign in with a second factor (they set it up at their next sign-in)."""
    run(ctx, lambda uow, actor: security_service.require_two_factor_for(name, required, uow=uow, actor=actor))
    console.print(f"Holders of {name} {'must now' if required else 'no longer have to'} sign in with a second factor.")


@roles_app.command("grant")
def roles_grant(
    ctx: typer.Context, role: Annotated[str, typer.Argument()], email: Annotated[str, typer.Option("--user")]
) -> None:
    """Give a user a role."""

    def action(uow: Any, actor: Actor) -> None:
        user = actor_for_email(uow.session, email)
        security_service.grant_role(user.user_id, role, uow=uow, actor=actor)

    run(ctx, action)
    console.print(f"{email} now has the role [bold]{role}[/]")


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Email of the user the token acts as.")],
    name: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it expires.")] = 90,
) -> None:
    """Create a personal API token; it is printed once and stored only as a hash."""
    issued, zone = run(
        ctx,
        in_time_zone(
            lambda uow, actor: authentication.create_personal_token(user, name=name, days=days, uow=uow, actor=actor)
        ),
    )
    console.print(
        f"Token {issued.token.id} for {user}, expires {moment(issued.token.expires_at, zone)} {zone_name(zone)}:"
    )
    console.print(issued.secret, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user")] = None,
    limit: Limit = MAX_LIMIT,
    cursor: Cursor = None,
    as_json: JsonFlag = False,
) -> None:
    """List tokens, newest first (never their secrets): your own, or anyone's for administrators."""
    from leadflow.api.security import token_info_out

    page, zone = read(
        ctx,
        in_time_zone(
            lambda uow, actor: directory.list_tokens(user_email=user, uow=uow, actor=actor, limit=limit, cursor=cursor)
        ),
    )

    def render() -> None:
        table = Table(title="Access tokens")
        for column in ("id", "user", "kind", "name", f"expires ({zone_name(zone)})", "revoked"):
            table.add_column(column)
        for entry in page.items:
            token = entry.token
            table.add_row(
                str(token.id),
                entry.email,
                token.kind.value,
                token.name or "",
                moment(token.expires_at, zone),
                moment(token.revoked_at, zone),
            )
        console.print(table)
        _next_page(page.next_cursor)

    emit(as_json, page_of(map(token_info_out, page.items), page.next_cursor), render)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Revoke a token at once."""
    run(ctx, lambda uow, actor: authentication.revoke_token(token_id, uow=uow, actor=actor))
    console.print(f"Token {token_id} revoked")


@units_app.command("create")
def units_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    parent: Annotated[str | None, typer.Option(help="Parent unit name (default: the root).")] = None,
) -> None:
    """Add a business unit."""
    run(ctx, lambda uow, actor: security_service.create_business_unit(name, parent_name=parent, uow=uow, actor=actor))
    console.print(f"Business unit [bold]{name}[/] created")


@teams_app.command("create")
def teams_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    business_unit: Annotated[str | None, typer.Option(help="Business unit name (default: the root).")] = None,
) -> None:
    """Create a team."""
    run(
        ctx,
        lambda uow, actor: security_service.create_team(name, business_unit_name=business_unit, uow=uow, actor=actor),
    )
    console.print(f"Team [bold]{name}[/] created")


@teams_app.command("add-member")
def teams_add_member(
    ctx: typer.Context, team: Annotated[str, typer.Argument()], email: Annotated[str, typer.Option("--user")]
) -> None:
    """Add a user to a team."""
    run(ctx, lambda uow, actor: security_service.add_team_member(team, email, uow=uow, actor=actor))
    console.print(f"{email} is now in the team [bold]{team}[/]")


def register(app: typer.Typer) -> None:
    """Add the security command groups to the root command."""
    app.add_typer(teams_app, name="teams")
    app.add_typer(users_app, name="users")
    app.add_typer(roles_app, name="roles")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(units_app, name="business-units")
