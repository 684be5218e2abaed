"""Match keys and rule match codes: equal for duplicates, different otherwise, None when blank."""

import enum
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from rapidfuzz.distance import JaroWinkler

from leadflow.duplicates import (
    Condition,
    Criterion,
    InvalidCondition,
    blocking_key,
    is_match,
    match_key,
    rule_match_code,
    similarity,
)
from leadflow.duplicates.matchcodes import name_similarity, word_similarity

EMAIL = Condition("email", "email", Criterion.EXACT)
PHONE = Condition("telephone", "business_phone", Criterion.NORMALIZED)
FIRST_NAME = Condition("first_name", "first_name", Criterion.EXACT, ignore_blank=False)
LAST_NAME = Condition("last_name", "last_name", Criterion.EXACT)
FULL_NAME = Condition("full_name", "full_name", Criterion.SIMILAR, threshold=0.9)
COMPANY = Condition("company_name", "name", Criterion.SIMILAR, threshold=0.9)
LAST_NAME_SIMILAR = Condition("last_name", "last_name", Criterion.SIMILAR, threshold=0.92)


class Rating(enum.StrEnum):
    HOT = "hot"
    WARM = "warm"


# match_key


def test_exact_match_is_case_insensitive_unless_the_rule_is_case_sensitive():
    assert match_key(EMAIL, " Maria@Example.com ") == match_key(EMAIL, "maria@example.COM")
    assert match_key(EMAIL, "Maria@Example.com", case_sensitive=True) == "Maria@Example.com"
    assert match_key(EMAIL, "Maria@Example.com", case_sensitive=True) != match_key(
        EMAIL, "maria@example.com", case_sensitive=True
    )


def test_exact_match_treats_canonically_equal_unicode_as_equal():
    assert match_key(LAST_NAME, "Garci\u0301a") == match_key(LAST_NAME, "García")


def test_exact_match_keeps_accents():
    assert match_key(LAST_NAME, "García") != match_key(LAST_NAME, "Garcia")


def test_same_first_characters_compares_the_first_n():
    condition = Condition("last_name", "last_name", Criterion.SAME_FIRST_CHARACTERS, n=4)
    assert match_key(condition, "Fernández") == "fern"
    assert match_key(condition, "FERNANDO") == "fern"
    assert match_key(condition, "Fer") == "fer"
    assert match_key(condition, "Fernández", case_sensitive=True) == "Fern"


def test_same_last_characters_compares_the_last_n():
    condition = Condition("telephone", "business_phone", Criterion.SAME_LAST_CHARACTERS, n=6)
    assert match_key(condition, "+34 910 123 456") == "23 456"
    assert match_key(condition, "0034 91 0123456") != match_key(condition, "+34 910 123 456")
    assert match_key(Condition("email", "email", Criterion.SAME_LAST_CHARACTERS, n=9), "A@ACME.COM") == "@acme.com"


def test_same_date_compares_the_utc_calendar_date():
    condition = Condition("created_on", "created_on", Criterion.SAME_DATE)
    assert match_key(condition, date(2024, 3, 5)) == "2024-03-05"
    assert match_key(condition, datetime(2024, 3, 5, 23, 30, tzinfo=UTC)) == "2024-03-05"
    madrid = timezone(timedelta(hours=1))
    assert match_key(condition, datetime(2024, 3, 6, 0, 30, tzinfo=madrid)) == "2024-03-05"
    assert match_key(condition, "2024-03-05") == "2024-03-05"
    assert match_key(condition, "2024-03-05T10:00:00+00:00") == "2024-03-05"


def test_same_date_and_time_compares_to_the_minute_in_utc():
    condition = Condition("created_on", "created_on", Criterion.SAME_DATE_AND_TIME)
    madrid = timezone(timedelta(hours=2))
    assert match_key(condition, datetime(2024, 6, 1, 12, 30, 59, tzinfo=madrid)) == "2024-06-01T10:30Z"
    assert match_key(condition, datetime(2024, 6, 1, 10, 30, 1, tzinfo=UTC)) == "2024-06-01T10:30Z"
    assert match_key(condition, datetime(2024, 6, 1, 10, 30)) == "2024-06-01T10:30Z"
    assert match_key(condition, date(2024, 6, 1)) == "2024-06-01T00:00Z"
    assert match_key(condition, datetime(2024, 6, 1, 10, 31, tzinfo=UTC)) != "2024-06-01T10:30Z"


