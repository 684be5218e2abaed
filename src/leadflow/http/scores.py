"""How a lead's score reads, for every HTTP entry point: the field and value of each reason in the
reader's language ("Lead source: Trade show +12"), the trend, and why a lead has no score."""

from __future__ import annotations

from leadflow.core.formatting import format_number
from leadflow.http.labels import CHOICE_LABELS, COLUMN_LABELS
from leadflow.http.language import N_, gettext
from leadflow.scoring.features import BLANK, BY_KEY, OTHER, Kind
from leadflow.scoring.models import Trend
from leadflow.scoring.scorer import message_parts

FIELD_LABELS = {
    "email_kind": N_("Email domain"),
    "country": N_("Country/Region"),
    "notes": N_("Notes"),
    "activities": N_("Activities"),
    "days_open": N_("Days open"),
}
VALUE_LABELS = {
    ("email_kind", "company"): N_("Company domain"),
    ("email_kind", "free"): N_("Free mail provider"),
    ("decision_maker", "yes"): N_("Identified"),
    ("decision_maker", "no"): N_("Not identified"),
}
TREND_LABELS = {
    Trend.IMPROVING: N_("Improving"),
    Trend.STEADY: N_("Steady"),
    Trend.DECLINING: N_("Declining"),
    Trend.NOT_ENOUGH_INFORMATION: N_("Not enough information"),
}
MESSAGES = {
    "unseen_value": N_("The model has never seen %(field)s: %(value)s; it scores this lead after its next training."),
    "unknown_field": N_("The model uses a field that no longer exists (%(field)s); train it again."),
    "stale_field": N_("The model was trained on an earlier version of %(field)s; train it again."),
    "out_of_scope": N_("No published scoring model covers this lead."),
    "not_scored": N_("This lead has not been scored yet."),
}


def field_label(language: str, key: str) -> str:
    """A scoring field's name."""
    return gettext(language, FIELD_LABELS.get(key) or COLUMN_LABELS.get(key) or key)


def value_label(language: str, key: str, value: str) -> str:
    """A scoring field's value as a reader says it: a pick-list label, a range, filled in or blank."""
    definition = BY_KEY.get(key)
    if (key, value) in VALUE_LABELS:
        return gettext(language, VALUE_LABELS[(key, value)])
    if value == BLANK:
        return gettext(language, "not filled in")
    if value == OTHER:
        return gettext(language, "other")
    if definition is None:
        return value
    if definition.kind is Kind.PRESENT:
        return gettext(language, "filled in") if value == "yes" else gettext(language, "not filled in")
    if definition.kind is Kind.RANGE:
        low, _, high = value.partition("-")
        if value.endswith("+"):
            return gettext(language, "%(low)s or more", low=format_number(int(value[:-1]), language))
        return gettext(
            language,
            "%(low)s to %(high)s",
            low=format_number(int(low), language),
            high=format_number(int(high) - 1, language),
        )
    if definition.choices is not None:
        labels = CHOICE_LABELS.get(definition.choices, {})
        return gettext(language, labels[value]) if value in labels else value
    return value.title() if key == "country" else value


def effect_text(effect: float) -> str:
    """An effect in whole points with its sign: "+12", "−9", "±0"."""
    points = round(effect)
    return f"+{points}" if points > 0 else (f"−{-points}" if points < 0 else "±0")


def reason_text(language: str, key: str, value: str, effect: float) -> str:
    """One reason as a sentence part: "Lead source: Trade show +12"."""
    return f"{field_label(language, key)}: {value_label(language, key, value)} {effect_text(effect)}"


def trend_label(language: str, trend: Trend | str) -> str:
    return gettext(language, TREND_LABELS[Trend(trend)])


def message_text(language: str, message: str | None) -> str | None:
    """Why a lead has no score, in the reader's language."""
    if not message:
        return None
    kind, key, value = message_parts(message)
    template = MESSAGES.get(kind)
    if template is None:
        return message
    if kind in ("unseen_value",):
        return gettext(language, template, field=field_label(language, key), value=value_label(language, key, value))
    if kind in ("unknown_field", "stale_field"):
        return gettext(language, template, field=field_label(language, key) if key in BY_KEY else key)
    return gettext(language, template)
