"""The decision-validity matrix: finding level × penalty × signing official × employee type ×
rule set. Each row is valid, or names the rule (and its article) that refuses it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.sanctions.domain.decision import DecisionRequest, decide
from services.sanctions.domain.rules import RuleBook
from shared.refusals import RuleViolation, RuleViolations
from tests.unit.sanctions.support import (
    BOOK,
    CALENDAR,
    JPT_MADYA_2,
    JPT_PRATAMA_1,
    PPK_KAB,
    PPK_KAB_PTDH,
    PPK_KODE_ETIK,
    PPK_PROV,
    PPK_PROV_LIMITED,
    PPK_PROV_NARROWED,
    PRESIDEN_B3,
    PRESIDEN_NARROWED,
    Story,
    referral,
)

NOW = datetime(2024, 12, 10, 3, 0, tzinfo=UTC)
PP94, PP53 = "sanctions-pp94-2021.1", "sanctions-pp53-2010.1"
OK = None

# (finding level, category, penalty, signer, authorities, employee type, incident date, repeat,
#  expected: None when valid, else the rule id that refuses it)
MATRIX: list[tuple[Any, ...]] = [
    # PP 94/2021, PNS
    ("BERAT", "DISIPLIN", "B2", PPK_KAB, None, "PNS", "2024-10-12", False, OK),
    ("BERAT", "DISIPLIN", "B1", PPK_KAB, None, "PNS", "2024-10-12", False, OK),
    ("BERAT", "DISIPLIN", "B3", PPK_KAB, None, "CPNS", "2024-10-12", False, OK),
    (
        "BERAT",
        "DISIPLIN",
        "S2L",
        PPK_KAB,
        None,
        "PNS",
        "2024-10-12",
        False,
        "PENALTY_NOT_LIGHTER_THAN_FINDING",
    ),
    (
        "BERAT",
        "DISIPLIN",
        "R1",
        PPK_KAB,
        None,
        "PNS",
        "2024-10-12",
        False,
        "PENALTY_NOT_LIGHTER_THAN_FINDING",
    ),
    ("SEDANG", "DISIPLIN", "S2L", JPT_MADYA_2, [JPT_MADYA_2, JPT_PRATAMA_1], "PNS", "2024-02-03", False, OK),
    (
        "SEDANG",
        "DISIPLIN",
        "S2",
        JPT_MADYA_2,
        [JPT_MADYA_2, JPT_PRATAMA_1],
        "PNS",
        "2024-02-03",
        False,
        "PS42_SEDANG_TYPES",
    ),
    (
        "SEDANG",
        "DISIPLIN",
        "S2L",
        JPT_PRATAMA_1,
        [JPT_MADYA_2, JPT_PRATAMA_1],
        "PNS",
        "2024-02-03",
        False,
        "PYBM_AUTHORITY",
    ),
    (
        "SEDANG",
        "DISIPLIN",
        "B1",
        JPT_MADYA_2,
        [JPT_MADYA_2, JPT_PRATAMA_1],
        "PNS",
        "2024-02-03",
        False,
        "PENALTY_LEVEL_MATCHES_FINDING",
    ),
    ("SEDANG", "DISIPLIN", "B1", PPK_KAB, None, "PNS", "2024-02-03", True, OK),
    (
        "SEDANG",
        "DISIPLIN",
        "R3",
        PPK_KAB,
        None,
        "PNS",
        "2024-02-03",
        True,
        "PENALTY_NOT_LIGHTER_THAN_FINDING",
    ),
    ("RINGAN", "DISIPLIN", "R2", JPT_PRATAMA_1, None, "PNS", "2024-02-03", False, OK),
    ("RINGAN", "DISIPLIN", "R2", PPK_KAB, None, "PNS", "2024-02-03", False, "PYBM_AUTHORITY"),
    (
        "BERAT",
        "DISIPLIN",
        "B3",
        PPK_PROV_LIMITED,
        [PPK_PROV_LIMITED, PRESIDEN_B3],
        "PNS",
        "2024-10-12",
        False,
        "PYBM_AUTHORITY",
    ),
    (
        "BERAT",
        "DISIPLIN",
        "B2",
        PPK_PROV_LIMITED,
        [PPK_PROV_LIMITED, PRESIDEN_B3],
        "PNS",
        "2024-10-12",
        False,
        OK,
    ),
    ("BERAT", "DISIPLIN", "B3", PRESIDEN_B3, [PPK_PROV_LIMITED, PRESIDEN_B3], "PNS", "2024-10-12", False, OK),
    # ... and narrowed by type as adjudication publishes it ({"BERAT": ["B1", "B2"]})
    (
        "BERAT",
        "DISIPLIN",
        "B2",
        PPK_PROV_NARROWED,
        [PPK_PROV_NARROWED, PRESIDEN_NARROWED],
        "PNS",
        "2024-10-12",
        False,
        OK,
    ),
    (
        "BERAT",
        "DISIPLIN",
        "B3",
        PPK_PROV_NARROWED,
        [PPK_PROV_NARROWED, PRESIDEN_NARROWED],
        "PNS",
        "2024-10-12",
        False,
        "PYBM_AUTHORITY",
    ),
    (
        "BERAT",
        "DISIPLIN",
        "B3",
        PRESIDEN_NARROWED,
        [PPK_PROV_NARROWED, PRESIDEN_NARROWED],
        "PNS",
        "2024-10-12",
        False,
        OK,
    ),
    (
        "BERAT",
        "DISIPLIN",
        "B1",
        PRESIDEN_NARROWED,
        [PPK_PROV_NARROWED, PRESIDEN_NARROWED],
        "PNS",
        "2024-10-12",
        False,
        "PYBM_AUTHORITY",
    ),
    (
        "PTDH",
        "DISIPLIN",
        "PTDH",
        PRESIDEN_NARROWED,
        [PPK_PROV_NARROWED, PRESIDEN_NARROWED],
        "PNS",
        "2024-10-12",
        False,
        OK,
    ),
    ("PTDH", "DISIPLIN", "PTDH", PPK_KAB_PTDH, None, "PNS", "2024-10-12", False, OK),
    ("PTDH", "DISIPLIN", "PTDH", PPK_KAB, None, "PNS", "2024-10-12", False, "PYBM_AUTHORITY"),
    (
        "PTDH",
        "DISIPLIN",
        "B3",
        PPK_KAB_PTDH,
        None,
        "PNS",
        "2024-10-12",
        False,
        "PENALTY_NOT_LIGHTER_THAN_FINDING",
    ),
    ("BERAT", "DISIPLIN", "K1", PPK_KAB, None, "PNS", "2024-10-12", False, "PENALTY_CATALOGUE"),
    ("BERAT", "DISIPLIN", "M2", PPK_KAB, None, "PNS", "2024-10-12", False, "CATEGORY_MATCH"),
    # PPPK: K1 for berat, K2 for party membership, agency-defined below that
    ("BERAT", "DISIPLIN", "K1", PPK_PROV, [PPK_PROV], "PPPK", "2024-10-08", False, OK),
    ("PTDH", "DISIPLIN", "K2", PPK_PROV, [PPK_PROV], "PPPK", "2024-10-08", False, OK),
    (
        "BERAT",
        "DISIPLIN",
        "K2",
        PPK_PROV,
        [PPK_PROV],
        "PPPK",
        "2024-10-08",
        False,
        "PENALTY_LEVEL_MATCHES_FINDING",
    ),
    ("BERAT", "DISIPLIN", "B3", PPK_PROV, [PPK_PROV], "PPPK", "2024-10-08", False, "PPPK_PENALTIES"),
    ("SEDANG", "DISIPLIN", "S2L", PPK_PROV, [PPK_PROV], "PPPK", "2024-10-08", False, "PPPK_PENALTIES"),
    # Code of ethics: moral sanctions only (sample case A is a PPPK)
    (None, "KODE_ETIK", "M1", PPK_PROV, [PPK_PROV], "PPPK", "2024-10-08", False, OK),
    (None, "KODE_ETIK", "M2", PPK_KAB, None, "PNS", "2024-10-08", False, OK),
    (None, "KODE_ETIK", "M1", PPK_KODE_ETIK, [JPT_PRATAMA_1], "PNS", "2024-10-08", False, OK),
    (None, "KODE_ETIK", "R2", PPK_KAB, None, "PNS", "2024-10-08", False, "CATEGORY_MATCH"),
    # Non-ASN: no ASN discipline regime at all
    ("BERAT", "DISIPLIN", "B2", PPK_KAB, None, "NON_ASN", "2024-10-12", False, "PENALTY_CATALOGUE"),
    # PP 53/2010 for conduct before 31 Aug 2021 (sample case E, Pilkada 2020)
    ("BERAT", "DISIPLIN", "B4L", PPK_KAB, None, "PNS", "2020-11-20", False, OK),
    ("BERAT", "DISIPLIN", "B1L", PPK_KAB, None, "PNS", "2020-11-20", False, OK),
    ("BERAT", "DISIPLIN", "B2", PPK_KAB, None, "PNS", "2020-11-20", False, "PENALTY_CATALOGUE"),
    ("SEDANG", "DISIPLIN", "S1L", PPK_KAB, None, "PNS", "2020-11-20", False, OK),
    ("BERAT", "DISIPLIN", "B4L", PPK_KAB, None, "PNS", "2024-10-12", False, "PENALTY_CATALOGUE"),
]


def _decide(
    level: Any,
    category: str,
    penalty: str | list[str],
    signer: dict[str, Any],
    authorities: Any,
    employee_type: str,
    incident: str,
    repeat: bool,
    book: RuleBook = BOOK,
) -> Any:
    payload = referral(
        level,
        category=category,
        employee_type=employee_type,
        deciding=signer,
        authorities=authorities,
        incident_date=incident,
        repeat=repeat,
    )
    story = Story.referred(payload, book=book)
    request = DecisionRequest(
        penalties=tuple(penalty) if isinstance(penalty, list) else (penalty,),
        decided_on=date(2024, 12, 9),
        official_id="kepala.bkpsdm",
        now=NOW,
        signed_as=signer["official"],
        relation=signer["relation"],
    )
    return decide(story.case, book, CALENDAR, request)


def _rules(refusal: Any) -> list[str]:
    violations = refusal.violations if isinstance(refusal, RuleViolations) else (refusal,)
    return [v.rule for v in violations]


@pytest.mark.parametrize(
    (
        "level",
        "category",
        "penalty",
        "signer",
        "authorities",
        "employee_type",
        "incident",
        "repeat",
        "expected",
    ),
    MATRIX,
    ids=[f"{r[5]}-{r[0] or r[1]}-{r[2]}-by-{r[3]['official']}-{r[6][:4]}-{r[8] or 'valid'}" for r in MATRIX],
)
def test_the_decision_validity_matrix(
    level: Any,
    category: str,
    penalty: str,
    signer: dict[str, Any],
    authorities: Any,
    employee_type: str,
    incident: str,
    repeat: bool,
    expected: str | None,
) -> None:
    if expected is None:
        outcome = _decide(level, category, penalty, signer, authorities, employee_type, incident, repeat)
        [event] = outcome.events
        assert event.payload["penalty"]["code"] == penalty
        assert event.rule_set == (PP53 if incident < "2021-08-31" else PP94)
        assert event.payload["inputs"]["rule_set"] == event.rule_set
        return
    with pytest.raises((RuleViolation, RuleViolations)) as refused:
        _decide(level, category, penalty, signer, authorities, employee_type, incident, repeat)
    rules = _rules(refused.value)
    assert any(rule.startswith(expected) for rule in rules), rules
    # Every refusal cites the article (or the rule data) it applies.
    assert all("(" in rule for rule in rules if rule.startswith(expected)), rules


def test_two_penalties_for_one_case_are_refused_citing_ps_33() -> None:
    with pytest.raises(RuleViolations) as refused:
        _decide("BERAT", "DISIPLIN", ["B2", "B1"], PPK_KAB, None, "PNS", "2024-10-12", False)
    [violation] = refused.value.violations
    assert violation.field == "penalty"
    assert violation.rule == "ONE_PENALTY_PER_CASE (PP 94/2021 Ps 33(2))"


def test_a_lighter_penalty_says_the_official_commits_a_violation() -> None:
    with pytest.raises(RuleViolations) as refused:
        _decide("BERAT", "DISIPLIN", "S2L", PPK_KAB, None, "PNS", "2024-10-12", False)
    [violation] = refused.value.violations
    assert "lighter than the finding's level BERAT" in violation.message
    assert violation.rule == "PENALTY_NOT_LIGHTER_THAN_FINDING (PP 94/2021 Ps 24)"


def test_a_ppk_refused_a_dismissal_is_told_what_they_may_impose_and_the_presidents_article() -> None:
    authorities = [PPK_PROV_NARROWED, PRESIDEN_NARROWED]
    with pytest.raises(RuleViolations) as refused:
        _decide("BERAT", "DISIPLIN", "B3", PPK_PROV_NARROWED, authorities, "PNS", "2024-10-12", False)
    [violation] = refused.value.violations
    # Until issue 13: "may impose BERAT, RINGAN, SEDANG ... not B3 (BERAT)", citing Ps 18(1) only.
    assert violation.message.startswith(
        "PPK_PROVINSI may impose RINGAN, SEDANG, BERAT (B1, B2 only) over this employee, so not B3 (BERAT)"
    )
    assert "who may: PRESIDEN (PP 94/2021 Ps 17(2))" in violation.message
    assert violation.rule == "PYBM_AUTHORITY (PP 94/2021 Ps 18(1), PP 94/2021 Ps 17(2))"


def test_an_official_not_listed_in_the_referral_has_no_power() -> None:
    administrator: dict[str, Any] = {
        "official": "ADMINISTRATOR",
        "relation": "ONE_LEVEL_UP",
        "may_impose": ["RINGAN"],
        "basis": "x",
    }
    payload = referral("RINGAN")
    story = Story.referred(payload)
    request = DecisionRequest(
        ("R1",), date(2024, 12, 9), "someone", NOW, administrator["official"], "ONE_LEVEL_UP"
    )
    with pytest.raises(RuleViolations) as refused:
        decide(story.case, BOOK, CALENDAR, request)
    [violation] = refused.value.violations
    assert violation.field == "signed_as"
    assert "PPK_KABUPATEN_KOTA, JPT_PRATAMA (ONE_LEVEL_UP)" in violation.message


def test_flipping_the_ps42_switch_in_the_data_opens_the_tukin_cut_and_closes_the_legacy_types() -> None:
    pp94 = BOOK.named(PP94)
    flipped = replace(
        pp94,
        version="pp94-2021.2",
        effective_from=date(2022, 1, 1),
        switches={
            "PS42_GAJI_TUNJANGAN_PP_IN_FORCE": (True, pp94.switches["PS42_GAJI_TUNJANGAN_PP_IN_FORCE"][1])
        },
    )
    book = RuleBook(BOOK.kind, (*BOOK.rule_sets, flipped))
    args = ("SEDANG", "DISIPLIN")
    [event] = _decide(*args, "S2", JPT_MADYA_2, [JPT_MADYA_2], "PNS", "2024-02-03", False, book).events
    assert (event.payload["penalty"]["duration_months"], event.rule_set) == (9, "sanctions-pp94-2021.2")
    with pytest.raises(RuleViolations) as refused:
        _decide(*args, "S2L", JPT_MADYA_2, [JPT_MADYA_2], "PNS", "2024-02-03", False, book)
    assert refused.value.violations[0].rule.startswith("PS42_SEDANG_TYPES")


def test_a_decision_dated_in_the_future_or_before_the_referral_is_refused() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    for day, field in ((date(2024, 12, 11), "decided_on"), (date(2024, 11, 24), "decided_on")):
        request = DecisionRequest(("B2",), day, "x", NOW)
        with pytest.raises(RuleViolations) as refused:
            decide(story.case, BOOK, CALENDAR, request)
        assert refused.value.violations[0].field == field


def test_a_penalty_too_light_for_the_finding_says_so_before_a_switch_and_lists_only_what_fits() -> None:
    with pytest.raises(RuleViolations) as refused:
        _decide("BERAT", "DISIPLIN", "S2", PPK_KAB, None, "PNS", "2024-10-12", False)
    rules = [v.rule.split(" ")[0] for v in refused.value.violations]
    assert rules == ["PENALTY_NOT_LIGHTER_THAN_FINDING", "PS42_SEDANG_TYPES"]
    # What would be allowed: the berat penalties only, not the ringan or moral ones.
    assert refused.value.violations[-1].message.endswith("allowed: B1, B2, B3")
