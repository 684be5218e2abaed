"""Jobs from the command line: ``leadflow worker`` runs them; ``leadflow jobs`` lists, shows,
follows, cancels and retries them; commands that start one follow it with a progress bar
(``--no-wait`` prints its id and returns)."""

from __future__ import annotations

import logging.config
import time
import uuid
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadflow.cli.common import (
    JsonFlag,
    console,
    emit,
    errors,
    fail,
    in_time_zone,
    moment,
    open_as_actor,
    open_database,
    page_of,
    read,
    settings_of,
    text,
)
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import Database
from leadflow.http.observability import logging_config
from leadflow.jobs import service
from leadflow.jobs.models import FINISHED, Job, JobState
from leadflow.jobs.queue import JobQueue
from leadflow.security.actor import Actor
from leadflow.tasks import job_queue

jobs_app = typer.Typer(help="Long work (bulk qualify, duplicate scans, rule publishing, recalculations) as jobs.")

JobId = Annotated[uuid.UUID, typer.Argument(help="The job's id.")]
WaitFlag = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Follow the job to its end with a progress bar, or print its id.")
]
_STATE_STYLES = {"queued": "cyan", "running": "blue", "succeeded": "green", "failed": "red", "canceled": "yellow"}
# How often a follower reads the job (seconds).
POLL_SECONDS = 0.5


def queue_of(ctx: typer.Context, database: Database) -> JobQueue:
    """The configured job queue, running jobs on ``database``."""
    return job_queue(settings_of(ctx), database)


def _job_data(job: Job) -> dict[str, Any]:
    from leadflow.api.jobs import job_out  # the API's fields; imported here to keep the CLI quick to start

    return job_out(job).model_dump(mode="json")


def _read_job(database: Database, actor: Actor, job_id: uuid.UUID) -> Job:
    with database.unit_of_work(read_only=True) as uow:
        return service.get_job(job_id, uow=uow, actor=actor)


def follow(database: Database, actor: Actor, job_id: uuid.UUID, *, quiet: bool = False) -> Job:
    """Wait for a job to end, drawing its progress (unless ``quiet``); the job as it ended."""
    job = _read_job(database, actor, job_id)
    if job.state in FINISHED:
        return job
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    warned = False
    with Progress(*columns, console=console, disable=quiet) as progress:
        bar = progress.add_task(job.title, total=job.progress_total or None)
        while job.state not in FINISHED:
            if job.state is JobState.QUEUED and not warned and not quiet:
                console.print("Waiting for a worker: `leadflow serve` runs one, or start `leadflow worker`.")
                warned = True
            time.sleep(POLL_SECONDS)
            job = _read_job(database, actor, job_id)
            progress.update(bar, completed=job.progress_done, total=job.progress_total or None)
    return job


def start_and_follow(
    ctx: typer.Context, database: Database, actor: Actor, job: Job, *, wait: bool, as_json: bool = False
) -> Job:
    """Hand a new job to the queue, then follow it (``wait``) or print its id; the job as it stands."""
    queue = queue_of(ctx, database)
    if not queue.enqueue(job.id):
        errors.print(
            f"[yellow]The job queue ({queue.describe()}) does not answer; the job is saved and starts once it does.[/]"
        )
    if not wait:
        job = _read_job(database, actor, job.id)
        if as_json:
            emit(True, _job_data(job), lambda: None)
        else:
            console.print(f"Started job {job.id} ({job.title}); follow it with `leadflow jobs wait {job.id}`.")
        return job
    return follow(database, actor, job.id, quiet=as_json)


def print_ending(job: Job) -> None:
    """The line that says how a job ended, and its error."""
    style = _STATE_STYLES.get(job.state.value, "")
    console.print(f"Job {job.id}: [{style}]{job.state.value}[/] ({job.progress_done}/{job.progress_total})")
    if job.error:
        errors.print(f"[bold red]Error:[/] {job.error}", soft_wrap=True)


def exit_for(job: Job) -> None:
    """Exit 1 unless the job succeeded."""
    if job.state is not JobState.SUCCEEDED:
        raise typer.Exit(code=1)


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only the jobs you started.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="The cursor printed under the previous page.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Jobs, newest first: yours, or everyone's for an administrator."""
    page, zone = read(
        ctx,
        in_time_zone(
            lambda uow, actor: service.list_jobs(
                uow=uow, actor=actor, state=state, mine=mine, limit=limit, cursor=cursor
            )
        ),
    )

    def render() -> None:
        table = Table(title="Jobs")
        for column in ("id", "job", "state", "progress", "started", "finished"):
            table.add_column(column, no_wrap=column == "id")
        for job in page.items:
            style = _STATE_STYLES.get(job.state.value, "")
            table.add_row(
                str(job.id),
                job.title,
                f"[{style}]{job.state.value}[/]",
                f"{job.progress_done}/{job.progress_total}",
                moment(job.started_at, zone),
                moment(job.finished_at, zone),
            )
        console.print(table)
        if page.next_cursor:
            console.print(f"More: --cursor {page.next_cursor}", highlight=False)

    emit(as_json, page_of([_job_data(job) for job in page.items], page.next_cursor), render)


