#!/usr/bin/env python
"""Precision and recall of duplicate detection rules on a labelled data set with realistic corruptions.

Run from the repository root:

    python bench/precision_recall.py                         # 20,000 contacts and 10,000 accounts
    python bench/precision_recall.py --contacts 4000 --accounts 2000

It generates original accounts and contacts (seeded), then duplicates of some of them, each
made by one kind of corruption (a typo, accents dropped or added, a case change, a legal form
added, removed or changed, the words of a company name swapped, a phone number in another
format, an e-mail address in other capitals, a website written another way, or an exact copy).
The known pairs (original, duplicate) are the truth. Three rule sets are measured on SQLite:

(a) the out-of-box rules (exact match);
(b) (a) plus ``normalized`` rules on e-mail, phone, name and company name (and website);
(c) (b) plus ``similar`` rules: contacts' first and last name, accounts' name, threshold 0.9.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from duplicates import (
    BRAND_SYLLABLES,
    COMPANY_CORES,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    MAIL_BOXES,
    ascii_slug,
)
from qualify import RESULTS_DIR, ensure_actor, environment

CONTACT_KINDS = ("exact_copy", "case", "accents", "typo", "email_case", "phone_format")
ACCOUNT_KINDS = (
    "exact_copy", "case", "accents", "typo", "legal_suffix", "word_order", "email_case", "phone_format",
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
# Regions of the generated phone numbers: mostly Spain, as the organisation's default region (ES) assumes.
PHONE_REGIONS = ("ES",) * 7 + ("DE", "FR", "IT", "GB", "NL", "US", "MX", "PT")
TLDS = {"ES": "es", "DE": "de", "FR": "fr", "IT": "it", "GB": "co.uk", "NL": "nl", "US": "com", "MX": "com.mx", "PT": "pt"}
SIMILAR_THRESHOLD = 0.9
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
ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "n": "ñ"}


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
        f"https://www.{host}", f"http://{host}", f"www.{host}", host, f"https://{host}/", f"WWW.{host.upper()}",
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

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"accounts": [], "contacts": []})
    pairs: dict[str, dict[frozenset[uuid.UUID], str]] = field(default_factory=lambda: {"accounts": {}, "contacts": {}})


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


def original_account(rng: random.Random, taken: set[str]) -> dict[str, Any]:
    syllables = 2 if rng.random() < 0.15 else 3
    brand = "".join(rng.choice(BRAND_SYLLABLES) for _ in range(syllables)).capitalize()
    core = rng.choice(COMPANY_CORES) if rng.random() < 0.75 else None
    form = rng.choice(COMPANY_SUFFIXES) if rng.random() < 0.85 else None
    region = rng.choice(PHONE_REGIONS)
    domain = _unique(f"{ascii_slug(brand + (core or ''))}.{TLDS[region]}", taken)
    return {
        "id": _id(rng),
        "name": " ".join(part for part in (brand, core, form) if part),
        "website": (f"https://www.{domain}" if rng.random() < 0.7 else f"www.{domain}") if rng.random() < 0.8 else None,
        "email": f"{rng.choice(MAIL_BOXES)}@{domain}" if rng.random() < 0.7 else None,
        "telephone": stored_phone(rng, region) if rng.random() < 0.85 else None,
        "_domain": domain,
    }


def original_contact(rng: random.Random, domains: list[str], taken: set[str]) -> dict[str, Any]:
    first = rng.choice(FIRST_NAMES) if rng.random() < 0.95 else None
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.6:  # two surnames, as in Spain
        last = f"{last} {rng.choice(LAST_NAMES)}"
    local = ".".join(ascii_slug(part) for part in (first, last) if part)
    return {
        "id": _id(rng),
        "first_name": first,
        "last_name": last,
        "email": _unique(f"{local}@{rng.choice(domains)}", taken) if rng.random() < 0.9 else None,
        "business_phone": stored_phone(rng) if rng.random() < 0.85 else None,
    }


# What a duplicate of each kind needs its original to have, and how it is made from it.
NEEDS = {
    "contacts": {
        "exact_copy": ("first_name",), "case": ("first_name",), "accents": ("first_name",), "typo": ("first_name",),
        "email_case": ("email",), "phone_format": ("business_phone",),
    },
    "accounts": {
        "exact_copy": (), "case": (), "accents": (), "typo": (), "legal_suffix": (), "word_order": ("_two_words",),
        "email_case": ("email",), "phone_format": ("telephone",), "website_format": ("website",),
    },
}


def corrupt_contact(original: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
    """A duplicate contact linked to its original only by the corrupted field(s).

    Name corruptions leave e-mail and phone blank; e-mail and phone corruptions leave the first
    name blank (the last name stays), so that no other rule can find the pair.
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


