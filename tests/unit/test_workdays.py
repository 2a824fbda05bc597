"""Working-day arithmetic across weekends, Indonesian holidays, election days and cuti bersama."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shared.workdays import DayCount, WorkingCalendar

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2024, 2, 14), "General Election Day"),  # Pemilu 2024
        (date(2024, 11, 27), "Local Election Day"),  # Pilkada serentak 2024
        (date(2024, 4, 8), "Joint Holiday"),  # cuti bersama Lebaran
        (date(2024, 4, 10), "Eid al-Fitr"),
        (date(2024, 8, 17), "Independence Day"),
    ],
)
def test_national_holidays_election_days_and_cuti_bersama_are_not_working_days(
    day: date, reason: str
) -> None:
    assert not CAL.is_working_day(day)
    assert reason in (CAL.holiday_name(day) or "")


def test_weekends_are_not_working_days_and_ordinary_weekdays_are() -> None:
    assert not CAL.is_working_day(date(2024, 10, 12))  # Saturday
    assert not CAL.is_working_day(date(2024, 10, 13))  # Sunday
    assert CAL.is_working_day(date(2024, 10, 14))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2024, 10, 10), 7, date(2024, 10, 21)),  # Thu + 7 working days over one weekend
        (date(2024, 4, 5), 7, date(2024, 4, 24)),  # over Lebaran 2024: 8–15 April are all off
        (date(2024, 11, 22), 3, date(2024, 11, 28)),  # over a weekend and Pilkada day 27 Nov
        (date(2024, 2, 9), 2, date(2024, 2, 13)),  # Isra Mi'raj (8 Feb) is before; 10 Feb Imlek is Saturday
        (date(2025, 3, 27), 5, date(2025, 4, 14)),  # Nyepi, Lebaran 2025 and its cuti bersama
        (date(2024, 10, 10), 0, date(2024, 10, 10)),
    ],
)
def test_adding_working_days(start: date, days: int, due: date) -> None:
    assert CAL.add_working_days(start, days) == due
    assert CAL.add_days(start, days, DayCount.WORKING) == due
    assert CAL.working_days_between(start, due) == days


def test_calendar_days_ignore_holidays() -> None:
    assert CAL.add_days(date(2024, 4, 5), 7, DayCount.CALENDAR) == date(2024, 4, 12)


def test_local_additions_are_data_an_administrator_can_change(tmp_path: Path) -> None:
    local = tmp_path / "local.yaml"
    local.write_text(
        "holidays:\n  2024-10-14: Hari jadi Kabupaten (contoh)\nworking_days:\n  2024-04-15: cuti bersama dibatalkan\n"
    )
    cal = WorkingCalendar.from_file(local)
    assert not cal.is_working_day(date(2024, 10, 14))
    assert cal.holiday_name(date(2024, 10, 14)) == "Hari jadi Kabupaten (contoh)"
    assert cal.is_working_day(date(2024, 4, 15))
    assert cal.add_working_days(date(2024, 10, 11), 1) == date(2024, 10, 15)


def test_negative_day_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(date(2024, 1, 1), -1)
