"""Find-all-duplicates jobs (§9): every duplicate set of a table under its published rules.

A job reads the table in keyset-paged batches and writes its sets batch by batch, each batch
committed with the job's progress, so that memory stays flat however large the table is and a
poller sees the job advance. There is no cap on the number of records.

* A symmetric rule (every condition compares a column with itself) stores one code per record
  that serves both sides, so the codes shared by several records are grouped in SQL
  (``GROUP BY code HAVING count(*) > 1`` over the ``(rule_id, code)`` index), a page at a time.
* An asymmetric rule streams the table, computes each record's base-side code and looks the
  codes of a batch up in the index.

Records sharing a code are only candidates: pairs are verified with the scored comparison
(``is_match``), which scores ``similar`` conditions and rejects 64-bit code collisions, and the
verified pairs are grouped into connected sets. A set's score is the lowest score of the
verified pairs inside it. A rule that excludes inactive records leaves them out of every set.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler
from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, LeadflowError, ValidationFailed
from leadflow.core.paging import Page, keyset_page
from leadflow.core.records import get_record
from leadflow.core.uow import Database, UnitOfWork
from leadflow.duplicates.criteria import Condition, Criterion
from leadflow.duplicates.engine import MATCH_CODES, LiveRule, detection_rules
from leadflow.duplicates.matchcodes import NAME_KINDS, condition_kind, is_match, rule_match_code
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateJob,
    DuplicateRule,
    DuplicateSet,
    DuplicateSetMember,
    JobState,
)
from leadflow.duplicates.tables import TABLES, TableInfo, table_info
from leadflow.jobs.runner import JobCanceled
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

log = logging.getLogger(__name__)

#: Records (or codes) read, and sets written, per committed batch.
SCAN_BATCH = 2000
MAX_PAGE = 200

Progress = Callable[[int, int], None]
SETS: Table = DuplicateSet.__table__  # type: ignore[assignment]
MEMBERS: Table = DuplicateSetMember.__table__  # type: ignore[assignment]


# ----------------------------------------------------------------------------------------------
# what the readers get


@dataclass(frozen=True)
class RuleCount:
    """What one rule found in a job."""

    rule_id: uuid.UUID | None
    rule_name: str | None
    sets: int
    records: int


# ----------------------------------------------------------------------------------------------
# starting and reading jobs


def scan_rules(session: Session, table: str | DetectionTable) -> list[LiveRule]:
    """The rules a job over ``table`` applies: published, with ``table`` as base and matching table."""
    table = DetectionTable(table)
    return detection_rules(session, table, matching=[table])


def start_job(table: str | DetectionTable, *, database: Database, actor: Actor) -> DuplicateJob:
    """Create a queued job over one table (settings Write); ``run_job`` does the work."""
    with database.unit_of_work() as uow:
        require_admin(actor, "settings", Privilege.WRITE)
        info = table_info(table)
        job = DuplicateJob(id=uuid.uuid4(), table_name=info.name, state=JobState.QUEUED, created_by_id=actor.user_id)
        uow.session.add(job)
        uow.flush()
        record_action(
            uow.session,
            actor,
            "create",
            table="duplicate_jobs",
            record_id=job.id,
            summary=f"Find all duplicates in {info.name.value}",
        )
        uow.commit()
    return job


def load_job(session: Session, job_id: uuid.UUID, *, for_update: bool = False) -> DuplicateJob:
    """A job by id, locked if asked, or NotFound (``duplicate_job_not_found``)."""
    return get_record(
        session, DuplicateJob, job_id, label="duplicate_job", noun="duplicate detection job", for_update=for_update
    )


def get_job(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> DuplicateJob:
    """One job with its state, progress and counts (settings Read)."""
    require_admin(actor, "settings", Privilege.READ)
    return load_job(uow.session, job_id)


def list_jobs(*, uow: UnitOfWork, actor: Actor, limit: int = 50, cursor: str | None = None) -> Page[DuplicateJob]:
    """A page of the jobs, newest first; ``cursor`` is the previous page's ``next_cursor``."""
    require_admin(actor, "settings", Privilege.READ)
    check_page_limit(limit)
    return keyset_page(
        uow.session,
        select(DuplicateJob),
        key=DuplicateJob.created_at,
        id_column=DuplicateJob.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def job_rules(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> list[RuleCount]:
    """Sets and records each rule found in a job (a record is counted once per rule)."""
    require_admin(actor, "settings", Privilege.READ)
    load_job(uow.session, job_id)
    statement = (
        select(SETS.c.rule_id, DuplicateRule.name, func.count(), func.coalesce(func.sum(SETS.c.size), 0))
        .select_from(SETS.outerjoin(DuplicateRule, DuplicateRule.id == SETS.c.rule_id))
        .where(SETS.c.job_id == job_id)
        .group_by(SETS.c.rule_id, DuplicateRule.name)
        .order_by(DuplicateRule.name)
    )
    return [
        RuleCount(rule_id, name, sets, int(records)) for rule_id, name, sets, records in uow.session.execute(statement)
    ]


def check_page_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.", code="invalid_limit")


# ----------------------------------------------------------------------------------------------
# running a job


class _ConnectedSets:
    """Union-find over record ids; each set keeps the lowest score of the verified pairs inside it."""

    def __init__(self) -> None:
        self._parent: dict[uuid.UUID, uuid.UUID] = {}
        self._size: dict[uuid.UUID, int] = {}
        self._score: dict[uuid.UUID, float] = {}

    def _root(self, key: uuid.UUID) -> uuid.UUID:
        parent = self._parent
        if key not in parent:
            parent[key], self._size[key], self._score[key] = key, 1, 1.0
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def join(self, first: uuid.UUID, second: uuid.UUID, score: float) -> None:
        a, b = self._root(first), self._root(second)
        if a != b:
            if self._size[a] < self._size[b]:
                a, b = b, a
            self._parent[b] = a
            self._size[a] += self._size.pop(b)
            self._score[a] = min(self._score[a], self._score.pop(b))
        self._score[a] = min(self._score[a], score)

    def sets(self) -> list[tuple[list[uuid.UUID], float]]:
        """Every set of two or more records, members sorted, sets ordered by their first member."""
        groups: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key in self._parent:
            groups.setdefault(self._root(key), []).append(key)
        found = [(sorted(members), self._score[root]) for root, members in groups.items() if len(members) > 1]
        return sorted(found, key=lambda item: item[0][0])


def _verify(rule: LiveRule, base: Mapping[str, Any], candidate: Mapping[str, Any]) -> tuple[bool, float]:
    return is_match(
        rule.conditions, base, candidate, case_sensitive=rule.case_sensitive, default_region=rule.default_region
    )


def _first_similar(rule: LiveRule) -> Condition | None:
    return next((c for c in rule.conditions if c.criterion is Criterion.SIMILAR), None)


def _close_pairs(
    rule: LiveRule,
    condition: Condition,
    bases: Sequence[Mapping[str, Any]],
    candidates: Sequence[Mapping[str, Any]],
    *,
    same: bool,
) -> Iterator[tuple[int, int]]:
    """Index pairs (base, candidate) whose values of a ``similar`` condition may reach its threshold.

    A fast pre-filter, so that a large block is not compared pair by pair in Python: Jaro-Winkler
    runs in RapidFuzz's C loop with a hair of slack, over the whole values or, for names (scored
    word by word), over their words, and every pair kept is then verified with ``is_match``. With
    ``same`` the two lists are one and each unordered pair comes once. Two blank values are kept
    (they match when the rule does not ignore blanks).
    """
    kind = condition_kind(condition)
    region = rule.default_region
    cutoff = condition.effective_threshold - 1e-9
    remaining: dict[int, str] = {}
    blanks: list[int] = []
    for j, candidate in enumerate(candidates):
        text = kind.normalize(candidate[condition.matching_column], region)
        if text:
            remaining[j] = text
        else:
            blanks.append(j)
    words = _WordIndex(remaining) if kind.name in NAME_KINDS else None
    for i, base in enumerate(bases):
        if same:
            remaining.pop(i, None)
        query = kind.normalize(base[condition.base_column], region)
        if not query:
            yield from ((i, j) for j in blanks if not same or j > i)
        elif words is not None:
            yield from ((i, j) for j in words.close_to(query, cutoff) if j in remaining)
        elif remaining:
            scorer = JaroWinkler.normalized_similarity
            for _text, _score, j in process.extract(query, remaining, scorer=scorer, score_cutoff=cutoff, limit=None):
                yield i, j


class _WordIndex:
    """The words of names, with the names that hold each: which names may score close to a name.

    A name's score is that of its least alike pair of words (``matchcodes.name_similarity``), and a
    pair of words never scores more than their Jaro-Winkler similarity, so a name can reach the
    threshold only if it has as many words and, for every word of the other name, a word that
    Jaro-Winkler puts within the threshold.
    """

    def __init__(self, names: Mapping[int, str]) -> None:
        self.names = dict(names)
        self.holders: dict[str, set[int]] = {}
        for index, name in self.names.items():
            for word in name.split():
                self.holders.setdefault(word, set()).add(index)
        self.vocabulary = list(self.holders)

    def close_to(self, name: str, cutoff: float) -> list[int]:
        """The indexes of the names that may score ``cutoff`` or more against ``name``, in order."""
        words = name.split()
        found: set[int] | None = None
        for word in set(words):
            close: set[int] = set()
            for other, _score, _position in process.extract(
                word, self.vocabulary, scorer=JaroWinkler.normalized_similarity, score_cutoff=cutoff, limit=None
            ):
                close |= self.holders[other]
            found = close if found is None else found & close
            if not found:
                return []
        return sorted(index for index in found or () if len(self.names[index].split()) == len(words))


def _classes(rule: LiveRule, records: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Records split by their full matching-side match code: one class per distinct key list.

    For a rule without ``similar`` conditions a match is equality of keys, so a record matches a
    whole class exactly when it matches any one of its members; this keeps large groups linear.
    """
    classes: dict[str | None, list[Mapping[str, Any]]] = {}
    for record in records:
        digest = rule_match_code(
            rule.conditions,
            record,
            case_sensitive=rule.case_sensitive,
            default_region=rule.default_region,
            side="matching",
        )
        classes.setdefault(digest, []).append(record)
    return list(classes.values())


def _join_group(rule: LiveRule, records: Sequence[Mapping[str, Any]], found: _ConnectedSets) -> None:
    """Join the verified duplicates among records sharing one code of a symmetric rule."""
    similar = _first_similar(rule)
    if similar is not None:
        for i, j in _close_pairs(rule, similar, records, records, same=True):
            holds, score = _verify(rule, records[i], records[j])
            if holds:
                found.join(records[i]["id"], records[j]["id"], score)
        return
    for members in _classes(rule, records):
        representative = members[0]
        for other in members[1:]:
            holds, score = _verify(rule, other, representative)
            if holds:
                found.join(other["id"], representative["id"], score)


def _join_lookups(
    rule: LiveRule, bases: Sequence[Mapping[str, Any]], candidates: Sequence[Mapping[str, Any]], found: _ConnectedSets
) -> None:
    """Join records with the verified candidates their base-side code found (asymmetric rule)."""
    similar = _first_similar(rule)
    if similar is not None:
        for i, j in _close_pairs(rule, similar, bases, candidates, same=False):
            base, candidate = bases[i], candidates[j]
            if base["id"] != candidate["id"]:
                holds, score = _verify(rule, base, candidate)
                if holds:
                    found.join(base["id"], candidate["id"], score)
        return
    classes = _classes(rule, candidates)
    joined: set[int] = set()
    for base in bases:
        for index, members in enumerate(classes):
            representative = next((m for m in members if m["id"] != base["id"]), None)
            if representative is None:
                continue
            holds, score = _verify(rule, base, representative)
            if not holds:
                continue
            found.join(base["id"], representative["id"], score)
            if index not in joined:
                # The base record matches every member of the class as it matches one of them.
                joined.add(index)
                for member in members:
                    found.join(representative["id"], member["id"], score)


def _coded_records(
    session: Session, rule: LiveRule, info: TableInfo, codes: Sequence[int], *, within: tuple[int, int] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The records whose stored code under ``rule`` is one of ``codes``, by code, with the rule's columns.

    ``within`` bounds the codes when they are a contiguous page: one short range of the index then
    serves them all.
    """
    table = info.table
    columns = info.read_columns(rule.columns("matching"))
    statement = (
        select(MATCH_CODES.c.code.label("_match_code"), *columns)
        .join(table, table.c.id == MATCH_CODES.c.record_id)
        .where(MATCH_CODES.c.rule_id == rule.id, MATCH_CODES.c.code.in_(list(codes)))
        .order_by(MATCH_CODES.c.code, table.c.id)
    )
    if within is not None:
        statement = statement.where(MATCH_CODES.c.code.between(*within))
    if rule.exclude_inactive:
        statement = statement.where(info.active)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(statement).mappings():
        record = dict(row)
        grouped.setdefault(record.pop("_match_code"), []).append(record)
    return grouped


def _shared_codes(session: Session, rule: LiveRule, *, after: int | None, limit: int) -> list[tuple[int, int]]:
    """The next codes of the rule held by more than one record, with how many hold each."""
    statement = (
        select(MATCH_CODES.c.code, func.count())
        .where(MATCH_CODES.c.rule_id == rule.id)
        .group_by(MATCH_CODES.c.code)
        .having(func.count() > 1)
        .order_by(MATCH_CODES.c.code)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(MATCH_CODES.c.code > after)
    return [(code, count) for code, count in session.execute(statement)]


def _work(session: Session, rule: LiveRule) -> int:
    """How many records the job will examine for the rule: its progress units."""
    info = TABLES[rule.base_table]
    if rule.symmetric:
        groups = (
            select(func.count().label("n"))
            .where(MATCH_CODES.c.rule_id == rule.id)
            .group_by(MATCH_CODES.c.code)
            .having(func.count() > 1)
            .subquery()
        )
        return int(session.scalar(select(func.coalesce(func.sum(groups.c.n), 0))) or 0)
    statement = select(func.count()).select_from(info.table)
    if rule.exclude_inactive:
        statement = statement.where(info.active)
    return int(session.scalar(statement) or 0)


@dataclass
class _Run:
    """A running job's counters, written back with each committed batch."""

    database: Database
    job_id: uuid.UUID
    progress: Progress | None
    total: int = 0
    done: int = 0
    set_count: int = 0

    def commit_batch(self, rule: LiveRule, sets: list[tuple[list[uuid.UUID], float]], *, examined: int) -> None:
        """Write a batch of sets with the job's progress, in one transaction."""
        with self.database.unit_of_work() as uow:
            if sets:
                set_rows: list[dict[str, Any]] = []
                member_rows: list[dict[str, Any]] = []
                for offset, (members, score) in enumerate(sets, start=1):
                    set_id = uuid.uuid4()
                    set_rows.append(
                        {
                            "id": set_id,
                            "job_id": self.job_id,
                            "rule_id": rule.id,
                            "position": self.set_count + offset,
                            "score": score,
                            "size": len(members),
                        }
                    )
                    member_rows.extend({"set_id": set_id, "record_id": member} for member in members)
                uow.session.execute(SETS.insert(), set_rows)
                uow.session.execute(MEMBERS.insert(), member_rows)
            job = load_job(uow.session, self.job_id)
            job.progress_done = self.done + examined
            job.progress_total = max(self.total, job.progress_done)
            job.set_count = self.set_count + len(sets)
            uow.commit()
        self.done += examined
        self.set_count += len(sets)
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))


def _scan_symmetric(run: _Run, rule: LiveRule, batch_size: int) -> None:
    info = TABLES[rule.base_table]
    last_code: int | None = None
    while True:
        with run.database.unit_of_work(read_only=True) as uow:
            codes = _shared_codes(uow.session, rule, after=last_code, limit=batch_size)
            if not codes:
                return
            # Whole groups only, about a batch of records (a larger group comes alone).
            page: list[Any] = []
            records = 0
            for code, count in codes:
                if page and records + count > batch_size:
                    break
                page.append(code)
                records += count
            last_code = page[-1]
            groups = _coded_records(uow.session, rule, info, page, within=(page[0], page[-1]))
        found = _ConnectedSets()
        for group in groups.values():
            if len(group) > 1:
                _join_group(rule, group, found)
        run.commit_batch(rule, found.sets(), examined=records)


def _scan_asymmetric(run: _Run, rule: LiveRule, batch_size: int) -> None:
    info = TABLES[rule.base_table]
    table = info.table
    columns = info.read_columns(rule.columns("base"))
    # Sets may join records anywhere in the table, so they are written once every record is read;
    # only the records found duplicated are held.
    found = _ConnectedSets()
    last_id: uuid.UUID | None = None
    while True:
        with run.database.unit_of_work(read_only=True) as uow:
            statement = select(*columns).order_by(table.c.id).limit(batch_size)
            if last_id is not None:
                statement = statement.where(table.c.id > last_id)
            if rule.exclude_inactive:
                statement = statement.where(info.active)
            bases = [dict(row) for row in uow.session.execute(statement).mappings()]
            if not bases:
                break
            last_id = bases[-1]["id"]
            by_code: dict[int, list[dict[str, Any]]] = {}
            for base in bases:
                code = rule.code(base, "base")
                if code is not None:
                    by_code.setdefault(code, []).append(base)
            candidates = _coded_records(uow.session, rule, info, list(by_code)) if by_code else {}
        for code, group in by_code.items():
            _join_lookups(rule, group, candidates.get(code, []), found)
        run.commit_batch(rule, [], examined=len(bases))
    sets = found.sets()
    for start in range(0, len(sets), batch_size):
        run.commit_batch(rule, sets[start : start + batch_size], examined=0)


def _claim(database: Database, job_id: uuid.UUID) -> list[LiveRule]:
    """Queued → running; the rules the job applies, as they stand now."""
    with database.unit_of_work() as uow:
        job = load_job(uow.session, job_id, for_update=True)
        if job.state is not JobState.QUEUED:
            raise InvalidState(
                f"The duplicate detection job {job_id} is {job.state.value}; start a new job to look again.",
                code="job_not_queued",
            )
        job.state = JobState.RUNNING
        job.started_at = utcnow()
        rules = scan_rules(uow.session, job.table_name)
        uow.commit()
    return rules


def restart_job(database: Database, job_id: uuid.UUID) -> None:
    """A job left running by a worker that died goes back to queued, without the sets it had written,
    so that ``run_job`` starts it again from the beginning."""
    with database.unit_of_work() as uow:
        session = uow.session
        job = load_job(session, job_id, for_update=True)
        if job.state is not JobState.RUNNING:
            return
        session.execute(delete(MEMBERS).where(MEMBERS.c.set_id.in_(select(SETS.c.id).where(SETS.c.job_id == job_id))))
        session.execute(delete(SETS).where(SETS.c.job_id == job_id))
        job.state = JobState.QUEUED
        job.progress_done = 0
        uow.commit()


def _finish(database: Database, job_id: uuid.UUID) -> DuplicateJob:
    with database.unit_of_work() as uow:
        job = load_job(uow.session, job_id, for_update=True)
        job.record_count = (
            uow.session.scalar(
                select(func.count(func.distinct(MEMBERS.c.record_id))).where(
                    MEMBERS.c.set_id.in_(select(SETS.c.id).where(SETS.c.job_id == job_id))
                )
            )
            or 0
        )
        job.set_count = uow.session.scalar(select(func.count()).where(SETS.c.job_id == job_id)) or 0
        job.progress_done = job.progress_total = max(job.progress_done, job.progress_total)
        job.state = JobState.COMPLETED
        job.finished_at = utcnow()
        uow.commit()
    return job


def _failure_text(error: BaseException) -> str:
    if isinstance(error, LeadflowError):
        return error.message
    if isinstance(error, JobCanceled):
        return "The job was canceled before it finished; start a new job to look again."
    if isinstance(error, KeyboardInterrupt):
        return "The job was interrupted before it finished; start a new job."
    reason = (str(error).splitlines() or [""])[0][:300]
    return f"The job stopped on an unexpected error ({type(error).__name__}: {reason}); start a new job."


def _fail(database: Database, job_id: uuid.UUID, error: BaseException) -> DuplicateJob:
    """Mark the job failed and drop the sets it had written: half a result would mislead."""
    with database.unit_of_work() as uow:
        session = uow.session
        session.execute(delete(MEMBERS).where(MEMBERS.c.set_id.in_(select(SETS.c.id).where(SETS.c.job_id == job_id))))
        session.execute(delete(SETS).where(SETS.c.job_id == job_id))
        job = load_job(session, job_id, for_update=True)
        job.state = JobState.FAILED
        job.error = _failure_text(error)
        job.finished_at = utcnow()
        job.set_count = job.record_count = 0
        uow.commit()
    return job


def run_job(
    job_id: uuid.UUID,
    *,
    database: Database,
    progress: Progress | None = None,
    batch_size: int = SCAN_BATCH,
) -> DuplicateJob:
    """Run a queued job to the end: completed with its sets and counts, or failed with the reason.

    Each batch commits its sets and the job's progress, so a poller sees the job advance.
    ``progress(done, total)`` is called after every batch (records examined so far, and in all).
    A failure is recorded on the job, which is returned; a job that is not queued is refused.
    """
    if batch_size < 1:
        raise ValidationFailed("batch_size must be at least 1.", code="invalid_batch_size")
    rules = _claim(database, job_id)
    try:
        run = _Run(database=database, job_id=job_id, progress=progress)
        with database.unit_of_work(read_only=True) as uow:
            run.total = sum(_work(uow.session, rule) for rule in rules)
        with database.unit_of_work() as uow:
            load_job(uow.session, job_id).progress_total = run.total
            uow.commit()
        for rule in rules:
            if rule.symmetric:
                _scan_symmetric(run, rule, batch_size)
            else:
                _scan_asymmetric(run, rule, batch_size)
        return _finish(database, job_id)
    except Exception as error:
        log.exception("duplicate detection job %s failed", job_id)
        return _fail(database, job_id, error)
    except BaseException as error:
        _fail(database, job_id, error)
        raise


__all__ = [
    "RuleCount",
    "get_job",
    "job_rules",
    "list_jobs",
    "restart_job",
    "run_job",
    "scan_rules",
    "start_job",
]
