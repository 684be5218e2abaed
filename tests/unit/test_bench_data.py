"""The benchmark data generators make what they claim: each corruption is the variant it names, and the truth is exact."""

import random
import sys
from pathlib import Path

import pytest
from rapidfuzz.distance import OSA

from leadflow.duplicates import (
    normalize_company,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_website,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import duplicates as scale
import precision_recall as labelled

NAMES = [*labelled.FIRST_NAMES, *labelled.LAST_NAMES, "García López", "Velantis Logística"]
SAMPLES = range(100)


@pytest.fixture(scope="module")
def data():
    return labelled.labelled_set(accounts=900, contacts=1200, share=0.2, seed=7)


def _rng(n):
    return random.Random(n)


@pytest.mark.parametrize("n", SAMPLES)
def test_a_typo_is_exactly_one_edit(n):
    name = _rng(n).choice(NAMES)
    changed = labelled.typo(name, _rng(n + 1000))
    assert changed != name
    assert OSA.distance(name, changed) == 1


@pytest.mark.parametrize("n", SAMPLES)
def test_an_accent_change_differs_only_in_accents(n):
    name = _rng(n).choice(NAMES)
    changed = labelled.toggle_accents(name, _rng(n + 1000))
    assert changed != name
    assert normalize_name(changed) == normalize_name(name)


@pytest.mark.parametrize("n", SAMPLES)
def test_a_case_change_differs_only_in_case(n):
    name = _rng(n).choice(NAMES)
    changed = labelled.change_case(name, _rng(n + 1000))
    assert changed != name
    assert changed.casefold() == name.casefold()


@pytest.mark.parametrize("n", SAMPLES)
def test_a_legal_form_change_keeps_the_company_name(n):
    rng = _rng(n)
    name = f"{rng.choice(labelled.COMPANY_CORES)} {rng.choice(labelled.COMPANY_CORES)}"
    if n % 2:
        name += f" {rng.choice(labelled.COMPANY_SUFFIXES)}"
    changed = labelled.change_legal_suffix(name, _rng(n + 1000))
    assert changed != name
    assert normalize_company(changed) == normalize_company(name)


def test_swapped_words_are_the_same_words_in_another_order():
    assert labelled.swap_words("Velantis Logística S.L.", _rng(1)) == "Logística Velantis S.L."
    assert labelled.swap_words("Acme Foods", _rng(1)) == "Foods Acme"


@pytest.mark.parametrize("n", SAMPLES)
def test_a_reformatted_phone_is_the_same_number(n):
    phone = labelled.stored_phone(_rng(n))
    changed = labelled.reformat_phone(phone, _rng(n + 1000))
    assert changed != phone
    assert normalize_phone(changed) == normalize_phone(phone)


@pytest.mark.parametrize("n", SAMPLES)
def test_an_email_in_other_capitals_is_the_same_address(n):
    email = f"{labelled.ascii_slug(_rng(n).choice(NAMES))}.x@acme{n}.es"
    changed = labelled.email_case(email, _rng(n + 1000))
    assert changed != email
    assert normalize_email(changed) == normalize_email(email)


@pytest.mark.parametrize("n", SAMPLES)
def test_a_website_written_another_way_is_the_same_host(n):
    website = f"https://www.acme{n}.es"
    changed = labelled.website_variant(website, _rng(n + 1000))
    assert changed != website
    assert normalize_website(changed) == normalize_website(website)


def test_the_labelled_set_depends_only_on_its_seed(data):
    again = labelled.labelled_set(accounts=900, contacts=1200, share=0.2, seed=7)
    assert again.rows == data.rows
    assert again.pairs == data.pairs


def test_every_duplicate_has_one_original_and_every_kind_is_planted_evenly(data):
    for table, kinds in (("accounts", labelled.ACCOUNT_KINDS), ("contacts", labelled.CONTACT_KINDS)):
        records = [record_id for pair in data.pairs[table] for record_id in pair]
        assert len(records) == len(set(records))  # no record is in two pairs
        assert set(records) <= {row["id"] for row in data.rows[table]}
        counts = {kind: list(data.pairs[table].values()).count(kind) for kind in kinds}
        assert max(counts.values()) - min(counts.values()) <= 1


LINKS = {
    "contacts": {
        "name": lambda r: (
            (normalize_name(r["first_name"]), normalize_name(r["last_name"])) if r["first_name"] else None
        ),
        "email": lambda r: normalize_email(r["email"]),
        "phone": lambda r: normalize_phone(r["business_phone"]),
    },
    "accounts": {
        "name": lambda r: normalize_company(r["name"]),
        "email": lambda r: normalize_email(r["email"]),
        "phone": lambda r: normalize_phone(r["telephone"]),
        "website": lambda r: normalize_website(r["website"]),
    },
}
# The field each corruption lets through; the others must not link the pair.
CARRIED_BY = {
    "case": "name",
    "accents": "name",
    "typo": "name",
    "legal_suffix": "name",
    "word_order": "name",
    "email_case": "email",
    "phone_format": "phone",
    "website_format": "website",
}


def test_a_corrupted_duplicate_is_linked_to_its_original_only_through_the_corrupted_field(data):
    for table, pairs in data.pairs.items():
        rows = {row["id"]: row for row in data.rows[table]}
        for pair, kind in pairs.items():
            if kind == "exact_copy":
                continue
            first, second = (rows[record_id] for record_id in pair)
            for link, key in LINKS[table].items():
                if link == CARRIED_BY[kind]:
                    continue
                assert key(first) is None or key(first) != key(second), (kind, link, first, second)


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("account", (("name",), ("email",), ("telephone",), ("website",))),
        ("contact", (("first_name", "last_name"), ("email",), ("business_phone",))),
    ],
)
def test_a_planted_record_of_the_scale_benchmark_copies_a_compared_field_of_an_original(kind, columns):
    planted = 0
    for n in range(3000):
        values, partner = scale.record(5, kind, n, 3000)
        if partner is None:
            continue
        planted += 1
        assert not scale.is_planted(5, kind, partner)
        original = scale.entity(5, kind, partner, 3000)
        assert any(
            all(original[column] and str(values[column]).casefold() == original[column].casefold() for column in field)
            for field in columns
        )
    assert planted == pytest.approx(3000 * scale.DUPLICATE_SHARE, rel=0.3)
