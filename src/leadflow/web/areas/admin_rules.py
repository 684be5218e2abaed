"""Duplicate detection rules (§9): list, create, edit conditions, publish, unpublish, delete.

Publishing codes every record of the matching table: the page starts it (the checks and the
Publishing state happen at once, ``leadflow.tasks.admin.start_publish``) and a job of the job queue
does the coding while the rule's page follows the job's progress (``static/jobs.js``) until it has
finished.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.core.schemas import parse
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.criteria import Criterion
from leadflow.duplicates.matchcodes import CUSTOM_PREFIX
from leadflow.duplicates.models import DetectionTable, DuplicateRule, RuleState
from leadflow.duplicates.tables import TABLES
from leadflow.http.errors import status_for
from leadflow.organisation.service import get_settings
from leadflow.security.privileges import Privilege
from leadflow.tasks.admin import PUBLISH, start_publish
from leadflow.web.areas.admin import admin_area, phone_regions
from leadflow.web.areas.admin_labels import RULE_STATE_BADGES, RULE_STATE_LABELS
from leadflow.web.areas.jobs import Progress, latest_job, progress_of, progress_url
from leadflow.web.forms import FormDep, field_errors, parse_version, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import COLUMN_LABELS, CRITERION_LABELS, RULE_DESCRIPTION_LABELS, TABLE_LABELS, label, rule_name
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

RULES = "/admin/duplicate-rules"
_CONDITION_FIELDS = ("base_column", "matching_column", "criterion", "n", "threshold")
MAX_CONDITION_ROWS = 20


# ---------------------------------------------------------------------------------------------- form <-> values


def _blank_condition() -> dict[str, Any]:
    return {
        "base_column": "",
        "matching_column": "",
        "criterion": Criterion.EXACT.value,
        "n": "",
        "threshold": "",
        "ignore_blank": True,
    }


def _rule_values(rule: DuplicateRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description or "",
        "base_table": rule.base_table.value,
        "matching_table": rule.matching_table.value,
        "case_sensitive": rule.case_sensitive,
        "exclude_inactive": rule.exclude_inactive,
        "default_region": rule.default_region,
        "row_version": rule.row_version,
        "conditions": [
            {
                "base_column": condition.base_column,
                "matching_column": condition.matching_column,
                "criterion": condition.criterion.value,
                "n": "" if condition.n is None else str(condition.n),
                "threshold": "" if condition.threshold is None else f"{condition.threshold:g}",
                "ignore_blank": condition.ignore_blank,
            }
            for condition in rule.conditions
        ],
    }


def _table_choice(value: Any, fallback: DetectionTable) -> str:
    try:
        return DetectionTable(str(value)).value
    except ValueError:
        return fallback.value


def _posted_rule(form: FormData) -> dict[str, Any]:
    """The rule as typed: text as sent, so that a refused form shows exactly what was entered."""
    try:
        count = min(max(int(str(form.get("condition_count", "0"))), 0), MAX_CONDITION_ROWS)
    except ValueError:
        count = 0
    base = _table_choice(form.get("base_table"), DetectionTable.LEADS)
    conditions = []
    for index in range(count):
        prefix = f"conditions-{index}-"
        row: dict[str, Any] = {name: str(form.get(prefix + name, "")).strip() for name in _CONDITION_FIELDS}
        row["ignore_blank"] = prefix + "ignore_blank" in form
        conditions.append(row)
    return {
        "name": str(form.get("name", "")),
        "description": str(form.get("description", "")),
        "base_table": base,
        "matching_table": _table_choice(form.get("matching_table"), DetectionTable(base)),
        "case_sensitive": "case_sensitive" in form,
        "exclude_inactive": "exclude_inactive" in form,
        "default_region": str(form.get("default_region", "")),
        "row_version": str(form.get("row_version", "")),
        "conditions": conditions,
    }


def _conditions_input(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The conditions for the service; a row left without a base column is an unused empty row."""
    items = []
    for row in values["conditions"]:
        if not row["base_column"]:
            continue
        items.append(
            {
                "base_column": row["base_column"],
                "matching_column": row["matching_column"] or None,
                "criterion": row["criterion"],
                "n": row["n"] or None,
                "threshold": row["threshold"].replace(",", ".") or None,
                "ignore_blank": row["ignore_blank"],
            }
        )
    return items


