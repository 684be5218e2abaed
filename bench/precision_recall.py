#!/usr/bin/env python
"""Precision and recall of the built-in duplicate detection rules on a labelled data set.

Run from the repository root:

    python bench/precision_recall.py                  # 10,000 accounts, 20,000 contacts, 20,000 leads
    python bench/precision_recall.py --accounts 2000 --contacts 4000 --leads 4000

It generates (seeded) original accounts, contacts and leads with Faker's es_ES and en_US
providers: distinct people and companies, no two sharing a name once normalised, but as alike as
real names are (Navarro and Navarrete are both Faker surnames). Then it makes duplicates of some
originals, ``--duplicate-share`` of each table (20 % by default), each by one kind of corruption
(a typo, accents dropped or added, a case change, a legal form added, removed or changed, the
words of a company name swapped, a phone number in another format, an e-mail address in other
capitals, a website written another way, or an exact copy). The pairs (original, duplicate) are
the truth; any other pair a rule reports is a false positive. Measured on SQLite:

* the built-in rules as they are now: the out-of-box rules a new organisation gets
  (``leadflow.duplicates.rules.BUILTIN_RULES``, published by ``ensure_organisation``), which are
  also the demo's (it adds no rules of its own);
* as the baseline, the two sets as they were before the typo-tolerant rules became out-of-box
  (``BEFORE_*`` below): the out-of-box rules of then, and those plus the demo's rules of then.

A pair is found when ``leadflow.duplicates.engine.find_matches`` for one of its records, with
one rule, returns the other. A rule set finds the union of what its rules find (rules are
published five at most per table, so the sets are evaluated rule by rule, round by round).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from duplicates import (
    COMPANY_CORES,  # noqa: F401  (tests/unit/test_bench_data.py composes company names from it)
    MAIL_BOXES,
    ascii_slug,
)
from qualify import RESULTS_DIR, ensure_actor, environment

CONTACT_KINDS = ("exact_copy", "case", "accents", "typo", "email_case", "phone_format")
LEAD_KINDS = CONTACT_KINDS
ACCOUNT_KINDS = (
    "exact_copy",
    "case",
    "accents",
    "typo",
    "legal_suffix",
    "word_order",
    "email_case",
    "phone_format",
    "website_format",
)
KIND_LABELS = {
    "exact_copy": "exact copy (control)",
    "case": "case changed",
    "accents": "accents dropped or added",
    "typo": "typo (one edit)",
    "legal_suffix": "legal form added / removed / changed",
    "word_order": "company words swapped",
    "email_case": "e-mail in other capitals",
    "phone_format": "phone in another format",
    "website_format": "website written another way",
}
TABLES = ("leads", "contacts", "accounts")
# Where the names come from, and how often: a Spanish organisation with English-speaking customers too.
LOCALES = {"es_ES": 0.6, "en_US": 0.4}
# Spaniards who write both surnames (Faker's own es_ES name formats give most people two).
SECOND_SURNAME_SHARE = 0.8
# Legal forms Faker writes at the end of company names, to take off; "Group" and "and Sons" are part of the name.
FAKER_LEGAL_FORMS = {
    "es_ES": ("S.A.", "S.A.D", "S.A.T.", "S.A.U", "S.C.P", "S.Com.", "S.Coop.", "S.L.", "S.L.L.", "S.L.N.E", "S.L.U."),
    "en_US": ("Inc", "LLC", "PLC", "Ltd"),
}
# The legal forms the generated companies are written with: each locale's forms that leadflow's company normaliser knows.
LEGAL_FORMS = {
    "es_ES": ("S.A.", "S.A.U.", "S.L.", "S.L.U.", "S.L.L.", "S.L.N.E.", "S.Coop.", "S.Com."),
    "en_US": ("Inc.", "Inc", "LLC", "Ltd", "PLC", "Corp."),
}
COMPANY_SUFFIXES = tuple(dict.fromkeys(form for forms in LEGAL_FORMS.values() for form in forms))


def _faker_names(attribute: str) -> tuple[str, ...]:
    """Every name of one kind (``first_names``, ``last_names``) that Faker draws from in LOCALES."""
    return tuple(
        dict.fromkeys(
            name for locale in LOCALES for name in getattr(Faker(locale).provider("faker.providers.person"), attribute)
        )
    )


FIRST_NAMES = _faker_names("first_names")
LAST_NAMES = _faker_names("last_names")
# Regions of the generated phone numbers: mostly Spain, as the organisation's default region (ES) assumes.
PHONE_REGIONS = ("ES",) * 7 + ("DE", "FR", "IT", "GB", "NL", "US", "MX", "PT")
TLDS = {
    "ES": "es",
    "DE": "de",
    "FR": "fr",
    "IT": "it",
    "GB": "co.uk",
    "NL": "nl",
    "US": "com",
    "MX": "com.mx",
    "PT": "pt",
}
# Keys next to each other on a QWERTY keyboard: what a slipped finger types instead.
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    near: dict[str, str] = {}
    for r, row in enumerate(KEYBOARD_ROWS):
        for i, key in enumerate(row):
            keys = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            keys += [other[i] for other in KEYBOARD_ROWS[max(r - 1, 0) : r + 2] if other is not row and i < len(other)]
            near[key] = "".join(keys)
    return near


NEIGHBOURS = _neighbours()
ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "n": "ñ", "y": "ý"}


# ==============================================================================================
# Corruptions: each returns a value a person could type for the same thing
# ==============================================================================================


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(char for char in decomposed if unicodedata.category(char) != "Mn"))


def toggle_accents(text: str, rng: random.Random) -> str:
    """Drop the accents of a text that has some; else put one on a vowel (José / Jose, Garcia / García)."""
    stripped = strip_accents(text)
    if stripped != text:
        return stripped
    places = [i for i, char in enumerate(text) if char.lower() in ACCENTED]
    if not places:
        return text
    i = rng.choice(places)
    accented = ACCENTED[text[i].lower()]
    return text[:i] + (accented.upper() if text[i].isupper() else accented) + text[i + 1 :]


def typo(text: str, rng: random.Random) -> str:
    """One edit: a neighbouring key, a letter dropped, a letter doubled, or two letters swapped."""
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    while True:
        i = rng.choice(letters)
        char = text[i]
        edit = rng.choice(("substitute", "delete", "double", "transpose"))
        if edit == "substitute":
            near = NEIGHBOURS.get(strip_accents(char).lower(), "")
            if not near:
                continue
            new = rng.choice(near)
            result = text[:i] + (new.upper() if char.isupper() else new) + text[i + 1 :]
        elif edit == "delete":
            if len(letters) < 3:
                continue
            result = text[:i] + text[i + 1 :]
        elif edit == "double":
            result = text[: i + 1] + char.lower() + text[i + 1 :]
        else:
            following = text[i + 1] if i + 1 < len(text) else ""
            # Two lower-case letters: swapping a capital ("Aclvo") would be a case change as well.
            if not (following.isalpha() and following.islower() and char.islower()) or following == char:
                continue
            result = text[:i] + following + char + text[i + 2 :]
        if result != text:
            return result


def change_case(text: str, rng: random.Random) -> str:
    """The same text in other capitals: all upper, all lower, or title case."""
    options = [variant for variant in (text.upper(), text.lower(), text.title()) if variant != text]
    return rng.choice(options)


def split_legal_form(name: str) -> tuple[str, str | None]:
    for form in sorted(COMPANY_SUFFIXES, key=len, reverse=True):
        if name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return name, None


def change_legal_suffix(name: str, rng: random.Random) -> str:
    """The legal form removed, written without dots in capitals, or replaced (Acme S.L. / ACME SL / Acme / Acme S.A.)."""
    core, form = split_legal_form(name)
    if form is None:
        return f"{core} {rng.choice(COMPANY_SUFFIXES)}"
    choice = rng.choice(("removed", "undotted", "changed"))
    if choice == "removed":
        return core
    if choice == "undotted" and "." in form:
        return f"{core} {form.replace('.', '')}".upper()
    return f"{core} {rng.choice([other for other in COMPANY_SUFFIXES if other != form])}"


def swap_words(name: str, rng: random.Random) -> str:
    """The first two words before the legal form swapped (Velantis Logística S.L. / Logística Velantis S.L.)."""
    core, form = split_legal_form(name)
    words = core.split()
    words[0], words[1] = words[1], words[0]
    return " ".join([*words, form] if form else words)


def phone_formats(number: phonenumbers.PhoneNumber) -> list[str]:
    """Ways people write one number: +34 910 12 34 56, +34910123456, 0034-910-12-34-56, (+34) 910123456, 910 12 34 56."""
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national_digits = phonenumbers.national_significant_number(number)
    groups = international.replace("+", "").replace("-", " ").split()
    formats = [
        international,
        e164,
        "00" + "-".join(groups),
        f"(+{number.country_code}) {national_digits}",
    ]
    if phonenumbers.region_code_for_number(number) == "ES":
        # Read with the organisation's default region (ES): a national number is only unambiguous there.
        formats.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return formats


def reformat_phone(text: str, rng: random.Random) -> str:
    number = phonenumbers.parse(text, "ES")
    return rng.choice([variant for variant in phone_formats(number) if variant != text])


def email_case(email: str, rng: random.Random) -> str:
    """The address in other capitals (Ana.Garcia@Example.ES)."""
    local, _, domain = email.partition("@")
    options = [
        f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain}",
        email.upper(),
        f"{local}@{domain.upper()}",
        f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain.capitalize()}",
    ]
    return rng.choice([option for option in options if option != email])


def website_variant(website: str, rng: random.Random) -> str:
    """The same site written another way: scheme, www., capitals, a trailing slash."""
    host = website.split("://")[-1].removeprefix("www.").rstrip("/")
    options = [
        f"https://www.{host}",
        f"http://{host}",
        f"www.{host}",
        host,
        f"https://{host}/",
        f"WWW.{host.upper()}",
        f"https://www.{host}/contact",
    ]
    return rng.choice([option for option in options if option != website])


# ==============================================================================================
# The labelled data set
# ==============================================================================================


def valid_phone(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """A random number that phonenumbers deems valid in the region (shaped like its example number)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    digits = phonenumbers.national_significant_number(example)
    prefixes = ("91", "93", "96", "95", "6") if region == "ES" else (digits[:2],)
    for _ in range(200):
        prefix = rng.choice(prefixes)
        candidate = prefix + "".join(str(rng.randrange(10)) for _ in range(len(digits) - len(prefix)))
        number = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(number):
            return number
    return example