def test_a_date_criterion_refuses_a_value_that_is_not_a_date():
    with pytest.raises(ValueError, match="not an ISO 8601"):
        match_key(Condition("created_on", "created_on", Criterion.SAME_DATE), "next tuesday")


def test_exact_picklist_compares_the_stored_value():
    condition = Condition("rating", "rating", Criterion.EXACT_PICKLIST)
    assert match_key(condition, Rating.HOT) == "hot"
    assert match_key(condition, "hot") == match_key(condition, Rating.HOT)
    assert match_key(condition, 3) == "3"
    assert match_key(condition, True) == "true"


def test_normalized_uses_the_columns_normaliser_on_both_sides():
    assert match_key(PHONE, "(0034) 91-000-0000") == match_key(PHONE, "+34 910 000 000") == "+34910000000"
    company = Condition("company_name", "name", Criterion.NORMALIZED)
    assert match_key(company, "Acme, S.L.") == match_key(company, "ACME SL") == "acme"


def test_normalized_phones_are_read_in_the_default_region():
    assert match_key(PHONE, "020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize("condition", [EMAIL, PHONE, FULL_NAME, LAST_NAME])
@pytest.mark.parametrize("blank", [None, "", "  "])
def test_blank_values_have_no_key(condition, blank):
    assert match_key(condition, blank) is None


# blocking keys for "similar"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Jonathan Smith", "Jonathon Smith"),
        ("Jonathan Smith", "Jonathan Smyth"),
        ("José García", "Jose Garsia"),
        ("Katherine Jones", "Catherine Jones"),
        ("Phillip Brown", "Philip Browne"),
    ],
)
def test_typo_pairs_share_a_blocking_key(a, b):
    assert match_key(FULL_NAME, a) == match_key(FULL_NAME, b)


def test_different_people_get_different_blocking_keys():
    assert match_key(FULL_NAME, "Jonathan Smith") != match_key(FULL_NAME, "Maria Lopez")


def test_the_blocking_key_is_the_phonetic_first_word_and_initial_of_the_last():
    assert match_key(FULL_NAME, "Jonathan Smith") == "JN0N|s"
    assert blocking_key("madonna") == "MTN|m"
    assert blocking_key("123 gh") == "123|g"
    assert blocking_key(None) is None


def test_company_blocking_keys_ignore_legal_forms():
    assert match_key(COMPANY, "Acme Iberia, S.L.") == match_key(COMPANY, "ACME Iberia Ltd")


def test_company_blocking_keys_ignore_word_order_and_personal_ones_do_not():
    assert match_key(COMPANY, "Velantis Logística S.L.") == match_key(COMPANY, "Logística Velantis") == "LJSTK|v"
    assert blocking_key("velantis logistica", any_order=True) == blocking_key("logistica velantis", any_order=True)
    assert match_key(FULL_NAME, "Pablo Navarro") != match_key(FULL_NAME, "Navarro Pablo")
    # Names sharing their common words still fall into different blocks.
    assert match_key(COMPANY, "Transportes Rosa y asociados") == "ASXTS|rty"
    assert match_key(COMPANY, "Transportes Rosa y asociados") != match_key(COMPANY, "Transportes Piñeiro y asociados")


def test_surnames_that_sound_different_get_different_blocking_keys():
    assert match_key(LAST_NAME_SIMILAR, "Navarro") != match_key(LAST_NAME_SIMILAR, "Navarrete")
    assert match_key(LAST_NAME_SIMILAR, "Navarro") == match_key(LAST_NAME_SIMILAR, "Navaro")


# similarity and is_match


def test_a_typo_in_a_name_scores_over_point_nine():
    assert similarity(FULL_NAME, "Jonathan Smith", "Jonathon Smith") > 0.9


def test_different_names_score_under_the_threshold():
    assert similarity(FULL_NAME, "Jonathan Smith", "Maria Lopez") < FULL_NAME.effective_threshold


def test_names_differing_only_in_accents_case_and_punctuation_score_one():
    assert similarity(FULL_NAME, "José O'Brien", "JOSE OBRIEN") == 1.0


def test_company_names_are_compared_word_by_word_in_any_order():
    assert similarity(COMPANY, "Acme Iberia, S.L.", "Iberia Acme") == 1.0
    assert 0.9 < similarity(COMPANY, "Velantis Logística", "Logística Velamtis") < 1.0
    assert similarity(COMPANY, "Acme Iberia", "Zenith Motors") < 0.5
    # A word more or less is another company, however long the shared words.
    assert similarity(COMPANY, "Rijokor Retail", "Rijokor") == 0.0
    assert similarity(COMPANY, "Transportes Rosa y asociados", "Transportes Piñeiro y asociados") < 0.6


