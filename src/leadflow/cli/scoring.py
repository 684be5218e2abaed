"""`leadflow scoring list|show|create|change|train|publish|unpublish|lead`: predictive lead scoring."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, fail, open_as_actor, read, run, text
from leadflow.cli.jobs import WaitFlag, exit_for, print_ending, start_and_follow
from leadflow.core.errors import InvalidState, LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import Database, UnitOfWork
from leadflow.http.scores import message_text, reason_text, trend_label
from leadflow.jobs.models import Job
from leadflow.scoring import service
from leadflow.scoring.features import BY_KEY
from leadflow.scoring.learner import grade_shares
from leadflow.scoring.models import ScoringModel, ScoringVersion, VersionState
from leadflow.scoring.schemas import ScoringModelChange, ScoringModelIn
from leadflow.security.actor import Actor
from leadflow.tasks import scoring as scoring_tasks

ModelRef = Annotated[str, typer.Argument(help="The model's id or its exact name (see `leadflow scoring list`).")]
VersionFlag = Annotated[int | None, typer.Option("--version", help="A version number (default: see each command).")]
FieldsFlag = Annotated[
    str | None, typer.Option("--fields", help=f"Comma-separated fields it may use, of: {', '.join(BY_KEY)}.")
]
ThresholdsFlag = Annotated[
    str | None, typer.Option("--thresholds", help="The lowest score of grades A, B and C, e.g. 75,50,25.")
]


def _model(uow: UnitOfWork, actor: Actor, reference: str) -> ScoringModel:
    try:
        return service.get_model(uuid.UUID(reference), uow=uow, actor=actor)
    except ValueError:
        for model in service.list_models(uow=uow, actor=actor):
            if model.name == reference:
                return model
    raise InvalidState(
        f"No scoring model is named {reference!r}; see `leadflow scoring list`.", code="scoring_model_not_found"
    )


def _version(uow: UnitOfWork, actor: Actor, model: ScoringModel, number: int | None, *, default: str) -> ScoringVersion:
    versions = service.versions(model.id, uow=uow, actor=actor)
    if number is not None:
        for version in versions:
            if version.number == number:
                return version
        raise InvalidState(f"The model {model.name} has no version {number}.", code="scoring_version_not_found")
    wanted = {
        "published": lambda version: version.id == model.published_version_id,
        "trained": lambda version: version.state is VersionState.TRAINED,
        "newest": lambda version: True,
    }[default]
    for version in versions:
        if wanted(version):
            return version
    raise InvalidState(
        f"The model {model.name} has no {default} version; train it with `leadflow scoring train`.",
        code="scoring_not_trained",
    )


def _settings(fields: str | None, thresholds: str | None, **values: Any) -> dict[str, Any]:
    data = {name: value for name, value in values.items() if value is not None}
    if fields is not None:
        data["fields"] = [item.strip() for item in fields.split(",") if item.strip()]
    if thresholds is not None:
        parts = [item.strip() for item in thresholds.split(",")]
        data["thresholds"] = dict(zip(("A", "B", "C"), parts, strict=False))
    return data


def _model_data(model: ScoringModel, versions: list[ScoringVersion], ready: service.Readiness) -> dict[str, Any]:
    return {
        "id": str(model.id),
        "name": model.name,
        "scope_kind": model.scope_kind.value,
        "scope_business_unit_id": text(model.scope_business_unit_id) or None,
        "scope_lead_source": model.scope_lead_source.value if model.scope_lead_source else None,
        "history_months": model.history_months,
        "fields": list(model.fields),
        "thresholds": dict(model.thresholds),
        "retrain_days": model.retrain_days,
        "auto_publish": model.auto_publish,
        "published_version_id": text(model.published_version_id) or None,
        "readiness": {
            "qualified": ready.qualified,
            "disqualified": ready.disqualified,
            "missing_qualified": ready.missing_qualified,
            "missing_disqualified": ready.missing_disqualified,
        },
        "versions": [
            {
                "id": str(version.id),
                "number": version.number,
                "state": version.state.value,
                "auc": (version.report or {}).get("auc"),
                "trained_at": version.trained_at.isoformat() if version.trained_at else None,
                "error": version.error,
            }
            for version in versions
        ],
    }


def _follow(ctx: typer.Context, start: Callable[[Database, Actor], Job], *, wait: bool) -> Job | None:
    """Start a job (refusals: one line and an exit code), then follow it to its end (``wait``: the job,
    which succeeded; otherwise exit 1) or print its id (None)."""
    database, actor = open_as_actor(ctx)
    try:
        job = start_and_follow(ctx, database, actor, start(database, actor), wait=wait)
    except LeadflowError as error:
        fail(error)
    if not wait:
        return None
    print_ending(job)
    exit_for(job)
    return job


def scoring_commands() -> typer.Typer:
    group = typer.Typer(
        help="Predictive lead scoring: models, training, publishing, a lead's score.", no_args_is_help=True
    )

    @group.command("list")
    def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
        """Every scoring model with its published version."""

        def gather(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
            return [
                _model_data(
                    model,
                    service.versions(model.id, uow=uow, actor=actor),
                    service.readiness(model, session=uow.session),
                )
                for model in service.list_models(uow=uow, actor=actor)
            ]

        items = read(ctx, gather)

        def render() -> None:
            grid = Table(title="Scoring models")
            for column in ("id", "name", "scope", "published", "AUC", "history (qualified/disqualified)"):
                grid.add_column(column)
            for item in items:
                published = next((v for v in item["versions"] if v["id"] == item["published_version_id"]), None)
                readiness = item["readiness"]
                grid.add_row(
                    item["id"],
                    item["name"],
                    item["scope_kind"],
                    f"v{published['number']}" if published else "",
                    text(published["auc"]) if published else "",
                    f"{readiness['qualified']}/{readiness['disqualified']}",
                )
            console.print(grid)

        emit(as_json, items, render)

    @group.command("show")
    def show(ctx: typer.Context, model: ModelRef, version: VersionFlag = None, as_json: JsonFlag = False) -> None:
        """A model's settings, its history's readiness, its versions, and the report of one version
        (``--version``; default the published one, else the newest)."""

        def gather(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
            found = _model(uow, actor, model)
            versions = service.versions(found.id, uow=uow, actor=actor)
            data = _model_data(found, versions, service.readiness(found, session=uow.session))
            chosen = None
            if versions:
                default = "published" if found.published_version_id else "newest"
                chosen = _version(uow, actor, found, version, default=default)
            data["report"] = None
            if chosen is not None and chosen.report:
                data["report"] = {
                    "version": chosen.number,
                    **chosen.report,
                    "grades": grade_shares(chosen.report, found.thresholds),
                }
                data["report"].pop("scores", None)
            return data

        data = read(ctx, gather)

        def render() -> None:
            grid = Table(title=f"Scoring model {data['name']}", show_header=False)
            for name in ("id", "scope_kind", "history_months", "fields", "thresholds", "retrain_days", "auto_publish"):
                grid.add_row(name, text(data[name]))
            ready = data["readiness"]
            grid.add_row("history", f"{ready['qualified']} qualified, {ready['disqualified']} disqualified")
            if ready["missing_qualified"] or ready["missing_disqualified"]:
                grid.add_row(
                    "missing",
                    f"{ready['missing_qualified']} qualified and {ready['missing_disqualified']} disqualified "
                    "before it can train",
                )
            console.print(grid)
            versions = Table(title="Versions")
            for column in ("version", "state", "AUC", "trained at", "error"):
                versions.add_column(column)
            for item in data["versions"]:
                versions.add_row(
                    str(item["number"]), item["state"], text(item["auc"]), text(item["trained_at"]), text(item["error"])
                )
            console.print(versions)
            report = data["report"]
            if report:
                console.print(
                    f"Version {report['version']}: AUC {report['auc']} on {report['test']['leads']} newest leads "
                    f"(trained on {report['train']['leads']} older ones)"
                )
                grades = Table(title="Held-out leads by grade")
                for column in ("grade", "leads", "qualified", "share qualified"):
                    grades.add_column(column)
                for grade, row in report["grades"].items():
                    grades.add_row(grade, str(row["leads"]), str(row["qualified"]), text(row["qualified_share"]))
                console.print(grades)
                calibration = Table(title="Calibration")
                for column in ("predicted", "leads", "mean predicted", "observed"):
                    calibration.add_column(column)
                for row in report["calibration"]:
                    calibration.add_row(
                        f"{row['from']:.0%}-{row['to']:.0%}",
                        str(row["leads"]),
                        f"{row['predicted']:.0%}",
                        f"{row['observed']:.0%}",
                    )
                console.print(calibration)

        emit(as_json, data, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The model's name.")],
        scope: Annotated[str, typer.Option(help="all, business_unit or lead_source.")] = "all",
        business_unit: Annotated[str | None, typer.Option(help="The business unit's id (scope business_unit).")] = None,
        lead_source: Annotated[str | None, typer.Option(help="The lead source (scope lead_source).")] = None,
        months: Annotated[int | None, typer.Option(help="Months of history to learn from (default 12).")] = None,
        fields: FieldsFlag = None,
        thresholds: ThresholdsFlag = None,
        retrain_days: Annotated[int | None, typer.Option(help="Retrain every so many days (0: by hand only).")] = None,
        auto_publish: Annotated[bool | None, typer.Option("--auto-publish/--review-first")] = None,
    ) -> None:
        """Create a scoring model (administrators); train it next."""
        data = _settings(
            fields,
            thresholds,
            name=name,
            scope_kind=scope,
            scope_business_unit_id=business_unit,
            scope_lead_source=lead_source,
            history_months=months,
            retrain_days=retrain_days,
            auto_publish=auto_publish,
        )
        model = run(ctx, lambda uow, actor: service.create_model(parse(ScoringModelIn, data), uow=uow, actor=actor))
        console.print(
            f"Created the scoring model {model.name} [bold]{model.id}[/]; train it with `leadflow scoring train`."
        )

    @group.command("change")
    def change(
        ctx: typer.Context,
        model: ModelRef,
        name: Annotated[str | None, typer.Option()] = None,
        months: Annotated[int | None, typer.Option()] = None,
        fields: FieldsFlag = None,
        thresholds: ThresholdsFlag = None,
        retrain_days: Annotated[int | None, typer.Option()] = None,
        auto_publish: Annotated[bool | None, typer.Option("--auto-publish/--review-first")] = None,
    ) -> None:
        """Change a model's settings; new thresholds regrade its leads at once."""
        data = _settings(
            fields, thresholds, name=name, history_months=months, retrain_days=retrain_days, auto_publish=auto_publish
        )

        def change_it(uow: UnitOfWork, actor: Actor) -> ScoringModel:
            found = _model(uow, actor, model)
            return service.update_model(found.id, parse(ScoringModelChange, data), uow=uow, actor=actor)

        changed = run(ctx, change_it)
        console.print(f"Changed the scoring model {changed.name}")

    @group.command("train")
    def train(ctx: typer.Context, model: ModelRef, wait: WaitFlag = True) -> None:
        """Train a new version as a job (administrators); its report says how good it is before you publish it."""
        started: dict[str, Any] = {}

        def start(database: Database, actor: Actor) -> Job:
            with database.unit_of_work(read_only=True) as uow:
                started["model"] = _model(uow, actor, model).id
            started["version"], job = scoring_tasks.start_training(started["model"], database=database, actor=actor)
            return job

        job = _follow(ctx, start, wait=wait)
        if job is not None:
            number, model_id = started["version"].number, started["model"]
            console.print(
                f"Version {number} trained: AUC {text((job.summary or {}).get('auc'))}. Read its report with "
                f"`leadflow scoring show {model_id} --version {number}`, then publish it with "
                f"`leadflow scoring publish {model_id} --version {number}`."
            )

    @group.command("publish")
    def publish(ctx: typer.Context, model: ModelRef, version: VersionFlag = None, wait: WaitFlag = True) -> None:
        """Publish a trained version (default the newest trained one), or restore an earlier one with
        ``--version``; then every open lead is scored with it (a job)."""
        chosen: list[ScoringVersion] = []

        def start(database: Database, actor: Actor) -> Job:
            with database.unit_of_work(read_only=True) as uow:
                found = _model(uow, actor, model)
                named = None if version is None else _version(uow, actor, found, version, default="trained").id
                chosen.append(service.version_to_publish(found.id, named, uow=uow, actor=actor))
            return scoring_tasks.publish_version(chosen[0].id, database=database, actor=actor)[1]

        job = _follow(ctx, start, wait=wait)
        if job is not None:
            scored = text((job.summary or {}).get("scored"))
            console.print(f"Published version {chosen[0].number}; {scored} open leads scored.")

    @group.command("unpublish")
    def unpublish(ctx: typer.Context, model: ModelRef, wait: WaitFlag = True) -> None:
        """Stop a model scoring leads (its versions are kept)."""

        def start(database: Database, actor: Actor) -> Job:
            with database.unit_of_work(read_only=True) as uow:
                model_id = _model(uow, actor, model).id
            return scoring_tasks.unpublish_model(model_id, database=database, actor=actor)[1]

        _follow(ctx, start, wait=wait)

    @group.command("lead")
    def lead(
        ctx: typer.Context,
        lead_id: Annotated[uuid.UUID, typer.Argument(help="The lead's id.")],
        as_json: JsonFlag = False,
    ) -> None:
        """A lead's score, grade, trend and the reasons behind it."""
        view = read(ctx, lambda uow, actor: service.lead_score(lead_id, uow=uow, actor=actor))
        data = {
            "lead_id": str(view.lead_id),
            "score": view.score,
            "grade": view.grade,
            "trend": view.trend.value,
            "reasons": [{"field": f, "value": v, "effect": e} for f, v, e in view.reasons],
            "model_id": text(view.model_id) or None,
            "model_version": view.model_version,
            "scored_at": view.scored_at.isoformat() if view.scored_at else None,
            "message": view.message,
        }

        def render() -> None:
            if view.score is None:
                console.print(f"No score: {message_text('en', view.message)}")
                return
            console.print(
                f"Score {view.score} (grade {view.grade}), trend {trend_label('en', view.trend).lower()}; "
                f"model {view.model_name} v{view.model_version}"
            )
            for field, value, effect in view.reasons:
                console.print(f"  {reason_text('en', field, value, effect)}")

        emit(as_json, data, render)

    return group


def register(app: typer.Typer) -> None:
    """Add the scoring command group to the root command."""
    app.add_typer(scoring_commands(), name="scoring")