def _rule_input(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"] or None,
        "case_sensitive": values["case_sensitive"],
        "exclude_inactive": values["exclude_inactive"],
        "default_region": values["default_region"] or None,
        "conditions": _conditions_input(values),
    }
    if creating:
        data["base_table"] = values["base_table"]
        data["matching_table"] = values["matching_table"]
    elif data["default_region"] is None:
        del data["default_region"]
    return data


def _row_errors(language: str, error: LeadflowError, values: dict[str, Any]) -> dict[str, str]:
    """Field errors keyed by the form's field names, the failing condition's row included."""
    errors = {}
    # Rows sent to the service are the non-empty ones: map their positions back to the form's rows.
    used = [index for index, row in enumerate(values["conditions"]) if row["base_column"]]
    for name, message in field_errors(language, error).items():
        parts = name.split(".")
        if parts[0] == "conditions" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(used):
            row = used[int(parts[1])]
            errors[f"conditions-{row}-{parts[2] if len(parts) > 2 else 'base_column'}"] = message
            errors.setdefault(f"conditions-{row}", message)
        else:
            errors[name] = message
    details = error.details if isinstance(error.details, dict) else {}
    position = details.get("condition")
    if isinstance(position, int) and 0 <= position < len(used):
        row = used[position]
        errors.setdefault(f"conditions-{row}", refusal_text(language, error))
    return errors


# ---------------------------------------------------------------------------------------------- display


# The labels of the custom fields duplicate rules may compare: {(table, "custom.<name>"): label}.
CustomLabels = dict[tuple[str, str], str]