def stored_phone(rng: random.Random, region: str | None = None) -> str:
    number = valid_phone(rng, region or rng.choice(PHONE_REGIONS))
    formats = phone_formats(number)
    # Most people write the international form; Spanish numbers are often written nationally.
    return formats[-1] if len(formats) == 5 and rng.random() < 0.3 else formats[0]


@dataclass
class LabelledSet:
    """Records per table, and the true duplicate pairs with the corruption that made each."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pairs: dict[str, dict[frozenset[uuid.UUID], str]] = field(default_factory=dict)


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _unique(value: str, taken: set[str]) -> str:
    candidate, n = value, 1
    while candidate in taken:
        n += 1
        local, at, domain = value.partition("@")
        candidate = f"{local}{n}{at}{domain}" if at else f"{value.split('.', 1)[0]}{n}.{value.split('.', 1)[1]}"
    taken.add(candidate)
    return candidate


class NameSource:
    """People and companies from Faker's es_ES and en_US providers, seeded, each name handed out once.

    Originals are distinct people and distinct companies: no two share a name once normalised (first
    and last name for people, the company name without its legal form for companies). Names that
    are merely alike, such as Navarro and Navarrete, both Faker es_ES surnames, are left as drawn.
    """

    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        self.rng = rng
        self.fakers = {}
        for locale in LOCALES:
            fake = Faker(locale)
            fake.seed_instance(rng.getrandbits(64))
            self.fakers[locale] = fake
        self.people: set[tuple[str | None, str | None]] = set()
        self.companies: set[str | None] = set()

    def locale(self) -> str:
        return self.rng.choices(list(LOCALES), weights=list(LOCALES.values()))[0]

    def person(self) -> tuple[str | None, str, str]:
        """A first name (None for a few), a last name (two surnames for most Spaniards) and the locale."""
        from leadflow.duplicates import normalize_name

        while True:
            locale = self.locale()
            fake = self.fakers[locale]
            first = fake.first_name() if self.rng.random() < 0.95 else None
            last = fake.last_name()
            if locale == "es_ES" and self.rng.random() < SECOND_SURNAME_SHARE:
                last = f"{last} {fake.last_name()}"
            key = (normalize_name(first), normalize_name(last))
            if key not in self.people:
                self.people.add(key)
                return first, last, locale

    def company(self, *, distinct: bool = True) -> tuple[str, str | None, str]:
        """A company name without a legal form, the legal form it is written with (or None), and the locale.

        Faker's own legal form is replaced by one of the locale's forms that leadflow's company
        normaliser knows (Faker also writes S.A.T., S.A.D. and S.C.P., which it does not strip).
        """
        from leadflow.duplicates import normalize_company

        while True:
            locale = self.locale()
            name = self.fakers[locale].company()
            for form in FAKER_LEGAL_FORMS[locale]:
                name = name.removesuffix(f" {form}")
            form = self.rng.choice(LEGAL_FORMS[locale]) if self.rng.random() < 0.85 else None
            key = normalize_company(name)
            if not distinct or key not in self.companies:
                self.companies.add(key)
                return name, form, locale


def original_account(rng: random.Random, names: NameSource, taken: set[str]) -> dict[str, Any]:
    core, form, locale = names.company()
    region = "ES" if locale == "es_ES" and rng.random() < 0.8 else rng.choice(PHONE_REGIONS)
    domain = _unique(f"{ascii_slug(core)}.{TLDS[region]}", taken)
    return {
        "id": _id(rng),
        "name": f"{core} {form}" if form else core,
        "website": (f"https://www.{domain}" if rng.random() < 0.7 else f"www.{domain}") if rng.random() < 0.8 else None,
        "email": f"{rng.choice(MAIL_BOXES)}@{domain}" if rng.random() < 0.7 else None,
        "telephone": stored_phone(rng, region) if rng.random() < 0.85 else None,
        "_domain": domain,
    }


def _mailbox(first: str | None, last: str) -> str:
    return ".".join(ascii_slug(part) for part in (first, last) if part)


def original_contact(
    rng: random.Random, names: NameSource, accounts: list[dict[str, Any]], taken: set[str]
) -> dict[str, Any]:
    """A person working for one of the accounts, with an address on its domain."""
    first, last, _ = names.person()
    return {
        "id": _id(rng),
        "first_name": first,
        "last_name": last,
        "email": _unique(f"{_mailbox(first, last)}@{rng.choice(accounts)['_domain']}", taken)
        if rng.random() < 0.9
        else None,
        "business_phone": stored_phone(rng) if rng.random() < 0.85 else None,
    }


def original_lead(
    rng: random.Random, names: NameSource, accounts: list[dict[str, Any]], taken: set[str]
) -> dict[str, Any]:
    """A person interested in buying: from a company already among the accounts or from another one,
    writing from the company's address or from a free one."""
    first, last, locale = names.person()
    if rng.random() < 0.6:
        account = rng.choice(accounts)
        company, domain = account["name"], account["_domain"]
    else:
        core, form, _ = names.company(distinct=False)
        company, domain = (f"{core} {form}" if form else core), None
    if domain is None or rng.random() < 0.3:
        domain = names.fakers[locale].free_email_domain()
    return {
        "id": _id(rng),
        "topic": "Chairs and desks",
        "first_name": first,
        "last_name": last,
        "company_name": company if rng.random() < 0.9 else None,
        "email": _unique(f"{_mailbox(first, last)}@{domain}", taken) if rng.random() < 0.9 else None,
        "business_phone": stored_phone(rng) if rng.random() < 0.85 else None,
    }


