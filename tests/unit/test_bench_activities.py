"""bench/activities.py makes what it says: valid activities spread as described, stored so that the services
read them back, and a timeline of exactly the entries it names."""

import argparse
import random
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from leadflow.activities.activity import ActivityFilter, list_activities
from leadflow.activities.models import NOT_DUE, STATUS_REASONS, Activity, ActivityState, ActivityType, RegardingTable
from leadflow.activities.timeline import record_timeline
from leadflow.core.uow import Database
from leadflow.security.actor import actor_for_email

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import activities as bench

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
OWNER = (uuid.uuid4(), uuid.uuid4())


def _rows(count, **options):
    rng = random.Random(11)
    return [
        dict(zip(bench.ACTIVITY_COLUMNS, bench.activity_row(rng, NOW, OWNER, None, **options), strict=True))
        for _ in range(count)
    ]


def test_each_activity_has_a_status_reason_of_its_type_and_state():
    for row in _rows(3000):
        reasons = STATUS_REASONS[ActivityType(row["type"])][ActivityState(row["state"])]
        assert row["status_reason"] in {reason.value for reason in reasons}
        assert (row["actual_end"] is None) == (row["state"] == "open")


def test_due_times_spread_sixty_days_either_side_and_undated_tasks_sort_last():
    rows = _rows(3000)
    for row in rows:
        if row["scheduled_end"] is None:
            assert row["type"] == "task"
            assert row["due_order"] == NOT_DUE
        else:
            assert row["due_order"] == row["scheduled_end"]
            assert NOW - timedelta(days=60, minutes=1) <= row["scheduled_end"] <= NOW + timedelta(days=60)
        if row["type"] == "appointment":
            assert row["scheduled_start"] < row["scheduled_end"]
        assert row["created_at"] <= NOW
    states = Counter(row["state"] for row in rows)
    assert 0.17 < states["open"] / len(rows) < 0.23
    assert set(Counter(row["type"] for row in rows)) == {kind.value for kind in ActivityType}


def test_the_generated_database_reads_back_through_the_services(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "DATA_DIR", tmp_path)
    args = argparse.Namespace(activities=2000, notes=100, users=10, timeline=4100, seed=3)
    url = f"sqlite:///{tmp_path / 'activities.db'}"
    setup = bench.populate("sqlite", url, args)
    database = Database(url)
    opportunity_id = uuid.UUID(setup["opportunity_id"])
    with database.unit_of_work(read_only=True) as uow:
        admin = actor_for_email(uow.session, bench.ADMIN_EMAIL)
        seller = actor_for_email(uow.session, bench.SELLER_EMAIL)
        kinds: Counter[str] = Counter()
        cursor = None
        while True:
            page = record_timeline(
                RegardingTable.OPPORTUNITIES, opportunity_id, uow=uow, actor=admin, limit=500, cursor=cursor
            )
            kinds.update(entry.kind for entry in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sum(kinds.values()) == 4100
        assert kinds["note"] == bench.LEAD_NOTES + bench.OPPORTUNITY_NOTES
        assert kinds["close"] == bench.CLOSES
        assert set(kinds) == {"note", "close", *(kind.value for kind in ActivityType)}
        mine = uow.session.scalar(
            select(func.count()).where(Activity.owner_user_id == seller.user_id, Activity.state == ActivityState.OPEN)
        )
        shown = list_activities(ActivityFilter(view="my_open"), uow=uow, actor=seller, limit=500).items
        assert len(shown) == mine > 0
        assert [activity.due_order for activity in shown] == sorted(activity.due_order for activity in shown)
        total = uow.session.scalar(select(func.count()).select_from(Activity))
        assert total == 2000 + 4100 - bench.LEAD_NOTES - bench.OPPORTUNITY_NOTES - bench.CLOSES
    database.dispose()