def test_a_word_with_a_digit_matches_only_itself():
    assert similarity(COMPANY, "Muebles Ibéricos 12 S.L.", "Muebles Ibéricos 13 S.L.") == 0.0
    assert similarity(FULL_NAME, "Ana García 12345", "Ana García 12346") == 0.0
    assert similarity(FULL_NAME, "Ana García 12345", "ana garcia 12345") == 1.0
    assert word_similarity("12345", "12346") == 0.0


def test_person_names_score_as_their_least_alike_pair_of_words():
    # As whole strings the shared first name lifts them to 0.945; word by word it is Navarrete against Navarro.
    assert similarity(FULL_NAME, "Pablo Navarrete", "Pablo Navarro") == pytest.approx(
        JaroWinkler.normalized_similarity("navarrete", "navarro")
    )
    assert similarity(FULL_NAME, "Pablo Navarrete", "Pablo Navarro") < 0.92
    assert similarity(LAST_NAME_SIMILAR, "Gil Navarrete", "Gil Navarro") < 0.92
    assert similarity(LAST_NAME_SIMILAR, "García López", "García Lozano") < 0.8
    assert similarity(LAST_NAME_SIMILAR, "Fernández Ruiz", "Fernandes Ruiz") > 0.95


def test_person_names_are_compared_in_their_order_and_need_as_many_words():
    assert similarity(FULL_NAME, "Pablo Navarro", "Navarro Pablo") < 0.6
    assert similarity(LAST_NAME_SIMILAR, "Fernández Ruiz", "Fernández") == 0.0
    assert name_similarity("ana maria", "ana maria lopez") == 0.0
    assert name_similarity("", "") == 0.0


def test_a_blank_value_scores_zero():
    assert similarity(FULL_NAME, "Jonathan Smith", "  ") == 0.0


def test_similarity_refuses_conditions_that_are_not_similar():
    with pytest.raises(ValueError, match="similar"):
        similarity(EMAIL, "a@b.com", "a@b.com")


def test_is_match_ands_the_conditions_and_reports_the_lowest_score():
    conditions = [EMAIL, FULL_NAME]
    base = {"email": "JS@acme.com", "full_name": "Jonathan Smith"}
    assert is_match(conditions, base, {"email": "js@ACME.com", "full_name": "Jonathan Smith"}) == (True, 1.0)
    holds, score = is_match(conditions, base, {"email": "js@acme.com", "full_name": "Jonathon Smith"})
    assert holds and 0.9 < score < 1.0
    holds, score = is_match(conditions, base, {"email": "other@acme.com", "full_name": "Jonathon Smith"})
    assert not holds and score == 0.0
    holds, score = is_match(conditions, base, {"email": "js@acme.com", "full_name": "Maria Lopez"})
    assert not holds and score < 0.9


def test_is_match_reads_the_base_and_matching_columns():
    holds, _ = is_match([PHONE], {"telephone": "910 000 000"}, {"business_phone": "+34 910 000 000"})
    assert holds


def test_is_match_honours_case_sensitivity():
    base, candidate = {"email": "JS@acme.com"}, {"email": "js@acme.com"}
    assert is_match([EMAIL], base, candidate)[0]
    assert not is_match([EMAIL], base, candidate, case_sensitive=True)[0]


def test_is_match_ignores_blanks_unless_told_not_to():
    conditions = [FIRST_NAME, LAST_NAME]
    assert is_match(conditions, {"first_name": None, "last_name": "Ruiz"}, {"first_name": "", "last_name": "RUIZ"})[0]
    assert not is_match(
        conditions, {"first_name": None, "last_name": "Ruiz"}, {"first_name": "Ana", "last_name": "Ruiz"}
    )[0]
    assert not is_match(conditions, {"first_name": "Ana", "last_name": ""}, {"first_name": "Ana", "last_name": ""})[0]


def test_a_one_condition_rule_never_matches_blanks():
    never_ignores = Condition("email", "email", Criterion.EXACT, ignore_blank=False)
    assert is_match([never_ignores], {"email": None}, {"email": ""}) == (False, 0.0)


# rule_match_code