def corrupt_account(original: dict[str, Any], kind: str, rng: random.Random, taken: set[str]) -> dict[str, Any]:
    """A duplicate account linked to its original only by the corrupted field(s).

    Name corruptions leave e-mail, phone and website blank; the other corruptions give the
    duplicate an unrelated trading name, so that no other rule can find the pair.
    """
    duplicate = {**original, "id": _id(rng)}
    if kind == "exact_copy":
        return duplicate
    name_kinds: dict[str, Callable[[str, random.Random], str]] = {
        "case": change_case, "accents": toggle_accents, "typo": typo, "legal_suffix": change_legal_suffix,
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
    duplicate["name"] = original_account(rng, taken)["name"]
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


def labelled_set(*, accounts: int, contacts: int, share: float, seed: int) -> LabelledSet:
    """``accounts`` accounts and ``contacts`` contacts, ``share`` of each being duplicates of an original."""
    rng = random.Random(seed)
    data = LabelledSet()
    taken: set[str] = set()
    for table, count, kinds in (("accounts", accounts, ACCOUNT_KINDS), ("contacts", contacts, CONTACT_KINDS)):
        duplicates = round(count * share)
        if table == "accounts":
            originals = [original_account(rng, taken) for _ in range(count - duplicates)]
            domains = [record["_domain"] for record in originals]
        else:
            originals = [original_contact(rng, domains, taken) for _ in range(count - duplicates)]
        unused = originals[:]
        rng.shuffle(unused)
        made = []
        for kind in itertools.islice(itertools.cycle(kinds), duplicates):
            needs = NEEDS[table][kind]
            position = next(i for i, record in enumerate(unused) if all(_has(record, need) for need in needs))
            original = unused.pop(position)
            if table == "accounts":
                duplicate = corrupt_account(original, kind, rng, taken)
            else:
                duplicate = corrupt_contact(original, kind, rng)
            made.append(duplicate)
            data.pairs[table][frozenset((original["id"], duplicate["id"]))] = kind
        records = originals + made
        rng.shuffle(records)
        data.rows[table] = [{key: value for key, value in record.items() if not key.startswith("_")} for record in records]
    return data


# ==============================================================================================
# Rules and evaluation
# ==============================================================================================


@dataclass(frozen=True)
class RuleSpec:
    name: str
    table: str
    conditions: tuple[tuple[str, str], ...]  # (column, criterion)
    threshold: float | None = None


ROUNDS: dict[str, tuple[RuleSpec, ...]] = {
    "exact (out-of-box)": (),  # the out-of-box account and contact rules, as they come
    "normalized": (
        RuleSpec("Contacts with the same e-mail (normalized)", "contacts", (("email", "normalized"),)),
        RuleSpec("Contacts with the same business phone (normalized)", "contacts", (("business_phone", "normalized"),)),
        RuleSpec(
            "Contacts with the same first and last name (normalized)", "contacts",
            (("first_name", "normalized"), ("last_name", "normalized")),
        ),
        RuleSpec("Accounts with the same name (normalized)", "accounts", (("name", "normalized"),)),
        RuleSpec("Accounts with the same e-mail (normalized)", "accounts", (("email", "normalized"),)),
        RuleSpec("Accounts with the same phone (normalized)", "accounts", (("telephone", "normalized"),)),
        RuleSpec("Accounts with the same website (normalized)", "accounts", (("website", "normalized"),)),
    ),
    "similar": (
        RuleSpec(
            "Contacts with similar first and last names", "contacts",
            (("first_name", "similar"), ("last_name", "similar")), SIMILAR_THRESHOLD,
        ),
        RuleSpec("Accounts with a similar name", "accounts", (("name", "similar"),), SIMILAR_THRESHOLD),
    ),
}
RULE_SETS = {
    "(a) exact": ("exact (out-of-box)",),
    "(b) + normalized": ("exact (out-of-box)", "normalized"),
    "(c) + similar": ("exact (out-of-box)", "normalized", "similar"),
}


def setup_database(url: str) -> tuple[Any, Any, list[uuid.UUID]]:
    """A migrated database with its organisation; the out-of-box account and contact rules unpublished."""
    from leadflow.duplicates.models import DetectionTable, RuleState
    from leadflow.duplicates.rules import list_rules, unpublish_rule
    from leadflow.core.migrate import upgrade
    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.uow import Database

    database = Database(url)
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    actor = ensure_actor(database)
    builtin = []
    with database.unit_of_work() as uow:
        for rule in list_rules(uow.session):
            if rule.base_table in (DetectionTable.ACCOUNTS, DetectionTable.CONTACTS) and rule.state is RuleState.PUBLISHED:
                unpublish_rule(rule.id, uow=uow, actor=actor)
                builtin.append(rule.id)
        uow.commit()
    return database, actor, builtin


def load(database: Any, actor: Any, data: LabelledSet) -> None:
    """Insert the records with Core (no codes: the rules are unpublished while loading)."""
    from leadflow.customers.models import Account, Contact
    from leadflow.core.names import compose_full_name

    owner = {
        "owner_user_id": actor.user_id, "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id, "modified_by_id": actor.user_id,
    }
    with database.engine.begin() as connection:
        connection.execute(Account.__table__.insert(), [{**row, **owner, "state": "active"} for row in data.rows["accounts"]])
        connection.execute(
            Contact.__table__.insert(),
            [
                {**row, **owner, "state": "active", "full_name": compose_full_name(row["first_name"], row["last_name"])}
                for row in data.rows["contacts"]
            ],
        )


def create_rules(database: Any, actor: Any, specs: Iterable[RuleSpec]) -> list[uuid.UUID]:
    from leadflow.duplicates.rules import ConditionIn, RuleCreate, create_rule

    ids = []
    with database.unit_of_work() as uow:
        for spec in specs:
            rule = create_rule(
                RuleCreate(
                    name=spec.name,
                    base_table=spec.table,
                    conditions=[
                        ConditionIn(
                            base_column=column, criterion=criterion,
                            threshold=spec.threshold if criterion == "similar" else None,
                        )
                        for column, criterion in spec.conditions
                    ],
                ),
                uow=uow,
                actor=actor,
            )
            ids.append(rule.id)
        uow.commit()
    return ids


def pairs_found(database: Any, rule_id: uuid.UUID, batch: int = 1000) -> tuple[str, str, set[frozenset[uuid.UUID]]]:
    """Every pair of records one published rule finds: find_matches for each record of its table."""
    from sqlalchemy import select

    from leadflow.duplicates.engine import find_matches, live_rules
    from leadflow.duplicates.tables import TABLES

    found: set[frozenset[uuid.UUID]] = set()
    with database.unit_of_work(read_only=True) as uow:
        rule = next(rule for rule in live_rules(uow.session) if rule.id == rule_id)
        table = TABLES[rule.base_table].table
        records = [dict(row) for row in uow.session.execute(select(table).order_by(table.c.id)).mappings()]
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            for record, matches in zip(chunk, find_matches(uow.session, rule.base_table, chunk, rules=[rule]), strict=True):
                found.update(frozenset((record["id"], match.id)) for match in matches)
    return rule.name, rule.base_table.value, found


def evaluate(args: argparse.Namespace, url: str, data: LabelledSet, log: Callable[[str], None]) -> dict[str, Any]:
    from leadflow.duplicates.rules import publish_rule, unpublish_rule

    database, actor, builtin = setup_database(url)
    load(database, actor, data)
    per_rule: list[dict[str, Any]] = []
    for round_name, specs in ROUNDS.items():
        rule_ids = builtin if not specs else create_rules(database, actor, specs)
        for rule_id in rule_ids:
            publish_rule(rule_id, database=database, actor=actor)
        for rule_id in rule_ids:
            started = time.perf_counter()
            name, table, found = pairs_found(database, rule_id)
            seconds = time.perf_counter() - started
            per_rule.append({"round": round_name, "rule": name, "table": table, "pairs": found, "seconds": seconds})
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
        "found": len(found), "true_positives": hits, "false_positives": len(found) - hits,
        "missed": len(truth) - hits, "precision": precision, "recall": recall, "f1": f1,
    }


