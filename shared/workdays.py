"""Working days in Indonesia: Monday to Friday, less national holidays, election days and
cuti bersama (all from the ``holidays`` package, categories ``public`` and ``government``),
less local additions that an administrator keeps as data.

PP 94/2021 and PP 79/2021 count most deadlines in *hari kerja*; UU 1/2015 Ps 134 counts
Pilkada reporting windows in calendar days. A deadline says which it counts (``DayCount``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import holidays
import yaml

FIRST_YEAR = 2010
LAST_YEAR = 2035


class DayCount(enum.StrEnum):
    """How a legal deadline counts its days."""

    WORKING = "WORKING"  # hari kerja
    CALENDAR = "CALENDAR"  # hari kalender


@dataclass(frozen=True)
class WorkingCalendar:
    """Answers "is this a working day?" and adds days the way the law counts them.

    ``extra_holidays`` are local additions (a regional holiday, a newly decreed cuti
    bersama not yet in the ``holidays`` package); ``extra_working_days`` revoke a holiday
    (a cancelled cuti bersama). Both are dates with a reason, kept as data.
    """

    extra_holidays: Mapping[date, str] = field(default_factory=dict)
    extra_working_days: Mapping[date, str] = field(default_factory=dict)

    @cached_property
    def _national(self) -> holidays.HolidayBase:
        return holidays.country_holidays(
            "ID", categories=("public", "government"), years=range(FIRST_YEAR, LAST_YEAR + 1)
        )

    def holiday_name(self, day: date) -> str | None:
        """The reason ``day`` is not worked, or None when it is an ordinary weekday."""
        if day in self.extra_working_days:
            return None
        if day in self.extra_holidays:
            return self.extra_holidays[day]
        name = self._national.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a holiday, election day or cuti bersama."""
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current, left = start, days
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def add_days(self, start: date, days: int, count: DayCount) -> date:
        """``days`` after ``start``, counted as the deadline's ``count`` says."""
        if count is DayCount.WORKING:
            return self.add_working_days(start, days)
        return start + timedelta(days=days)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many the law would count from start to end."""
        return sum(1 for d in _days(start, end) if self.is_working_day(d))

    @classmethod
    def from_file(cls, path: Path) -> WorkingCalendar:
        """Load local additions from YAML: ``holidays`` and ``working_days``, date → reason."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            extra_holidays=_dates(data.get("holidays", {})),
            extra_working_days=_dates(data.get("working_days", {})),
        )


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        day += timedelta(days=1)
        yield day


def _dates(raw: Mapping[object, str]) -> dict[date, str]:
    return {d if isinstance(d, date) else date.fromisoformat(str(d)): str(r) for d, r in raw.items()}
