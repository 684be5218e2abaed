"""Lead scoring (administrators): the scoring models with their readiness and published version, a new
model, and a model's page: its settings, how ready its history is, training a new version (a job), its
versions with Publish, Restore and Unpublish (a job scores the open leads again) and the report of a
chosen version (AUC, periods, calibration, grades, strongest drivers).

The services of ``leadflow.scoring.service`` and the jobs of ``leadflow.tasks.scoring`` decide, as the
REST API's ``leadflow.api.scoring`` calls them; their refusals are shown on the page in the user's
language.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.core.errors import Forbidden, LeadflowError, NotFound, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.http.refusals import field_items
from leadflow.http.scores import field_label
from leadflow.leads.models import LeadSource
from leadflow.scoring import service
from leadflow.scoring.features import BY_KEY, DEFAULT_FIELDS, FIELDS
from leadflow.scoring.learner import grade_shares
from leadflow.scoring.models import (
    DEFAULT_THRESHOLDS,
    GRADES,
    MINIMUM_PER_OUTCOME,
    ScopeKind,
    ScoringModel,
    ScoringVersion,
    VersionState,
    check_thresholds,
)
from leadflow.scoring.schemas import ScoringModelChange, ScoringModelIn
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import Privilege
from leadflow.tasks import scoring as scoring_tasks
from leadflow.web.areas.admin import admin_area
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_uuid, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()
ModelT = TypeVar("ModelT", bound=ScoringModelIn)

SCORING = "/admin/scoring"

_NOTICES = {
    "created": N_("The scoring model was created. Train it to make its first version."),
    "saved": N_("Your changes were saved. New grade thresholds apply at once; the rest from the next training."),
    "training": N_("The training started; its job page follows it. The new version appears below when it ends."),
    "published": N_("The version was published; a job scores the open leads with it."),
    "unpublished": N_("The model no longer scores leads; a job clears their scores."),
}
SCOPE_LABELS = {
    ScopeKind.ALL: N_("All leads"),
    ScopeKind.BUSINESS_UNIT: N_("A business unit"),
    ScopeKind.LEAD_SOURCE: N_("A lead source"),
}
STATE_LABELS = {
    VersionState.TRAINING: N_("Training"),
    VersionState.TRAINED: N_("Trained"),
    VersionState.PUBLISHED: N_("Published"),
    VersionState.RETIRED: N_("Retired"),
    VersionState.FAILED: N_("Failed"),
}
STATE_BADGES = {
    VersionState.TRAINING: "warn",
    VersionState.TRAINED: "",
    VersionState.PUBLISHED: "ok",
    VersionState.RETIRED: "",
    VersionState.FAILED: "bad",
}
# The refusals of scoring in words (the services' own sentences are English and hold numbers).
_REFUSALS = {
    "scoring_too_few_leads": N_(
        "Training needs at least %(minimum)s qualified and %(minimum)s disqualified leads in the model's history "
        "(months of history: %(months)s); it has %(qualified)s and %(disqualified)s: %(missing_qualified)s "
        "qualified and %(missing_disqualified)s disqualified are missing."
    ),
    "scoring_busy": N_("This model is already being trained; wait for that training to end."),
    "scoring_not_trained": N_("This version has not been trained; only a trained version can be published."),
    "scoring_stale_version": N_("This version was trained on fields that have changed since; train the model again."),
    "scoring_not_published": N_("This model is not published."),
    "scoring_unknown_field": N_(
        "The model uses a field that no longer exists: %(fields)s. Remove it from the model's fields, then "
        "train it again."
    ),
    "scoring_other_model": N_("That version belongs to another scoring model."),
    "name_taken": N_("A scoring model already has this name; choose another."),
    "invalid_thresholds": N_(
        "Grade thresholds must fall from A to C, between 100 and 1 (for example A 75, B 50, C 25)."
    ),
    "invalid_thresholds_numbers": N_("Give the lowest score of grades A, B and C as whole numbers."),
    "scope_business_unit_required": N_("Choose the business unit whose leads the model covers."),
    "scope_lead_source_required": N_("Choose the lead source whose leads the model covers."),
    "scoring_form_unknown_field": N_("The model cannot use this field: %(fields)s."),
}
# The form field a refusal belongs to.
_FIELDS_BY_CODE = {
    "name_taken": "name",
    "invalid_thresholds": "thresholds",
    "scope_business_unit_required": "scope_business_unit_id",
    "scope_lead_source_required": "scope_lead_source",
    "scoring_form_unknown_field": "fields",
    "scoring_unknown_field": "fields",
}
_TEXT_FIELDS = ("name", "scope_kind", "scope_business_unit_id", "scope_lead_source", "history_months", "retrain_days")


def _gate(endpoint: Any) -> Any:
    return admin_area("settings", Privilege.WRITE)(endpoint)


def scoring_refusal(language: str, error: LeadflowError, *, months: int | None = None) -> Refusal:
    """A refusal of scoring in the user's language, with the form field it belongs to."""
    found = refusal(language, error, _FIELDS_BY_CODE)
    for item in field_items(error):
        if item.get("code") == "invalid_thresholds":
            found.fields["thresholds"] = scoring_refusal(
                language, ValidationFailed(str(item.get("message", "")), code="invalid_thresholds")
            ).message
    code = error.code
    if code == "invalid_thresholds" and error.message.startswith("Give"):
        code = "invalid_thresholds_numbers"  # a threshold left empty or not a whole number
    sentence = _REFUSALS.get(code)
    if sentence is None:
        return found
    details = error.details if isinstance(error.details, dict) else {}
    values: dict[str, Any] = {"minimum": MINIMUM_PER_OUTCOME, "months": months if months is not None else "?"}
    for key in ("qualified", "disqualified", "missing_qualified", "missing_disqualified"):
        values[key] = details.get(key, 0)
    named = details.get("fields")
    values["fields"] = ", ".join(
        field_label(language, str(key)) if str(key) in BY_KEY else str(key)
        for key in (named if isinstance(named, list) else [])
        if not isinstance(key, dict)
    )
    found.message = gettext(language, sentence, **values) if "%(" in sentence else gettext(language, sentence)
    if error.code in _FIELDS_BY_CODE:
        found.fields[_FIELDS_BY_CODE[error.code]] = found.message
    return found