def namesakes(data: LabelledSet) -> dict[str, int]:
    """Pairs of distinct originals with the same normalised name: a name rule flags them though they differ."""
    from leadflow.duplicates.normalize import normalize_company, normalize_name

    truth = {table: set(pairs) for table, pairs in data.pairs.items()}
    result = {}
    for table, key in (
        ("contacts", lambda r: (normalize_name(r["first_name"]), normalize_name(r["last_name"])) if r["first_name"] else None),
        ("accounts", lambda r: normalize_company(r["name"])),
    ):
        groups: dict[Any, list[uuid.UUID]] = {}
        for row in data.rows[table]:
            value = key(row)
            if value:
                groups.setdefault(value, []).append(row["id"])
        pairs = {frozenset(pair) for ids in groups.values() for pair in itertools.combinations(ids, 2)}
        result[table] = len(pairs - truth[table])
    return result


def score(data: LabelledSet, per_rule: list[dict[str, Any]]) -> dict[str, Any]:
    rows_by_id = {row["id"]: (table, row) for table, rows in data.rows.items() for row in rows}
    result: dict[str, Any] = {"rule_sets": {}, "rules": [], "namesake_pairs": namesakes(data), "truth": {}}
    for table, pairs in data.pairs.items():
        result["truth"][table] = {"records": len(data.rows[table]), "pairs": len(pairs), "by_kind": dict(Counter(pairs.values()))}
    for entry in per_rule:
        truth = set(data.pairs[entry["table"]])
        result["rules"].append(
            {"round": entry["round"], "rule": entry["rule"], "table": entry["table"], "seconds": entry["seconds"],
             **_ratios(entry["pairs"], truth)}
        )
    for set_name, rounds in RULE_SETS.items():
        result["rule_sets"][set_name] = {}
        for table, truth_kinds in data.pairs.items():
            found = set().union(
                *(entry["pairs"] for entry in per_rule if entry["round"] in rounds and entry["table"] == table)
            )
            truth = set(truth_kinds)
            by_kind = {}
            for kind in dict.fromkeys(truth_kinds.values()):
                of_kind = {pair for pair, made_by in truth_kinds.items() if made_by == kind}
                hits = len(of_kind & found)
                by_kind[kind] = {"pairs": len(of_kind), "found": hits, "recall": hits / len(of_kind)}
            misses = [pair for pair in truth - found]
            examples: dict[str, list[list[str]]] = {}
            for pair in sorted(misses, key=lambda p: sorted(map(str, p))):
                kind = truth_kinds[pair]
                if len(examples.setdefault(kind, [])) < 3:
                    examples[kind].append([_describe(rows_by_id[record_id][1], table) for record_id in pair])
            false = sorted(found - truth, key=lambda p: sorted(map(str, p)))
            result["rule_sets"][set_name][table] = {
                **_ratios(found, truth),
                "false_positives_with_the_same_name": sum(
                    _same_name(table, *(rows_by_id[i][1] for i in pair)) for pair in false
                ),
                "by_kind": by_kind,
                "missed_why": _why_missed(table, misses, truth_kinds, rows_by_id) if "similar" in rounds else {},
                "missed_examples": examples,
                "false_positive_examples": [[_describe(rows_by_id[i][1], table) for i in pair] for pair in false[:5]],
            }
    return result