# What a duplicate of each kind needs its original to have, and how it is made from it.
PERSON_NEEDS = {
    "exact_copy": ("first_name",),
    "case": ("first_name",),
    "accents": ("first_name",),
    "typo": ("first_name",),
    "email_case": ("email",),
    "phone_format": ("business_phone",),
}
NEEDS = {
    "leads": PERSON_NEEDS,
    "contacts": PERSON_NEEDS,
    "accounts": {
        "exact_copy": (),
        "case": (),
        "accents": (),
        "typo": (),
        "legal_suffix": (),
        "word_order": ("_two_words",),
        "email_case": ("email",),
        "phone_format": ("telephone",),
        "website_format": ("website",),
    },
}


def corrupt_person(original: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
    """A duplicate contact or lead linked to its original only by the corrupted field(s).

    Name corruptions leave e-mail and phone blank; e-mail and phone corruptions leave the first
    name blank (the last name stays), so that no other rule can find the pair. A lead's company
    stays: the same person writes from the same company.
    """
    duplicate = {**original, "id": _id(rng)}
    if kind == "exact_copy":
        return duplicate
    if kind in ("case", "accents", "typo"):
        duplicate["email"] = duplicate["business_phone"] = None
        change = {"case": change_case, "accents": toggle_accents, "typo": typo}[kind]
        if kind == "case":
            duplicate["first_name"] = change(original["first_name"], rng)
            duplicate["last_name"] = change(original["last_name"], rng)
        else:
            column = rng.choice(("first_name", "last_name"))
            if kind == "accents" and strip_accents(original[column]) == original[column]:
                # Prefer the name that has accents to drop: dropping is the common mistake.
                other = "last_name" if column == "first_name" else "first_name"
                if strip_accents(original[other]) != original[other]:
                    column = other
            duplicate[column] = change(original[column], rng)
        return duplicate
    duplicate["first_name"] = None
    if kind == "email_case":
        duplicate["business_phone"] = None
        duplicate["email"] = email_case(original["email"], rng)
    else:
        duplicate["email"] = None
        duplicate["business_phone"] = reformat_phone(original["business_phone"], rng)
    return duplicate


def corrupt_account(
    original: dict[str, Any], kind: str, rng: random.Random, names: NameSource, taken: set[str]
) -> dict[str, Any]:
    """A duplicate account linked to its original only by the corrupted field(s).

    Name corruptions leave e-mail, phone and website blank; the other corruptions give the
    duplicate an unrelated trading name, so that no other rule can find the pair.
    """
    duplicate = {**original, "id": _id(rng)}
    if kind == "exact_copy":
        return duplicate
    name_kinds: dict[str, Callable[[str, random.Random], str]] = {
        "case": change_case,
        "accents": toggle_accents,
        "typo": typo,
        "legal_suffix": change_legal_suffix,
        "word_order": swap_words,
    }
    if kind in name_kinds:
        duplicate["email"] = duplicate["telephone"] = duplicate["website"] = None
        name = original["name"]
        if kind in ("accents", "typo"):
            core, form = split_legal_form(name)  # the corruption falls on the name, not on its legal form
            name = f"{name_kinds[kind](core, rng)} {form}" if form else name_kinds[kind](core, rng)
        else:
            name = name_kinds[kind](name, rng)
        duplicate["name"] = name
        return duplicate
    duplicate["name"] = original_account(rng, names, taken)["name"]
    for column in ("email", "telephone", "website"):
        duplicate[column] = None
    if kind == "email_case":
        duplicate["email"] = email_case(original["email"], rng)
    elif kind == "phone_format":
        duplicate["telephone"] = reformat_phone(original["telephone"], rng)
    else:
        duplicate["website"] = website_variant(original["website"], rng)
    return duplicate


def _has(record: dict[str, Any], need: str) -> bool:
    if need == "_two_words":
        return len(split_legal_form(record["name"])[0].split()) >= 2
    return bool(record.get(need))


def labelled_set(*, accounts: int, contacts: int, share: float, seed: int, leads: int = 0) -> LabelledSet:
    """``accounts`` accounts, ``contacts`` contacts and ``leads`` leads, ``share`` of each table being
    duplicates of one of its originals (a table of no records is left out)."""
    rng = random.Random(seed)
    names = NameSource(rng)
    data = LabelledSet()
    taken: set[str] = set()
    account_originals: list[dict[str, Any]] = []
    for table, count, kinds in (
        ("accounts", accounts, ACCOUNT_KINDS),
        ("contacts", contacts, CONTACT_KINDS),
        ("leads", leads, LEAD_KINDS),
    ):
        if not count:
            continue
        duplicates = round(count * share)
        if table == "accounts":
            originals = account_originals = [original_account(rng, names, taken) for _ in range(count - duplicates)]
        else:
            make = original_contact if table == "contacts" else original_lead
            originals = [make(rng, names, account_originals, taken) for _ in range(count - duplicates)]
        unused = originals[:]
        rng.shuffle(unused)
        made = []
        pairs: dict[frozenset[uuid.UUID], str] = {}
        for kind in itertools.islice(itertools.cycle(kinds), duplicates):
            needs = NEEDS[table][kind]
            position = next(i for i, record in enumerate(unused) if all(_has(record, need) for need in needs))
            original = unused.pop(position)
            if table == "accounts":
                duplicate = corrupt_account(original, kind, rng, names, taken)
            else:
                duplicate = corrupt_person(original, kind, rng)
            made.append(duplicate)
            pairs[frozenset((original["id"], duplicate["id"]))] = kind
        records = originals + made
        rng.shuffle(records)
        data.rows[table] = [
            {key: value for key, value in record.items() if not key.startswith("_")} for record in records
        ]
        data.pairs[table] = pairs
    return data


# ==============================================================================================
# Rules and evaluation
# ==============================================================================================


def _rule(name: str, table: str, *conditions: tuple[str, str, float | None]) -> dict[str, Any]:
    """A rule's definition as the API takes it: conditions of (column, criterion, threshold), each column with itself."""
    return {
        "name": name,
        "base_table": table,
        "exclude_inactive": True,
        "conditions": [
            {"base_column": column, "criterion": criterion, **({"threshold": threshold} if threshold else {})}
            for column, criterion, threshold in conditions
        ],
    }


def _similar_person(name: str, table: str) -> dict[str, Any]:
    return _rule(name, table, ("first_name", "similar", 0.92), ("last_name", "similar", 0.92))


# The rules as they were before the typo-tolerant ones became out-of-box (2026-12-06), kept here to
# measure the same data against in the same run: the eight out-of-box rules a new organisation got,
# and the four rules the demo added to them (src/leadflow/demo/data/duplicate_rules.json, since removed).
BEFORE_OUT_OF_BOX: tuple[dict[str, Any], ...] = (
    _rule("Accounts with the same account name", "accounts", ("name", "normalized", None)),
    _rule("Accounts with the same email address", "accounts", ("email", "exact_match", None)),
    _rule("Accounts with the same phone number", "accounts", ("telephone", "normalized", None)),
    _rule("Accounts with the same website", "accounts", ("website", "normalized", None)),
    _rule("Contacts with the same business phone", "contacts", ("business_phone", "normalized", None)),
    _rule("Contacts with the same email address", "contacts", ("email", "exact_match", None)),
    _rule(
        "Contacts with the same first name and last name",
        "contacts",
        ("first_name", "exact_match", None),
        ("last_name", "exact_match", None),
    ),
    _rule("Leads with the same email address", "leads", ("email", "exact_match", None)),
)
BEFORE_DEMO: tuple[dict[str, Any], ...] = (
    _rule("Accounts with a similar account name", "accounts", ("name", "similar", 0.97)),
    _similar_person("Contacts with a similar first name and last name", "contacts"),
    _rule("Leads with the same business phone", "leads", ("business_phone", "normalized", None)),
    _similar_person("Leads with a similar first name and last name", "leads"),
)
OUT_OF_BOX = "out-of-box"  # the rules ensure_organisation publishes, read from the database
ROUNDS: dict[str, Callable[[], Iterable[dict[str, Any]]] | None] = {
    "before: out-of-box": lambda: BEFORE_OUT_OF_BOX,
    "before: demo": lambda: BEFORE_DEMO,
    OUT_OF_BOX: None,
}
# A demo organisation now has the out-of-box rules and no rules of its own: "new organisation" is the demo's set too.
RULE_SETS = {
    "before: new organisation": ("before: out-of-box",),
    "before: demo": ("before: out-of-box", "before: demo"),
    "new organisation": (OUT_OF_BOX,),
}
# The target of the issue: precision at least this, at a recall of at least this, on every table.
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90


def setup_database(url: str) -> tuple[Any, Any, list[uuid.UUID]]:
    """A migrated database with its organisation; its out-of-box rules, unpublished, and their ids."""
    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.duplicates.models import RuleState
    from leadflow.duplicates.rules import list_rules, unpublish_rule

    database = Database(url)
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    actor = ensure_actor(database)
    builtin = []
    with database.unit_of_work() as uow:
        for rule in list_rules(uow.session):
            if rule.is_builtin and rule.state is RuleState.PUBLISHED:
                unpublish_rule(rule.id, uow=uow, actor=actor)
                builtin.append(rule.id)
        uow.commit()
    return database, actor, builtin


def load(database: Any, actor: Any, data: LabelledSet) -> None:
    """Insert the records with Core (no codes: the rules are unpublished while loading)."""
    from leadflow.core.names import compose_full_name
    from leadflow.customers.models import Account, Contact
    from leadflow.leads.models import Lead

    owner = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }
    models = {"accounts": (Account, "active"), "contacts": (Contact, "active"), "leads": (Lead, "open")}
    with database.engine.begin() as connection:
        for table, rows in data.rows.items():
            model, state = models[table]
            named = table != "accounts"
            connection.execute(
                model.__table__.insert(),
                [
                    {
                        **row,
                        **owner,
                        "state": state,
                        **({"full_name": compose_full_name(row["first_name"], row["last_name"])} if named else {}),
                    }
                    for row in rows
                ],
            )