@jobs_app.command("show")
def jobs_show(ctx: typer.Context, job_id: JobId, as_json: JsonFlag = False) -> None:
    """One job: state, progress, summary, error, and its items that did not succeed."""

    def action(uow: Any, actor: Actor) -> tuple[Job, list[Any]]:
        job = service.get_job(job_id, uow=uow, actor=actor)
        items = [
            item
            for item in service.job_items(job_id, uow=uow, actor=actor, limit=500)
            if item.status not in ("qualified", "succeeded")
        ][:50]
        return job, items

    (job, items), zone = read(ctx, in_time_zone(action))

    def render() -> None:
        console.print(f"[bold]{job.title}[/] ({job.kind}) {job.id}", highlight=False)
        print_ending(job)
        console.print(
            f"created {moment(job.created_at, zone)}, started {text(moment(job.started_at, zone))}, "
            f"finished {text(moment(job.finished_at, zone))}, attempts {job.attempts}",
            highlight=False,
        )
        if job.summary:
            console.print(f"summary: {job.summary}", highlight=False)
        if items:
            table = Table(title="Items not done")
            for column in ("#", "record", "status", "reason"):
                table.add_column(column)
            for item in items:
                table.add_row(str(item.position), text(item.record_id), item.status, text(item.message))
            console.print(table)

    emit(as_json, _job_data(job), render)


@jobs_app.command("wait")
def jobs_wait(ctx: typer.Context, job_id: JobId) -> None:
    """Follow a job to its end with a progress bar (exit code 1 unless it succeeded)."""
    database, actor = open_as_actor(ctx)
    try:
        job = follow(database, actor, job_id)
    except LeadflowError as error:
        fail(error)
    print_ending(job)
    exit_for(job)


@jobs_app.command("cancel")
def jobs_cancel(ctx: typer.Context, job_id: JobId) -> None:
    """Cancel a job: a queued one at once, a running one after the batch it is writing."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work() as uow:
            job = service.cancel_job(job_id, uow=uow, actor=actor)
            uow.commit()
    except LeadflowError as error:
        fail(error)
    if job.state is JobState.CANCELED:
        console.print(f"Canceled job {job_id}")
    else:
        console.print(f"Job {job_id} stops after the batch it is writing")


@jobs_app.command("retry")
def jobs_retry(ctx: typer.Context, job_id: JobId, wait: WaitFlag = True) -> None:
    """Queue a failed or canceled job again; it goes on from where it stopped."""
    database, actor = open_as_actor(ctx)
    try:
        with database.unit_of_work() as uow:
            job = service.retry_job(job_id, uow=uow, actor=actor)
            uow.commit()
        job = start_and_follow(ctx, database, actor, job, wait=wait)
    except LeadflowError as error:
        fail(error)
    if wait:
        print_ending(job)
        exit_for(job)


def worker(
    ctx: typer.Context,
    threads: Annotated[
        int | None, typer.Option(min=1, max=64, help="Jobs run at once (default: LEADFLOW_WORKER_THREADS, 1).")
    ] = None,
) -> None:
    """Run jobs until stopped (Ctrl+C, or SIGTERM: the running jobs finish their batch first)."""
    settings = settings_of(ctx)
    database = open_database(ctx)
    queue = queue_of(ctx, database)
    if queue.immediate:
        errors.print("LEADFLOW_QUEUE_URL=immediate runs each job where it starts: there is nothing for a worker to do.")
        raise typer.Exit(code=2)
    logging.config.dictConfig(logging_config(settings.log_format))
    again = queue.recover()
    console.print(
        f"leadflow worker: queue {queue.describe()}, {threads or settings.worker_threads} thread(s)"
        + (f"; {len(again)} job(s) left by a stopped worker queued again" if again else ""),
        highlight=False,
    )
    queue.consumer(workers=threads or settings.worker_threads).run()


def register(app: typer.Typer) -> None:
    """Add ``worker`` and the ``jobs`` group to the root command."""
    app.command()(worker)
    app.add_typer(jobs_app, name="jobs")
