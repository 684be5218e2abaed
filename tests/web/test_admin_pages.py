"""Administration pages: settings, duplicate detection rules, duplicate sets and merges, users and
roles, audit log, and the user's own page; in English and Spanish, refused for a Salesperson."""

from __future__ import annotations

import html as markup
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, CustomerState
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.duplicates import merge as merging
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.models import (
    DuplicateRule,
    MatchCode,
    MergeJournal,
    MergeState,
    RuleState,
)
from leadflow.organisation.models import (
    DuplicateExperience,
    OrganisationSettings,
    QualificationExperience,
    RecordCreation,
)
from leadflow.organisation.service import update_settings
from leadflow.security.actor import Actor
from leadflow.security.models import Role, User
from leadflow.security.service import create_user, grant_role
from leadflow.web.areas import admin_audit
from tests.builtin_rules import make_room_for_a_rule
from tests.conftest import ADMIN_EMAIL
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sam.seller@example.com"
SELLER_PASSWORD = "a long seller password"
# Tables an administration page may write, compared row by row to prove a refusal changed nothing.
WRITTEN_TABLES = (
    "organisation_settings",
    "duplicate_rules",
    "duplicate_rule_conditions",
    "duplicate_match_codes",
    "duplicate_jobs",
    "duplicate_sets",
    "duplicate_set_members",
    "merge_journal",
    "accounts",
    "contacts",
    "leads",
    "users",
    "user_roles",
    "audit_entries",
)


def snapshot(database: Database, tables: tuple[str, ...] = WRITTEN_TABLES) -> dict[str, list[tuple]]:
    """Every row of the tables as the driver returns them: equal snapshots mean nothing changed."""
    with database.engine.connect() as connection:
        return {
            table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in tables
        }


def make_seller(database: Database) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()


@pytest.fixture
def spanish_client(web_client_for: Callable[..., TestClient]) -> TestClient:
    """The System Administrator with a browser asking for Spanish."""
    return web_client_for(accept_language="es-ES,es;q=0.9")


