"""What scoring's use cases share: scoring models are settings (administrators, with Write on them,
make, train and publish them; whoever reads the settings reads them), and a version whose training job
ended without it is failed, with the job's reason."""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.jobs.models import FINISHED, Job, JobState
from leadflow.scoring.models import ScoringVersion, VersionState

ADMIN_TABLE = "settings"  # models are settings: administrators (Write) make and publish, everyone reads

CANCELED_TRAINING = "The training was canceled."


def _settle(session: Session, version: ScoringVersion, *, keep: bool = False) -> None:
    """A version still in training whose job has ended without it (canceled while queued, failed
    before it started, given up after its worker died) is failed, with the job's reason: stored when
    ``keep``, otherwise only as read."""
    if version.state is not VersionState.TRAINING or version.job_id is None:
        return
    job = session.get(Job, version.job_id)
    if job is None or job.state not in FINISHED:
        return
    error = CANCELED_TRAINING if job.state is JobState.CANCELED else (job.error or "The training job failed.")
    if keep:
        version.state, version.error = VersionState.FAILED, error[:2000]
    else:
        set_committed_value(version, "state", VersionState.FAILED)
        set_committed_value(version, "error", error[:2000])
