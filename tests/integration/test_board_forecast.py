"""The pipeline board and the forecast (leadflow.reporting.board, .forecast) against figures computed
independently from the records, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from leadflow.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from leadflow.opportunities import closing
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.opportunities.schemas import LoseOpportunity, OpportunityCreate, WinOpportunity
from leadflow.opportunities.service import create_opportunity
from leadflow.organisation.models import Currency
from leadflow.process.flow import move_stage
from leadflow.reporting import board as board_module
from leadflow.reporting.board import BOARD_STAGES, BoardQuery, Scope, board, board_owners, move_to_stage
from leadflow.reporting.forecast import BEST_CASE_PROBABILITY, GroupBy, forecast, forecast_csv
from leadflow.reporting.periods import parse_period
from leadflow.security.actor import actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.models import BusinessUnit
from leadflow.security.service import add_team_member, create_business_unit, create_team, create_user

TODAY = date(2026, 11, 18)  # in 2026-Q4
RATES = {"EUR": Decimal(1), "USD": Decimal("1.25"), "GBP": Decimal("0.8")}


def set_rates(database) -> None:
    with database.unit_of_work() as uow:
        for code, rate in RATES.items():
            uow.session.execute(update(Currency).where(Currency.iso_code == code).values(exchange_rate=rate))
        uow.commit()


def make_opportunity(database, actor, *, stage: str = "develop", **values) -> Opportunity:
    values.setdefault("name", f"Deal {uuid.uuid4().hex[:6]}")
    with database.unit_of_work() as uow:
        opportunity = create_opportunity(OpportunityCreate(**values), uow=uow, actor=actor, suppress_duplicates=True)
        for _ in range(BOARD_STAGES.index(stage)):
            move_stage(opportunity.id, forward=True, uow=uow, actor=actor)
        uow.commit()
    return opportunity


def win(database, actor, opportunity, **values) -> None:
    with database.unit_of_work() as uow:
        closing.win_opportunity(opportunity.id, WinOpportunity(**values), uow=uow, actor=actor)
        uow.commit()


def lose(database, actor, opportunity, **values) -> None:
    with database.unit_of_work() as uow:
        closing.lose_opportunity(opportunity.id, LoseOpportunity(**values), uow=uow, actor=actor)
        uow.commit()


def user(database, email: str, *, role: str = "Salesperson", unit: str | None = None, name: str | None = None):
    with database.unit_of_work() as uow:
        if unit is not None and uow.session.scalar(select(BusinessUnit.id).where(BusinessUnit.name == unit)) is None:
            create_business_unit(unit, parent_name=None, uow=uow, actor=None)
        create_user(
            email=email,
            full_name=name or email.split("@")[0].title(),
            role_names=[role],
            business_unit_name=unit,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def show(database, actor, **query) -> board_module.Board:
    with database.unit_of_work(read_only=True) as uow:
        return board(BoardQuery(**query), uow=uow, actor=actor, today=TODAY)


def every_opportunity(database) -> list[Opportunity]:
    with database.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(Opportunity)))
        for opportunity in found:
            uow.session.expunge(opportunity)
    return found


def in_base(amount: Decimal | None, code: str | None) -> Decimal:
    return Decimal(0) if amount is None else amount / RATES[code or "EUR"]


# ---------------------------------------------------------------------------------------------- the board


def test_the_board_has_three_columns_because_no_opportunity_stands_at_qualify(database, actor):
    make_opportunity(database, actor, estimated_revenue="100")

    shown = show(database, actor)

    assert [column.stage for column in shown.columns] == ["develop", "propose", "close"]
    with database.unit_of_work(read_only=True) as uow:
        assert set(uow.session.scalars(select(Opportunity.process_stage))) == {"develop"}


def test_column_totals_are_the_sums_in_base_currency_of_every_open_opportunity_at_the_stage(database, actor):
    set_rates(database)
    plan = [
        ("develop", "1000", "EUR", 10),
        ("develop", "2500", "USD", None),
        ("develop", None, "EUR", 50),
        ("propose", "800", "GBP", 40),
        ("propose", "333.33", "USD", 70),
        ("close", "12000", "EUR", 90),
        ("close", "400", "GBP", 100),
    ]
    made = [
        make_opportunity(database, actor, stage=stage, estimated_revenue=amount, currency=code, probability=probability)
        for stage, amount, code, probability in plan
    ]
    win(database, actor, make_opportunity(database, actor, stage="close", estimated_revenue="999999"))
    lose(database, actor, make_opportunity(database, actor, stage="propose", estimated_revenue="888888"))
    assert len(made) == len(plan)

    shown = show(database, actor)

    open_ones = [o for o in every_opportunity(database) if o.state is OpportunityState.OPEN]
    codes = {None: "EUR", **{c: code for c, code in _currency_codes(database).items()}}
    for column in shown.columns:
        at_stage = [o for o in open_ones if o.process_stage == column.stage]
        expected_total = sum((in_base(o.estimated_revenue, codes[o.currency_id]) for o in at_stage), Decimal(0))
        expected_weighted = sum(
            (in_base(o.estimated_revenue, codes[o.currency_id]) * (o.probability or 0) / 100 for o in at_stage),
            Decimal(0),
        )
        assert column.count == len(at_stage)
        assert column.total == expected_total.quantize(Decimal("0.01"))
        assert column.weighted_total == expected_weighted.quantize(Decimal("0.01"))
        assert {card.id for card in column.cards} == {o.id for o in at_stage}
    assert [column.count for column in shown.columns] == [3, 2, 2]
    # Figures written out by hand: 1000 + 2500/1.25 = 3000; 800/0.8 + 333.33/1.25 = 1266.66...; 12000 + 400/0.8.
    assert [column.total for column in shown.columns] == [Decimal("3000.00"), Decimal("1266.66"), Decimal("12500.00")]
    assert shown.total == Decimal("16766.66")


def _currency_codes(database) -> dict[uuid.UUID, str]:
    with database.unit_of_work(read_only=True) as uow:
        return dict(uow.session.execute(select(Currency.id, Currency.iso_code)).all())


def test_cards_show_the_soonest_close_first_those_without_a_date_last_and_at_most_the_limit(database, actor):
    for day, name in (
        (date(2026, 12, 5), "C"),
        (None, "Undated"),
        (date(2026, 11, 20), "A"),
        (date(2026, 11, 30), "B"),
    ):
        make_opportunity(database, actor, name=name, estimated_close_date=day)

    every = show(database, actor)
    first_two = show(database, actor, limit=2)
    three = show(database, actor, limit=3)

    assert [card.name for card in every.columns[0].cards] == ["A", "B", "C", "Undated"]
    assert [card.name for card in first_two.columns[0].cards] == ["A", "B"]
    assert first_two.columns[0].count == 4 and first_two.columns[0].hidden == 2
    assert [card.name for card in three.columns[0].cards] == ["A", "B", "C"]


def test_a_card_names_its_customer_only_when_the_user_may_read_it_and_its_owner(database, actor):
    from leadflow.customers.schemas import AccountCreate
    from leadflow.customers.service import create_account

    seller = user(database, "sam@example.com", name="Sam Seller", unit="North")
    with database.unit_of_work() as uow:
        account = create_account(AccountCreate(name="Muebles Norte"), uow=uow, actor=actor)
        uow.commit()
    make_opportunity(database, actor, name="Chairs", customer_id=account.id, owner_user_id=seller.user_id)

    as_admin = show(database, actor).columns[0].cards[0]
    as_seller = show(database, seller).columns[0].cards[0]

    assert (as_admin.customer_name, as_admin.owner_name) == ("Muebles Norte", "Sam Seller")
    assert as_seller.customer_name is None and as_seller.customer_id is None  # the account is the head office's


def test_a_salesperson_sees_their_business_unit_and_the_scopes_narrow_it(database, actor):
    north = user(database, "nora@example.com", unit="North")
    neil = user(database, "neil@example.com", unit="North")
    make_opportunity(database, actor, name="Head office", estimated_revenue="1")
    make_opportunity(database, north, name="Nora's", estimated_revenue="10")
    make_opportunity(database, neil, name="Neil's", estimated_revenue="100")

    def names(shown) -> set[str]:
        return {card.name for column in shown.columns for card in column.cards}

    assert names(show(database, north)) == {"Nora's", "Neil's"}
    assert names(show(database, north, scope=Scope.MINE)) == {"Nora's"}
    # Not in a team yet: "my team's" is theirs alone, and not offered.
    assert names(show(database, north, scope=Scope.TEAM)) == {"Nora's"}
    assert show(database, north).scopes == (Scope.MINE, Scope.ALL)
    assert names(show(database, actor)) == {"Head office", "Nora's", "Neil's"}
    assert names(show(database, actor, owner_user_id=neil.user_id)) == {"Neil's"}
    with database.unit_of_work(read_only=True) as uow:
        assert [name for _, name in board_owners(uow=uow, actor=north)] == ["Neil", "Nora"]


def test_my_teams_scope_holds_the_opportunities_of_my_teammates_and_of_my_teams(database, actor):
    me = user(database, "me@example.com", role="Sales Manager")
    mate = user(database, "mate@example.com")
    user(database, "stranger@example.com")
    with database.unit_of_work() as uow:
        create_team("Iberia", business_unit_name=None, uow=uow, actor=actor)
        add_team_member("Iberia", "me@example.com", uow=uow, actor=actor)
        add_team_member("Iberia", "mate@example.com", uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        me = actor_for_email(uow.session, "me@example.com")
        stranger = actor_for_email(uow.session, "stranger@example.com")
    make_opportunity(database, me, name="Mine")
    make_opportunity(database, mate, name="Mate's")
    make_opportunity(database, stranger, name="Stranger's")

    team = show(database, me, scope=Scope.TEAM)

    assert {card.name for card in team.columns[0].cards} == {"Mine", "Mate's"}
    assert team.scopes == (Scope.MINE, Scope.TEAM, Scope.ALL)


@pytest.mark.parametrize(
    ("close_date", "expected"),
    [
        ("overdue", {"October"}),
        ("this_month", {"November"}),
        ("next_month", {"December"}),
        ("this_quarter", {"October", "November", "December"}),
        ("next_quarter", {"January"}),
        ("this_year", {"October", "November", "December"}),
        ("2027", {"January"}),
        ("2026-10", {"October"}),
        ("no_date", {"Undated"}),
        (None, {"October", "November", "December", "January", "Undated"}),
    ],
)
def test_the_close_date_filter_reads_periods_from_today(database, actor, close_date, expected):
    for name, day in (
        ("October", date(2026, 10, 30)),
        ("November", date(2026, 11, 18)),
        ("December", date(2026, 12, 31)),
        ("January", date(2027, 1, 1)),
        ("Undated", None),
    ):
        make_opportunity(database, actor, name=name, estimated_close_date=day)

    shown = show(database, actor, close_date=close_date)

    assert {card.name for column in shown.columns for card in column.cards} == expected


def test_an_unknown_close_date_filter_is_refused_naming_the_field(database, actor):
    with pytest.raises(ValidationFailed) as refused:
        show(database, actor, close_date="2026-Q5")
    assert refused.value.details["fields"][0]["field"] == "close_date"


# ---------------------------------------------------------------------------------------------- moving cards


def stage_of(database, opportunity_id) -> str:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Opportunity, opportunity_id).process_stage


def stage_audits(database, opportunity_id) -> list[dict]:
    with database.unit_of_work(read_only=True) as uow:
        return [
            entry.changes["process_stage"]
            for entry in uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.record_id == opportunity_id, AuditEntry.action == "update")
                .order_by(AuditEntry.occurred_at)
            )
            if entry.changes and "process_stage" in entry.changes
        ]


def test_moving_a_card_two_stages_on_takes_both_steps_of_the_flow(database, actor):
    opportunity = make_opportunity(database, actor)

    with database.unit_of_work() as uow:
        moved = move_to_stage(opportunity.id, "close", uow=uow, actor=actor)
        uow.commit()

    assert (moved.previous_stage, moved.stage, moved.steps) == ("develop", "close", 2)
    assert stage_of(database, opportunity.id) == "close"
    assert stage_audits(database, opportunity.id) == [
        {"old": "develop", "new": "propose"},
        {"old": "propose", "new": "close"},
    ]

    with database.unit_of_work() as uow:
        back = move_to_stage(opportunity.id, "develop", uow=uow, actor=actor)
        same = move_to_stage(opportunity.id, "develop", uow=uow, actor=actor)
        uow.commit()
    assert (back.steps, same.steps) == (-2, 0)
    assert stage_of(database, opportunity.id) == "develop"


def test_a_move_of_several_stages_is_all_or_nothing(database, actor, monkeypatch):
    opportunity = make_opportunity(database, actor)
    calls = []

    def second_step_refused(opportunity_id, *, forward, uow, actor):
        calls.append(forward)
        if len(calls) == 2:
            raise InvalidState("refused on the way", code="refused")
        return move_stage(opportunity_id, forward=forward, uow=uow, actor=actor)

    monkeypatch.setattr(board_module, "move_stage", second_step_refused)
    with pytest.raises(InvalidState), database.unit_of_work() as uow:
        move_to_stage(opportunity.id, "close", uow=uow, actor=actor)
        uow.commit()

    assert calls == [True, True]
    assert stage_of(database, opportunity.id) == "develop"
    assert stage_audits(database, opportunity.id) == []


@pytest.mark.parametrize(
    ("target", "error", "code"),
    [
        ("qualify", InvalidState, "qualify_stage_is_on_the_lead"),
        ("nowhere", ValidationFailed, "unknown_stage"),
    ],
)
def test_a_card_cannot_go_to_qualify_or_to_a_stage_that_does_not_exist(database, actor, target, error, code):
    opportunity = make_opportunity(database, actor, stage="propose")

    with pytest.raises(error) as refused, database.unit_of_work() as uow:
        move_to_stage(opportunity.id, target, uow=uow, actor=actor)

    assert refused.value.code == code
    assert stage_of(database, opportunity.id) == "propose"


def test_a_closed_opportunity_does_not_move_and_one_without_write_is_refused(database, actor):
    won = make_opportunity(database, actor)
    win(database, actor, won)
    reader = user(database, "reader@example.com", role="Sales Team Member")
    readable = make_opportunity(database, actor)
    stranger = user(database, "far@example.com", unit="Far away")

    with pytest.raises(InvalidState) as closed, database.unit_of_work() as uow:
        move_to_stage(won.id, "propose", uow=uow, actor=actor)
    with pytest.raises(Forbidden), database.unit_of_work() as uow:
        move_to_stage(readable.id, "propose", uow=uow, actor=reader)
    with pytest.raises(NotFound), database.unit_of_work() as uow:
        move_to_stage(readable.id, "propose", uow=uow, actor=stranger)

    assert closed.value.code == "opportunity_closed"
    assert stage_of(database, readable.id) == "develop"


# ---------------------------------------------------------------------------------------------- the forecast


def forecast_of(database, actor, period="2026-Q4", group_by=GroupBy.OWNER):
    with database.unit_of_work(read_only=True) as uow:
        return forecast(period, group_by, uow=uow, actor=actor)


def test_periods_take_open_opportunities_by_estimated_and_closed_ones_by_actual_close_date(database, actor):
    inside, outside = date(2026, 11, 1), date(2027, 1, 1)
    make_opportunity(database, actor, name="open in", estimated_revenue="100", estimated_close_date=inside)
    make_opportunity(database, actor, name="open out", estimated_revenue="1000", estimated_close_date=outside)
    make_opportunity(database, actor, name="open undated", estimated_revenue="5000")
    win(
        database,
        actor,
        make_opportunity(database, actor, estimated_revenue="70", estimated_close_date=outside),
        close_date=date(2026, 12, 31),
    )
    win(
        database,
        actor,
        make_opportunity(database, actor, estimated_revenue="20000", estimated_close_date=inside),
        close_date=date(2026, 9, 30),
    )
    lose(
        database,
        actor,
        make_opportunity(database, actor, estimated_revenue="30", estimated_close_date=outside),
        close_date=date(2026, 10, 1),
    )

    total = forecast_of(database, actor).total

    assert (total.open_count, total.open_pipeline) == (1, Decimal("100.00"))
    assert (total.won_count, total.won, total.lost_count, total.lost) == (1, Decimal("70.00"), 1, Decimal("30.00"))
    assert total.win_rate == 0.5
    assert forecast_of(database, actor, "2026-09").total.won == Decimal("20000.00")
    assert forecast_of(database, actor, "2027").total.open_pipeline == Decimal("1000.00")


def test_the_forecast_per_owner_equals_figures_computed_from_the_records(database, actor):
    set_rates(database)
    nora = user(database, "nora@example.com", unit="North", name="Nora North")
    sellers = [actor, nora]
    plan = [
        # owner, amount, currency, probability, rating, close date, outcome
        (0, "1000", "EUR", 20, None, date(2026, 10, 3), None),
        (0, "2500", "USD", 75, None, date(2026, 11, 3), None),
        (0, "800", "GBP", 10, "hot", date(2026, 12, 3), None),
        (0, "640", "GBP", BEST_CASE_PROBABILITY, "cold", date(2026, 12, 9), None),
        (0, "5000", "EUR", None, None, date(2026, 12, 30), "won"),
        (1, "300", "USD", 69, "warm", date(2026, 10, 10), None),
        (1, "900", "EUR", 50, None, date(2026, 11, 11), "lost"),
        (1, "1250", "USD", 90, None, date(2026, 10, 12), "won"),
        (1, "777", "EUR", 100, "hot", date(2027, 2, 1), None),
    ]
    for owner, amount, code, probability, rating, day, outcome in plan:
        made = make_opportunity(
            database,
            sellers[owner],
            estimated_revenue=amount,
            currency=code,
            probability=probability,
            rating=rating,
            estimated_close_date=day,
        )
        if outcome == "won":
            win(database, sellers[owner], made, close_date=day)
        elif outcome == "lost":
            lose(database, sellers[owner], made, close_date=day)

    result = forecast_of(database, actor)

    period = parse_period("2026-Q4")
    codes = {None: "EUR", **_currency_codes(database)}
    rows = {row.group_id: row for row in result.rows}
    assert set(rows) == {actor.user_id, nora.user_id}
    for seller in sellers:
        mine = [o for o in every_opportunity(database) if o.owner_user_id == seller.user_id]
        open_ones = [
            o
            for o in mine
            if o.state is OpportunityState.OPEN and o.estimated_close_date and period.contains(o.estimated_close_date)
        ]
        won = [o for o in mine if o.state is OpportunityState.WON and period.contains(o.actual_close_date)]
        lost = [o for o in mine if o.state is OpportunityState.LOST and period.contains(o.actual_close_date)]
        best = [
            o
            for o in open_ones
            if (o.probability or 0) >= BEST_CASE_PROBABILITY or (o.rating and o.rating.value == "hot")
        ]

        def base(records, field="estimated_revenue"):
            return sum((in_base(getattr(o, field), codes[o.currency_id]) for o in records), Decimal(0)).quantize(
                Decimal("0.01")
            )

        row = rows[seller.user_id]
        assert row.open_count == len(open_ones) and row.open_pipeline == base(open_ones)
        assert row.weighted_pipeline == sum(
            (in_base(o.estimated_revenue, codes[o.currency_id]) * (o.probability or 0) / 100 for o in open_ones),
            Decimal(0),
        ).quantize(Decimal("0.01"))
        assert (row.best_case_count, row.best_case) == (len(best), base(best))
        assert (row.won_count, row.won) == (len(won), base(won, "actual_revenue"))
        assert (row.lost_count, row.lost) == (len(lost), base(lost))
        assert row.win_rate == (len(won) / (len(won) + len(lost)) if won or lost else None)
    # A few written out: Ada's best case is the USD 2,500 at 75 % (2000) + the hot GBP 800 (1000) + GBP 640 at 70 % (800).
    assert rows[actor.user_id].best_case == Decimal("3800.00")
    assert rows[actor.user_id].weighted_pipeline == Decimal("2360.00")  # 200 + 1500 + 100 + 560
    assert rows[nora.user_id].win_rate == 0.5
    assert result.total.open_pipeline == rows[actor.user_id].open_pipeline + rows[nora.user_id].open_pipeline
    assert result.base_currency == "EUR" and (result.start, result.end) == (date(2026, 10, 1), date(2026, 12, 31))


def test_the_forecast_per_business_unit_counts_only_what_the_user_may_read(database, actor):
    north = user(database, "nora@example.com", unit="North")
    south = user(database, "sol@example.com", unit="South")
    make_opportunity(database, north, estimated_revenue="100", estimated_close_date=date(2026, 11, 1))
    make_opportunity(database, south, estimated_revenue="200", estimated_close_date=date(2026, 11, 1))
    make_opportunity(database, actor, estimated_revenue="400", estimated_close_date=date(2026, 11, 1))

    everything = forecast_of(database, actor, group_by=GroupBy.BUSINESS_UNIT)
    theirs = forecast_of(database, north, group_by=GroupBy.BUSINESS_UNIT)

    assert {row.name: row.open_pipeline for row in everything.rows} == {
        "North": Decimal("100.00"),
        "Organisation": Decimal("400.00"),
        "South": Decimal("200.00"),
    }
    assert [(row.name, row.open_pipeline) for row in theirs.rows] == [("North", Decimal("100.00"))]
    assert theirs.total.open_pipeline == Decimal("100.00")


def test_the_csv_holds_the_same_figures_as_the_forecast(database, actor):
    nora = user(database, "nora@example.com", name="=cmd|' /C calc'!A0")
    make_opportunity(database, nora, estimated_revenue="1234.5", probability=50, estimated_close_date=date(2026, 12, 1))
    win(database, actor, make_opportunity(database, actor, estimated_revenue="99"), close_date=date(2026, 10, 2))
    result = forecast_of(database, actor)

    lines = list(csv.DictReader(io.StringIO(forecast_csv(result))))

    assert [line["group"] for line in lines] == [
        "'=cmd|' /C calc'!A0",
        "Ada Admin",
        "Total",
    ]  # by name; the formula neutralised
    by_group = {line["group_id"]: line for line in lines}
    for row in [*result.rows]:
        line = by_group[str(row.group_id)]
        assert Decimal(line["open_pipeline"]) == row.open_pipeline
        assert Decimal(line["weighted_pipeline"]) == row.weighted_pipeline
        assert Decimal(line["won"]) == row.won
        assert line["win_rate"] == ("" if row.win_rate is None else f"{row.win_rate:.4f}")
    assert lines[-1]["open_pipeline"] == "1234.50" and lines[-1]["weighted_pipeline"] == "617.25"
    assert {line["currency"] for line in lines} == {"EUR"} and {line["period"] for line in lines} == {"2026-Q4"}


def test_a_bad_period_or_grouping_is_refused(database, actor):
    with pytest.raises(ValidationFailed):
        forecast_of(database, actor, period="2026-Q5")
    with pytest.raises(ValidationFailed) as refused:
        forecast_of(database, actor, group_by="x")
    assert refused.value.details["fields"][0]["field"] == "group_by"


# ---------------------------------------------------------------------------------------------- the command line


def test_the_command_line_forecast_prints_the_apis_figures(database, actor, client):
    from tests.integration.test_cli_json import cli_json, leadflow

    set_rates(database)
    make_opportunity(
        database,
        actor,
        name="Chairs",
        estimated_revenue="1250",
        currency="USD",
        probability=80,
        estimated_close_date=date(2026, 11, 3),
    )
    win(database, actor, make_opportunity(database, actor, estimated_revenue="400"), close_date=date(2026, 12, 1))

    as_json = cli_json(database, "forecast", "--period", "2026-Q4", "--group-by", "owner")
    table = leadflow(database, "forecast", "--period", "2026-Q4")
    refused = leadflow(database, "forecast", "--period", "2026-Q5")
    by_unit = cli_json(database, "forecast", "--period", "2026", "--group-by", "business_unit")

    assert as_json == client.get("/api/v1/forecast", params={"period": "2026-Q4", "group_by": "owner"}).json()
    assert (as_json["total"]["open_pipeline"], as_json["total"]["won"]) == ("1000.00", "400.00")
    assert table.exit_code == 0, table.output
    assert "Forecast 2026-Q4" in table.stdout and "Ada Admin" in table.stdout and "1000.00 (1)" in table.stdout
    assert refused.exit_code == 2 and "2026-Q5" in refused.output and "Traceback" not in refused.output
    assert [row["name"] for row in by_unit["rows"]] == ["Organisation"]