def _same_name(table: str, first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two records carry the same name once normalised (namesakes, for distinct records)."""
    from leadflow.duplicates.normalize import normalize_company, normalize_name

    if table == "accounts":
        return normalize_company(first["name"]) == normalize_company(second["name"])
    return all(normalize_name(first[column]) == normalize_name(second[column]) for column in ("first_name", "last_name"))


def _why_missed(
    table: str, misses: list[frozenset[uuid.UUID]], kinds: dict[frozenset[uuid.UUID], str], rows_by_id: dict
) -> dict[str, dict[str, int]]:
    """Per corruption, why the similar rule missed a pair: different blocking keys, or a score under the threshold."""
    from leadflow.duplicates import Condition, is_match, rule_match_code

    spec = next(spec for spec in ROUNDS["similar"] if spec.table == table)
    conditions = [Condition(column, column, criterion, threshold=spec.threshold) for column, criterion in spec.conditions]
    why: dict[str, dict[str, int]] = {}
    for pair in misses:
        first, second = (rows_by_id[record_id][1] for record_id in pair)
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
    columns = ("name", "email", "telephone", "website") if table == "accounts" else ("first_name", "last_name", "email", "business_phone")
    return " | ".join(str(row.get(column) or "-") for column in columns)


# ==============================================================================================
# Report
# ==============================================================================================


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def report(results: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    truth = results["scores"]["truth"]
    namesake = results["scores"]["namesake_pairs"]
    for table in ("contacts", "accounts"):
        console.print(
            f"{table}: {truth[table]['records']:,} records, {truth[table]['pairs']:,} true pairs; "
            f"{namesake[table]:,} pairs of distinct originals share a normalised name"
        )
    overall = Table(title="Precision and recall per rule set")
    for name in ("rule set", "table", "pairs found", "true", "false", "missed", "precision", "recall", "F1"):
        overall.add_column(name, justify="left" if name in ("rule set", "table") else "right")
    for set_name, tables in results["scores"]["rule_sets"].items():
        for table, r in tables.items():
            overall.add_row(
                set_name, table, f"{r['found']:,}", f"{r['true_positives']:,}", f"{r['false_positives']:,}",
                f"{r['missed']:,}", _pct(r["precision"]), _pct(r["recall"]), _pct(r["f1"]),
            )
    console.print(overall)
    for table in ("contacts", "accounts"):
        by_kind = Table(title=f"Recall by corruption, {table}")
        by_kind.add_column("corruption")
        by_kind.add_column("pairs", justify="right")
        sets = results["scores"]["rule_sets"]
        for set_name in sets:
            by_kind.add_column(set_name, justify="right")
        for kind, first in sets["(a) exact"][table]["by_kind"].items():
            by_kind.add_row(
                KIND_LABELS[kind], f"{first['pairs']:,}",
                *(_pct(sets[set_name][table]["by_kind"][kind]["recall"]) for set_name in sets),
            )
        console.print(by_kind)
    rules = Table(title="Per rule")
    for name in ("round", "rule", "pairs found", "true", "false", "precision", "recall", "seconds"):
        rules.add_column(name, justify="left" if name in ("round", "rule") else "right")
    for r in results["scores"]["rules"]:
        rules.add_row(
            r["round"], r["rule"], f"{r['found']:,}", f"{r['true_positives']:,}", f"{r['false_positives']:,}",
            _pct(r["precision"]), _pct(r["recall"]), f"{r['seconds']:.1f}",
        )
    console.print(rules)
    final = results["scores"]["rule_sets"]["(c) + similar"]
    why = Table(title="Why (c) misses pairs: the similar rule's blocking keys, or its score")
    for name in ("table", "corruption", "missed", "blocking key differs", "score under threshold", "other"):
        why.add_column(name, justify="left" if name in ("table", "corruption") else "right")
    for table in ("contacts", "accounts"):
        for kind, reasons in final[table]["missed_why"].items():
            other = sum(n for reason, n in reasons.items() if reason not in ("blocking key differs", "score under threshold"))
            why.add_row(
                table, KIND_LABELS[kind], f"{sum(reasons.values()):,}", f"{reasons.get('blocking key differs', 0):,}",
                f"{reasons.get('score under threshold', 0):,}", f"{other:,}",
            )
    console.print(why)
    for set_name, tables in results["scores"]["rule_sets"].items():
        for table, r in tables.items():
            console.print(
                f"{set_name}, {table}: {r['false_positives_with_the_same_name']:,} of {r['false_positives']:,} "
                "false positives are distinct records with the same normalised name"
            )
    for table in ("contacts", "accounts"):
        for kind, examples in final[table]["missed_examples"].items():
            for pair in examples[:2]:
                console.print(f"missed by (c), {table}, {kind}: {pair[0]}  <->  {pair[1]}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Precision and recall of duplicate detection rules on labelled data (SQLite).")
    parser.add_argument("--contacts", type=int, default=20000, help="contacts, duplicates included (default 20000)")
    parser.add_argument("--accounts", type=int, default=10000, help="accounts, duplicates included (default 10000)")
    parser.add_argument("--duplicate-share", type=float, default=0.2, help="share of records that duplicate an original (default 0.2)")
    parser.add_argument("--seed", type=int, default=20261128, help="seed of the generated records")
    parser.add_argument("--label", help="a name for the code under test, stored with the results")
    parser.add_argument("--json", metavar="PATH", help="where to write the JSON results (default bench/results/precision-recall-<time>.json)")
    parser.add_argument("--no-json", action="store_true", help="do not write JSON results")
    args = parser.parse_args(argv)
    if not 0 < args.duplicate_share <= 0.5 or args.contacts < 20 or args.accounts < 20:
        parser.error("--duplicate-share must be in (0, 0.5]; --contacts and --accounts at least 20")
    args.postgres_url = None
    return args


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    started = time.perf_counter()
    env = environment(args, ["sqlite"])
    data = labelled_set(accounts=args.accounts, contacts=args.contacts, share=args.duplicate_share, seed=args.seed)
    console.log(f"generated {args.accounts:,} accounts and {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
    directory = Path(tempfile.mkdtemp(prefix="leadflow_bench_"))
    try:
        scores = evaluate(args, f"sqlite:///{directory / 'precision.db'}", data, console.log)
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
        path = Path(args.json) if args.json else RESULTS_DIR / f"precision-recall-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        console.print(f"Results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