def custom_labels(request: Request, language: str) -> CustomLabels:
    """The custom fields each detection table lets duplicate rules compare, with their labels."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        return {
            (table.value, CUSTOM_PREFIX + field.name): field.label(language)
            for table in DetectionTable
            for field in TABLES[table].rule_fields(uow.session)
        }


def _column_label(language: str, table: str, column: str, custom: CustomLabels) -> str:
    return custom.get((str(table), column)) or label(language, COLUMN_LABELS, column)


def column_choices(language: str, table: str, custom: CustomLabels) -> list[tuple[str, str]]:
    """The columns of a table duplicate detection can compare (custom fields too), labelled, for a select."""
    table = DetectionTable(table).value
    columns = [*TABLES[DetectionTable(table)].columns, *(column for (owner, column) in custom if owner == table)]
    return sorted(
        ((name, _column_label(language, table, name, custom)) for name in columns),
        key=lambda item: item[1].casefold(),
    )


def condition_summary(language: str, condition: Any, rule: DuplicateRule, custom: CustomLabels) -> str:
    """'Email: Exact match' or 'First name → Last name: Same first characters (3)'."""
    base = _column_label(language, rule.base_table, condition.base_column, custom)
    columns = base
    if rule.base_table != rule.matching_table or condition.matching_column != condition.base_column:
        columns = f"{base} → {_column_label(language, rule.matching_table, condition.matching_column, custom)}"
    text = f"{columns}: {label(language, CRITERION_LABELS, condition.criterion)}"
    if condition.n is not None:
        text += f" ({condition.n})"
    if condition.threshold is not None:
        text += f" (≥ {condition.threshold:g})"
    return text


def _rule_row(language: str, rule: DuplicateRule, custom: CustomLabels) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule_name(language, rule.name, builtin=rule.is_builtin),
        "description": label(language, RULE_DESCRIPTION_LABELS, rule.description)
        if rule.is_builtin
        else rule.description,
        "is_builtin": rule.is_builtin,
        "base_table": label(language, TABLE_LABELS, rule.base_table),
        "matching_table": label(language, TABLE_LABELS, rule.matching_table),
        "state": rule.state.value,
        "state_label": label(language, RULE_STATE_LABELS, rule.state),
        "state_badge": RULE_STATE_BADGES[rule.state.value],
        "conditions": [condition_summary(language, condition, rule, custom) for condition in rule.conditions],
    }


def _form_choices(language: str, values: dict[str, Any], custom: CustomLabels) -> dict[str, Any]:
    return {
        "tables": [(table.value, label(language, TABLE_LABELS, table)) for table in DetectionTable],
        "base_columns": column_choices(language, values["base_table"], custom),
        "matching_columns": column_choices(language, values["matching_table"], custom),
        "criteria": [(criterion.value, label(language, CRITERION_LABELS, criterion)) for criterion in Criterion],
        "regions": phone_regions(language),
    }


# ---------------------------------------------------------------------------------------------- pages


@router.get(RULES)
@admin_area("settings", Privilege.WRITE)
def rules_page(request: Request, session: WebSessionDep, deleted: bool = False) -> Response:
    """Every duplicate detection rule: name, base and matching table, state, conditions."""
    language = session.language
    custom = custom_labels(request, language)
    with database_of(request).unit_of_work(read_only=True) as uow:
        rows = [_rule_row(language, rule, custom) for rule in rule_service.list_rules(uow.session)]
    return render(request, session, "admin/rules.html", rules=rows, deleted=deleted)


def _new_rule_page(
    request: Request,
    session: WebSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        session,
        "admin/rule_new.html",
        status_code=status_code,
        values=values,
        error=error,
        errors=errors or {},
        **_form_choices(session.language, values, custom_labels(request, session.language)),
    )


@router.get(RULES + "/new")
@admin_area("settings", Privilege.CREATE)
def new_rule_page(
    request: Request, session: WebSessionDep, base_table: str = "leads", matching_table: str | None = None
) -> Response:
    """The form of a new rule; the tables are chosen first, since they decide the columns offered."""
    base = _table_choice(base_table, DetectionTable.LEADS)
    with database_of(request).unit_of_work(read_only=True) as uow:
        region = get_settings(uow.session).default_phone_region
    values = {
        "name": "",
        "description": "",
        "base_table": base,
        "matching_table": _table_choice(matching_table or base, DetectionTable(base)),
        "case_sensitive": False,
        "exclude_inactive": False,
        "default_region": region,
        "row_version": "",
        "conditions": [_blank_condition()],
    }
    return _new_rule_page(request, session, values)


def _edited_rows(form: FormData, values: dict[str, Any]) -> bool:
    """Apply an 'add a condition' or 'remove this condition' button; True when one was pressed."""
    if form.get("action") == "add_condition":
        if len(values["conditions"]) < MAX_CONDITION_ROWS:
            values["conditions"].append(_blank_condition())
        return True
    removed = form.get("remove_condition")
    if removed is not None:
        index = int(removed) if isinstance(removed, str) and removed.isdigit() else -1
        if 0 <= index < len(values["conditions"]):
            del values["conditions"][index]
        return True
    return False


@router.post(RULES)
@admin_area("settings", Privilege.CREATE)
def create_rule(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create an unpublished rule; a refused rule is shown again with the reason and nothing saved."""
    values = _posted_rule(form)
    if _edited_rows(form, values):
        return _new_rule_page(request, session, values)
    try:
        data = parse(rule_service.RuleCreate, _rule_input(values, creating=True))
        with database_of(request).unit_of_work() as uow:
            region = get_settings(uow.session).default_phone_region
            rule = rule_service.create_rule(data, uow=uow, actor=session.actor, default_region=region)
            uow.commit()
            rule_id = rule.id
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _new_rule_page(
            request,
            session,
            values,
            status_code=status_for(error),
            error=refusal_text(session.language, error),
            errors=_row_errors(session.language, error, values),
        )
    return redirect(f"{RULES}/{rule_id}?created=true")


