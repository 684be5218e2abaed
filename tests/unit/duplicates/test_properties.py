"""Properties that hold for any input: normalising is idempotent, match codes ignore key order."""

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.duplicates import (
    Condition,
    Criterion,
    is_match,
    normalize_company,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_website,
    rule_match_code,
)
from leadflow.duplicates.matchcodes import name_similarity
from leadflow.duplicates.scan import _WordIndex

phone_like = st.text(alphabet="0123456789 +()-.x/ext", max_size=25)
url_like = st.text(alphabet="abcwW.:/@?#-_0123456789 HTPSxn", max_size=40)
company_like = st.lists(
    st.sampled_from(["Acme", "García", "S.A.", "de", "C.V.", "Ltd", "Co.", "&", "GmbH", "SL", "Inc", "Pty", "AB"]),
    max_size=6,
).map(" ".join)


@settings(max_examples=300)
@given(st.text() | company_like)
def test_name_and_company_normalisation_is_idempotent(value):
    for normalize in (normalize_name, normalize_company, normalize_email):
        once = normalize(value)
        assert normalize(once) == once


@settings(max_examples=300)
@given(phone_like | st.text(), st.sampled_from(["ES", "GB", "US", None]))
def test_phone_normalisation_is_idempotent(value, region):
    once = normalize_phone(value, default_region=region)
    assert normalize_phone(once, default_region=region) == once


@settings(max_examples=300)
@given(url_like | st.text())
def test_website_normalisation_is_idempotent(value):
    once = normalize_website(value)
    assert normalize_website(once) == once


RULE = [
    Condition("email", "email", Criterion.EXACT, ignore_blank=False),
    Condition("last_name", "last_name", Criterion.SAME_FIRST_CHARACTERS, n=3),
    Condition("business_phone", "business_phone", Criterion.NORMALIZED, ignore_blank=False),
]
records = st.fixed_dictionaries(
    {
        "email": st.none() | st.sampled_from(["ana@x.com", "ANA@x.com", "eva@x.com", ""]),
        "last_name": st.sampled_from(["Ruiz", "ruizo", "Gil", "Ruíz"]),
        "business_phone": st.none() | st.sampled_from(["910000000", "+34 910 000 000", "020 7946 0958"]),
        "city": st.text(max_size=5),
    }
)


@given(records, st.randoms(use_true_random=False))
def test_the_match_code_does_not_depend_on_the_order_of_the_record_keys(record, random):
    items = list(record.items())
    random.shuffle(items)
    assert rule_match_code(RULE, dict(items)) == rule_match_code(RULE, record)


@given(records, records)
def test_equal_match_codes_are_exactly_the_pairs_is_match_accepts(a, b):
    code_a, code_b = rule_match_code(RULE, a), rule_match_code(RULE, b, side="matching")
    assert (code_a is not None and code_a == code_b) == is_match(RULE, a, b)[0]


name_like = st.lists(
    st.sampled_from(
        ["Ana", "Anna", "Navarro", "Navarrete", "Navaro", "Gil", "Gill", "Smith", "Smiht", "12", "13", "y"]
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=300)
@given(st.lists(name_like, min_size=1, max_size=8), name_like, st.sampled_from([0.8, 0.9, 0.92, 0.97]), st.booleans())
def test_the_scans_word_index_keeps_every_name_that_reaches_the_threshold(names, query, threshold, any_order):
    normalised = {index: normalize_name(name) for index, name in enumerate(names)}
    kept = _WordIndex(normalised).close_to(normalize_name(query), threshold - 1e-9)
    reaching = [
        index
        for index, name in normalised.items()
        if name_similarity(normalize_name(query), name, any_order=any_order) >= threshold
    ]
    assert set(reaching) <= set(kept)


@settings(max_examples=300)
@given(name_like, st.randoms(use_true_random=False))
def test_a_company_names_blocking_key_does_not_depend_on_its_word_order(name, random):
    condition = Condition("name", "name", Criterion.SIMILAR)
    words = name.split()
    random.shuffle(words)
    assert rule_match_code([condition], {"name": " ".join(words)}) == rule_match_code([condition], {"name": name})
