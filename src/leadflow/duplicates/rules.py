"""Administering duplicate detection rules (§9): create, change, publish, unpublish, out-of-box rules.

Publishing computes the match code of every record of the rule's matching table in batches,
each committed on its own with the progress, so that a large table neither holds one long
transaction nor leaves the administrator guessing. Writes made meanwhile keep their own codes
current (the rule is live while publishing), and a batch never overwrites a code written after
it read its records.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import Conflict, InvalidState
from leadflow.core.records import check_version, get_record
from leadflow.core.schemas import InputModel
from leadflow.core.uow import Database, UnitOfWork
from leadflow.duplicates.criteria import Condition, Criterion, InvalidCondition
from leadflow.duplicates.engine import (
    MATCH_CODES,
    LiveRule,
    _upsert,
    code_rows,
    forget_rules,
)
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateRule,
    DuplicateRuleCondition,
    RuleState,
)
from leadflow.duplicates.tables import TABLES, check_condition
from leadflow.organisation.service import get_settings
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import changed_fields, record_action
from leadflow.security.privileges import Privilege

MAX_PUBLISHED_RULES = 5
PUBLISH_BATCH = 5000
Progress = Callable[[int, int], None]


class ConditionIn(InputModel):
    base_column: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    # Defaults to the base column: the common case compares a column with itself.
    matching_column: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    criterion: Criterion
    n: int | None = None
    threshold: float | None = None
    ignore_blank: bool = True


class RuleFields(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=160)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    case_sensitive: bool | None = None
    exclude_inactive: bool | None = None
    default_region: Annotated[str, StringConstraints(min_length=2, max_length=2, to_upper=True)] | None = None
    conditions: Annotated[list[ConditionIn], Field(max_length=20)] | None = None


class RuleCreate(RuleFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=160)]
    base_table: DetectionTable
    matching_table: DetectionTable | None = None
    conditions: Annotated[list[ConditionIn], Field(max_length=20)]


class RuleUpdate(RuleFields):
    pass


def _conditions(
    session: Session, items: list[ConditionIn], base: DetectionTable, matching: DetectionTable
) -> list[DuplicateRuleCondition]:
    if not items:
        raise InvalidCondition("A duplicate detection rule needs at least one condition.", code="no_conditions")
    rows = []
    for position, item in enumerate(items):
        condition = Condition(
            base_column=item.base_column,
            matching_column=item.matching_column or item.base_column,
            criterion=item.criterion,
            n=item.n,
            threshold=item.threshold,
            ignore_blank=item.ignore_blank,
        )
        try:
            check_condition(condition, TABLES[base], TABLES[matching], session)
        except InvalidCondition as error:
            error.details = {**(error.details or {}), "condition": position}
            raise
        rows.append(
            DuplicateRuleCondition(
                position=position,
                base_column=condition.base_column,
                matching_column=condition.matching_column,
                criterion=condition.criterion,
                n=condition.n,
                threshold=condition.threshold,
                ignore_blank=condition.ignore_blank,
            )
        )
    return rows


def _check_region(region: str) -> None:
    import phonenumbers

    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidCondition(
            f"{region!r} is not a region phone numbers can be read in (an ISO 3166 code such as ES or GB).",
            code="unknown_region",
        )


def get_rule(session: Session, rule_id: uuid.UUID, *, for_update: bool = False) -> DuplicateRule:
    """A rule by id, locked if asked, or NotFound (``rule_not_found``)."""
    return get_record(
        session, DuplicateRule, rule_id, label="rule", noun="duplicate detection rule", for_update=for_update
    )


def list_rules(session: Session, *, base_table: DetectionTable | None = None) -> list[DuplicateRule]:
    statement = select(DuplicateRule).order_by(DuplicateRule.base_table, DuplicateRule.name, DuplicateRule.id)
    if base_table is not None:
        statement = statement.where(DuplicateRule.base_table == base_table)
    return list(session.scalars(statement))


def read_rules(*, uow: UnitOfWork, actor: Actor, base_table: DetectionTable | None = None) -> list[DuplicateRule]:
    """Every rule (of one base table, if given), for readers of the settings."""
    require_admin(actor, "settings", Privilege.READ)
    return list_rules(uow.session, base_table=base_table)


def read_rule(rule_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> DuplicateRule:
    """One rule with its publication progress, for readers of the settings."""
    require_admin(actor, "settings", Privilege.READ)
    return get_rule(uow.session, rule_id)


def create_rule(data: RuleCreate, *, uow: UnitOfWork, actor: Actor, default_region: str | None = None) -> DuplicateRule:
    """Create an unpublished rule; publishing is a separate step.

    Phone numbers without a country code are read in the rule's region, else ``default_region``,
    else the organisation's.
    """
    require_admin(actor, "settings", Privilege.CREATE)
    matching = data.matching_table or data.base_table
    region = data.default_region or default_region or get_settings(uow.session).default_phone_region or "ES"
    _check_region(region)
    rule = DuplicateRule(
        id=uuid.uuid4(),
        name=data.name,
        description=data.description,
        base_table=data.base_table,
        matching_table=matching,
        case_sensitive=bool(data.case_sensitive),
        exclude_inactive=bool(data.exclude_inactive),
        default_region=region,
        state=RuleState.UNPUBLISHED,
        conditions=_conditions(uow.session, data.conditions, data.base_table, matching),
    )
    uow.session.add(rule)
    uow.flush()
    record_action(uow.session, actor, "create", table="duplicate_rules", record_id=rule.id, summary=rule.name)
    return rule


def _ensure_unpublished(rule: DuplicateRule, doing: str) -> None:
    if rule.state is not RuleState.UNPUBLISHED:
        raise InvalidState(
            f"The rule {rule.name!r} is {rule.state.value}; unpublish it before you {doing}.",
            code="rule_published",
        )


def update_rule(
    rule_id: uuid.UUID, changes: RuleUpdate, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> DuplicateRule:
    """Change an unpublished rule (a published rule's codes would no longer match its conditions)."""
    require_admin(actor, "settings", Privilege.WRITE)
    rule = get_rule(uow.session, rule_id, for_update=True)
    check_version(rule, expected_version)
    _ensure_unpublished(rule, "change it")
    present = changes.model_fields_set
    for name in ("name", "description", "case_sensitive", "exclude_inactive", "default_region"):
        if name in present:
            value = getattr(changes, name)
            if value is None and name != "description":
                raise InvalidCondition(f"{name} cannot be cleared.", code=f"{name}_required")
            if name == "default_region":
                _check_region(value)
            setattr(rule, name, value)
    if "conditions" in present:
        rule.conditions.clear()
        uow.flush()
        rule.conditions.extend(_conditions(uow.session, changes.conditions or [], rule.base_table, rule.matching_table))
    rule.modified_at = utcnow()
    record_action(
        uow.session, actor, "update", table="duplicate_rules", record_id=rule.id, changes=changed_fields(rule)
    )
    uow.flush()
    return rule


def delete_rule(rule_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> None:
    require_admin(actor, "settings", Privilege.DELETE)
    rule = get_rule(uow.session, rule_id, for_update=True)
    check_version(rule, expected_version)
    _ensure_unpublished(rule, "delete it")
    uow.session.delete(rule)
    uow.flush()
    record_action(uow.session, actor, "delete", table="duplicate_rules", record_id=rule_id, summary=rule.name)


# ----------------------------------------------------------------------------------------------
# publish / unpublish


def _start_publishing(session: Session, rule: DuplicateRule) -> None:
    _ensure_unpublished(rule, "publish it again")
    # Lock the base table's rules so that two publications cannot both take the fifth place.
    others = session.scalars(
        select(DuplicateRule).where(DuplicateRule.base_table == rule.base_table).with_for_update()
    ).all()
    live = [other for other in others if other.id != rule.id and other.state is not RuleState.UNPUBLISHED]
    if len(live) >= MAX_PUBLISHED_RULES:
        raise Conflict(
            f"The {rule.base_table.value} table already has {MAX_PUBLISHED_RULES} published rules, the most it can "
            "have; unpublish one of them first.",
            code="too_many_published_rules",
            details={"published": [str(other.id) for other in live]},
        )
    info = TABLES[rule.matching_table]
    rule.state = RuleState.PUBLISHING
    rule.publish_done = 0
    rule.publish_total = session.scalar(select(func.count()).select_from(info.table)) or 0
    forget_rules(session)


def _code_batches(session: Session, rule: DuplicateRule, batch_size: int):
    """Yield (records coded, rows) batch by batch, keyset-paged over the matching table."""
    info = TABLES[rule.matching_table]
    live = LiveRule.of(rule)
    table = info.table
    columns = info.read_columns(live.columns("matching"))
    last: uuid.UUID | None = None
    while True:
        statement = select(*columns).order_by(table.c.id).limit(batch_size)
        if last is not None:
            statement = statement.where(table.c.id > last)
        records = [dict(row) for row in session.execute(statement).mappings()]
        if not records:
            return
        last = records[-1]["id"]
        rows, _ = code_rows([live], records)
        yield len(records), rows


def _finish_publishing(rule: DuplicateRule) -> None:
    rule.state = RuleState.PUBLISHED
    rule.published_at = utcnow()
    rule.publish_done = rule.publish_total


def publish_rule(
    rule_id: uuid.UUID,
    *,
    database: Database,
    actor: Actor,
    progress: Progress | None = None,
    batch_size: int = PUBLISH_BATCH,
) -> DuplicateRule:
    """Publish a rule: code every existing record in committed batches, then mark it published."""
    begin_publishing(rule_id, database=database, actor=actor)
    return run_publication(rule_id, database=database, actor=actor, progress=progress, batch_size=batch_size)


def begin_publishing(rule_id: uuid.UUID, *, database: Database, actor: Actor) -> DuplicateRule:
    """The synchronous part of publishing: checks, then the rule goes live as Publishing."""
    with database.unit_of_work() as uow:
        require_admin(actor, "settings", Privilege.WRITE)
        rule = get_rule(uow.session, rule_id, for_update=True)
        _start_publishing(uow.session, rule)
        record_action(uow.session, actor, "publish", table="duplicate_rules", record_id=rule.id, summary=rule.name)
        uow.commit()
    return rule


def run_publication(
    rule_id: uuid.UUID,
    *,
    database: Database,
    actor: Actor,
    progress: Progress | None = None,
    batch_size: int = PUBLISH_BATCH,
) -> DuplicateRule:
    """Code every record of a rule in Publishing state; on failure the rule goes back to Unpublished."""
    try:
        with database.unit_of_work(read_only=True) as uow:
            rule = get_rule(uow.session, rule_id)
            if rule.state is not RuleState.PUBLISHING:
                raise InvalidState(f"The rule {rule.name!r} is not being published.", code="rule_not_publishing")
            total = rule.publish_total
            detached = rule
        done = 0
        with database.unit_of_work(read_only=True) as reader:
            for count, rows in _code_batches(reader.session, detached, batch_size):
                with database.unit_of_work() as writer:
                    if rows:
                        _upsert(writer.session, rows, overwrite=False)
                    done += count
                    current = get_rule(writer.session, rule_id, for_update=True)
                    current.publish_done = done
                    writer.commit()
                if progress is not None:
                    progress(done, max(total, done))
        with database.unit_of_work() as uow:
            rule = get_rule(uow.session, rule_id, for_update=True)
            _finish_publishing(rule)
            uow.commit()
        return rule
    except BaseException:
        with database.unit_of_work() as uow:
            stuck = uow.session.get(DuplicateRule, rule_id)
            if stuck is not None and stuck.state is RuleState.PUBLISHING:
                _drop_codes(uow.session, stuck)
                uow.commit()
        raise


def _drop_codes(session: Session, rule: DuplicateRule) -> None:
    session.execute(delete(MATCH_CODES).where(MATCH_CODES.c.rule_id == rule.id))
    rule.state = RuleState.UNPUBLISHED
    rule.published_at = None
    rule.publish_done = 0
    forget_rules(session)


def unpublish_rule(rule_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> DuplicateRule:
    """Stop a rule: its codes are dropped and checks no longer use it."""
    require_admin(actor, "settings", Privilege.WRITE)
    rule = get_rule(uow.session, rule_id, for_update=True)
    if rule.state is RuleState.UNPUBLISHED:
        raise InvalidState(f"The rule {rule.name!r} is not published.", code="rule_not_published")
    _drop_codes(uow.session, rule)
    record_action(uow.session, actor, "unpublish", table="duplicate_rules", record_id=rule.id, summary=rule.name)
    uow.flush()
    return rule


# ----------------------------------------------------------------------------------------------
# out-of-box rules (§9)


@dataclass(frozen=True)
class BuiltinCondition:
    """One condition of an out-of-box rule: a column compared with itself."""

    column: str
    criterion: Criterion
    # How alike the values must be, for a ``similar`` condition (its default when None).
    threshold: float | None = None


@dataclass(frozen=True)
class BuiltinRule:
    name: str
    table: DetectionTable
    conditions: tuple[BuiltinCondition, ...]
    # What the rule catches, shown beside it on the rules page (translated by its text).
    description: str


_SAME_PHONE = (
    "The same number in any format: “+34 915 550 142”, “915 55 01 42” and “0034-915-55-01-42”; a number "
    "without a country code is read in the rule's phone region."
)
_SAME_EMAIL = "The same e-mail address, whatever its capitals: “Ana.Garcia@Example.es” is “ana.garcia@example.es”."
# People's names: 0.92 lets one typo or accent through per word (“Fernandes” for “Fernández”)
# but not another name (“Navarrete” / “Navarro” scores 0.905); companies repeat common words
# and surnames more (“Hermanos Sala” / “Hermanos Salas” scores 0.96), hence 0.97.
PERSON_NAME_THRESHOLD = 0.92
COMPANY_NAME_THRESHOLD = 0.97
_SIMILAR_PERSON = (
    BuiltinCondition("first_name", Criterion.SIMILAR, PERSON_NAME_THRESHOLD),
    BuiltinCondition("last_name", Criterion.SIMILAR, PERSON_NAME_THRESHOLD),
)


def _similar_person_description(record: str) -> str:
    return (
        f"Catches many typos and missing accents, such as “Lucia Fernandes Ruiz” for “Lucía Fernández Ruiz”. "
        f"The first name and the last name are compared word by word, so “Pablo Navarrete” is not taken for "
        f"“Pablo Navarro”; {record} without a first name is left to the other rules."
    )


# "The same" value, read as a person would (a phone number in any format, a website with or
# without its scheme and www., an account name whatever its capitals, accents and legal form),
# and "similar" names, which catch typos. Five rules at most per table (MAX_PUBLISHED_RULES): a
# new organisation publishes five on accounts, four on contacts and three on leads. Their
# precision and recall on labelled data: bench/README.md (bench/precision_recall.py).
BUILTIN_RULES = (
    BuiltinRule(
        "Accounts with the same account name",
        DetectionTable.ACCOUNTS,
        (BuiltinCondition("name", Criterion.NORMALIZED),),
        "The same name once capitals, accents and the legal form are set aside: “Turia Distribuciones S.L.”, "
        "“TURIA DISTRIBUCIONES” and “Turia Distribuciones SL” are one account.",
    ),
    BuiltinRule(
        "Accounts with a similar account name",
        DetectionTable.ACCOUNTS,
        (BuiltinCondition("name", Criterion.SIMILAR, COMPANY_NAME_THRESHOLD),),
        "Catches words in another order and many typos in longer words: “Distribuciones Turia” is “Turia "
        "Distribuciones S.L.”, “Transportes Valencinao” is “Transportes Valenciano”. Each word must be nearly the "
        "same as its counterpart, so “Hermanos Sala” and “Hermanos Salas” stay two accounts.",
    ),
    BuiltinRule(
        "Accounts with the same email address",
        DetectionTable.ACCOUNTS,
        (BuiltinCondition("email", Criterion.EXACT),),
        _SAME_EMAIL,
    ),
    BuiltinRule(
        "Accounts with the same phone number",
        DetectionTable.ACCOUNTS,
        (BuiltinCondition("telephone", Criterion.NORMALIZED),),
        _SAME_PHONE,
    ),
    BuiltinRule(
        "Accounts with the same website",
        DetectionTable.ACCOUNTS,
        (BuiltinCondition("website", Criterion.NORMALIZED),),
        "The same site however it is written: “https://www.acme.es/”, “acme.es” and “WWW.ACME.ES”.",
    ),
    BuiltinRule(
        "Contacts with the same business phone",
        DetectionTable.CONTACTS,
        (BuiltinCondition("business_phone", Criterion.NORMALIZED),),
        _SAME_PHONE,
    ),
    BuiltinRule(
        "Contacts with the same email address",
        DetectionTable.CONTACTS,
        (BuiltinCondition("email", Criterion.EXACT),),
        _SAME_EMAIL,
    ),
    BuiltinRule(
        "Contacts with the same first name and last name",
        DetectionTable.CONTACTS,
        (BuiltinCondition("first_name", Criterion.EXACT), BuiltinCondition("last_name", Criterion.EXACT)),
        "The same first name and last name, whatever their capitals: “Lucía Fernández” is “LUCÍA FERNÁNDEZ”.",
    ),
    BuiltinRule(
        "Contacts with a similar first name and last name",
        DetectionTable.CONTACTS,
        _SIMILAR_PERSON,
        _similar_person_description("a contact"),
    ),
    BuiltinRule(
        "Leads with the same email address",
        DetectionTable.LEADS,
        (BuiltinCondition("email", Criterion.EXACT),),
        _SAME_EMAIL,
    ),
    BuiltinRule(
        "Leads with the same business phone",
        DetectionTable.LEADS,
        (BuiltinCondition("business_phone", Criterion.NORMALIZED),),
        _SAME_PHONE,
    ),
    BuiltinRule(
        "Leads with a similar first name and last name",
        DetectionTable.LEADS,
        _SIMILAR_PERSON,
        _similar_person_description("a lead"),
    ),
)


def ensure_builtin_rules(session: Session, *, default_region: str = "ES") -> list[DuplicateRule]:
    """Create and publish the out-of-box rules that are missing (idempotent); returns those created.

    Runs in the caller's transaction; existing records are coded on the spot, which a new or
    freshly upgraded database makes cheap. A rule is skipped when a rule of the same name exists,
    out-of-box or not (a database where an administrator, or the demo of an earlier version, made
    it already), and created unpublished when its table already has the most published rules.
    """
    existing = set(session.scalars(select(DuplicateRule.name)))
    live = Counter(
        session.scalars(select(DuplicateRule.base_table).where(DuplicateRule.state != RuleState.UNPUBLISHED))
    )
    created = []
    for builtin in BUILTIN_RULES:
        if builtin.name in existing:
            continue
        publish = live[builtin.table] < MAX_PUBLISHED_RULES
        rule = DuplicateRule(
            id=uuid.uuid4(),
            name=builtin.name,
            description=builtin.description,
            base_table=builtin.table,
            matching_table=builtin.table,
            case_sensitive=False,
            exclude_inactive=True,
            default_region=default_region,
            state=RuleState.PUBLISHING if publish else RuleState.UNPUBLISHED,
            is_builtin=True,
            conditions=[
                DuplicateRuleCondition(
                    position=position,
                    base_column=condition.column,
                    matching_column=condition.column,
                    criterion=condition.criterion,
                    threshold=condition.threshold,
                    ignore_blank=True,
                )
                for position, condition in enumerate(builtin.conditions)
            ],
        )
        session.add(rule)
        session.flush()
        created.append(rule)
        if not publish:
            continue
        live[builtin.table] += 1
        for _, rows in _code_batches(session, rule, PUBLISH_BATCH):
            if rows:
                _upsert(session, rows, overwrite=False)
        _finish_publishing(rule)
    forget_rules(session)
    return created


def rule_out(rule: DuplicateRule) -> dict[str, Any]:
    """The rule as the API and the CLI show it."""
    return {
        "id": str(rule.id),
        "row_version": rule.row_version,
        "name": rule.name,
        "description": rule.description,
        "base_table": rule.base_table.value,
        "matching_table": rule.matching_table.value,
        "case_sensitive": rule.case_sensitive,
        "exclude_inactive": rule.exclude_inactive,
        "default_region": rule.default_region,
        "state": rule.state.value,
        "is_builtin": rule.is_builtin,
        "published_at": rule.published_at.isoformat() if rule.published_at else None,
        "publish_progress": {"done": rule.publish_done, "total": rule.publish_total},
        "conditions": [
            {
                "base_column": c.base_column,
                "matching_column": c.matching_column,
                "criterion": c.criterion.value,
                "n": c.n,
                "threshold": c.threshold,
                "ignore_blank": c.ignore_blank,
            }
            for c in rule.conditions
        ],
    }


__all__ = [
    "BUILTIN_RULES",
    "BuiltinCondition",
    "BuiltinRule",
    "ConditionIn",
    "RuleCreate",
    "RuleUpdate",
    "begin_publishing",
    "create_rule",
    "delete_rule",
    "ensure_builtin_rules",
    "get_rule",
    "list_rules",
    "publish_rule",
    "rule_out",
    "run_publication",
    "unpublish_rule",
    "update_rule",
]