def _rule_page(
    request: Request,
    session: WebSession,
    rule: DuplicateRule,
    *,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    language = session.language
    values = values or _rule_values(rule)
    custom = custom_labels(request, language)
    row = _rule_row(language, rule, custom)
    with database_of(request).unit_of_work(read_only=True) as uow:
        publishing_job = latest_job(uow.session, kind=PUBLISH, parameter="rule_id", value=rule.id)
        follow: Progress | None = progress_of(language, publishing_job) if publishing_job is not None else None
    publishing = rule.state is RuleState.PUBLISHING
    return render(
        request,
        session,
        "admin/rule.html",
        status_code=status_code,
        rule=rule,
        row=row,
        values=values,
        error=error,
        errors=errors or {},
        notice=notice,
        editable=rule.state is RuleState.UNPUBLISHED,
        publishing=publishing,
        progress={"done": rule.publish_done, "total": rule.publish_total},
        publishing_job=publishing_job.id if publishing_job is not None else None,
        follow=follow,
        follow_url=progress_url(publishing_job.id)
        if publishing and publishing_job is not None and follow is not None and not follow.finished
        else None,
        default_region_name=dict(phone_regions(language)).get(rule.default_region, rule.default_region),
        **_form_choices(language, values, custom),
    )


_NOTICES = {
    "created": N_("The rule was created. Publish it to start detecting duplicates with it."),
    "saved": N_("The rule was saved."),
    "published": N_("The rule is published."),
    "publishing": N_("Publishing has started; this page shows the progress."),
    "unpublished": N_("The rule is unpublished: checks no longer use it."),
}


def _notice(language: str, request: Request) -> str | None:
    for key in ("created", "saved", "publishing", "unpublished"):
        if request.query_params.get(key):
            return gettext(language, _NOTICES[key])
    return None


def _load_rule(request: Request, rule_id: uuid.UUID) -> DuplicateRule:
    with database_of(request).unit_of_work(read_only=True) as uow:
        rule = rule_service.get_rule(uow.session, rule_id)
        _ = rule.conditions  # loaded before the unit of work closes
        return rule


@router.get(RULES + "/{rule_id}")
@admin_area("settings", Privilege.WRITE)
def rule_page(request: Request, session: WebSessionDep, rule_id: uuid.UUID) -> Response:
    """One rule: its conditions (editable while unpublished), state and publication progress."""
    rule = _load_rule(request, rule_id)
    notice = _notice(session.language, request)
    if rule.state is RuleState.PUBLISHED and request.query_params.get("publishing"):
        notice = gettext(session.language, _NOTICES["published"])
    return _rule_page(request, session, rule, notice=notice)


@router.post(RULES + "/{rule_id}")
@admin_area("settings", Privilege.WRITE)
def update_rule(request: Request, session: WebSessionDep, rule_id: uuid.UUID, form: FormDep) -> Response:
    """Save an unpublished rule's name, options and conditions (refused once published)."""
    rule = _load_rule(request, rule_id)
    values = _posted_rule(form)
    values["base_table"], values["matching_table"] = rule.base_table.value, rule.matching_table.value
    if _edited_rows(form, values):
        return _rule_page(request, session, rule, values=values)
    try:
        changes = parse(rule_service.RuleUpdate, _rule_input(values, creating=False))
        with database_of(request).unit_of_work() as uow:
            rule_service.update_rule(
                rule_id, changes, uow=uow, actor=session.actor, expected_version=parse_version(values["row_version"])
            )
            uow.commit()
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _rule_page(
            request,
            session,
            _load_rule(request, rule_id),
            values=values,
            status_code=status_for(error),
            error=refusal_text(session.language, error),
            errors=_row_errors(session.language, error, values),
        )
    return redirect(f"{RULES}/{rule_id}?saved=true")


def _refused_action(request: Request, session: WebSession, rule_id: uuid.UUID, error: LeadflowError) -> Response:
    if isinstance(error, Forbidden):
        raise error
    return _rule_page(
        request,
        session,
        _load_rule(request, rule_id),
        status_code=status_for(error),
        error=refusal_text(session.language, error),
    )


@router.post(RULES + "/{rule_id}/publish")
@admin_area("settings", Privilege.WRITE)
def publish_rule(request: Request, session: WebSessionDep, rule_id: uuid.UUID) -> Response:
    """Start publishing: checks now, then a job codes the records; the rule's page follows it."""
    try:
        _rule, job = start_publish(rule_id, database=database_of(request), actor=session.actor)
    except LeadflowError as error:
        return _refused_action(request, session, rule_id, error)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"{RULES}/{rule_id}?publishing=true")


@router.post(RULES + "/{rule_id}/unpublish")
@admin_area("settings", Privilege.WRITE)
def unpublish_rule(request: Request, session: WebSessionDep, rule_id: uuid.UUID) -> Response:
    """Unpublish: checks stop using the rule and its match codes are dropped."""
    try:
        committed(request, lambda uow: rule_service.unpublish_rule(rule_id, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _refused_action(request, session, rule_id, error)
    return redirect(f"{RULES}/{rule_id}?unpublished=true")


@router.post(RULES + "/{rule_id}/delete")
@admin_area("settings", Privilege.DELETE)
def delete_rule(
    request: Request,
    session: WebSessionDep,
    rule_id: uuid.UUID,
    row_version: Annotated[str, Form()] = "",
) -> Response:
    """Delete an unpublished rule (refused when it changed since the page was loaded)."""
    version = parse_version(row_version)
    try:
        committed(
            request,
            lambda uow: rule_service.delete_rule(rule_id, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        return _refused_action(request, session, rule_id, error)
    return redirect(f"{RULES}?deleted=true")
