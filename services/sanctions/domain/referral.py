"""The referral as sanctions keeps it: adjudication's finding, the employee, and who may
impose what over that employee (docs/law.md §4, decided by adjudication and published in
``adjudication.case_referred``; sanctions never recomputes that table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.sanctions.domain.rules import Category, Level, Penalty


@dataclass(frozen=True)
class Authority:
    """One official with power over the employee, and what they may impose.

    ``may_impose`` holds levels (``SEDANG``); ``penalties`` narrows a level to some types where
    the law does ("B1–B2" in PP 94/2021 Ps 18: ``{"BERAT": ["B1", "B2"]}``). A penalty code in
    ``may_impose`` is also read as a power over that type alone.
    """

    official: str
    relation: str | None
    may_impose: frozenset[str]
    basis: str
    penalties: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def covers(self, penalty: Penalty) -> bool:
        """Whether this official may impose ``penalty`` (by its level, as narrowed, or its code)."""
        if penalty.code in self.may_impose:
            return True
        level = penalty.level.value if penalty.level else None
        if level is None or level not in self.may_impose:
            return False
        narrowed = self.penalties.get(level)
        return narrowed is None or penalty.code in narrowed

    def same_post(self, official: str, relation: str | None) -> bool:
        """Whether this is the official named by ``official`` and ``relation``."""
        return self.official == official and self.relation == relation

    def powers(self) -> str:
        """What the official may impose, as the law narrows it: ``RINGAN, BERAT (B1, B2 only)``."""
        order = {"RINGAN": 0, "SEDANG": 1, "BERAT": 2}
        return ", ".join(
            f"{item} ({', '.join(sorted(self.penalties[item]))} only)" if item in self.penalties else item
            for item in sorted(self.may_impose, key=lambda item: (order.get(item, 3), item))
        )

    def label(self) -> str:
        """``JPT_MADYA (TWO_LEVELS_UP)`` or ``PPK_PROVINSI``."""
        return f"{self.official} ({self.relation})" if self.relation else self.official

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the referral's ``authorities`` entries."""
        return {
            "official": self.official,
            "relation": self.relation,
            "may_impose": sorted(self.may_impose),
            "penalties": {level: sorted(codes) for level, codes in sorted(self.penalties.items())},
            "basis": self.basis,
        }

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Authority:
        """From the referral's JSON."""
        narrowed = {level: frozenset(codes) for level, codes in (data.get("penalties") or {}).items()}
        return cls(
            data["official"],
            data.get("relation"),
            frozenset(data["may_impose"]),
            data.get("basis") or "",
            narrowed,
        )


@dataclass(frozen=True)
class Referral:
    """What sanctions rules on: everything ``adjudication.case_referred`` carried."""

    referral_event_id: str
    referred_on: date
    case_number: str
    employee_type: str
    agency: str
    subject: Mapping[str, Any]
    finding_event_id: str
    category: Category
    level: Level | None
    violations: tuple[str, ...]
    repeat: bool
    deciding_official: Authority
    authorities: tuple[Authority, ...]
    incident_date: date

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Referral:
        """From the payload of ``sanctions.referral_received`` (the validated referral)."""
        finding, subject = record["finding"], record["subject"]
        incident = record.get("incident_date") or record["referred_on"]
        return cls(
            referral_event_id=record["referral_event_id"],
            referred_on=date.fromisoformat(record["referred_on"]),
            case_number=record["case_number"],
            employee_type=subject["employee_type"],
            agency=subject["agency"],
            subject=subject,
            finding_event_id=finding["finding_event_id"],
            category=Category(finding["category"]),
            level=Level(finding["level"]) if finding.get("level") else None,
            violations=tuple(v["code"] for v in finding.get("violations", [])),
            repeat=bool(finding.get("repeat", False)),
            deciding_official=Authority.of(record["deciding_official"]),
            authorities=tuple(Authority.of(a) for a in record["authorities"]),
            incident_date=date.fromisoformat(incident),
        )

    def authority(self, official: str, relation: str | None) -> Authority | None:
        """The authority named by ``official`` and ``relation``: a listed one, or the deciding
        official (for a moral sanction adjudication names the PPK, who may not be listed)."""
        listed = (*self.authorities, self.deciding_official)
        return next((a for a in listed if a.same_post(official, relation)), None)

    def who_may_impose(self, penalty: Penalty) -> Sequence[Authority]:
        """The listed officials whose power covers ``penalty``."""
        return [a for a in self.authorities if a.covers(penalty)]