# ---------------------------------------------------------------------------------------------- words


def scope_text(language: str, model: ScoringModel, units: Mapping[uuid.UUID, str]) -> str:
    """What a model covers, in words: "All leads", "Business unit: Iberia", "Lead source: Web"."""
    if model.scope_kind is ScopeKind.BUSINESS_UNIT and model.scope_business_unit_id is not None:
        unit = units.get(model.scope_business_unit_id, "")
        return f"{gettext(language, 'Business unit')}: {unit}"
    if model.scope_kind is ScopeKind.LEAD_SOURCE and model.scope_lead_source is not None:
        source = CHOICE_LABELS[LeadSource].get(model.scope_lead_source.value, model.scope_lead_source.value)
        return f"{gettext(language, 'Lead source')}: {gettext(language, source)}"
    return gettext(language, SCOPE_LABELS[ScopeKind.ALL])


def readiness_text(language: str, ready: service.Readiness) -> str:
    """How ready a model's history is: ready, or exactly how many leads of each outcome are missing."""
    if ready.ready:
        return gettext(
            language,
            "Ready to train: %(qualified)s qualified and %(disqualified)s disqualified leads in its history.",
            qualified=ready.qualified,
            disqualified=ready.disqualified,
        )
    return gettext(
        language,
        "Not ready to train: its history has %(qualified)s qualified and %(disqualified)s disqualified leads; "
        "%(missing_qualified)s qualified and %(missing_disqualified)s disqualified are missing (at least "
        "%(minimum)s of each are needed).",
        qualified=ready.qualified,
        disqualified=ready.disqualified,
        missing_qualified=ready.missing_qualified,
        missing_disqualified=ready.missing_disqualified,
        minimum=MINIMUM_PER_OUTCOME,
    )


def _units(uow: UnitOfWork) -> dict[uuid.UUID, str]:
    return {row.id: row.name for row in uow.session.execute(select(BusinessUnit.id, BusinessUnit.name))}


