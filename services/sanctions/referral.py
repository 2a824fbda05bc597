"""The referral as sanctions keeps it: adjudication's finding, the employee, and who may
impose what over that employee (domain.md §4, decided by adjudication and published in
``adjudication.case_referred``; sanctions never recomputes that table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.sanctions.rules import Category, Level, Penalty


@dataclass(frozen=True)
class Authority:
    """One official with power over the employee, and what they may impose.

    ``may_impose`` holds levels (``SEDANG``) and, where the law narrows a level, penalty
    codes (``B1``, ``B2`` for "B1–B2" in PP 94/2021 Ps 18); ``KODE_ETIK`` for moral sanctions.
    """

    official: str
    relation: str | None
    may_impose: frozenset[str]
    basis: str

    def covers(self, penalty: Penalty) -> bool:
        """Whether this official may impose ``penalty`` (by its code or its level)."""
        level = penalty.level.value if penalty.level else None
        return penalty.code in self.may_impose or (level is not None and level in self.may_impose)

    def same_post(self, official: str, relation: str | None) -> bool:
        """Whether this is the official named by ``official`` and ``relation``."""
        return self.official == official and self.relation == relation

    def label(self) -> str:
        """``JPT_MADYA (TWO_LEVELS_UP)`` or ``PPK_PROVINSI``."""
        return f"{self.official} ({self.relation})" if self.relation else self.official

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the referral's ``authorities`` entries."""
        return {
            "official": self.official,
            "relation": self.relation,
            "may_impose": sorted(self.may_impose),
            "basis": self.basis,
        }

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Authority:
        """From the referral's JSON."""
        return cls(
            data["official"], data.get("relation"), frozenset(data["may_impose"]), data.get("basis") or ""
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
            incident_date=date.fromisoformat(record["incident_date"]),
        )

    def authority(self, official: str, relation: str | None) -> Authority | None:
        """The listed authority named by ``official`` and ``relation``, if any."""
        return next((a for a in self.authorities if a.same_post(official, relation)), None)

    def who_may_impose(self, penalty: Penalty) -> Sequence[Authority]:
        """The listed officials whose power covers ``penalty``."""
        return [a for a in self.authorities if a.covers(penalty)]
