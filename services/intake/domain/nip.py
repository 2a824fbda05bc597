"""The civil servant's number: an 18-digit NIP (PNS, CPNS) or NI PPPK, checked for structure.

NIP (Perka BKN 22/2007, docs/law.md §6, confidence S)::

    YYYYMMDD  YYYYMM  G  NNN
    birth     CPNS    gender (1 = male, 2 = female)
              appointment month        serial

Only the date parts and the gender digit can be checked; the serial is opaque. The NI PPPK
layout (birth date, appointment year, a 2-digit field of disputed meaning, gender, serial) is
S/R, so it is checked loosely: 18 digits and a plausible birth date, nothing else.

Pure functions: ``today`` is passed in, so "not in the future" is deterministic in tests and
in replay. Problems are human-readable sentences meant for a 422 field message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

NUMBER_LENGTH = 18
# An ASN is appointed as an adult; nobody born before this is still in service.
ADULT_AGE = 18
EARLIEST_BIRTH_YEAR = 1900


class Gender(enum.StrEnum):
    """The gender digit of a NIP."""

    MALE = "1"
    FEMALE = "2"


@dataclass(frozen=True)
class YearMonth:
    """A calendar month (the NIP records the CPNS appointment to the month only)."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Nip:
    """A structurally valid NIP, split into its parts."""

    value: str
    birth_date: date
    appointed: YearMonth
    gender: Gender
    serial: str


@dataclass(frozen=True)
class NiPppk:
    """A loosely valid NI PPPK: only the birth date is trusted."""

    value: str
    birth_date: date


@dataclass(frozen=True)
class Invalid:
    """Why a number was rejected: one sentence per problem, all of them at once."""

    problems: tuple[str, ...]


def parse_nip(raw: str, today: date) -> Nip | Invalid:
    """Parse a PNS/CPNS NIP, or say every way in which it is not one.

    The appointment month must be a real month, not in the future relative to ``today``, and
    not before the month of the 18th birthday (the NIP has no appointment day, so the month
    of the birthday itself is accepted).
    """
    if not _is_digits(raw):
        return Invalid((f"must be exactly {NUMBER_LENGTH} digits",))
    problems: list[str] = []
    birth = _real_date(raw[0:8])
    if birth is None:
        problems.append(f"birth date {raw[0:8]} (digits 1–8, YYYYMMDD) is not a real date")
    elif birth > today:
        problems.append(f"birth date {birth.isoformat()} is in the future")
    elif birth.year < EARLIEST_BIRTH_YEAR:
        problems.append(f"birth date {birth.isoformat()} is not plausible")
    appointed = _real_month(raw[8:14])
    if appointed is None:
        problems.append(f"CPNS appointment {raw[8:14]} (digits 9–14, YYYYMM) is not a real month")
    else:
        if (appointed.year, appointed.month) > (today.year, today.month):
            problems.append(f"CPNS appointment {appointed} is in the future")
        if birth is not None:
            adult = (birth.year + ADULT_AGE, birth.month)
            if (appointed.year, appointed.month) < adult:
                problems.append(
                    f"CPNS appointment {appointed} is before the 18th birthday "
                    f"({adult[0]:04d}-{adult[1]:02d})"
                )
    gender = raw[14]
    if gender not in {g.value for g in Gender}:
        problems.append(f"gender digit (digit 15) must be 1 or 2, not {gender}")
    if problems or birth is None or appointed is None:
        return Invalid(tuple(problems))
    return Nip(value=raw, birth_date=birth, appointed=appointed, gender=Gender(gender), serial=raw[15:])


def parse_ni_pppk(raw: str, today: date) -> NiPppk | Invalid:
    """Parse a PPPK number loosely: 18 digits whose first eight are a plausible birth date.

    Plausible means a real date, at least 18 years before ``today`` and not before 1900. The
    rest of the layout is disputed (docs/law.md §6, S/R), so it is not checked.
    """
    if not _is_digits(raw):
        return Invalid((f"must be exactly {NUMBER_LENGTH} digits",))
    birth = _real_date(raw[0:8])
    if birth is None:
        return Invalid((f"birth date {raw[0:8]} (digits 1–8, YYYYMMDD) is not a real date",))
    if birth.year < EARLIEST_BIRTH_YEAR or _years_between(birth, today) < ADULT_AGE:
        return Invalid((f"birth date {birth.isoformat()} is not plausible for an employee",))
    return NiPppk(value=raw, birth_date=birth)


def _is_digits(raw: str) -> bool:
    # str.isdigit accepts other scripts' digits ("١٢"); a NIP is ASCII only.
    return len(raw) == NUMBER_LENGTH and raw.isascii() and raw.isdigit()


def _real_date(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _real_month(digits: str) -> YearMonth | None:
    year, month = int(digits[0:4]), int(digits[4:6])
    if year < 1 or not 1 <= month <= 12:
        return None
    return YearMonth(year, month)


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
