"""Duplicate linking: the same person and conduct in an overlapping period joins the case;
a shared partner reference about someone else opens a separate, linked case."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.domain.linking import (
    ExistingCase,
    LinkFacts,
    LinkOutcome,
    LinkRule,
    Period,
    PersonKey,
    PersonScheme,
    SourceRef,
    decide_link,
)
from services.intake.domain.report import EmployeeType

from .builders import VALID_NI_PPPK, VALID_NIP, a_report

NIP = PersonKey(PersonScheme.NIP, VALID_NIP)
OTHER_NIP = PersonKey(PersonScheme.NIP, "197001012000011001")
PPPK = PersonKey(PersonScheme.NI_PPPK, VALID_NI_PPPK)
OCT_8 = Period(date(2024, 10, 8), date(2024, 10, 8))
REF = SourceRef("bawaslu-tabanan", "023/LP/PB/Kab/17.03/X/2024")


def case(
    case_id: str = "case-1",
    person: PersonKey | None = NIP,
    conduct: frozenset[str] = frozenset({"N2"}),
    period: Period = OCT_8,
    sources: frozenset[SourceRef] = frozenset(),
    opened_on: date = date(2024, 10, 10),
) -> ExistingCase:
    return ExistingCase(case_id, opened_on, person, conduct, period, sources)


def facts(
    person: PersonKey | None = NIP,
    conduct: frozenset[str] = frozenset({"N2"}),
    period: Period = OCT_8,
    source: SourceRef | None = None,
) -> LinkFacts:
    return LinkFacts(person, conduct, period, source)


@pytest.mark.parametrize(
    ("report", "existing", "outcome", "rule"),
    [
        (facts(), case(), LinkOutcome.JOIN_CASE, LinkRule.SAME_PERSON_SAME_CONDUCT),
        (
            facts(conduct=frozenset({"N2", "N4"})),
            case(),
            LinkOutcome.JOIN_CASE,
            LinkRule.SAME_PERSON_SAME_CONDUCT,
        ),
        (facts(conduct=frozenset()), case(), LinkOutcome.JOIN_CASE, LinkRule.SAME_PERSON_SAME_CONDUCT),
        (facts(), case(conduct=frozenset()), LinkOutcome.JOIN_CASE, LinkRule.SAME_PERSON_SAME_CONDUCT),
        (
            facts(period=Period(date(2024, 10, 1), date(2024, 10, 8))),
            case(period=Period(date(2024, 10, 8), date(2024, 10, 20))),
            LinkOutcome.JOIN_CASE,
            LinkRule.SAME_PERSON_SAME_CONDUCT,
        ),
        (facts(conduct=frozenset({"N4"})), case(), LinkOutcome.NEW_CASE, LinkRule.NO_MATCH),
        (facts(person=OTHER_NIP), case(), LinkOutcome.NEW_CASE, LinkRule.NO_MATCH),
        (facts(person=PPPK), case(), LinkOutcome.NEW_CASE, LinkRule.NO_MATCH),
        (
            facts(period=Period(date(2024, 10, 9), date(2024, 10, 9))),
            case(),
            LinkOutcome.NEW_CASE,
            LinkRule.NO_MATCH,
        ),
        (facts(person=None), case(person=None), LinkOutcome.NEW_CASE, LinkRule.NO_MATCH),  # NON_ASN: no key
    ],
    ids=[
        "same person, same code, same day joins",
        "overlapping codes join",
        "an unclassified report joins",
        "a report joins an unclassified case",
        "overlapping periods join",
        "different conduct opens a new case",
        "a different person opens a new case",
        "a NIP never matches an NI PPPK",
        "the next day does not overlap without slack",
        "nobody without a number is matched by person",
    ],
)
def test_the_same_person_and_conduct_in_an_overlapping_period_joins_the_existing_case(
    report: LinkFacts, existing: ExistingCase, outcome: LinkOutcome, rule: LinkRule
) -> None:
    decision = decide_link(report, [existing])
    assert (decision.outcome, decision.rule) == (outcome, rule)
    assert decision.case_id == ("case-1" if outcome is LinkOutcome.JOIN_CASE else None)
    assert decision.reason


def test_slack_days_widen_the_period_that_counts_as_overlapping() -> None:
    next_day = facts(period=Period(date(2024, 10, 9), date(2024, 10, 9)))
    assert decide_link(next_day, [case()], slack_days=1).outcome is LinkOutcome.JOIN_CASE


def test_when_several_cases_match_the_report_joins_the_oldest() -> None:
    newer = case("case-new", opened_on=date(2024, 10, 12))
    older = case("case-old", opened_on=date(2024, 10, 9))
    assert decide_link(facts(), [newer, older]).case_id == "case-old"


def test_a_shared_source_ref_about_another_person_opens_a_new_case_linked_to_the_first() -> None:
    first = case("case-pns", person=NIP, sources=frozenset({REF}))
    decision = decide_link(facts(person=PPPK, source=REF), [first])
    assert decision.outcome is LinkOutcome.NEW_CASE
    assert decision.rule is LinkRule.SHARED_SOURCE_REF
    assert decision.related_case_ids == ("case-pns",)
    assert "023/LP/PB/Kab/17.03/X/2024" in decision.reason


def test_the_same_reference_from_another_partner_is_a_different_reference() -> None:
    first = case("case-pns", person=NIP, sources=frozenset({SourceRef("bkn", REF.ref)}))
    assert decide_link(facts(person=PPPK, source=REF), [first]).rule is LinkRule.NO_MATCH


def test_joining_wins_over_a_shared_reference() -> None:
    first = case("case-1", sources=frozenset({REF}))
    assert decide_link(facts(source=REF), [first]).outcome is LinkOutcome.JOIN_CASE


def test_no_candidates_opens_a_new_case() -> None:
    decision = decide_link(facts(), [])
    assert (decision.outcome, decision.rule, decision.related_case_ids) == (
        LinkOutcome.NEW_CASE,
        LinkRule.NO_MATCH,
        (),
    )


def test_the_linking_facts_of_a_report_come_from_its_subject_codes_incident_and_reference() -> None:
    pppk = a_report(
        employee_type=EmployeeType.PPPK, incident_date=date(2024, 10, 7), known_at=date(2024, 10, 8)
    )
    got = LinkFacts.of(pppk, partner="bawaslu-tabanan")
    assert got == LinkFacts(PPPK, frozenset({"N2"}), Period(date(2024, 10, 7), date(2024, 10, 7)), REF)
    assert LinkFacts.of(a_report(employee_type=EmployeeType.NON_ASN), partner="x").person is None


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Period(date(2024, 10, 9), date(2024, 10, 8))


def test_the_decision_is_recorded_as_json_ready_data() -> None:
    record = decide_link(facts(), [case()]).to_record()
    assert record["rule"] == "SAME_PERSON_SAME_CONDUCT"
    assert record["case_id"] == "case-1"
    assert record["related_case_ids"] == []
