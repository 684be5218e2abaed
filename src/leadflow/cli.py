"""The ``leadflow`` command line: translates arguments into service calls and renders results."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy import func, select
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from leadflow.bootstrap import prepare_database
from leadflow.config import Settings
from leadflow.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.leads import service
from leadflow.db import utcnow
from leadflow.leads.models import Lead
from leadflow.leads.schemas import DisqualifyRequest, LeadCreate, QualifyOptions
from leadflow.leads.views import LeadQuery, LeadView, list_leads, view_condition
from leadflow.schemas import parse
from leadflow.security.actor import Actor, actor_for_email, default_actor
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR
from leadflow.security import service as security_service
from leadflow.security.access import require_admin
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import create_user
from leadflow.uow import Database

app = typer.Typer(help="leadflow: the sales CRM built around the lead lifecycle.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
leads_app = typer.Typer(help="Create, list, qualify, disqualify and reactivate leads.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(leads_app, name="leads")

console = Console()
errors = Console(stderr=True)

# Exit codes per error family, so scripts can tell bad input or a missing record from a refusal.
EXIT_CODES: tuple[tuple[type[LeadflowError], int], ...] = ((NotFound, 3), (ValidationFailed, 2))


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="LEADFLOW_DATABASE_URL", help="SQLAlchemy URL of the database."),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user (email); by default the first System Administrator."),
    ] = None,
) -> None:
    """Read the settings once for every command."""
    settings = Settings(database_url=database_url) if database_url else Settings()
    ctx.obj = {"settings": settings, "as_user": as_user}


def fail(error: LeadflowError) -> NoReturn:
    """Print the human message and exit non-zero."""
    fields = error.details.get("fields", []) if isinstance(error.details, dict) else []
    if fields:
        errors.print(f"[bold red]Error:[/] the input is not valid [dim]({error.code})[/]")
        for field in fields:
            errors.print(f"  • {field['message']} [dim]({field['field']}: {field['code']})[/]")
    else:
        errors.print(f"[bold red]Error:[/] {error.message} [dim]({error.code})[/]")
    raise typer.Exit(code=next((code for kind, code in EXIT_CODES if isinstance(error, kind)), 1))


def _open(ctx: typer.Context) -> tuple[Database, Actor]:
    """The migrated database and the acting user (--as EMAIL, else the first administrator)."""
    prepared = prepare_database(_settings(ctx))
    try:
        with prepared.database.unit_of_work(read_only=True) as uow:
            email = ctx.obj.get("as_user")
            actor = actor_for_email(uow.session, email) if email else default_actor(uow.session)
    except LeadflowError as error:
        fail(error)
    return prepared.database, actor


def _run(ctx: typer.Context, action: Any) -> Any:
    """Run ``action(uow, actor)`` in one unit of work, committing on success, printing refusals."""
    database, actor = _open(ctx)
    try:
        with database.unit_of_work() as uow:
            result = action(uow, actor)
            uow.commit()
    except LeadflowError as error:
        fail(error)
    return result


def _database(ctx: typer.Context) -> Database:
    return prepare_database(_settings(ctx)).database


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the schema to the latest version (Alembic) and set up the organisation."""
    prepared = prepare_database(_settings(ctx))
    console.print(f"Database is up to date: [bold]{prepared.database.engine.url.render_as_string()}[/]")


