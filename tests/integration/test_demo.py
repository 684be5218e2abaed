"""The demo data of ``leadflow demo``: every lifecycle state, both languages, and safe to load twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from leadflow.activities.activity import ActivityFilter, list_activities
from leadflow.activities.models import ActivityType, Attachment, Note, RegardingTable
from leadflow.activities.service import get_attachment, timeline
from leadflow.catalog.models import (
    DiscountList,
    PriceList,
    PriceListItem,
    PricingMethod,
    Product,
    ProductState,
    RoundingPolicy,
    Unit,
    UnitGroup,
)
from leadflow.catalog.service import item_price_today
from leadflow.core.db import utcnow
from leadflow.customers.models import Account, Contact
from leadflow.demo import CAMPAIGNS, DEMO_LEADS, DEMO_USERS, load_demo, opened_at
from leadflow.demo.data import DEMO_SALES
from leadflow.demo.load import DEMO_COMPANY, DEMO_RATES, DEMO_WON
from leadflow.duplicates.models import RuleState
from leadflow.duplicates.rules import BUILTIN_RULES, list_rules
from leadflow.leads import service
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.views import LeadQuery, LeadView, list_leads, start_of_week
from leadflow.opportunities.models import Opportunity, OpportunityProduct, OpportunityState, RevenueCalculation
from leadflow.organisation.models import Campaign, Currency
from leadflow.organisation.service import get_settings, update_settings
from leadflow.process.flow import lead_process
from leadflow.reporting.forecast import GroupBy, forecast
from leadflow.sales.models import (
    DocumentKind,
    Invoice,
    InvoiceState,
    InvoiceStatusReason,
    Order,
    OrderState,
    OrderStatusReason,
    Quote,
    QuoteState,
)
from leadflow.sales.printing import document_pdf
from leadflow.security.actor import actor_for_email
from leadflow.security.models import User
from tests.conftest import DatabaseState

SPANISH_SPEAKING = {"España", "México", "Argentina", "Colombia", "Chile", "Perú"}
ENGLISH_SPEAKING = {"United Kingdom", "United States", "Ireland"}
COUNTED = (
    Lead,
    Account,
    Contact,
    Opportunity,
    Note,
    Attachment,
    Campaign,
    UnitGroup,
    Unit,
    Product,
    DiscountList,
    PriceList,
    PriceListItem,
    OpportunityProduct,
    Quote,
    Order,
    Invoice,
)


def counts(database) -> dict[str, int]:
    with database.unit_of_work(read_only=True) as uow:
        return {model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def all_leads(database) -> list[Lead]:
    with database.unit_of_work(read_only=True) as uow:
        return list(uow.session.scalars(select(Lead)))


def lead_by_topic(database, topic: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()


# The demo loaded into a process's database once per day (it dates its leads from today), with the
# summary that load returned; later tests get the same rows back without loading it again.
_LOADED: dict[tuple[str, date], tuple[DatabaseState, str]] = {}


@pytest.fixture
def demo(database, actor) -> str:
    """The demo loaded into the test's empty database; the summary it returned."""
    key = (database.url, utcnow().date())
    if key not in _LOADED:
        summary = load_demo(database)
        _LOADED[key] = (DatabaseState(database), summary)
        return summary
    state, summary = _LOADED[key]
    state.restore(database)
    return summary


def test_demo_loads_about_forty_leads_and_says_what_it_added(database, demo):
    assert counts(database)["leads"] == len(DEMO_LEADS) == 42
    assert demo.startswith("added 42 leads (")
    assert "duplicate detection rule" not in demo  # the demo shows the out-of-box rules, it adds none
    assert "2 campaigns" in demo
    assert "with attachments" in demo
    assert "8 products, 2 price lists, 12 opportunity products, 3 quotes, 1 order, 1 invoice and 14 activities" in demo