def create_rules(database: Any, actor: Any, definitions: Iterable[dict[str, Any]]) -> list[uuid.UUID]:
    """Create the rules (unpublished) as an administrator would, from their definitions."""
    from leadflow.core.schemas import parse
    from leadflow.duplicates.rules import RuleCreate, create_rule

    ids = []
    with database.unit_of_work() as uow:
        for definition in definitions:
            ids.append(create_rule(parse(RuleCreate, definition), uow=uow, actor=actor).id)
        uow.commit()
    return ids


def pairs_found(database: Any, rule_id: uuid.UUID, batch: int = 1000) -> tuple[str, str, set[frozenset[uuid.UUID]]]:
    """Every pair of records one published rule finds: find_matches for each record of its table."""
    from sqlalchemy import select

    from leadflow.duplicates.engine import find_matches, live_rules
    from leadflow.duplicates.tables import TABLES as DETECTION_TABLES

    found: set[frozenset[uuid.UUID]] = set()
    with database.unit_of_work(read_only=True) as uow:
        rule = next(rule for rule in live_rules(uow.session) if rule.id == rule_id)
        table = DETECTION_TABLES[rule.base_table].table
        records = [dict(row) for row in uow.session.execute(select(table).order_by(table.c.id)).mappings()]
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            for record, matches in zip(
                chunk, find_matches(uow.session, rule.base_table, chunk, rules=[rule]), strict=True
            ):
                found.update(frozenset((record["id"], match.id)) for match in matches)
    return rule.name, rule.base_table.value, found