CONTACT_RULE = [FIRST_NAME, LAST_NAME]


def test_a_match_code_is_a_40_character_sha1_hex_digest():
    code = rule_match_code([EMAIL], {"email": "a@b.com"})
    assert code is not None and len(code) == 40
    int(code, 16)


def test_duplicates_share_a_match_code():
    assert rule_match_code([EMAIL], {"email": " Ana@Example.com"}) == rule_match_code(
        [EMAIL], {"email": "ana@example.com "}
    )
    assert rule_match_code(CONTACT_RULE, {"first_name": "Ana", "last_name": "Ruiz"}) == rule_match_code(
        CONTACT_RULE, {"first_name": "ANA", "last_name": "ruiz", "email": "unrelated@x.com"}
    )


def test_different_records_get_different_match_codes():
    assert rule_match_code([EMAIL], {"email": "ana@example.com"}) != rule_match_code(
        [EMAIL], {"email": "eva@example.com"}
    )
    assert rule_match_code(CONTACT_RULE, {"first_name": "Ana", "last_name": "Ruiz"}) != rule_match_code(
        CONTACT_RULE, {"first_name": "Ana", "last_name": "Ruiz Gil"}
    )


def test_the_encoding_of_several_keys_is_unambiguous():
    rule = [
        Condition("first_name", "first_name", Criterion.EXACT),
        Condition("last_name", "last_name", Criterion.EXACT),
    ]
    assert rule_match_code(rule, {"first_name": "a|b", "last_name": "c"}) != rule_match_code(
        rule, {"first_name": "a", "last_name": "b|c"}
    )
    assert rule_match_code(rule, {"first_name": "ab", "last_name": "c"}) != rule_match_code(
        rule, {"first_name": "a", "last_name": "bc"}
    )


def test_case_sensitive_rules_tell_case_apart():
    upper, lower = {"email": "ANA@EXAMPLE.COM"}, {"email": "ana@example.com"}
    assert rule_match_code([EMAIL], upper) == rule_match_code([EMAIL], lower)
    assert rule_match_code([EMAIL], upper, case_sensitive=True) != rule_match_code([EMAIL], lower, case_sensitive=True)


def test_a_blank_value_in_a_condition_that_ignores_blanks_gives_no_match_code():
    assert rule_match_code(CONTACT_RULE, {"first_name": "Ana", "last_name": "  "}) is None


def test_a_blank_value_in_a_condition_that_keeps_blanks_takes_part_as_blank():
    no_first = rule_match_code(CONTACT_RULE, {"first_name": None, "last_name": "Ruiz"})
    assert no_first is not None
    assert no_first == rule_match_code(CONTACT_RULE, {"first_name": "", "last_name": "ruiz"})
    assert no_first != rule_match_code(CONTACT_RULE, {"first_name": "Ana", "last_name": "Ruiz"})


def test_a_one_condition_rule_always_ignores_blanks_even_when_told_not_to():
    told_not_to = Condition("email", "email", Criterion.EXACT, ignore_blank=False)
    assert rule_match_code([told_not_to], {"email": None}) is None
    assert rule_match_code([told_not_to], {"email": "   "}) is None


def test_the_matching_side_reads_the_matching_columns():
    lead = rule_match_code([PHONE], {"telephone": "91 000 00 00"})
    contact = rule_match_code([PHONE], {"business_phone": "+34910000000"}, side="matching")
    assert lead == contact


def test_normalized_phones_from_different_regions_share_a_code():
    spain = rule_match_code([PHONE], {"telephone": "+44 20 7946 0958"}, default_region="ES")
    britain = rule_match_code([PHONE], {"telephone": "020 7946 0958"}, default_region="GB")
    assert spain == britain


def test_a_rule_without_conditions_is_refused():
    with pytest.raises(InvalidCondition) as raised:
        rule_match_code([], {"email": "a@b.com"})
    assert raised.value.code == "no_conditions"


def test_a_malformed_condition_is_refused_before_any_code_is_computed():
    with pytest.raises(InvalidCondition) as raised:
        rule_match_code([Condition("email", "email", Criterion.SAME_FIRST_CHARACTERS)], {"email": "a@b.com"})
    assert raised.value.code == "n_required"


def test_a_record_missing_a_rule_column_is_an_error_not_a_blank():
    with pytest.raises(KeyError, match="email"):
        rule_match_code([EMAIL], {"emailaddress1": "a@b.com"})