def test_demo_gives_each_seller_a_day_to_work_through(database, demo):
    """Both sellers have calls and tasks due today, something overdue, and meetings coming up."""
    with database.unit_of_work(read_only=True) as uow:
        for email in ("carlos.ruiz@leadflow.example", "emma.clarke@leadflow.example"):
            actor = actor_for_email(uow.session, email)
            zone = get_settings(uow.session).default_time_zone

            def view(name: str, actor=actor, zone=zone) -> list:
                return list_activities(ActivityFilter(view=name), uow=uow, actor=actor, time_zone=zone).items

            assert view("due_today"), email
            assert view("overdue"), email
            assert any(a.type is ActivityType.APPOINTMENT for a in view("my_open")), email
            assert all(a.owner_user_id == actor.user_id for a in view("my_open"))


def test_demo_organisation_has_just_the_out_of_box_duplicate_rules_published(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        rules = list_rules(uow.session)
    assert sorted(rule.name for rule in rules) == sorted(builtin.name for builtin in BUILTIN_RULES)
    assert all(rule.is_builtin and rule.state is RuleState.PUBLISHED for rule in rules)


def test_demo_has_leads_in_every_status_reason(database, demo):
    by_reason = Counter(lead.status_reason for lead in all_leads(database))
    assert set(by_reason) == set(LeadStatusReason)
    for lead in all_leads(database):
        assert lead.state is lead.status_reason.state
    assert by_reason[LeadStatusReason.CONTACTED] >= 3
    assert by_reason[LeadStatusReason.QUALIFIED] >= 5


def test_demo_qualified_leads_have_the_records_qualification_created(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        qualified = uow.session.scalars(select(Lead).where(Lead.state == LeadState.QUALIFIED)).all()
        assert len(qualified) >= 5  # the loop below checks something
        for lead in qualified:
            assert lead.parent_contact_id is not None
            contact = uow.session.get(Contact, lead.parent_contact_id)
            assert contact.originating_lead_id == lead.id
            assert contact.last_name == lead.last_name
            if lead.company_name:
                account = uow.session.get(Account, lead.parent_account_id)
                assert account.name == lead.company_name
                assert account.primary_contact_id == contact.id
            if lead.qualifying_opportunity_id:
                opportunity = uow.session.get(Opportunity, lead.qualifying_opportunity_id)
                assert opportunity.originating_lead_id == lead.id
                assert opportunity.name == lead.topic
        without_company = [lead for lead in qualified if not lead.company_name]
        assert without_company, "one qualified lead is a person, whose opportunity's customer is a contact"


def test_demo_has_a_qualified_lead_without_opportunity_still_at_the_qualify_stage(database, actor, demo):
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.scalars(
            select(Lead).where(Lead.state == LeadState.QUALIFIED, Lead.qualifying_opportunity_id.is_(None))
        ).one()
        assert lead.parent_account_id is not None and lead.parent_contact_id is not None
        assert lead_process(lead.id, uow=uow, actor=actor).active_stage == "qualify"


def test_demo_has_a_reactivated_lead_open_again_with_its_opportunity(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        reactivated = uow.session.scalars(
            select(Lead).where(Lead.state == LeadState.OPEN, Lead.qualifying_opportunity_id.is_not(None))
        ).one()
        assert reactivated.status_reason is LeadStatusReason.NEW
        assert reactivated.closed_at is None
        opportunity = uow.session.get(Opportunity, reactivated.qualifying_opportunity_id)
        assert opportunity.originating_lead_id == reactivated.id


def test_demo_is_safe_to_run_twice(database, actor, demo):
    before = counts(database)
    second = load_demo(database)
    assert counts(database) == before
    assert second.startswith("nothing new added")


def test_demo_adds_back_only_what_is_missing(database, actor, demo):
    topic = "Whiteboards and storage for 10 classrooms"
    with database.unit_of_work() as uow:
        service.delete_lead(lead_by_topic(database, topic).id, uow=uow, actor=actor)
        uow.commit()
    before = counts(database)

    summary = load_demo(database)

    assert summary.startswith("added 1 lead (1 new)")
    assert counts(database) == {**before, "leads": before["leads"] + 1}
    assert lead_by_topic(database, topic).last_name == "Byrne"


def test_demo_views_this_week_and_last_week_are_not_empty(database, actor, demo):
    with database.unit_of_work(read_only=True) as uow:
        this_week = list_leads(LeadQuery(view=LeadView.OPENED_THIS_WEEK, limit=500), uow=uow, actor=actor)
        last_week = list_leads(LeadQuery(view=LeadView.OPENED_LAST_WEEK, limit=500), uow=uow, actor=actor)
    assert len(this_week.items) >= 3
    assert len(last_week.items) >= 3
    assert not {lead.id for lead in this_week.items} & {lead.id for lead in last_week.items}


def test_demo_leads_are_spread_over_the_last_five_weeks(database, demo):
    now = datetime.now(UTC)
    week = start_of_week(now)
    weeks_ago = Counter((week - start_of_week(lead.created_at)).days // 7 for lead in all_leads(database))
    assert set(weeks_ago) == {0, 1, 2, 3, 4}
    assert all(lead.created_at <= now for lead in all_leads(database))


@pytest.mark.parametrize(
    "now",
    [
        datetime(2025, 3, 3, 0, 0, 1, tzinfo=UTC),  # Monday, one second into the week
        datetime(2025, 3, 5, 12, 30, tzinfo=UTC),  # Wednesday noon
        datetime(2025, 3, 9, 23, 59, 59, tzinfo=UTC),  # Sunday, last second of the week
    ],
)
def test_demo_dates_of_this_week_are_never_in_the_future(now):
    week = start_of_week(now)
    for spec in DEMO_LEADS:
        moment = opened_at(spec["opened"], now)
        weeks_ago = spec["opened"][0]
        assert moment <= now
        assert week - timedelta(weeks=weeks_ago) <= moment < week - timedelta(weeks=weeks_ago - 1)


def test_demo_has_notes_with_attachments(database, actor, demo):
    with database.unit_of_work(read_only=True) as uow:
        notes = uow.session.scalars(select(Note)).all()
        with_files = [note for note in notes if note.file_name]
        assert len(notes) >= 15
        assert {note.mime_type for note in with_files} == {"text/plain", "text/csv"}
        for note in with_files:
            stored, content = get_attachment(note.regarding_table, note.regarding_id, note.id, uow=uow, actor=actor)
            assert len(content) == stored.file_size > 0
            assert content.decode("utf-8").strip()
        price_list = next(note for note in with_files if note.file_name == "price-list.csv")
        _, content = get_attachment(RegardingTable.LEADS, price_list.regarding_id, price_list.id, uow=uow, actor=actor)
        assert content.decode().splitlines()[0] == "sku,description,unit_price_eur,quantity"


def test_demo_has_notes_on_opportunities_whose_timeline_shows_the_lead_notes_too(database, actor, demo):
    with database.unit_of_work(read_only=True) as uow:
        on_opportunities = uow.session.scalars(
            select(Note).where(Note.regarding_table == RegardingTable.OPPORTUNITIES)
        ).all()
        assert on_opportunities
        opportunity_id = on_opportunities[0].regarding_id
        titles = {
            note.title for note in timeline(RegardingTable.OPPORTUNITIES, opportunity_id, uow=uow, actor=actor).items
        }
        lead_id = uow.session.get(Opportunity, opportunity_id).originating_lead_id
        lead_titles = {
            note.title
            for note in uow.session.scalars(
                select(Note).where(Note.regarding_table == RegardingTable.LEADS, Note.regarding_id == lead_id)
            )
        }
    assert lead_titles and lead_titles < titles


def test_demo_contains_spanish_and_english_leads(database, demo):
    leads = all_leads(database)
    spanish = [lead for lead in leads if lead.address_country in SPANISH_SPEAKING]
    english = [lead for lead in leads if lead.address_country in ENGLISH_SPEAKING]
    assert len(spanish) >= 15 and len(english) >= 15
    assert len(spanish) + len(english) == len(leads)
    assert any(lead.topic == "Renovación de 120 sillas de oficina" for lead in spanish)
    assert any(lead.topic == "Licencias CRM para el equipo comercial" for lead in spanish)
    # Each language has leads in several states, not just one.
    assert len({lead.state for lead in spanish}) == len({lead.state for lead in english}) == 3


def test_demo_leads_have_varied_fields_and_qualification_details(database, demo):
    leads = all_leads(database)
    assert all(lead.email and lead.address_city and lead.address_country and lead.lead_source for lead in leads)
    assert len({lead.lead_source for lead in leads}) >= 6
    assert {lead.rating for lead in leads} >= {"hot", "warm", "cold"}
    with_bant = [lead for lead in leads if lead.budget_amount is not None and lead.purchase_timeframe]
    assert len(with_bant) >= 15
    assert any(lead.qualification_comments for lead in leads)
    assert len({lead.currency_id for lead in leads}) == 4  # EUR, USD, GBP and MXN


def test_demo_leads_come_from_the_demo_campaigns(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        campaigns = {campaign.code: campaign.id for campaign in uow.session.scalars(select(Campaign))}
        per_campaign = Counter(uow.session.scalars(select(Lead.campaign_id).where(Lead.campaign_id.is_not(None))))
    assert set(campaigns) == {data["code"] for data in CAMPAIGNS}
    assert set(per_campaign) == set(campaigns.values())


def test_demo_entries_have_unique_natural_keys():
    # The loader recognises an already loaded lead by (topic, last name).
    keys = [(spec["lead"]["topic"], spec["lead"]["last_name"]) for spec in DEMO_LEADS]
    assert len(set(keys)) == len(keys)


def test_demo_has_leads_whose_qualification_finds_an_existing_account(database, demo):
    from leadflow.core.errors import DuplicateDetected
    from leadflow.leads.schemas import QualifyOptions
    from leadflow.leads.service import qualify_lead
    from leadflow.security.actor import actor_for_email

    lead = lead_by_topic(database, "Sillas para la nueva oficina de Sevilla")
    with database.unit_of_work(read_only=True) as uow:
        seller = actor_for_email(uow.session, "carlos.ruiz@leadflow.example")
    with database.unit_of_work() as uow, pytest.raises(DuplicateDetected) as warning:
        qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=seller)
    assert warning.value.code == "duplicate_detected"
    assert [match["name"] for match in warning.value.details["matching_accounts"]] == ["Grupo Alcázar Seguros"]


def test_demo_converts_its_dollars_pounds_and_pesos_at_realistic_rates(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        rates = dict(uow.session.execute(select(Currency.iso_code, Currency.exchange_rate)).all())
        assert {code: rates[code] for code in DEMO_RATES} == DEMO_RATES
        assert rates["EUR"] == 1
        foreign = uow.session.scalars(
            select(Opportunity).join(Currency, Currency.id == Opportunity.currency_id).where(Currency.iso_code == "USD")
        ).all()
    assert foreign, "the demo has opportunities in dollars"
    for opportunity in foreign:
        assert opportunity.exchange_rate == DEMO_RATES["USD"]
        if opportunity.estimated_revenue is not None:
            assert opportunity.estimated_revenue_base == (opportunity.estimated_revenue / DEMO_RATES["USD"]).quantize(
                Decimal("0.0001")
            )


def test_demo_keeps_the_rates_an_administrator_chose(database, actor):
    with database.unit_of_work() as uow:
        uow.session.execute(update(Currency).where(Currency.iso_code == "USD").values(exchange_rate=Decimal("1.2")))
        uow.commit()
    load_demo(database)
    with database.unit_of_work(read_only=True) as uow:
        rates = dict(uow.session.execute(select(Currency.iso_code, Currency.exchange_rate)).all())
    assert (rates["USD"], rates["GBP"]) == (Decimal("1.2"), DEMO_RATES["GBP"])


def test_demo_pipeline_and_forecast_show_figures_for_this_quarter(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        admin = actor_for_email(uow.session, DEMO_USERS[0]["email"])
        quarter = forecast(None, GroupBy.OWNER, uow=uow, actor=admin)
        stages = {
            stage: count
            for stage, count in uow.session.execute(
                select(Opportunity.process_stage, func.count())
                .where(Opportunity.state == OpportunityState.OPEN)
                .group_by(Opportunity.process_stage)
            )
        }
    assert quarter.total.open_count > 0 and quarter.total.open_pipeline > 0
    assert quarter.total.weighted_pipeline < quarter.total.open_pipeline
    assert (quarter.total.won_count, quarter.total.lost_count) == (1, 1)
    assert set(stages) == {"develop", "propose", "close"}


def test_demo_leaves_a_pipeline_someone_worked_on_as_it_is(database, actor, demo):
    with database.unit_of_work() as uow:
        booths = uow.session.scalars(select(Opportunity).where(Opportunity.name == DEMO_WON)).one()
        booths_state = booths.state
        uow.session.execute(update(Opportunity).values(estimated_close_date=None, probability=None))
        uow.commit()
    load_demo(database)  # an opportunity is closed: the demo does not plan its pipeline again
    with database.unit_of_work(read_only=True) as uow:
        assert (
            uow.session.scalar(
                select(func.count()).select_from(Opportunity).where(Opportunity.estimated_close_date.is_not(None))
            )
            == 0
        )
        assert uow.session.scalars(select(Opportunity.state).where(Opportunity.name == DEMO_WON)).one() == booths_state


# ---------------------------------------------------------------------------------------------- lead to order


def test_demo_has_a_spanish_catalogue_of_licences_and_hours_with_products_in_every_state(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        groups = {group.name: group for group in uow.session.scalars(select(UnitGroup))}
        units = {
            name: {(unit.name, unit.quantity, unit.base_unit_id is None) for unit in group.units}
            for name, group in groups.items()
        }
        products = uow.session.scalars(select(Product)).all()
    assert units == {
        "Licencias": {("Licencia", 1, True), ("Pack 10", 10, False)},
        "Horas": {("Hora", 1, True), ("Jornada", 8, False)},
    }
    by_state = Counter(product.state for product in products)
    assert len(products) == 8
    assert by_state == {ProductState.ACTIVE: 6, ProductState.DRAFT: 1, ProductState.RETIRED: 1}
    assert all(product.list_price and product.standard_cost and product.current_cost for product in products)
    assert all(product.family_id is not None for product in products)
    assert len({product.family_id for product in products}) == 3


def test_demo_price_lists_price_by_several_methods_with_rounding_and_volume_discounts(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        lists = {price_list.name: price_list for price_list in uow.session.scalars(select(PriceList))}
        assert {name: price_list.currency_code for name, price_list in lists.items()} == {
            "Tarifa general 2027": "EUR",
            "Tarifa general 2027 (USD)": "USD",
        }
        items = uow.session.scalars(select(PriceListItem)).all()
        euro = [item for item in items if item.price_list_id == lists["Tarifa general 2027"].id]
        assert len({item.pricing_method for item in euro}) >= 4
        assert any(item.rounding_policy is not RoundingPolicy.NONE for item in euro)
        discounts = uow.session.scalars(select(DiscountList).where(DiscountList.name == "Volumen licencias")).one()
        assert [tier.value for tier in discounts.tiers] == [5, 10, 15]
        assert any(item.discount_list_id == discounts.id for item in euro)
        # Every item prices today; the dollar list converts the euro list prices at the demo's rate and
        # rounds them to multiples of 5 (installation: 65.00 EUR x 1.0825 = 70.36 -> 70.00 USD).
        prices = {
            (item.price_list_id, item.product_id, item.unit_id): item_price_today(uow.session, item) for item in items
        }
        assert None not in prices.values()
        installation = uow.session.scalars(select(Product).where(Product.number == "SRV-INS")).one()
        hour = next(unit for unit in installation.unit_group.units if unit.name == "Hora")
        usd = lists["Tarifa general 2027 (USD)"]
        assert prices[(usd.id, installation.id, hour.id)] == Decimal("70.00")
        percent_of_list = [item for item in items if item.pricing_method is PricingMethod.PERCENT_OF_LIST]
        assert {item.price_list_id for item in percent_of_list} == {lists["Tarifa general 2027"].id, usd.id}


def test_demo_opportunities_have_products_and_a_draft_an_active_and_a_won_quote(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        with_lines = {
            opportunity.name: opportunity
            for opportunity in session.scalars(
                select(Opportunity).where(Opportunity.id.in_(select(OpportunityProduct.opportunity_id)))
            )
        }
        assert set(with_lines) == {spec["opportunity"] for spec in DEMO_SALES}
        assert len(with_lines) >= 3
        for opportunity in with_lines.values():
            assert opportunity.price_list_id is not None and opportunity.total_amount > 0
        system = [o for o in with_lines.values() if o.revenue_calculation is RevenueCalculation.SYSTEM]
        assert system and all(o.is_open and o.estimated_revenue == o.total_amount for o in system)
        quotes = session.scalars(select(Quote)).all()
        assert Counter(quote.state for quote in quotes) == {
            QuoteState.DRAFT: 1,
            QuoteState.ACTIVE: 1,
            QuoteState.WON: 1,
        }
        for quote in quotes:
            opportunity = session.get(Opportunity, quote.opportunity_id)
            assert quote.total_amount == opportunity.total_amount
            assert len(quote.lines) == len(
                session.scalars(
                    select(OpportunityProduct).where(OpportunityProduct.opportunity_id == opportunity.id)
                ).all()
            )
            owner = session.get(User, opportunity.owner_user_id)
            assert quote.owner_user_id == owner.id  # made by the opportunity's owner
        won = next(quote for quote in quotes if quote.state is QuoteState.WON)
        opportunity = session.get(Opportunity, won.opportunity_id)
        assert opportunity.name == DEMO_WON and opportunity.state is OpportunityState.WON
        assert opportunity.actual_revenue == won.total_amount
        order = session.scalars(select(Order).where(Order.quote_id == won.id)).one()
        assert (order.state, order.status_reason) == (OrderState.FULFILLED, OrderStatusReason.COMPLETE)
        invoice = session.scalars(select(Invoice).where(Invoice.order_id == order.id)).one()
        assert (invoice.state, invoice.status_reason) == (InvoiceState.PAID, InvoiceStatusReason.COMPLETE)
        assert won.total_amount == order.total_amount == invoice.total_amount > 0
        assert won.date_won <= order.date_fulfilled <= invoice.date_paid <= utcnow().date()
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_demo_licence_quote_has_a_volume_discount_and_spanish_vat(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        quote = uow.session.scalars(select(Quote).where(Quote.state == QuoteState.ACTIVE)).one()
        licences = next(line for line in quote.lines if line.product_name.endswith("(LF-CRM-PRO)"))
    # 12 licences at 360.00: 4,320.00, 5 % volume discount (10 to 24 licences), 21 % IVA on the rest.
    assert (licences.quantity, licences.unit_name, licences.price_per_unit) == (12, "Licencia", Decimal("360.00"))
    assert (licences.volume_discount, licences.tax) == (Decimal("216.00"), Decimal("861.84"))
    assert all(
        line.tax == ((line.extended_amount - line.tax) * Decimal("0.21")).quantize(Decimal("0.01"))
        for line in quote.lines
    )


def test_demo_invoice_prints_the_demo_company(database, demo):
    with database.unit_of_work(read_only=True) as uow:
        settings = get_settings(uow.session)
        assert (settings.company_name, settings.company_address) == (
            DEMO_COMPANY["company_name"],
            DEMO_COMPANY["company_address"],
        )
        invoice = uow.session.scalars(select(Invoice)).one()
        seller = actor_for_email(uow.session, "emma.clarke@leadflow.example")
        printed = document_pdf(DocumentKind.INVOICE, invoice.id, uow=uow, actor=seller, language="es")
    assert printed.filename == f"{invoice.number}.pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(printed.content)).pages)
    assert "Leadflow Demo S.L." in text and "28001 Madrid" in text


def test_demo_keeps_the_company_name_an_administrator_chose(database, actor):
    with database.unit_of_work() as uow:
        update_settings({"company_name": "Muebles Ñandú S.L."}, uow=uow, actor=actor)
        uow.commit()
    load_demo(database)
    with database.unit_of_work(read_only=True) as uow:
        assert get_settings(uow.session).company_name == "Muebles Ñandú S.L."