def _print_demo_users() -> None:
    from leadflow.demo import DEMO_USERS

    table = Table(title="Demo users (sign in at /sign-in; change these passwords before real use)")
    for column in ("email", "password"):
        table.add_column(column, no_wrap=True)  # whole, so that they can be copied
    for column in ("role", "business unit"):
        table.add_column(column)
    for user in DEMO_USERS:
        table.add_row(user["email"], user["password"], user["role"], user["unit"] or "Organisation")
    console.print(table)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load demo data in Spanish and English, with demo users (safe to run twice)."""
    from leadflow.demo import load_demo

    console.print(f"Demo data ready: {load_demo(_database(ctx))}")
    _print_demo_users()


@app.command()
def init(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt="Administrator's email")],
    name: Annotated[str, typer.Option(prompt="Administrator's name")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ],
) -> None:
    """Create the first System Administrator of a new organisation."""
    database = _database(ctx)
    try:
        with database.unit_of_work() as uow:
            try:
                default_actor(uow.session)
            except NotFound:
                pass
            else:
                errors.print("This organisation already has an administrator; use `leadflow users create`.")
                raise typer.Exit(code=1)
            create_user(email=email, full_name=name, role_names=[SYSTEM_ADMINISTRATOR], business_unit_name=None,
                        password=password, uow=uow, actor=None)
            uow.commit()
    except LeadflowError as error:
        fail(error)
    console.print(f"Administrator [bold]{email}[/] created; sign in at /sign-in or get a token with POST /api/v1/auth/token.")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo_data: Annotated[bool | None, typer.Option("--demo/--no-demo", help="Load demo data on first start.")] = None,
) -> None:
    """Migrate, load demo data on first start, and serve the web app and API."""
    import uvicorn

    from leadflow.api.app import create_app

    settings = _settings(ctx)
    prepared = prepare_database(settings)
    load = settings.demo_on_first_start if demo_data is None else demo_data
    if (prepared.created and load) or (demo_data and not prepared.created):
        from leadflow.demo import load_demo

        console.print(f"Loading demo data… {load_demo(prepared.database)}")
        _print_demo_users()
    with prepared.database.unit_of_work(read_only=True) as uow:
        try:
            default_actor(uow.session)
        except NotFound:
            console.print("[bold yellow]No administrator yet:[/] run `leadflow init` to create one.")
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"leadflow on http://{bind_host}:{bind_port}  (API docs: http://{bind_host}:{bind_port}/api/v1/docs)")
    uvicorn.run(create_app(prepared.database, settings), host=bind_host, port=bind_port, log_level="info")


# ---------------------------------------------------------------------------------------------- leads


def _short(value: Any) -> str:
    return "" if value is None else str(value)


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    view: Annotated[LeadView, typer.Option(help="Which view (§10).")] = LeadView.MY_OPEN,
    q: Annotated[str | None, typer.Option(help="Search topic, name, company and email.")] = None,
    sort: Annotated[str, typer.Option(help="Sort column, '-' prefix for descending.")] = "-created_at",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor printed under the previous page.")] = None,
) -> None:
    """List leads in a view."""
    database, actor = _open(ctx)
    try:
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(LeadQuery(view=view, q=q, sort=sort, limit=limit, cursor=cursor), uow=uow, actor=actor)
    except LeadflowError as error:
        fail(error)
    table = Table(title=f"Leads: {view.value}")
    table.add_column("id", no_wrap=True, min_width=36)  # whole, so that it can be copied into a command
    for column in ("topic", "name", "company", "status", "created"):
        table.add_column(column)
    for lead in page.items:
        table.add_row(
            str(lead.id), lead.topic, lead.full_name, _short(lead.company_name),
            f"{lead.state.value}/{lead.status_reason.value}", lead.created_at.strftime("%Y-%m-%d"),
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"Next page: --cursor {page.next_cursor}")


@leads_app.command("create")
def leads_create(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option(help="What the lead is about.")],
    last_name: Annotated[str, typer.Option()],
    first_name: Annotated[str | None, typer.Option()] = None,
    company_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    business_phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a lead."""
    data = {"topic": topic, "last_name": last_name, "first_name": first_name,
            "company_name": company_name, "email": email, "business_phone": business_phone}
    given = {key: value for key, value in data.items() if value is not None}
    lead = _run(ctx, lambda uow, actor: service.create_lead(parse(LeadCreate, given), uow=uow, actor=actor))
    console.print(f"Created lead [bold]{lead.id}[/] ({lead.full_name}: {lead.topic})")


def _stream_ids(database: Database, actor: Actor, view: LeadView) -> Iterator[uuid.UUID]:
    """Every lead id of a view, page by page, so that memory stays flat."""
    cursor = None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(LeadQuery(view=view, sort="created_at", limit=500, cursor=cursor), uow=uow, actor=actor)
            ids = [lead.id for lead in page.items]
        yield from ids
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _count(database: Database, actor: Actor, view: LeadView) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Lead).where(view_condition(view, actor=actor, now=utcnow()))) or 0