def _choices(language: str, units: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    """The form's choices: scopes, business units, lead sources and the fields a model may use."""
    sources = CHOICE_LABELS[LeadSource]
    return {
        "scope_choices": [(kind.value, gettext(language, text)) for kind, text in SCOPE_LABELS.items()],
        "unit_choices": sorted(((str(key), name) for key, name in units.items()), key=lambda item: item[1].casefold()),
        "source_choices": [
            (source.value, gettext(language, sources.get(source.value, source.value))) for source in LeadSource
        ],
        "field_choices": [(item.key, field_label(language, item.key)) for item in FIELDS],
        "grades": GRADES[:-1],
    }


def _stored(model: ScoringModel | None) -> dict[str, Any]:
    """A model's settings as the form shows them (a new model's defaults without one)."""
    if model is None:
        return {
            "name": "",
            "scope_kind": ScopeKind.ALL.value,
            "scope_business_unit_id": "",
            "scope_lead_source": "",
            "history_months": "12",
            "fields": list(DEFAULT_FIELDS),
            "thresholds": {grade: str(value) for grade, value in DEFAULT_THRESHOLDS.items()},
            "retrain_days": "30",
            "auto_publish": False,
        }
    return {
        "name": model.name,
        "scope_kind": model.scope_kind.value,
        "scope_business_unit_id": str(model.scope_business_unit_id or ""),
        "scope_lead_source": model.scope_lead_source.value if model.scope_lead_source else "",
        "history_months": str(model.history_months),
        "fields": list(model.fields),
        "thresholds": {grade: str(value) for grade, value in (model.thresholds or {}).items()},
        "retrain_days": str(model.retrain_days),
        "auto_publish": model.auto_publish,
    }


def _posted(form: Any) -> dict[str, Any]:
    """The form as sent, to show it again."""
    posted: dict[str, Any] = {name: value if isinstance(value := form.get(name), str) else "" for name in _TEXT_FIELDS}
    posted["fields"] = [value for value in form.getlist("fields") if isinstance(value, str)]
    posted["thresholds"] = {
        grade: value if isinstance(value := form.get(f"threshold_{grade}"), str) else "" for grade in GRADES[:-1]
    }
    posted["auto_publish"] = form.get("auto_publish") in ("1", "on", "true")
    return posted


def _validated(model: type[ModelT], posted: Mapping[str, Any]) -> ModelT:
    """The service's input from the form, every problem named by the form's field at once: the
    thresholds are checked here (pydantic would name ``thresholds.A``), with the other fields."""
    unknown = [key for key in posted["fields"] if key not in BY_KEY]
    if unknown:
        raise ValidationFailed(
            f"A scoring model cannot use {', '.join(unknown)}.",
            code="scoring_form_unknown_field",
            details={"fields": unknown},
        )
    wrong: ValidationFailed | None = None
    try:
        thresholds = check_thresholds({grade: text.strip() for grade, text in posted["thresholds"].items()})
    except ValidationFailed as refused:
        wrong, thresholds = refused, dict(DEFAULT_THRESHOLDS)
    data: dict[str, Any] = {
        "name": posted["name"],
        "scope_kind": posted["scope_kind"] or ScopeKind.ALL.value,
        "scope_business_unit_id": posted["scope_business_unit_id"].strip() or None,
        "scope_lead_source": posted["scope_lead_source"].strip() or None,
        "history_months": posted["history_months"].strip() or None,
        "fields": posted["fields"],
        "thresholds": thresholds,
        "retrain_days": posted["retrain_days"].strip() or None,
        "auto_publish": posted["auto_publish"],
    }
    try:
        parsed = parse(model, data)
    except ValidationFailed as refused:
        if wrong is None:
            raise
        items = [*field_items(refused), {"field": "thresholds", "code": wrong.code, "message": wrong.message}]
        raise ValidationFailed(
            f"{refused.message} {wrong.message}", code="validation_failed", details={"fields": items}
        ) from None
    if wrong is not None:
        raise wrong
    return parsed


def _percent_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def report_view(language: str, version: ScoringVersion, model: ScoringModel) -> dict[str, Any] | None:
    """A version's report as the page shows it: AUC, periods, calibration, grades and drivers."""
    report = version.report
    if not report:
        return None
    periods = []
    for key, text in (("train", N_("Training")), ("test", N_("Test"))):
        part = report.get(key) or {}
        periods.append(
            {
                "key": key,
                "label": gettext(language, text),
                "from": _moment(part.get("from")),
                "to": _moment(part.get("to")),
                "leads": part.get("leads", 0),
                "qualified": part.get("qualified", 0),
                "disqualified": part.get("disqualified", 0),
            }
        )
    shares = grade_shares(report, model.thresholds)
    top = max((driver.get("spread", 0) for driver in report.get("drivers") or []), default=0) or 1
    return {
        "auc": report.get("auc"),
        "periods": periods,
        "unscored": (report.get("test") or {}).get("unscored", 0),
        "calibration": [
            {
                "from": _percent_or_none(row.get("from")),
                "to": _percent_or_none(row.get("to")),
                "predicted": _percent_or_none(row.get("predicted")),
                "observed": _percent_or_none(row.get("observed")),
                "leads": row.get("leads", 0),
            }
            for row in report.get("calibration") or []
        ],
        "grades": [
            {
                "grade": grade,
                "leads": shares[grade]["leads"],
                "qualified": shares[grade]["qualified"],
                "share": shares[grade]["qualified_share"],
            }
            for grade in GRADES
        ],
        "drivers": [
            {
                "label": field_label(language, str(driver.get("field"))),
                "spread": driver.get("spread", 0),
                "width": round(100 * float(driver.get("spread", 0)) / float(top)),
            }
            for driver in report.get("drivers") or []
        ],
    }


# ---------------------------------------------------------------------------------------------- the list


def _list_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        units = _units(uow)
        models = service.list_models(uow=uow, actor=session.actor)
        rows = []
        for model in models:
            published = (
                uow.session.get(ScoringVersion, model.published_version_id) if model.published_version_id else None
            )
            ready = service.readiness(model, session=uow.session)
            rows.append(
                {
                    "id": model.id,
                    "name": model.name,
                    "scope": scope_text(language, model, units),
                    "published": published.number if published else None,
                    "auc": (published.report or {}).get("auc") if published else None,
                    "ready": ready.ready,
                    "missing_qualified": ready.missing_qualified,
                    "missing_disqualified": ready.missing_disqualified,
                }
            )
    return render(
        request,
        session,
        "admin/scoring_models.html",
        status_code=status_code,
        models=rows,
        values=values or _stored(None),
        refusal=failure,
        field_errors=failure.fields if failure else {},
        **_choices(language, units),
    )


@router.get(SCORING, name="scoring_models")
@_gate
def scoring_models(request: Request, session: WebSessionDep) -> Response:
    """Every scoring model (scope, published version, its AUC, readiness) and the form of a new one."""
    return _list_page(request, session)


@router.post(SCORING, name="scoring_models_create")
@_gate
def create_scoring_model(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a model; the list again with the refusal, the input kept, when refused."""
    posted = _posted(form)
    try:
        data = _validated(ScoringModelIn, posted)
        model = committed(request, lambda uow: service.create_model(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _list_page(
            request,
            session,
            values=posted,
            failure=scoring_refusal(session.language, error),
            status_code=status_for(error),
        )
    return redirect(f"{SCORING}/{model.id}?notice=created")


# ---------------------------------------------------------------------------------------------- a model


def _model_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="scoring_model")


def _model_page(
    request: Request,
    session: WebSession,
    model_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    row_version: int | None = None,
    chosen: uuid.UUID | None = None,
    notice: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        model = service.get_model(model_id, uow=uow, actor=session.actor)
        units = _units(uow)
        ready = service.readiness(model, session=uow.session)
        versions = service.versions(model.id, uow=uow, actor=session.actor)
        shown = next((version for version in versions if version.id == chosen), None)
        if shown is None:
            shown = next((version for version in versions if version.id == model.published_version_id), None)
        if shown is None:
            shown = next((version for version in versions if version.report), None)
        rows = [
            {
                "id": version.id,
                "number": version.number,
                "state": version.state.value,
                "state_label": gettext(language, STATE_LABELS[version.state]),
                "badge": STATE_BADGES[version.state],
                "trained_at": version.trained_at,
                "auc": (version.report or {}).get("auc"),
                "error": version.error,
                "job_id": version.job_id,
                "can_publish": version.state is VersionState.TRAINED,
                "can_restore": version.state is VersionState.RETIRED,
                "is_published": version.state is VersionState.PUBLISHED,
                "shown": shown is not None and version.id == shown.id,
            }
            for version in versions
        ]
        report = report_view(language, shown, model) if shown is not None else None
        return render(
            request,
            session,
            "admin/scoring_model.html",
            status_code=status_code,
            model=model,
            scope=scope_text(language, model, units),
            values={**_stored(model), **(values or {})},
            refusal=failure,
            field_errors=failure.fields if failure else {},
            row_version=row_version if row_version is not None and row_version >= 0 else model.row_version,
            ready=ready,
            readiness=readiness_text(language, ready),
            versions=rows,
            shown=shown,
            report=report,
            notice=notice,
            **_choices(language, units),
        )


@router.get(SCORING + "/{model_id}", name="scoring_model")
@_gate
def scoring_model(request: Request, model_id: str, session: WebSessionDep) -> Response:
    """A model: its settings, readiness, versions and the report of one (``?version=``)."""
    params = request.query_params
    notice = gettext(session.language, _NOTICES[params["notice"]]) if params.get("notice") in _NOTICES else None
    return _model_page(request, session, _model_id(model_id), chosen=parse_uuid(params.get("version")), notice=notice)


@router.post(SCORING + "/{model_id}", name="scoring_model_save")
@_gate
def save_scoring_model(request: Request, model_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change a model's settings; refused when it changed since the form was loaded."""
    parsed = _model_id(model_id)
    posted = _posted(form)
    version = parse_version(form.get("row_version"))
    try:
        change = _validated(ScoringModelChange, posted)
        committed(
            request,
            lambda uow: service.update_model(parsed, change, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        return _model_page(
            request,
            session,
            parsed,
            values=posted,
            failure=scoring_refusal(session.language, error),
            status_code=status_for(error),
            row_version=version,
        )
    return redirect(f"{SCORING}/{parsed}?notice=saved")


def _refused_on_page(request: Request, session: WebSession, model_id: uuid.UUID, error: LeadflowError) -> Response:
    if isinstance(error, Forbidden | NotFound):
        raise error
    with database_of(request).unit_of_work(read_only=True) as uow:
        months = service.get_model(model_id, uow=uow, actor=session.actor).history_months
    return _model_page(
        request,
        session,
        model_id,
        failure=scoring_refusal(session.language, error, months=months),
        status_code=status_for(error),
    )


@router.post(SCORING + "/{model_id}/train", name="scoring_model_train")
@_gate
def train_scoring_model(request: Request, model_id: str, session: WebSessionDep) -> Response:
    """Start training a new version (a job); refused on the model's page when its history is too small."""
    parsed = _model_id(model_id)
    try:
        _version, job = scoring_tasks.start_training(parsed, database=database_of(request), actor=session.actor)
    except LeadflowError as error:
        return _refused_on_page(request, session, parsed, error)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"/jobs/{job.id}")


@router.post(SCORING + "/{model_id}/versions/{version_id}/publish", name="scoring_version_publish")
@_gate
def publish_scoring_version(request: Request, model_id: str, version_id: str, session: WebSessionDep) -> Response:
    """Publish a trained version or restore a retired one; a job scores the open leads with it."""
    parsed = _model_id(model_id)
    version = id_in_path(version_id, record="scoring_version")
    database = database_of(request)
    try:
        with database.unit_of_work(read_only=True) as uow:  # the model's own version, and Write, checked first
            service.version_to_publish(parsed, version, uow=uow, actor=session.actor)
        _model, job = scoring_tasks.publish_version(version, database=database, actor=session.actor)
    except LeadflowError as error:
        return _refused_on_page(request, session, parsed, error)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"{SCORING}/{parsed}?notice=published&version={version}")


@router.post(SCORING + "/{model_id}/unpublish", name="scoring_model_unpublish")
@_gate
def unpublish_scoring_model(request: Request, model_id: str, session: WebSessionDep) -> Response:
    """Stop the model scoring leads (its version is kept); a job clears or reassigns their scores."""
    parsed = _model_id(model_id)
    try:
        _model, job = scoring_tasks.unpublish_model(parsed, database=database_of(request), actor=session.actor)
    except LeadflowError as error:
        return _refused_on_page(request, session, parsed, error)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"{SCORING}/{parsed}?notice=unpublished")
