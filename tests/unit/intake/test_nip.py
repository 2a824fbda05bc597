"""NIP and NI PPPK structure: real dates, a real appointment month, an adult appointee, a
gender digit, nothing in the future (docs/law.md §6)."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.domain.nip import (
    Gender,
    Invalid,
    Nip,
    NiPppk,
    YearMonth,
    parse_ni_pppk,
    parse_nip,
)

TODAY = date(2024, 10, 10)


def test_a_valid_nip_is_split_into_birth_date_appointment_gender_and_serial() -> None:
    assert parse_nip("198503122010011004", TODAY) == Nip(
        value="198503122010011004",
        birth_date=date(1985, 3, 12),
        appointed=YearMonth(2010, 1),
        gender=Gender.MALE,
        serial="004",
    )


@pytest.mark.parametrize(
    ("nip", "why"),
    [
        ("198402292010012001", "a leap-day birth in a leap year is real"),
        ("198503122003031004", "appointed in the month of the 18th birthday"),
        ("198503122024101004", "appointed in the current month"),
        ("198503122010012999", "a woman, serial 999"),
    ],
)
def test_these_nips_are_valid(nip: str, why: str) -> None:
    assert isinstance(parse_nip(nip, TODAY), Nip), why


@pytest.mark.parametrize(
    ("nip", "problem"),
    [
        ("19850312201001100", "exactly 18 digits"),
        ("1985031220100110040", "exactly 18 digits"),
        ("19850312201001100X", "exactly 18 digits"),
        ("١٩٨٥٠٣١٢٢٠١٠٠١١٠٠٤", "exactly 18 digits"),  # Arabic-Indic digits are not ASCII
        ("198502302010011004", "birth date 19850230 (digits 1–8, YYYYMMDD) is not a real date"),
        ("198502292010011004", "birth date 19850229 (digits 1–8, YYYYMMDD) is not a real date"),
        ("198500122010011004", "birth date 19850012 (digits 1–8, YYYYMMDD) is not a real date"),
        ("198503122010131004", "CPNS appointment 201013 (digits 9–14, YYYYMM) is not a real month"),
        ("198503122010001004", "CPNS appointment 201000 (digits 9–14, YYYYMM) is not a real month"),
        ("198503122010013004", "gender digit (digit 15) must be 1 or 2, not 3"),
        ("198503122010010004", "gender digit (digit 15) must be 1 or 2, not 0"),
        ("198503122003021004", "CPNS appointment 2003-02 is before the 18th birthday (2003-03)"),
        ("198503122024111004", "CPNS appointment 2024-11 is in the future"),
        ("202501012024111004", "birth date 2025-01-01 is in the future"),
        ("189912312010011004", "birth date 1899-12-31 is not plausible"),
    ],
)
def test_an_invalid_nip_names_its_problem(nip: str, problem: str) -> None:
    result = parse_nip(nip, TODAY)
    assert isinstance(result, Invalid)
    assert any(problem in p for p in result.problems), result.problems


def test_an_invalid_nip_names_every_problem_at_once() -> None:
    result = parse_nip("198502302010133004", TODAY)
    assert isinstance(result, Invalid)
    assert len(result.problems) == 3  # birth date, appointment month, gender digit


def test_whether_an_appointment_is_in_the_future_depends_on_the_today_passed_in() -> None:
    nip = "198503122024111004"
    assert isinstance(parse_nip(nip, date(2024, 10, 31)), Invalid)
    assert isinstance(parse_nip(nip, date(2024, 11, 1)), Nip)


def test_a_valid_ni_pppk_yields_its_birth_date_and_nothing_else_is_checked() -> None:
    # Appointment year 2021, the disputed "21" field, gender 1: read loosely, never checked.
    assert parse_ni_pppk("199001012021211001", TODAY) == NiPppk("199001012021211001", date(1990, 1, 1))
    assert isinstance(parse_ni_pppk("199001019999999999", TODAY), NiPppk)


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("1990010120212110", "exactly 18 digits"),
        ("199013012021211001", "is not a real date"),
        ("201001012021211001", "not plausible for an employee"),  # 14 years old
        ("188001012021211001", "not plausible for an employee"),
    ],
)
def test_an_implausible_ni_pppk_is_rejected(number: str, problem: str) -> None:
    result = parse_ni_pppk(number, TODAY)
    assert isinstance(result, Invalid)
    assert problem in result.problems[0]
