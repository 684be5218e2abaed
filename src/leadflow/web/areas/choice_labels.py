"""Labels of the pick-list values, the decision-maker choice and the process stages, shared by
the lead, record, dashboard and administration pages.

Stored values are mapped to English message ids, translated where they are shown.
"""

from __future__ import annotations

import enum

from leadflow.leads.models import (
    BudgetStatus,
    LeadSource,
    LeadState,
    LeadStatusReason,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadflow.opportunities.models import OpportunityState
from leadflow.web.i18n import N_

# The English label (message id) of every pick-list value the pages show, by enum and stored value.
CHOICE_LABELS: dict[type[enum.Enum], dict[str, str]] = {
    LeadSource: {
        "advertisement": N_("Advertisement"),
        "employee_referral": N_("Employee referral"),
        "external_referral": N_("External referral"),
        "partner": N_("Partner"),
        "public_relations": N_("Public relations"),
        "seminar": N_("Seminar"),
        "trade_show": N_("Trade show"),
        "web": N_("Web"),
        "word_of_mouth": N_("Word of mouth"),
        "other": N_("Other"),
    },
    Rating: {"hot": N_("Hot"), "warm": N_("Warm"), "cold": N_("Cold")},
    PurchaseTimeframe: {
        "immediate": N_("Immediate"),
        "this_quarter": N_("This quarter"),
        "next_quarter": N_("Next quarter"),
        "this_year": N_("This year"),
        "unknown": N_("Unknown"),
    },
    BudgetStatus: {
        "no_committed_budget": N_("No committed budget"),
        "may_buy": N_("May buy"),
        "can_buy": N_("Can buy"),
        "will_buy": N_("Will buy"),
    },
    PurchaseProcess: {
        "individual": N_("Individual purchase"),
        "committee": N_("Committee"),
        "unknown": N_("Unknown"),
    },
    Need: {
        "must_have": N_("Must have"),
        "should_have": N_("Should have"),
        "good_to_have": N_("Good to have"),
        "no_need": N_("No need"),
    },
    LeadStatusReason: {
        "new": N_("New"),
        "contacted": N_("Contacted"),
        "qualified": N_("Qualified"),
        "lost": N_("Lost"),
        "cannot_contact": N_("Cannot contact"),
        "no_longer_interested": N_("No longer interested"),
        "canceled": N_("Canceled"),
    },
    LeadState: {"open": N_("Open"), "qualified": N_("Qualified"), "disqualified": N_("Disqualified")},
    OpportunityState: {"open": N_("Open"), "won": N_("Won"), "lost": N_("Lost")},
}
DECISION_LABELS = {"yes": N_("Identified"), "no": N_("Not identified")}

# The stages of the Lead to Opportunity Sales Process (§7), by their names in leadflow.process.flow.
STAGE_LABELS = {"qualify": N_("Qualify"), "develop": N_("Develop"), "propose": N_("Propose"), "close": N_("Close")}