@leads_app.command("qualify")
def leads_qualify(
    ctx: typer.Context,
    lead_id: Annotated[uuid.UUID | None, typer.Argument(help="The lead to qualify.")] = None,
    view: Annotated[LeadView | None, typer.Option(help="Qualify the leads of a view instead (with --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Confirm qualifying every lead of --view.")] = False,
    create_account: Annotated[bool | None, typer.Option("--create-account/--no-create-account")] = None,
    create_contact: Annotated[bool | None, typer.Option("--create-contact/--no-create-contact")] = None,
    create_opportunity: Annotated[bool | None, typer.Option("--create-opportunity/--no-create-opportunity")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO code of the opportunity currency.")] = None,
    customer: Annotated[uuid.UUID | None, typer.Option(help="Account or contact id of the opportunity's customer.")] = None,
    campaign: Annotated[uuid.UUID | None, typer.Option(help="Source campaign id.")] = None,
    existing_account: Annotated[uuid.UUID | None, typer.Option(help="Link this account instead of creating one.")] = None,
    existing_contact: Annotated[uuid.UUID | None, typer.Option(help="Link this contact instead of creating one.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Leads per transaction in bulk mode.")] = 500,
) -> None:
    """Qualify one lead, or every lead of a view with --view VIEW --all."""
    options_data = {
        "create_account": create_account, "create_contact": create_contact,
        "create_opportunity": create_opportunity, "opportunity_currency": currency,
        "opportunity_customer_id": customer, "source_campaign_id": campaign,
        "existing_account_id": existing_account, "existing_contact_id": existing_contact,
    }
    database, actor = _open(ctx)
    try:
        options = parse(QualifyOptions, {k: v for k, v in options_data.items() if v is not None})
        if lead_id is not None:
            with database.unit_of_work() as uow:
                result = service.qualify_lead(lead_id, options, uow=uow, actor=actor)
                uow.commit()
            console.print(f"Qualified [bold]{result.lead.full_name}[/] ({result.lead.topic})")
            console.print(f"  account: {_short(result.account_id) or '-'}  contact: {_short(result.contact_id) or '-'}  "
                          f"opportunities: {', '.join(map(str, result.opportunity_ids)) or '-'}")
            return
        if view is None or not all_:
            errors.print("Name a lead id, or a view with --view VIEW --all to qualify every lead in it.")
            raise typer.Exit(code=2)
        _qualify_view(database, actor, view, options, batch_size)
    except LeadflowError as error:
        fail(error)


def _qualify_view(database: Database, actor: Actor, view: LeadView, options: QualifyOptions, batch_size: int) -> None:
    total = _count(database, actor, view)
    qualified, failures = 0, {}
    # Keyset paging stays correct while qualified leads leave the view: the cursor is a position.
    ids = _stream_ids(database, actor, view)
    with Progress(TextColumn("Qualifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("qualify", total=total)
        for outcome in service.qualify_leads(ids, options, database=database, actor=actor, batch_size=batch_size):
            if outcome.ok:
                qualified += 1
            else:
                failures.setdefault(outcome.error.code, []).append(outcome)
            progress.advance(task)
    summary = Table(title="Qualification summary")
    summary.add_column("result")
    summary.add_column("leads", justify="right")
    summary.add_column("example")
    summary.add_row("qualified", str(qualified), "")
    for code, outcomes in failures.items():
        summary.add_row(code, str(len(outcomes)), outcomes[0].error.message)
    console.print(summary)
    if failures:
        raise typer.Exit(code=1)


@leads_app.command("disqualify")
def leads_disqualify(
    ctx: typer.Context,
    lead_id: Annotated[uuid.UUID, typer.Argument()],
    reason: Annotated[str, typer.Option(help="lost, cannot_contact, no_longer_interested or canceled.")],
) -> None:
    """Disqualify an open lead with a status reason (§3)."""
    def action(uow: Any, actor: Actor) -> Any:
        request = parse(DisqualifyRequest, {"status_reason": reason})
        return service.disqualify_lead(lead_id, request.status_reason, uow=uow, actor=actor)

    lead = _run(ctx, action)
    console.print(f"Disqualified [bold]{lead.full_name}[/] ({lead.status_reason.value})")


@leads_app.command("reactivate")
def leads_reactivate(ctx: typer.Context, lead_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Reopen a qualified or disqualified lead (§4)."""
    lead = _run(ctx, lambda uow, actor: service.reactivate_lead(lead_id, uow=uow, actor=actor))
    console.print(f"Reactivated [bold]{lead.full_name}[/]: open/new")



# ---------------------------------------------------------------------------------------------- security

users_app = typer.Typer(help="Users of the organisation.", no_args_is_help=True)
roles_app = typer.Typer(help="Security roles and their privileges.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
units_app = typer.Typer(help="Business units.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams: they own records and receive shares together.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
app.add_typer(users_app, name="users")
app.add_typer(roles_app, name="roles")
app.add_typer(tokens_app, name="tokens")
app.add_typer(units_app, name="business-units")


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
    user = _run(ctx, lambda uow, actor: security_service.create_user(
        email=email, full_name=name, role_names=role, business_unit_name=business_unit,
        password=password, language=language, uow=uow, actor=actor))
    console.print(f"Created user [bold]{user.email}[/] ({', '.join(role)})")


@users_app.command("set-password")
def users_set_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password (and lift a lock-out)."""
    _run(ctx, lambda uow, actor: security_service.set_password(email, password, uow=uow, actor=actor))
    console.print(f"Password set for [bold]{email}[/]")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users with their roles and business unit."""
    from leadflow.security.models import BusinessUnit, Role, User, UserRole

    database, actor = _open(ctx)
    table = Table(title="Users")
    for column in ("email", "name", "roles", "business unit", "active"):
        table.add_column(column)
    with database.unit_of_work(read_only=True) as uow:
        try:
            require_admin(actor, "users", Privilege.READ)
        except LeadflowError as error:
            fail(error)
        units = dict(uow.session.execute(select(BusinessUnit.id, BusinessUnit.name)).all())
        for user in uow.session.scalars(select(User).order_by(User.email)):
            roles = uow.session.scalars(
                select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user.id)
            )
            table.add_row(user.email, user.full_name, ", ".join(roles), units.get(user.business_unit_id, ""),
                          "yes" if user.is_active else "no")
    console.print(table)


@roles_app.command("list")
def roles_list(ctx: typer.Context) -> None:
    """List the roles."""
    from leadflow.security.models import Role

    database, _ = _open(ctx)
    table = Table(title="Roles")
    table.add_column("role")
    table.add_column("kind")
    with database.unit_of_work(read_only=True) as uow:
        for role in uow.session.scalars(select(Role).order_by(Role.name)):
            table.add_row(role.name, "built-in" if role.is_builtin else "custom")
    console.print(table)


@roles_app.command("show")
def roles_show(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Show a role's privilege matrix: table × privilege → access level."""
    database, _ = _open(ctx)
    with database.unit_of_work(read_only=True) as uow:
        try:
            role = security_service.role_by_name(uow.session, name)
        except LeadflowError as error:
            fail(error)
        matrix = security_service.role_matrix(uow.session, role)
    table = Table(title=f"Role: {role.name}")
    table.add_column("table")
    for privilege in Privilege:
        table.add_column(privilege.value)
    for table_name, row in matrix.items():
        table.add_row(table_name, *(row[privilege].label for privilege in Privilege))
    console.print(table)


@roles_app.command("create")
def roles_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    grant: Annotated[
        list[str],
        typer.Option(help="TABLE:PRIVILEGE:LEVEL, e.g. leads:read:business_unit; repeat. Levels: "
                          "none, user, business_unit, parent_child, organization."),
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
    role = _run(ctx, lambda uow, actor: security_service.create_role(name, matrix, uow=uow, actor=actor))
    console.print(f"Created role [bold]{role.name}[/]")


@roles_app.command("grant")
def roles_grant(ctx: typer.Context, role: Annotated[str, typer.Argument()], email: Annotated[str, typer.Option("--user")]) -> None:
    """Give a user a role."""
    def action(uow: Any, actor: Actor) -> None:
        user = actor_for_email(uow.session, email)
        security_service.grant_role(user.user_id, role, uow=uow, actor=actor)

    _run(ctx, action)
    console.print(f"{email} now has the role [bold]{role}[/]")


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Email of the user the token acts as.")],
    name: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it expires.")] = 90,
) -> None:
    """Create a personal API token; it is printed once and stored only as a hash."""
    issued = _run(ctx, lambda uow, actor: security_service.create_personal_token(user, name=name, days=days, uow=uow, actor=actor))
    console.print(f"Token {issued.token.id} for {user}, expires {issued.token.expires_at:%Y-%m-%d}:")
    console.print(issued.secret, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, user: Annotated[str | None, typer.Option("--user")] = None) -> None:
    """List tokens (never their secrets)."""
    database, actor = _open(ctx)
    table = Table(title="Access tokens")
    for column in ("id", "user", "kind", "name", "expires", "revoked"):
        table.add_column(column)
    with database.unit_of_work(read_only=True) as uow:
        try:
            require_admin(actor, "users", Privilege.READ)
        except LeadflowError as error:
            fail(error)
        for token, email in security_service.list_tokens(user, session=uow.session):
            table.add_row(str(token.id), email, token.kind.value, token.name or "", f"{token.expires_at:%Y-%m-%d %H:%M}",
                          f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "")
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Revoke a token at once."""
    _run(ctx, lambda uow, actor: security_service.revoke_token(token_id, uow=uow, actor=actor))
    console.print(f"Token {token_id} revoked")


@units_app.command("create")
def units_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    parent: Annotated[str | None, typer.Option(help="Parent unit name (default: the root).")] = None,
) -> None:
    """Add a business unit."""
    _run(ctx, lambda uow, actor: security_service.create_business_unit(name, parent_name=parent, uow=uow, actor=actor))
    console.print(f"Business unit [bold]{name}[/] created")


@teams_app.command("create")
def teams_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    business_unit: Annotated[str | None, typer.Option(help="Business unit name (default: the root).")] = None,
) -> None:
    """Create a team."""
    _run(ctx, lambda uow, actor: security_service.create_team(name, business_unit_name=business_unit, uow=uow, actor=actor))
    console.print(f"Team [bold]{name}[/] created")


@teams_app.command("add-member")
def teams_add_member(
    ctx: typer.Context, team: Annotated[str, typer.Argument()], email: Annotated[str, typer.Option("--user")]
) -> None:
    """Add a user to a team."""
    _run(ctx, lambda uow, actor: security_service.add_team_member(team, email, uow=uow, actor=actor))
    console.print(f"{email} is now in the team [bold]{team}[/]")


@app.command()
def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="e.g. qualify, update, sign_in_failed")] = None,
    table_name: Annotated[str | None, typer.Option("--table")] = None,
    record: Annotated[uuid.UUID | None, typer.Option("--record", help="Record id")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Email of the acting user")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Show the audit log, newest first."""
    from leadflow.audit.service import AuditQuery, list_entries
    from leadflow.security.models import User

    database, actor = _open(ctx)
    try:
        with database.unit_of_work(read_only=True) as uow:
            user_id = actor_for_email(uow.session, user).user_id if user else None
            entries = list_entries(AuditQuery(user_id=user_id, action=action, table=table_name, record_id=record,
                                              limit=limit), uow=uow, actor=actor)
            emails = dict(uow.session.execute(select(User.id, User.email)).all())
    except LeadflowError as error:
        fail(error)
    table = Table(title="Audit log")
    for column in ("when (UTC)", "who", "action", "table", "record", "details"):
        table.add_column(column)
    for entry in entries:
        details = entry.summary or ""
        if entry.changes:
            details = (details + " " if details else "") + ", ".join(
                f"{k}: {v['old']!r}→{v['new']!r}" if isinstance(v, dict) and "old" in v else f"{k}: {v}"
                for k, v in entry.changes.items()
            )
        table.add_row(f"{entry.occurred_at:%Y-%m-%d %H:%M:%S}", emails.get(entry.user_id, "-"), entry.action,
                      entry.table_name or "", str(entry.record_id or ""), details[:120])
    console.print(table)


# The duplicates command group builds on the helpers above, so it is attached last.
from leadflow.duplicates.cli import duplicates_app  # noqa: E402

app.add_typer(duplicates_app, name="duplicates")