def _rule_definitions(database: Any, rule_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    from leadflow.duplicates.rules import get_rule, rule_out

    with database.unit_of_work(read_only=True) as uow:
        return {rule_id: rule_out(get_rule(uow.session, rule_id)) for rule_id in rule_ids}


def evaluate(url: str, data: LabelledSet, log: Callable[[str], None]) -> dict[str, Any]:
    from leadflow.duplicates.rules import publish_rule, unpublish_rule

    database, actor, builtin = setup_database(url)
    load(database, actor, data)
    per_rule: list[dict[str, Any]] = []
    for round_name, definitions in ROUNDS.items():
        rule_ids = builtin if definitions is None else create_rules(database, actor, definitions())
        described = _rule_definitions(database, rule_ids)
        for rule_id in rule_ids:
            publish_rule(rule_id, database=database, actor=actor)
        for rule_id in rule_ids:
            if described[rule_id]["base_table"] not in data.rows:
                continue
            started = time.perf_counter()
            name, table, found = pairs_found(database, rule_id)
            seconds = time.perf_counter() - started
            per_rule.append(
                {
                    "round": round_name,
                    "rule": name,
                    "table": table,
                    "definition": described[rule_id],
                    "pairs": found,
                    "seconds": seconds,
                }
            )
            log(f"{round_name}: {name}: {len(found):,} pairs ({seconds:.1f} s)")
        with database.unit_of_work() as uow:
            for rule_id in rule_ids:
                unpublish_rule(rule_id, uow=uow, actor=actor)
            uow.commit()
    database.dispose()
    return score(data, per_rule)


def _ratios(found: set, truth: set) -> dict[str, Any]:
    hits = len(found & truth)
    precision = hits / len(found) if found else None
    recall = hits / len(truth) if truth else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {
        "found": len(found),
        "true_positives": hits,
        "false_positives": len(found) - hits,
        "missed": len(truth) - hits,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "meets_target": bool(precision and recall and precision >= TARGET_PRECISION and recall >= TARGET_RECALL),
    }


def score(data: LabelledSet, per_rule: list[dict[str, Any]]) -> dict[str, Any]:
    rows_by_id = {row["id"]: row for rows in data.rows.values() for row in rows}
    result: dict[str, Any] = {"rule_sets": {}, "rules": [], "truth": {}}
    for table, pairs in data.pairs.items():
        result["truth"][table] = {
            "records": len(data.rows[table]),
            "originals": len(data.rows[table]) - len(pairs),
            "pairs": len(pairs),
            "duplicate_share": len(pairs) / len(data.rows[table]),
            "by_kind": dict(Counter(pairs.values())),
        }
    for entry in per_rule:
        truth = set(data.pairs[entry["table"]])
        result["rules"].append(
            {
                "round": entry["round"],
                "rule": entry["rule"],
                "table": entry["table"],
                "definition": entry["definition"],
                "seconds": entry["seconds"],
                **_ratios(entry["pairs"], truth),
            }
        )
    for set_name, rounds in RULE_SETS.items():
        result["rule_sets"][set_name] = {}
        for table, truth_kinds in data.pairs.items():
            entries = [entry for entry in per_rule if entry["round"] in rounds and entry["table"] == table]
            found = set().union(*(entry["pairs"] for entry in entries))
            truth = set(truth_kinds)
            by_kind = {}
            for kind in dict.fromkeys(truth_kinds.values()):
                of_kind = {pair for pair, made_by in truth_kinds.items() if made_by == kind}
                hits = len(of_kind & found)
                by_kind[kind] = {"pairs": len(of_kind), "found": hits, "recall": hits / len(of_kind)}
            misses = sorted(truth - found, key=lambda p: sorted(map(str, p)))
            examples: dict[str, list[list[str]]] = {}
            for pair in misses:
                if len(examples.setdefault(truth_kinds[pair], [])) < 3:
                    examples[truth_kinds[pair]].append([_describe(rows_by_id[record_id], table) for record_id in pair])
            false = sorted(found - truth, key=lambda p: sorted(map(str, p)))
            result["rule_sets"][set_name][table] = {
                **_ratios(found, truth),
                "rules": [entry["rule"] for entry in entries],
                "by_kind": by_kind,
                "missed_why": _why_missed(entries, misses, truth_kinds, rows_by_id),
                "missed_examples": examples,
                "false_positive_examples": [[_describe(rows_by_id[i], table) for i in pair] for pair in false[:8]],
            }
    return result


def _why_missed(
    entries: list[dict[str, Any]],
    misses: list[frozenset[uuid.UUID]],
    kinds: dict[frozenset[uuid.UUID], str],
    rows_by_id: dict[uuid.UUID, dict[str, Any]],
) -> dict[str, dict[str, int]]:
    """Per corruption, why the set's first rule with a ``similar`` condition missed a pair: a blank
    value, different blocking keys, or a score under the threshold."""
    from leadflow.core.names import compose_full_name
    from leadflow.duplicates import Condition, is_match, rule_match_code

    definition = next(
        (e["definition"] for e in entries if any(c["criterion"] == "similar" for c in e["definition"]["conditions"])),
        None,
    )
    if definition is None:
        return {}
    conditions = [
        Condition(
            c["base_column"],
            c["matching_column"],
            c["criterion"],
            n=c["n"],
            threshold=c["threshold"],
            ignore_blank=c["ignore_blank"],
        )
        for c in definition["conditions"]
    ]
    why: dict[str, dict[str, int]] = {}
    for pair in misses:
        first, second = (dict(rows_by_id[record_id]) for record_id in pair)
        for record in (first, second):
            if "last_name" in record:
                record["full_name"] = compose_full_name(record["first_name"], record["last_name"])
        codes = [rule_match_code(conditions, record) for record in (first, second)]
        if None in codes:
            reason = "blank"
        elif codes[0] != codes[1]:
            reason = "blocking key differs"
        else:
            reason = "score under threshold" if not is_match(conditions, first, second)[0] else "found by no rule"
        counts = why.setdefault(kinds[pair], {})
        counts[reason] = counts.get(reason, 0) + 1
    return why


def _describe(row: dict[str, Any], table: str) -> str:
    columns = (
        ("name", "email", "telephone", "website")
        if table == "accounts"
        else ("first_name", "last_name", "email", "business_phone")
    )
    return " | ".join(str(row.get(column) or "-") for column in columns)


# ==============================================================================================
# Report
# ==============================================================================================


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def report(results: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    truth = results["scores"]["truth"]
    options = results["options"]
    locales = ", ".join(f"{locale} {share:.0%}" for locale, share in LOCALES.items())
    console.print(
        f"Names from Faker {results['environment'].get('faker', '?')} ({locales}; {len(FIRST_NAMES):,} first names, "
        f"{len(LAST_NAMES):,} surnames); seed {options['seed']}. Originals are distinct: no two share a name once normalised."
    )
    for table in TABLES:
        if table in truth:
            t = truth[table]
            console.print(
                f"{table}: {t['records']:,} records = {t['originals']:,} originals + {t['pairs']:,} labelled duplicates "
                f"({t['duplicate_share']:.1%}), one per original, {t['pairs'] // len(t['by_kind']):,} or so per kind of corruption"
            )
    sets = results["scores"]["rule_sets"]
    overall = Table(
        title=f"Precision and recall per rule set (target: precision ≥ {TARGET_PRECISION:.0%} at recall ≥ {TARGET_RECALL:.0%})"
    )
    for name in (
        "rule set",
        "table",
        "rules",
        "pairs found",
        "true",
        "false",
        "missed",
        "precision",
        "recall",
        "F1",
        "target",
    ):
        overall.add_column(name, justify="left" if name in ("rule set", "table") else "right")
    for set_name, tables in sets.items():
        for table in TABLES:
            if table in tables:
                r = tables[table]
                overall.add_row(
                    set_name,
                    table,
                    str(len(r["rules"])),
                    f"{r['found']:,}",
                    f"{r['true_positives']:,}",
                    f"{r['false_positives']:,}",
                    f"{r['missed']:,}",
                    _pct(r["precision"]),
                    _pct(r["recall"]),
                    _pct(r["f1"]),
                    "met" if r["meets_target"] else "missed",
                )
    console.print(overall)
    for table in TABLES:
        if table not in truth:
            continue
        by_kind = Table(title=f"Recall by corruption, {table}")
        by_kind.add_column("corruption")
        by_kind.add_column("pairs", justify="right")
        for set_name in sets:
            by_kind.add_column(set_name, justify="right")
        for kind, first in next(iter(sets.values()))[table]["by_kind"].items():
            by_kind.add_row(
                KIND_LABELS[kind],
                f"{first['pairs']:,}",
                *(_pct(sets[set_name][table]["by_kind"][kind]["recall"]) for set_name in sets),
            )
        console.print(by_kind)
    rules = Table(title="Per rule")
    for name in ("round", "rule", "pairs found", "true", "false", "precision", "recall", "seconds"):
        rules.add_column(name, justify="left" if name in ("round", "rule") else "right")
    for r in results["scores"]["rules"]:
        rules.add_row(
            r["round"],
            r["rule"],
            f"{r['found']:,}",
            f"{r['true_positives']:,}",
            f"{r['false_positives']:,}",
            _pct(r["precision"]),
            _pct(r["recall"]),
            f"{r['seconds']:.1f}",
        )
    console.print(rules)
    why = Table(title="Why a new organisation's rules miss pairs: the similar rule's blocking keys, or its score")
    for name in ("table", "corruption", "missed", "blocking key differs", "score under threshold", "blank", "other"):
        why.add_column(name, justify="left" if name in ("table", "corruption") else "right")
    for table, r in sets["new organisation"].items():
        for kind, reasons in r["missed_why"].items():
            known = ("blocking key differs", "score under threshold", "blank")
            why.add_row(
                table,
                KIND_LABELS[kind],
                f"{sum(reasons.values()):,}",
                *(f"{reasons.get(reason, 0):,}" for reason in known),
                f"{sum(n for reason, n in reasons.items() if reason not in known):,}",
            )
    console.print(why)
    for set_name in ("before: demo", "new organisation"):
        for table, r in sets[set_name].items():
            for pair in r["false_positive_examples"][:4]:
                console.print(f"false positive of {set_name!r}, {table}: {pair[0]}  <->  {pair[1]}")
    for table, r in sets["new organisation"].items():
        for kind, examples in r["missed_examples"].items():
            for pair in examples[:2]:
                console.print(f"missed by 'new organisation', {table}, {kind}: {pair[0]}  <->  {pair[1]}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Precision and recall of the built-in duplicate detection rules on labelled data (SQLite)."
    )
    parser.add_argument("--accounts", type=int, default=10000, help="accounts, duplicates included (default 10000)")
    parser.add_argument("--contacts", type=int, default=20000, help="contacts, duplicates included (default 20000)")
    parser.add_argument("--leads", type=int, default=20000, help="leads, duplicates included (default 20000)")
    parser.add_argument(
        "--duplicate-share",
        type=float,
        default=0.2,
        help="share of each table's records that duplicate an original (default 0.2)",
    )
    parser.add_argument("--seed", type=int, default=20261128, help="seed of the generated records")
    parser.add_argument("--label", help="a name for the code under test, stored with the results")
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="where to write the JSON results (default bench/results/precision-recall-<time>.json)",
    )
    parser.add_argument("--no-json", action="store_true", help="do not write JSON results")
    args = parser.parse_args(argv)
    if not 0 < args.duplicate_share <= 0.5 or min(args.accounts, args.contacts, args.leads) < 20:
        parser.error("--duplicate-share must be in (0, 0.5]; --accounts, --contacts and --leads at least 20")
    args.postgres_url = None
    return args


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    from rich.console import Console

    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    started = time.perf_counter()
    env = environment(args, ["sqlite"])
    env["faker"] = version("faker")
    data = labelled_set(
        accounts=args.accounts, contacts=args.contacts, leads=args.leads, share=args.duplicate_share, seed=args.seed
    )
    console.log(
        f"generated {args.accounts:,} accounts, {args.contacts:,} contacts and {args.leads:,} leads "
        f"in {time.perf_counter() - started:.1f} s"
    )
    directory = Path(tempfile.mkdtemp(prefix="leadflow_bench_"))
    try:
        scores = evaluate(f"sqlite:///{directory / 'precision.db'}", data, console.log)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    results = {
        "environment": env,
        "options": {k: v for k, v in vars(args).items() if k != "postgres_url"},
        "seconds": time.perf_counter() - started,
        "scores": scores,
    }
    results["environment"]["load_average_at_end"] = os.getloadavg()
    report(results, console)
    if not args.no_json:
        path = (
            Path(args.json) if args.json else RESULTS_DIR / f"precision-recall-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        console.print(f"Results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