@pytest.fixture
def seller_client(database: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    make_seller(database)
    return web_client_for(SELLER_EMAIL, SELLER_PASSWORD)


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    """Load ``page`` for its CSRF token and post ``data`` to ``action`` as its form would."""
    token = page_csrf(client.get(page).text)
    return client.post(action, data=as_form([("csrf_token", token), *pairs(data)]), follow_redirects=False)


def pairs(data: dict[str, Any] | list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return list(data.items()) if isinstance(data, dict) else list(data)


def as_form(items: list[tuple[str, Any]]) -> dict[str, list[str]]:
    """Form fields for the client, a name sent several times keeping all its values in order."""
    form: dict[str, list[str]] = {}
    for name, value in items:
        form.setdefault(name, []).append(str(value))
    return form


def settings_row(database: Database) -> OrganisationSettings:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(OrganisationSettings)).one()


def rule_named(database: Database, name: str) -> DuplicateRule:
    with database.unit_of_work(read_only=True) as uow:
        rule = uow.session.scalars(select(DuplicateRule).where(DuplicateRule.name == name)).one()
        _ = rule.conditions
        return rule


def make_rule(database: Database, actor: Actor, name: str, table: str = "accounts", column: str = "name") -> uuid.UUID:
    with database.unit_of_work() as uow:
        rule = rule_service.create_rule(
            rule_service.RuleCreate(
                name=name, base_table=table, conditions=[{"base_column": column, "criterion": "exact_match"}]
            ),
            uow=uow,
            actor=actor,
        )
        uow.commit()
        return rule.id


def make_account(database: Database, actor: Actor, **fields: Any) -> Account:
    with database.unit_of_work() as uow:
        account = customers.create_account(
            AccountCreate(**{"name": "Muebles Ibéricos", **fields}), uow=uow, actor=actor, suppress_duplicates=True
        )
        uow.commit()
        return account


def settings_form(**overrides: Any) -> list[tuple[str, Any]]:
    """The settings form as the browser sends it: unticked checkboxes are absent."""
    values = {
        "row_version": None,
        "qualification_experience": "legacy",
        "create_records_on_qualify": "true",
        "account_creation": "automatic",
        "contact_creation": "automatic",
        "opportunity_creation": "automatic",
        "duplicate_experience": "enhanced",
        "duplicate_detection_enabled": "true",
        "detect_duplicates_leads": "true",
        "detect_duplicates_accounts": "true",
        "detect_duplicates_contacts": "true",
        "detect_duplicates_opportunities": "true",
        "default_phone_region": "ES",
        **overrides,
    }
    return [(name, value) for name, value in values.items() if value is not None]


# ---------------------------------------------------------------------------------------------- every page, both languages

PAGES_IN_SPANISH = {
    "/admin/settings": (
        "Cree registros de cuenta, contacto y oportunidad de forma predeterminada al calificar un cliente potencial",
        "Es posible que la cuenta o el contacto ya existan",
    ),
    "/admin/duplicate-rules": ("Reglas de detección de duplicados", "Publicada", "Nueva regla"),
    "/admin/duplicate-rules/new": ("Excluir registros coincidentes inactivos", "Coincidencia exacta", "Columna base"),
    "/admin/duplicates": ("Buscar duplicados", "Registros duplicados"),
    "/admin/users": ("Usuarios", "Administrador del sistema", "Unidad de negocio"),
    "/admin/roles": ("Roles de seguridad", "Vendedor", "Integrado"),
    "/admin/audit": ("Registro de auditoría", "Todas las acciones", "Filtrar"),
    "/me": ("Idioma", "Administrador del sistema", "El idioma del explorador"),
}
PAGES_IN_ENGLISH = {
    "/admin/settings": (
        "Create account, contact, and opportunity records by default upon qualifying a lead",
        "The account or contact might already exist",
    ),
    "/admin/duplicate-rules": ("Duplicate detection rules", "Published", "New rule"),
    "/admin/duplicate-rules/new": ("Exclude inactive matching records", "Exact match", "Base column"),
    "/admin/duplicates": ("Find duplicates", "Duplicate records"),
    "/admin/users": ("Users", "System Administrator", "Business unit"),
    "/admin/roles": ("Security roles", "Salesperson", "Built-in"),
    "/admin/audit": ("Audit log", "All actions", "Filter"),
    "/me": ("Language", "System Administrator", "The browser's language"),
}


@pytest.mark.parametrize("path", sorted(PAGES_IN_ENGLISH))
def test_each_admin_page_shows_its_labels_in_english(web_client: TestClient, path: str) -> None:
    response = web_client.get(path)
    assert response.status_code == 200, response.text
    assert '<html lang="en">' in response.text
    page = markup.unescape(response.text)
    for words in PAGES_IN_ENGLISH[path]:
        assert words in page, words


@pytest.mark.parametrize("path", sorted(PAGES_IN_SPANISH))
def test_each_admin_page_shows_its_labels_in_spanish(spanish_client: TestClient, path: str) -> None:
    response = spanish_client.get(path)
    assert response.status_code == 200, response.text
    assert '<html lang="es">' in response.text
    page = markup.unescape(response.text)
    for words in PAGES_IN_SPANISH[path]:
        assert words in page, words


def test_pages_use_no_inline_script_or_style(web_client: TestClient, database: Database, actor: Actor) -> None:
    rule_id = make_rule(database, actor, "Accounts by name again")
    for path in (*PAGES_IN_ENGLISH, f"/admin/duplicate-rules/{rule_id}"):
        html = web_client.get(path).text
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html, path
        for script in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in script, script


def test_every_field_of_the_rule_form_has_a_label(web_client: TestClient) -> None:
    html = web_client.get("/admin/duplicate-rules/new").text
    form = html[html.index('id="rule-form"') :]
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', form)
    assert ids
    for field_id in ids:
        assert f'for="{field_id}"' in html, field_id


# ---------------------------------------------------------------------------------------------- 403 for a Salesperson

SELLER_REFUSED_PAGES = (
    "/admin/settings",
    "/admin/duplicate-rules",
    "/admin/duplicate-rules/new",
    "/admin/duplicates",
    "/admin/roles",
    "/admin/audit",
)


@pytest.mark.parametrize("path", SELLER_REFUSED_PAGES)
def test_a_salesperson_gets_a_403_page_on_the_administration_pages(seller_client: TestClient, path: str) -> None:
    response = seller_client.get(path)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "You can't open this page" in response.text
    assert "privilege" in response.text


def test_a_salesperson_gets_the_403_page_in_spanish(
    database: Database, web_client_for: Callable[..., TestClient]
) -> None:
    make_seller(database)
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD, accept_language="es")
    response = client.get("/admin/settings")
    assert response.status_code == 403
    assert "No puede abrir esta página" in response.text
    assert "Le falta el privilegio Escribir en Configuración" in response.text


def test_a_salesperson_cannot_save_settings_and_nothing_changes(seller_client: TestClient, database: Database) -> None:
    before = snapshot(database)
    response = post_form(seller_client, "/me", "/admin/settings", settings_form(duplicate_detection_enabled=None))
    assert response.status_code == 403
    assert snapshot(database) == before


def test_a_salesperson_cannot_publish_a_rule(seller_client: TestClient, database: Database, actor: Actor) -> None:
    rule_id = make_rule(database, actor, "Accounts by website twice", column="website")
    before = snapshot(database)
    response = post_form(seller_client, "/me", f"/admin/duplicate-rules/{rule_id}/publish", {})
    assert response.status_code == 403
    assert snapshot(database) == before


def test_a_salesperson_sees_the_users_but_cannot_create_one(seller_client: TestClient, database: Database) -> None:
    page = seller_client.get("/admin/users")
    assert page.status_code == 200 and "Sam Seller" in page.text
    assert 'id="new-user"' not in page.text
    before = snapshot(database)
    response = post_form(
        seller_client,
        "/admin/users",
        "/admin/users",
        [("full_name", "Eve"), ("email", "eve@example.com"), ("roles", "System Administrator")],
    )
    assert response.status_code == 403
    assert snapshot(database) == before


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    web_client: TestClient, database: Database
) -> None:
    before = snapshot(database)
    response = web_client.post(
        "/admin/settings", data=as_form(settings_form(default_phone_region="GB")), follow_redirects=False
    )
    assert response.status_code == 403
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- settings (§6)


