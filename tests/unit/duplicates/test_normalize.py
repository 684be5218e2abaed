"""Normalisers fold the spellings people use for one email, phone, name, company or website."""

import pytest

from leadflow.duplicates import (
    normalize_company,
    normalize_email,
    normalize_for_column,
    normalize_name,
    normalize_phone,
    normalize_website,
)
from leadflow.duplicates.normalize import COLUMN_KINDS, column_kind


@pytest.mark.parametrize(
    "function", [normalize_email, normalize_phone, normalize_name, normalize_company, normalize_website]
)
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n"])
def test_blank_values_normalise_to_none(function, blank):
    assert function(blank) is None


def test_emails_are_trimmed_and_case_folded():
    assert normalize_email("  Maria.Lopez@Example.COM ") == "maria.lopez@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José García", "jose garcia"),
        ("  JOSÉ   GARCÍA  ", "jose garcia"),
        ("O'Brien-Núñez, Seán", "obrien nunez sean"),
        ("Łukasz Søren Straße", "lukasz soren strasse"),
        ("François  Müller\u00a0Ærø", "francois muller aero"),
        ("Jose\u0301", "jose"),
    ],
)
def test_names_fold_accents_case_and_punctuation(raw, expected):
    assert normalize_name(raw) == expected


def test_a_name_of_only_punctuation_is_blank():
    assert normalize_name(" -.,' ") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Spanish
        ("Telefónica, S.A.", "telefonica"),
        ("Industrias Pérez S. L.", "industrias perez"),
        ("Construcciones García SLU", "construcciones garcia"),
        ("Mercadona S.A.U.", "mercadona"),
        # English
        ("Foo Holdings Ltd.", "foo holdings"),
        ("Acme Inc.", "acme"),
        ("Acme, Incorporated", "acme"),
        ("Widgets Corp", "widgets"),
        ("Barclays PLC", "barclays"),
        ("Smith & Co. Ltd", "smith"),
        ("Atlassian Pty Ltd", "atlassian"),
        ("Initech LLC", "initech"),
        # German
        ("Müller GmbH", "muller"),
        ("Siemens AG", "siemens"),
        ("Bauer GmbH & Co. KG", "bauer"),
        # Mexican
        ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"),
        ("Cemex S.A. de C.V.", "cemex"),
        ("Tacos El Güero, S. de R.L. de C.V.", "tacos el guero"),
        # Others
        ("Ferrari S.p.A.", "ferrari"),
        ("Philips N.V.", "philips"),
    ],
)
def test_legal_forms_are_dropped_from_company_names(raw, expected):
    assert normalize_company(raw) == expected


def test_a_company_named_only_by_a_legal_form_keeps_its_name():
    assert normalize_company("Co.") == "co"
    assert normalize_company("Ltd Ltd") == "ltd"


def test_legal_forms_are_dropped_only_at_the_end():
    assert normalize_company("SA Pharma Ltd") == "sa pharma"


@pytest.mark.parametrize(
    "raw", ["+34 910 000 000", "910000000", "(0034) 91-000-0000", "0034910000000", "+34910000000", "91 000 00 00"]
)
def test_spanish_phone_formats_give_one_e164_number(raw):
    assert normalize_phone(raw, default_region="ES") == "+34910000000"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("1-202-555-0143", "US", "+12025550143"),
        ("+1 202 555 0143", "ES", "+12025550143"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
    ],
)
def test_uk_and_us_numbers_are_read_in_their_region(raw, region, expected):
    assert normalize_phone(raw, default_region=region) == expected


def test_the_default_region_is_spain():
    assert normalize_phone("910 000 000") == "+34910000000"


def test_an_extension_is_kept_so_that_two_extensions_differ():
    assert normalize_phone("+1 202 555 0143 ext. 12", default_region="US") == "+12025550143;ext=12"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", "12"), ("ext 12-34", "1234"), ("+999 12", "+99912"), ("phone: (555) 12", "55512")],
)
def test_unparsable_phones_fall_back_to_digits_keeping_a_leading_plus(raw, expected):
    assert normalize_phone(raw, default_region="ES") == expected


def test_a_phone_without_region_or_plus_falls_back_to_digits():
    assert normalize_phone("910 000 000", default_region=None) == "910000000"


def test_a_phone_without_digits_is_blank():
    assert normalize_phone("n/a") is None


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.example.com/",
        "HTTP://WWW.Example.com/contact?x=1#top",
        "example.com",
        "www.example.com.",
        "//example.com/path",
        "https://user:secret@example.com:8443/",
        " www.www.example.com ",
    ],
)
def test_websites_reduce_to_the_lower_case_host(raw):
    assert normalize_website(raw) == "example.com"


def test_subdomains_other_than_www_are_kept():
    assert normalize_website("https://shop.example.com/") == "shop.example.com"


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("email", "email"),
        ("emailaddress1", "email"),
        ("business_phone", "phone"),
        ("mobile_phone", "phone"),
        ("telephone", "phone"),
        ("telephone1", "phone"),
        ("website", "website"),
        ("websiteurl", "website"),
        ("company_name", "company"),
        ("name", "company"),
        ("first_name", "person_name"),
        ("last_name", "person_name"),
        ("full_name", "person_name"),
        ("LastName", "person_name"),
        ("description", None),
    ],
)
def test_the_column_name_chooses_the_kind_of_data(column, kind):
    found = column_kind(column)
    assert (found.name if found else None) == kind


def test_normalize_for_column_applies_the_kind_of_the_column():
    assert normalize_for_column("email", " A@B.COM ") == "a@b.com"
    assert normalize_for_column("business_phone", "910 000 000", default_region="ES") == "+34910000000"
    assert normalize_for_column("telephone", "020 7946 0958", default_region="GB") == "+442079460958"
    assert normalize_for_column("website", "https://www.acme.com/") == "acme.com"
    assert normalize_for_column("name", "Acme, S.L.") == "acme"
    assert normalize_for_column("last_name", "García-Pérez") == "garcia perez"


def test_unknown_columns_are_folded_like_a_name():
    assert normalize_for_column("address_city", "  MÁLAGA ") == "malaga"


def test_every_kind_of_column_has_a_distinct_name():
    names = [kind.name for kind in COLUMN_KINDS]
    assert len(names) == len(set(names))
