"""Scoring's use cases: models (create, change, read), training, publishing and restoring versions,
and keeping every open lead's score current.

Administrators (Write on the settings) make, train and publish models; anyone who reads the settings
reads them; a lead's score is read by whoever may read the lead. Scores follow the leads: every flush
that creates or changes a lead, or adds or removes a note or activity regarding one, scores it again
in the same transaction (``rescoring._rescore_flushed``); publishing a version scores every open lead
in bulk. This is their one front door: the use cases live in ``versions``, ``training``, ``rescoring``
and ``reading`` (what several of them share, in ``common``), and every entry point imports them from here.
"""

from __future__ import annotations

from leadflow.scoring.common import ADMIN_TABLE, CANCELED_TRAINING
from leadflow.scoring.reading import (
    TREND_STEP,
    UNTOUCHED_DAYS,
    GradeSummary,
    LeadScoreView,
    grade_summary,
    lead_score,
    trend_of,
)
from leadflow.scoring.rescoring import (
    BATCH,
    Fingerprint,
    Live,
    Outcome,
    Progress,
    forget_live,
    live_models,
    rescore,
    rescore_all,
    score_rows,
    scorer_of,
    store,
)
from leadflow.scoring.training import Readiness, begin_training, fail_training, history, readiness, run_training
from leadflow.scoring.versions import (
    create_model,
    get_model,
    get_version,
    list_models,
    publish,
    regrade,
    unpublish,
    update_model,
    version_to_publish,
    versions,
)

__all__ = [
    "ADMIN_TABLE",
    "BATCH",
    "CANCELED_TRAINING",
    "Fingerprint",
    "GradeSummary",
    "LeadScoreView",
    "Live",
    "Outcome",
    "Progress",
    "Readiness",
    "TREND_STEP",
    "UNTOUCHED_DAYS",
    "begin_training",
    "create_model",
    "fail_training",
    "forget_live",
    "get_model",
    "get_version",
    "grade_summary",
    "history",
    "lead_score",
    "list_models",
    "live_models",
    "publish",
    "readiness",
    "regrade",
    "rescore",
    "rescore_all",
    "run_training",
    "score_rows",
    "scorer_of",
    "store",
    "trend_of",
    "unpublish",
    "update_model",
    "version_to_publish",
    "versions",
]
