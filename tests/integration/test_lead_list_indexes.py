"""Every sort and the search of the lead list are answered by an index (migration 0004), on both
backends, and the indexed search finds exactly the leads a case-insensitive substring match finds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text, update

from leadflow.core.migrate import alembic_config
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads import service
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate
from leadflow.leads.views import SORTABLE, LeadQuery, LeadView, list_leads
from leadflow.security.actor import Actor
from tests.factories import lead_data, make_lead

# PostgreSQL prefers a sequential scan on a table of a few rows whatever the indexes; these
# settings, local to the explained transaction, leave it the index if one fits the query.
_PREFER_SORTED_INDEX = ("enable_seqscan", "enable_sort", "enable_bitmapscan")
_PREFER_SEARCH_INDEX = ("enable_seqscan", "enable_indexscan")


@contextmanager
def explained(database: Database, disabled: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """The query plan of every statement on ``leads`` run inside the block, as the database prints it."""
    plans: list[str] = []

    def explain(connection, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("SELECT") or "FROM leads" not in statement:
            return
        explain_cursor = connection.connection.cursor()
        if database.dialect == "sqlite":
            explain_cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        else:
            for setting in disabled:
                explain_cursor.execute(f"SET LOCAL {setting} = off")
            explain_cursor.execute("EXPLAIN " + statement, parameters)
        plans.append("\n".join(" ".join(str(part) for part in row) for row in explain_cursor.fetchall()))
        explain_cursor.close()

    event.listen(database.engine, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(database.engine, "before_cursor_execute", explain)


def page(database: Database, actor: Actor, **query) -> list[Lead]:
    with database.unit_of_work(read_only=True) as uow:
        return list_leads(LeadQuery(view=query.pop("view", LeadView.ALL), **query), uow=uow, actor=actor).items


def search(database: Database, actor: Actor, term: str) -> set:
    return {lead.id for lead in page(database, actor, q=term, limit=500)}


@pytest.mark.parametrize("view", [LeadView.ALL, LeadView.OPEN])
@pytest.mark.parametrize("key", sorted(SORTABLE))
def test_every_sort_of_the_lead_list_reads_its_index_on_first_and_later_pages(database, actor, key, view):
    for n in range(3):
        make_lead(database, actor, topic=f"Sillas {n}", budget_amount="1000")
    if key != "created_at":
        index = f"ix_leads_sort_{key}"
    elif view is LeadView.ALL:
        index = "ix_leads_created"
    else:
        index = "ix_leads_state_created"  # by creation date, a view on state reads the index behind state
    with database.unit_of_work(read_only=True) as uow:
        first = list_leads(LeadQuery(view=view, sort=f"-{key}", limit=1), uow=uow, actor=actor)

    for cursor in (None, first.next_cursor):
        with explained(database, _PREFER_SORTED_INDEX) as plans:
            page(database, actor, view=view, sort=f"-{key}", limit=1, cursor=cursor)
        (plan,) = plans
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan and " Sort " not in plan, plan  # the index gives the order


def test_a_search_reads_the_trigram_index(database, actor, backend):
    make_lead(database, actor, company_name="Zafiro Consultores")
    with explained(database, _PREFER_SEARCH_INDEX) as plans:
        found = page(database, actor, q="zafiro")
    assert [lead.company_name for lead in found] == ["Zafiro Consultores"]
    (plan,) = plans
    if backend == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and "leads_search" in plan, plan
    else:
        for column in ("topic", "full_name", "company_name", "email"):
            assert f"ix_leads_search_{column}" in plan, plan


# Letters of the languages leadflow is used in, in both cases, and the characters LIKE, FTS5 and
# SQL treat specially. (Letters whose lower case is longer, such as the Turkish dotted I, are left
# out: what "contains, ignoring case" means for them is not settled by either database.)
_ALPHABET = "abcnoszABCNOSZáéíñóúüçÁÉÍÑÓÚÜÇ %_'\"\\-.*:()^"
_STORED = [
    ("Sillas para la oficina", "José García", "Ibérica, S.A.", "jose@iberica.example"),
    ("SILLAS ERGONÓMICAS", "JOSÉ GARCÍA", "IBÉRICA SA", "JOSE.GARCIA@EXAMPLE.COM"),
    ("50% discount on desks", "Ann O'Brien", "O'Brien & Sons", "ann_obrien@example.com"),
    ('Quote "chairs" (urgent)', "Zoë Ñúñez", None, None),
    ("Path C:\\chairs * ^", "Ángel Çelik", "Café Ñandú", "angel@cafe.example"),
    ("NEAR(a b) OR c", "Nora Near", "a_b Ltd.", "nora@ab.example"),
]


@pytest.fixture
def stored(database, actor) -> dict:
    """Leads with the texts above, keyed by id: topic, full name, company and e-mail.

    José García is there twice, in other capitals, on purpose: the out-of-box rules take the second
    for a duplicate of the first, and it is saved past the warning, as a user may."""
    leads = {}
    for topic, full_name, company, email in _STORED:
        first, last = full_name.split(" ", 1)
        fields = lead_data(topic=topic, first_name=first, last_name=last, company_name=company, email=email)
        with database.unit_of_work() as uow:
            lead = service.create_lead(parse(LeadCreate, fields), uow=uow, actor=actor, suppress_duplicates=True)
            uow.commit()
        leads[lead.id] = (topic, full_name, company, email)
    return leads


def expected(stored: dict, term: str) -> set:
    """What the search promises: the leads where one of the four texts contains the term, ignoring case."""
    needle = term.strip().lower()
    return {lead_id for lead_id, texts in stored.items() if any(needle in (text or "").lower() for text in texts)}


@st.composite
def terms(draw: st.DrawFn) -> str:
    """A piece of a stored text in any letter case, or any string of the alphabet."""
    if draw(st.booleans()):
        text = draw(st.sampled_from([text for row in _STORED for text in row if text]))
        start = draw(st.integers(0, len(text) - 1))
        piece = text[start : start + draw(st.integers(1, 12))]
        return draw(st.sampled_from([piece, piece.upper(), piece.lower(), piece.swapcase()]))
    return draw(st.text(_ALPHABET, min_size=1, max_size=8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=terms())
def test_the_search_finds_exactly_the_leads_containing_the_term(database, actor, stored, term):
    if not term.strip():
        return  # a blank search is no search
    assert search(database, actor, term) == expected(stored, term), term


def test_the_search_follows_edits_and_deletions(database, actor):
    lead = make_lead(database, actor, topic="Sillas de oficina", company_name="Zafiro")
    other = make_lead(database, actor, topic="Mesas", company_name="Rubí")
    assert search(database, actor, "sillas") == {lead.id}

    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Lead).where(Lead.id == lead.id).values(topic="Mesas altas", email="compras@zafiro.es")
        )
        uow.commit()
    assert search(database, actor, "sillas") == set()
    assert search(database, actor, "mesas") == {lead.id, other.id}
    assert search(database, actor, "compras@") == {lead.id}

    with database.unit_of_work() as uow:
        service.delete_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    assert search(database, actor, "mesas") == {other.id}
    assert search(database, actor, "zafiro") == set()


def test_migration_0004_indexes_the_leads_already_stored_and_can_be_undone(database, actor):
    lead = make_lead(database, actor, topic="Sillas", company_name="Zafiro Consultores")
    config = alembic_config(database.engine.url.render_as_string(hide_password=False))
    database.engine.dispose()
    try:
        command.downgrade(config, "0003")
    finally:
        command.upgrade(config, "head")
    assert search(database, actor, "zafiro") == {lead.id}
    assert search(database, actor, "consultores") == {lead.id}
    with explained(database, _PREFER_SORTED_INDEX) as plans:
        page(database, actor, sort="full_name")
    assert "ix_leads_sort_full_name" in plans[0]


def test_postgresql_sessions_run_without_jit_compilation(database, backend):
    if backend != "postgresql":
        pytest.skip("JIT compilation is PostgreSQL's")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.execute(text("SHOW jit")).scalar() == "off"


def test_an_sqlite_without_the_trigram_tokenizer_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    import sqlite3

    from sqlalchemy import inspect

    from leadflow.core.db import make_engine
    from leadflow.core.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    with pytest.raises(RuntimeError, match="needs SQLite 3.34 or newer"):
        upgrade(engine)
    assert inspect(engine).get_table_names() == []  # the failed upgrade left nothing behind
    engine.dispose()
