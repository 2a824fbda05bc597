"""Legal dates: the valid time of an event dated by a day in the law's terms, and the checks
every dated step shares (no date in the future, none before the step it follows)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from shared.refusals import NETRA_RULE, RuleViolation, RuleViolations

# Legal dates are days in the law's terms; an event dated by one happened at its start in
# Western Indonesian Time, the zone the deadline scheduler also judges lapses in.
LEGAL_ZONE = ZoneInfo("Asia/Jakarta")


def at_start_of(day: date) -> datetime:
    """The instant a legal date begins (00:00 WIB): the valid time of an event dated ``day``."""
    return datetime.combine(day, time(), LEGAL_ZONE)


def legal_date(instant: datetime) -> date:
    """The date in WIB of ``instant``."""
    return instant.astimezone(LEGAL_ZONE).date()


def require_dated(field: str, day: date, *, not_before: date, today: date) -> None:
    """Refuse (422) a date in the future or before the step it follows."""
    if day > today:
        raise RuleViolations(
            [RuleViolation(field, f"{day} is after today ({today})", f"NO_FUTURE_DATES ({NETRA_RULE})")]
        )
    if day < not_before:
        raise RuleViolations(
            [
                RuleViolation(
                    field,
                    f"{day} is before the step it follows ({not_before})",
                    f"STEPS_IN_ORDER ({NETRA_RULE})",
                )
            ]
        )