def test_settings_round_trip(web_client: TestClient, database: Database) -> None:
    version = settings_row(database).row_version
    response = post_form(
        web_client,
        "/admin/settings",
        "/admin/settings",
        settings_form(
            row_version=version,
            qualification_experience="per_record",
            create_records_on_qualify="false",
            opportunity_creation="seller",
            duplicate_experience="classic",
            detect_duplicates_leads=None,
            default_phone_region="gb",
        ),
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/settings?saved=true"

    saved = settings_row(database)
    assert saved.qualification_experience is QualificationExperience.PER_RECORD
    assert saved.create_records_on_qualify is False
    assert saved.opportunity_creation is RecordCreation.SELLER
    assert saved.account_creation is RecordCreation.AUTOMATIC
    assert saved.duplicate_experience is DuplicateExperience.CLASSIC
    assert saved.detect_duplicates_leads is False and saved.detect_duplicates_accounts is True
    assert saved.default_phone_region == "GB"
    assert saved.row_version == version + 1

    html = web_client.get("/admin/settings?saved=true").text
    assert 'id="settings-saved"' in html
    assert 'id="qualification_experience-per_record" name="qualification_experience" value="per_record" checked' in html
    assert 'id="create_records_on_qualify-no" name="create_records_on_qualify" value="false" checked' in html
    assert 'id="detect_duplicates_leads" name="detect_duplicates_leads" value="true">' in html
    assert 'id="detect_duplicates_accounts" name="detect_duplicates_accounts" value="true" checked' in html
    assert '<option value="GB" selected>' in html
    assert f'name="row_version" value="{version + 1}"' in html


def test_settings_saved_by_someone_else_meanwhile_are_not_overwritten(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    form = web_client.get("/admin/settings").text
    version = int(re.search(r'name="row_version" value="(\d+)"', form).group(1))
    with database.unit_of_work() as uow:
        update_settings({"default_phone_region": "FR"}, uow=uow, actor=actor)
        uow.commit()
    before = snapshot(database)
    response = web_client.post(
        "/admin/settings",
        data=as_form([("csrf_token", page_csrf(form)), *settings_form(row_version=version, default_phone_region="PT")]),
        follow_redirects=False,
    )
    assert response.status_code == 412
    assert "changed by someone else" in response.text
    assert '<option value="PT" selected>' in response.text  # the input is kept
    assert snapshot(database) == before


def test_an_unknown_phone_region_is_refused_next_to_its_field_in_spanish(
    spanish_client: TestClient, database: Database
) -> None:
    before = snapshot(database)
    response = post_form(
        spanish_client,
        "/admin/settings",
        "/admin/settings",
        settings_form(default_phone_region="ZZ", duplicate_experience="classic"),
    )
    assert response.status_code == 422
    assert 'id="default_phone_region-error"' in response.text
    assert "Este valor no es válido." in response.text
    assert 'id="duplicate_experience-classic" name="duplicate_experience" value="classic" checked' in response.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- duplicate detection rules (§9)


def rule_form(
    base_table: str = "accounts",
    matching_table: str | None = None,
    *,
    name: str = "Accounts by city",
    conditions: list[dict[str, Any]] | None = None,
    **options: Any,
) -> list[tuple[str, Any]]:
    rows = conditions if conditions is not None else [{"base_column": "address_city", "criterion": "exact_match"}]
    data: list[tuple[str, Any]] = [
        ("base_table", base_table),
        ("matching_table", matching_table or base_table),
        ("name", name),
        ("description", options.pop("description", "")),
        ("default_region", options.pop("default_region", "ES")),
        ("condition_count", len(rows)),
        ("action", options.pop("action", "save")),
    ]
    data += [(name, "true") for name, on in options.items() if on]
    for index, row in enumerate(rows):
        for field in ("base_column", "matching_column", "criterion", "n", "threshold"):
            data.append((f"conditions-{index}-{field}", row.get(field, "")))
        if row.get("ignore_blank", True):
            data.append((f"conditions-{index}-ignore_blank", "true"))
    return data


def test_the_rule_list_shows_tables_state_and_conditions(web_client: TestClient) -> None:
    html = web_client.get("/admin/duplicate-rules").text
    row = html[html.index("Contacts with the same first name and last name") :]
    row = row[: row.index("</tr>")]
    assert "Contacts → Contacts" in row
    assert "Published" in row
    assert "First name: Exact match" in row and "Last name: Exact match" in row


def test_the_new_rule_form_offers_the_columns_of_the_chosen_tables(web_client: TestClient) -> None:
    html = web_client.get("/admin/duplicate-rules/new?base_table=leads&matching_table=contacts").text
    base = html[html.index('id="conditions-0-base_column"') :]
    base = base[: base.index("</select>")]
    matching = html[html.index('id="conditions-0-matching_column"') :]
    matching = matching[: matching.index("</select>")]
    assert 'value="company_name"' in base  # a lead column
    assert 'value="company_name"' not in matching  # contacts have none
    assert 'value="email"' in matching


def test_creating_a_rule_saves_it_unpublished_with_its_conditions(web_client: TestClient, database: Database) -> None:
    response = post_form(
        web_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        rule_form(
            "leads",
            "contacts",
            name="Leads like contacts",
            exclude_inactive=True,
            conditions=[
                {"base_column": "email", "criterion": "exact_match"},
                {
                    "base_column": "last_name",
                    "matching_column": "last_name",
                    "criterion": "same_first_characters",
                    "n": "4",
                    "ignore_blank": False,
                },
            ],
        ),
    )
    assert response.status_code == 303, response.text
    rule = rule_named(database, "Leads like contacts")
    assert response.headers["location"] == f"/admin/duplicate-rules/{rule.id}?created=true"
    assert rule.state is RuleState.UNPUBLISHED
    assert (rule.base_table.value, rule.matching_table.value, rule.exclude_inactive, rule.case_sensitive) == (
        "leads",
        "contacts",
        True,
        False,
    )
    assert [(c.base_column, c.matching_column, c.criterion.value, c.n, c.ignore_blank) for c in rule.conditions] == [
        ("email", "email", "exact_match", None, True),
        ("last_name", "last_name", "same_first_characters", 4, False),
    ]
    page = web_client.get(response.headers["location"]).text
    assert "The rule was created" in page and 'id="publish-rule"' in page


def test_a_rule_with_a_bad_condition_shows_the_refusal_and_saves_nothing(
    web_client: TestClient, database: Database
) -> None:
    before = snapshot(database)
    response = post_form(
        web_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        rule_form(
            name="Half a rule",
            conditions=[
                {"base_column": "name", "criterion": "exact_match"},
                {"base_column": "telephone", "criterion": "same_last_characters"},  # N is missing
            ],
        ),
    )
    assert response.status_code == 422
    assert 'id="rule-error"' in response.text
    assert "needs a number of characters N of at least 1" in response.text
    assert 'id="conditions-1" class="has-error"' in response.text
    assert 'value="Half a rule"' in response.text  # what was typed is kept
    assert snapshot(database) == before


def test_a_bad_condition_is_refused_in_spanish(spanish_client: TestClient, database: Database) -> None:
    before = snapshot(database)
    response = post_form(
        spanish_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        rule_form(conditions=[{"base_column": "name", "criterion": "exact_match", "n": "3"}]),
    )
    assert response.status_code == 422
    assert "Este criterio no usa un número de caracteres N; deje N vacío." in response.text
    assert snapshot(database) == before


def test_a_malformed_n_is_shown_next_to_its_condition(web_client: TestClient, database: Database) -> None:
    before = snapshot(database)
    response = post_form(
        web_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        rule_form(
            conditions=[
                {"base_column": "", "criterion": "exact_match"},  # an unused empty row before it
                {"base_column": "telephone", "criterion": "same_last_characters", "n": "six"},
            ]
        ),
    )
    assert response.status_code == 422
    assert 'id="conditions-1-n" name="conditions-1-n" value="six"' in response.text
    assert 'id="conditions-1-n-error"' in response.text
    assert snapshot(database) == before


def test_a_rule_without_conditions_or_name_is_refused(web_client: TestClient, database: Database) -> None:
    before = snapshot(database)
    response = post_form(
        web_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        rule_form(conditions=[{"base_column": "", "criterion": "exact_match"}]),
    )
    assert response.status_code == 422
    assert "at least one condition" in response.text
    response = post_form(web_client, "/admin/duplicate-rules/new", "/admin/duplicate-rules", rule_form(name=""))
    assert response.status_code == 422
    assert 'id="rule-name-error"' in response.text
    assert snapshot(database) == before


def test_condition_rows_are_added_and_removed_without_saving(web_client: TestClient, database: Database) -> None:
    before = snapshot(database)
    added = post_form(
        web_client, "/admin/duplicate-rules/new", "/admin/duplicate-rules", rule_form(action="add_condition")
    )
    assert added.status_code == 200
    assert 'id="conditions-1"' in added.text and 'id="conditions-2"' not in added.text
    removed = post_form(
        web_client,
        "/admin/duplicate-rules/new",
        "/admin/duplicate-rules",
        [
            *rule_form(
                conditions=[
                    {"base_column": "name", "criterion": "exact_match"},
                    {"base_column": "email", "criterion": "exact_match"},
                ]
            ),
            ("remove_condition", "0"),
        ],
    )
    assert removed.status_code == 200
    assert 'id="conditions-1"' not in removed.text
    row = removed.text[removed.text.index('id="conditions-0-base_column"') :]
    assert '<option value="email" selected>' in row[: row.index("</select>")]
    assert snapshot(database) == before


def test_an_unpublished_rules_conditions_are_edited_on_its_page(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    rule_id = make_rule(database, actor, "Accounts by phone ending")
    page = f"/admin/duplicate-rules/{rule_id}"
    version = rule_named(database, "Accounts by phone ending").row_version
    response = post_form(
        web_client,
        page,
        page,
        [
            *rule_form(
                name="Accounts by phone ending",
                case_sensitive=True,
                conditions=[{"base_column": "telephone", "criterion": "same_last_characters", "n": "6"}],
            ),
            ("row_version", version),
        ],
    )
    assert response.status_code == 303, response.text
    rule = rule_named(database, "Accounts by phone ending")
    assert rule.case_sensitive is True
    assert [(c.base_column, c.criterion.value, c.n) for c in rule.conditions] == [
        ("telephone", "same_last_characters", 6)
    ]


def test_publishing_from_the_rule_page_codes_the_records_then_unpublishing_drops_them(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    make_account(database, actor, address_city="Sevilla")
    make_account(database, actor, name="Otra", address_city="Sevilla")
    make_room_for_a_rule(database, actor, "accounts")  # accounts have five published out-of-box rules
    rule_id = make_rule(database, actor, "Accounts by city", column="address_city")
    page = f"/admin/duplicate-rules/{rule_id}"

    response = post_form(web_client, page, f"{page}/publish", {})
    assert response.status_code == 303
    shown = web_client.get(response.headers["location"]).text  # the background task has run by now
    assert 'id="rule-state">Published<' in shown and "The rule is published." in shown
    assert 'id="unpublish-rule"' in shown and 'id="rule-form"' not in shown
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(DuplicateRule, rule_id).state is RuleState.PUBLISHED
        assert len(uow.session.scalars(select(MatchCode).where(MatchCode.rule_id == rule_id)).all()) == 2

    response = post_form(web_client, page, f"{page}/unpublish", {})
    assert response.status_code == 303
    shown = web_client.get(response.headers["location"]).text
    assert 'id="rule-state">Unpublished<' in shown and 'id="publish-rule"' in shown
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(DuplicateRule, rule_id).state is RuleState.UNPUBLISHED
        assert uow.session.scalars(select(MatchCode).where(MatchCode.rule_id == rule_id)).all() == []


def test_a_rule_being_published_shows_its_progress_and_reloads(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    make_room_for_a_rule(database, actor, "accounts")  # accounts have five published out-of-box rules
    rule_id = make_rule(database, actor, "Accounts by email again", column="email")
    rule_service.begin_publishing(rule_id, database=database, actor=actor)
    html = web_client.get(f"/admin/duplicate-rules/{rule_id}").text
    assert 'id="publish-progress-bar"' in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'id="rule-state">Publishing<' in html


def test_a_sixth_published_rule_is_refused_with_its_reason(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    # Accounts have five published out-of-box rules: one makes room for the test's fifth.
    make_room_for_a_rule(database, actor, "accounts")
    fifth = make_rule(database, actor, "Accounts by city", column="address_city")
    sixth = make_rule(database, actor, "Accounts by country", column="address_country")
    assert (
        post_form(web_client, "/admin/duplicate-rules", f"/admin/duplicate-rules/{fifth}/publish", {}).status_code
        == 303
    )
    before = snapshot(database)
    response = post_form(web_client, "/admin/duplicate-rules", f"/admin/duplicate-rules/{sixth}/publish", {})
    assert response.status_code == 409
    assert "5 published rules" in response.text
    assert snapshot(database) == before


def test_a_published_rule_cannot_be_changed_or_deleted(web_client: TestClient, database: Database) -> None:
    rule = rule_named(database, "Leads with the same email address")
    page = f"/admin/duplicate-rules/{rule.id}"
    before = snapshot(database)
    changed = post_form(
        web_client, page, page, [*rule_form("leads", name="Renamed"), ("row_version", rule.row_version)]
    )
    assert changed.status_code == 409
    assert "unpublish it before you change it" in changed.text
    deleted = post_form(web_client, page, f"{page}/delete", {"row_version": rule.row_version})
    assert deleted.status_code == 409
    assert snapshot(database) == before


def test_deleting_an_unpublished_rule(web_client: TestClient, database: Database, actor: Actor) -> None:
    rule_id = make_rule(database, actor, "Short-lived rule")
    page = f"/admin/duplicate-rules/{rule_id}"
    version = rule_named(database, "Short-lived rule").row_version
    response = post_form(web_client, page, f"{page}/delete", {"row_version": version})
    assert response.status_code == 303 and response.headers["location"] == "/admin/duplicate-rules?deleted=true"
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(DuplicateRule, rule_id) is None
    assert web_client.get(f"/admin/duplicate-rules/{rule_id}").status_code == 404


# ---------------------------------------------------------------------------------------------- duplicate sets and merge (§9)


def duplicate_accounts(database: Database, actor: Actor) -> tuple[Account, Account]:
    first = make_account(database, actor, name="Muebles Ibéricos", telephone="+34 910 000 001", address_city="Madrid")
    second = make_account(
        database, actor, name="Muebles Ibéricos", telephone="+34 910 000 002", email="hola@muebles.example"
    )
    return first, second


def test_a_scan_lists_the_duplicate_sets_and_exports_them_as_csv(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    first, second = duplicate_accounts(database, actor)
    response = post_form(web_client, "/admin/duplicates", "/admin/duplicates/jobs", {"table": "accounts"})
    assert response.status_code == 303
    job_page = response.headers["location"]
    html = web_client.get(job_page).text
    assert 'id="job-state">Completed<' in html
    assert "Accounts with the same account name" in html
    assert html.count("Muebles Ibéricos") >= 2 and "hola@muebles.example" in html and "Madrid" in html
    assert f'name="master" value="{first.id}"' in html or f'name="master" value="{second.id}"' in html

    export = web_client.get(f"{job_page}/sets.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert lines[0].startswith("set,rule,score")
    assert {str(first.id), str(second.id)} <= set(export.text.replace("\r", "").replace("\n", ",").split(","))

    listed = web_client.get("/admin/duplicates").text
    assert f'href="{job_page}"' in listed


def test_merge_with_a_value_from_the_subordinate_then_undo_through_the_pages(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    master, subordinate = duplicate_accounts(database, actor)
    before = snapshot(database, ("accounts",))
    query = f"table=accounts&master={master.id}&subordinate={subordinate.id}"

    choices = web_client.get(f"/admin/merge?{query}")
    assert choices.status_code == 200, choices.text
    assert 'id="choice-telephone-master"' in choices.text and 'id="choice-telephone-subordinate"' in choices.text
    assert 'id="choice-name-master"' not in choices.text  # same value: nothing to choose
    # The master's blank email is filled from the subordinate by default.
    assert (
        'id="choice-email-subordinate" name="choice-email" value="subordinate" data-field-choice checked'
        in choices.text
    )

    preview = web_client.get(f"/admin/merge/preview?{query}&choice-telephone=subordinate&choice-email=subordinate")
    assert preview.status_code == 200, preview.text
    changes = preview.text[preview.text.index('id="preview-changes"') :]
    assert "+34 910 000 002" in changes and "hola@muebles.example" in changes
    assert snapshot(database, ("accounts",)) == before  # a preview saves nothing

    token = page_csrf(preview.text)
    form = dict(
        re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
            preview.text[preview.text.index('id="merge-form"') :],
        )
    )
    assert form["choice-telephone"] == "subordinate"
    response = web_client.post("/admin/merge", data={**form, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    journal_page = response.headers["location"]
    with database.unit_of_work(read_only=True) as uow:
        merged_master = uow.session.get(Account, master.id)
        merged_subordinate = uow.session.get(Account, subordinate.id)
        assert merged_master.telephone == "+34 910 000 002"
        assert merged_subordinate.state is CustomerState.INACTIVE and merged_subordinate.master_id == master.id

    shown = web_client.get(journal_page).text
    assert "The records were merged" in shown and 'id="undo-merge"' in shown
    assert "Phone" in shown[shown.index('id="merge-taken"') :]

    undone = post_form(web_client, journal_page, journal_page.split("?")[0] + "/undo", {})
    assert undone.status_code == 303
    shown = web_client.get(undone.headers["location"]).text
    assert 'id="merge-state">Undone<' in shown and 'id="undo-merge"' not in shown
    assert snapshot(database, ("accounts",)) == before
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(MergeJournal)).one().state is MergeState.UNDONE


def test_merge_pages_in_spanish(spanish_client: TestClient, database: Database, actor: Actor) -> None:
    master, subordinate = duplicate_accounts(database, actor)
    html = spanish_client.get(f"/admin/merge?table=accounts&master={master.id}&subordinate={subordinate.id}").text
    assert "Combinar registros" in html and "Principal" in html and "Subordinado" in html
    assert "Vista previa de la combinación" in html


def test_merging_a_record_with_itself_is_refused_on_the_page(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    master, _ = duplicate_accounts(database, actor)
    before = snapshot(database)
    response = post_form(
        web_client,
        "/admin/duplicates",
        "/admin/merge",
        {"table": "accounts", "master": master.id, "subordinate": master.id},
    )
    assert response.status_code == 422
    assert "the same" in response.text
    assert snapshot(database) == before


def test_contacts_of_different_accounts_offer_to_merge_anyway(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    one, other = duplicate_accounts(database, actor)
    ids = []
    with database.unit_of_work() as uow:
        for account in (one, other):
            contact = customers.create_contact(
                ContactCreate(first_name="Ana", last_name="García", account_id=account.id),
                uow=uow,
                actor=actor,
                suppress_duplicates=True,
            )
            ids.append(contact.id)
        uow.commit()
    query = f"table=contacts&master={ids[0]}&subordinate={ids[1]}"
    refused = web_client.get(f"/admin/merge/preview?{query}")
    assert refused.status_code == 409
    assert 'id="merge-error"' in refused.text and 'id="force_parenting"' in refused.text
    forced = web_client.get(f"/admin/merge/preview?{query}&force_parenting=true")
    assert forced.status_code == 200 and 'id="confirm-merge"' in forced.text


def test_a_salesperson_cannot_merge_accounts_they_may_not_write(
    seller_client: TestClient, database: Database, actor: Actor
) -> None:
    master, subordinate = duplicate_accounts(database, actor)
    before = snapshot(database)
    response = post_form(
        seller_client, "/me", "/admin/merge", {"table": "accounts", "master": master.id, "subordinate": subordinate.id}
    )
    assert response.status_code == 403
    assert snapshot(database) == before


def test_undoing_a_merge_twice_is_refused_with_its_reason(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    master, subordinate = duplicate_accounts(database, actor)
    with database.unit_of_work() as uow:
        journal = merging.merge_records("accounts", master.id, subordinate.id, uow=uow, actor=actor)
        uow.commit()
        merge_id = journal.id
    page = f"/admin/merges/{merge_id}"
    assert post_form(web_client, page, f"{page}/undo", {}).status_code == 303
    before = snapshot(database)
    response = post_form(web_client, "/admin/duplicates", f"{page}/undo", {})
    assert response.status_code == 409
    assert "already undone" in response.text
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- users and roles (§8)


def test_the_users_list_shows_business_unit_roles_and_state(web_client: TestClient, database: Database) -> None:
    make_seller(database)
    html = web_client.get("/admin/users").text
    row = html[html.index("Sam Seller") :]
    row = row[: row.index("</tr>")]
    assert SELLER_EMAIL in row and "Salesperson" in row and "Organisation" in row and "Yes" in row


def test_creating_a_user_with_a_password_lets_them_sign_in(
    web_client: TestClient, database: Database, web_client_for: Callable[..., TestClient]
) -> None:
    response = post_form(
        web_client,
        "/admin/users/new",
        "/admin/users",
        [
            ("full_name", "Nora Nueva"),
            ("email", "Nora@Example.com"),
            ("business_unit", "Organisation"),
            ("language", "es"),
            ("password", "a fine long password"),
            ("roles", "Salesperson"),
            ("roles", "Sales Manager"),
        ],
    )
    assert response.status_code == 303, response.text
    with database.unit_of_work(read_only=True) as uow:
        user = uow.session.scalars(select(User).where(User.email == "nora@example.com")).one()
        assert user.language == "es"
    page = web_client.get(response.headers["location"]).text
    assert "Nora Nueva" in page and "Sales Manager" in page and "Salesperson" in page
    spanish = web_client_for("nora@example.com", "a fine long password").get("/me")
    assert spanish.status_code == 200 and '<html lang="es">' in spanish.text


def test_a_user_with_a_bad_email_or_short_password_is_refused_and_not_created(
    web_client: TestClient, database: Database
) -> None:
    before = snapshot(database)
    bad_email = post_form(
        web_client,
        "/admin/users/new",
        "/admin/users",
        [
            ("full_name", "Nadie"),
            ("email", "not an email"),
            ("roles", "Salesperson"),
        ],
    )
    assert bad_email.status_code == 422
    assert 'id="user-email-error"' in bad_email.text and 'value="Nadie"' in bad_email.text
    short = post_form(
        web_client,
        "/admin/users/new",
        "/admin/users",
        [
            ("full_name", "Nadie"),
            ("email", "nadie@example.com"),
            ("roles", "Salesperson"),
            ("password", "short"),
        ],
    )
    assert short.status_code == 422
    assert 'id="user-password-error"' in short.text and "short" not in short.text.split('id="user-password"')[1][:80]
    no_role = post_form(
        web_client, "/admin/users/new", "/admin/users", [("full_name", "Nadie"), ("email", "nadie@example.com")]
    )
    assert no_role.status_code == 422
    assert snapshot(database) == before


def test_granting_a_role_from_the_users_page(web_client: TestClient, database: Database) -> None:
    make_seller(database)
    with database.unit_of_work(read_only=True) as uow:
        seller_id = uow.session.scalars(select(User.id).where(User.email == SELLER_EMAIL)).one()
    page = f"/admin/users/{seller_id}"
    html = web_client.get(page).text
    assert '<option value="Sales Manager">' in html
    response = post_form(web_client, page, f"{page}/roles", {"role": "Sales Manager"})
    assert response.status_code == 303
    shown = web_client.get(response.headers["location"]).text
    assert "The role was granted." in shown
    held = shown[shown.index('id="user-roles"') : shown.index("</ul>", shown.index('id="user-roles"'))]
    assert "Sales Manager" in held and "Salesperson" in held


def test_granting_an_unknown_role_is_refused(web_client: TestClient, database: Database) -> None:
    make_seller(database)
    with database.unit_of_work(read_only=True) as uow:
        seller_id = uow.session.scalars(select(User.id).where(User.email == SELLER_EMAIL)).one()
    before = snapshot(database)
    response = post_form(web_client, f"/admin/users/{seller_id}", f"/admin/users/{seller_id}/roles", {"role": "Wizard"})
    assert response.status_code == 404
    assert "No role is called" in response.text
    assert snapshot(database) == before


def test_revoking_a_role_from_the_users_page(web_client: TestClient, database: Database, actor: Actor) -> None:
    make_seller(database)
    with database.unit_of_work() as uow:
        seller_id = uow.session.scalars(select(User.id).where(User.email == SELLER_EMAIL)).one()
        grant_role(seller_id, "Sales Manager", uow=uow, actor=actor)
        uow.commit()
    page = f"/admin/users/{seller_id}"
    response = post_form(web_client, page, f"{page}/roles/revoke", {"role": "Sales Manager"})
    assert response.status_code == 303
    shown = web_client.get(response.headers["location"]).text
    held = shown[shown.index('id="user-roles"') : shown.index("</ul>", shown.index('id="user-roles"'))]
    assert "Sales Manager" not in held and "Salesperson" in held


def test_a_roles_privilege_matrix_names_the_access_levels(web_client: TestClient, database: Database) -> None:
    with database.unit_of_work(read_only=True) as uow:
        role_id = uow.session.scalars(select(Role.id).where(Role.name == "Salesperson")).one()
    html = web_client.get(f"/admin/roles/{role_id}").text
    matrix = html[html.index('id="privileges-matrix"') :]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', matrix)
    assert headers == ["Table", "Create", "Read", "Write", "Delete", "Append", "Append To", "Assign", "Share"]
    leads = matrix[matrix.index('<th scope="row">Leads</th>') :]
    cells = re.findall(r'<td class="level-\d">([^<]+)</td>', leads[: leads.index("</tr>")])
    assert cells == ["User", "Business Unit", "User", "User", "User", "Business Unit", "User", "User"]


def test_the_privilege_matrix_in_spanish(spanish_client: TestClient, database: Database) -> None:
    with database.unit_of_work(read_only=True) as uow:
        role_id = uow.session.scalars(select(Role.id).where(Role.name == "Sales Manager")).one()
    html = spanish_client.get(f"/admin/roles/{role_id}").text
    assert "Gerente de ventas" in html and "Anexar a" in html
    assert "Primario: unidades de negocio secundarias" in html and "Unidad de negocio" in html


# ---------------------------------------------------------------------------------------------- audit log


def audit_rows(html: str) -> list[str]:
    body = html[html.index('id="audit-table"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.DOTALL)


def test_the_audit_log_filters_by_action_table_record_and_user(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    lead = make_lead(database, actor)
    make_lead(database, actor)
    with database.unit_of_work() as uow:
        update_settings({"default_phone_region": "PT"}, uow=uow, actor=actor)
        uow.commit()

    every = audit_rows(web_client.get("/admin/audit").text)
    assert len(every) >= 3

    changes = audit_rows(web_client.get("/admin/audit?action=settings_change").text)
    assert len(changes) == 1 and "Change settings" in changes[0] and "PT" in changes[0]

    one_lead = audit_rows(web_client.get(f"/admin/audit?table=leads&record={lead.id}").text)
    assert len(one_lead) == 1 and str(lead.id) in one_lead[0] and f'href="/leads/{lead.id}"' in one_lead[0]

    by_admin = audit_rows(web_client.get(f"/admin/audit?user={actor.user_id}&table=leads").text)
    assert len(by_admin) == 2 and all("Ada Admin" in row for row in by_admin)


def test_the_audit_log_filters_by_date_range(web_client: TestClient, database: Database, actor: Actor) -> None:
    make_lead(database, actor)
    assert audit_rows(web_client.get("/admin/audit?table=leads&since=2000-01-01&until=2999-12-31").text)
    html = web_client.get("/admin/audit?table=leads&since=2999-01-01").text
    assert 'id="audit-empty"' in html
    html = web_client.get("/admin/audit?table=leads&until=2000-01-01").text
    assert 'id="audit-empty"' in html


def test_a_malformed_audit_filter_is_shown_next_to_its_field(spanish_client: TestClient) -> None:
    response = spanish_client.get("/admin/audit?record=not-an-id&since=yesterday")
    assert response.status_code == 422
    assert 'id="audit-record-error"' in response.text and "Este id. no es válido." in response.text
    assert 'id="audit-since-error"' in response.text
    assert 'value="not-an-id"' in response.text


def test_the_audit_log_pages_back_in_time(
    web_client: TestClient, database: Database, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_audit, "ENTRIES_PER_PAGE", 2)
    for _ in range(3):
        make_lead(database, actor)
    first = web_client.get("/admin/audit?table=leads").text
    assert len(audit_rows(first)) == 2
    older = re.search(r'<a href="([^"]+)" id="audit-older">', first).group(1).replace("&amp;", "&")
    assert "table=leads" in older
    second = web_client.get(older).text
    assert len(audit_rows(second)) == 1 and 'id="audit-older"' not in second and 'id="audit-newest"' in second
    seen = {re.search(r'href="/leads/([^"]+)"', row).group(1) for row in audit_rows(first) + audit_rows(second)}
    assert len(seen) == 3


# ---------------------------------------------------------------------------------------------- the user's own page


def test_my_page_shows_name_email_roles_and_language(web_client: TestClient) -> None:
    html = web_client.get("/me").text
    facts = html[html.index('id="me-facts"') :]
    assert "Ada Admin" in facts and ADMIN_EMAIL in facts and "System Administrator" in facts and "Organisation" in facts
    assert '<label for="me-language">Language</label>' in html
    assert '<option value="es">Español</option>' in html and '<option value="en">English</option>' in html


def test_my_language_is_saved_on_me_and_the_pages_follow_it(web_client: TestClient, database: Database) -> None:
    response = post_form(web_client, "/me", "/me", {"language": "es"})
    assert response.status_code == 303
    html = web_client.get("/me").text
    assert '<html lang="es">' in html and '<option value="es" selected>' in html
    post_form(web_client, "/me", "/me", {"language": ""})
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(User.language).where(User.email == ADMIN_EMAIL)).one() is None
    assert '<html lang="en">' in web_client.get("/me").text
