"""Reactions to intake: keep what a report said about its subject, and open the examination
file when intake registers the case (docs/events.md, intake → adjudication).

``intake.case_registered`` does not repeat the report, so the facts of every
``intake.report_received`` (and what a ``report_supplemented`` added) are recorded first as
adjudication's own events: the file can then be rebuilt from adjudication's log alone.
The reporter is personal data adjudication does not need, so it is not copied; who the
subject is arrives sealed and is kept sealed (docs/architecture.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case, State
from services.adjudication.domain.vocabulary import AgencyLevel, PositionKind, parse
from shared.envelope import NewEvent
from shared.outcome import Outcome

# The report fields adjudication keeps (docs/partner-api.md); everything else is intake's.
REPORT_FIELDS = (
    "channel",
    "kind",
    "source_ref",
    "election",
    "subject",
    "incident",
    "known_at",
    "reported_at",
    "alleged_violations",
)
SUBJECT_FIELDS = (
    "employee_type",
    "nip",
    "ni_pppk",
    "name",
    "identity",
    "person",
    "position",
    "position_kind",
    "agency",
    "agency_level",
    "work_unit",
)


def note_report(payload: Mapping[str, Any], at: datetime) -> Outcome:
    """``adjudication.report_noted``: the facts of one received report."""
    report = payload.get("report")
    if not isinstance(report, Mapping):
        raise ValueError("intake.report_received has no report object")
    kept = {k: report.get(k) for k in REPORT_FIELDS}
    return Outcome([NewEvent(ev.REPORT_NOTED, {"report_id": str(payload["report_id"]), "report": kept}, at)])


def note_supplement(payload: Mapping[str, Any], at: datetime) -> Outcome:
    """``adjudication.supplement_noted``: the report's facts as the supplement completed them
    (intake sends the whole report, merged, so adjudication never merges it itself)."""
    report = payload.get("report")
    if not isinstance(report, Mapping):
        raise ValueError("intake.report_supplemented has no report object")
    kept = {k: report.get(k) for k in REPORT_FIELDS}
    return Outcome(
        [NewEvent(ev.SUPPLEMENT_NOTED, {"report_id": str(payload["report_id"]), "report": kept}, at)]
    )


def open_examination(case: Case, payload: Mapping[str, Any], at: datetime) -> Outcome:
    """``adjudication.examination_opened`` for a registered case; nothing if already open.

    A position kind or agency level outside the vocabulary is kept as the partner wrote it
    (``*_reported``) and left null: an investigator records it before the finding.
    """
    if case.state is not State.AWAITING_REGISTRATION:
        return Outcome([])
    report_id = str(payload["report_id"])
    report = case.reports.get(report_id, {})
    subject = subject_of(report.get("subject") or {})
    opened = {
        "case_number": str(payload["case_number"]),
        "report_id": report_id,
        "late": bool(payload.get("late", False)),
        "subject": subject,
        "election": report.get("election"),
        "incident": report.get("incident"),
        "known_at": report.get("known_at"),
        "channel": report.get("channel"),
        "source_ref": report.get("source_ref"),
        "alleged_violations": list(report.get("alleged_violations") or []),
        "needs_subject_profile": subject["position_kind"] is None or subject["agency_level"] is None,
    }
    return Outcome([NewEvent(ev.EXAMINATION_OPENED, opened, at)])


# Who the subject is: sealed by intake (``identity``, and ``person``, the blinded key of
# their number); reports recorded before that carried ``name``, ``nip`` and ``ni_pppk`` in
# the clear. Each is kept only when the report has it, so neither shape gains the other's keys.
IDENTITY_FIELDS = ("nip", "ni_pppk", "name", "identity", "person")


def kept_subject(subject: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's subject fields of ``subject`` (identity fields only where present)."""
    return {k: subject.get(k) for k in SUBJECT_FIELDS if k in subject or k not in IDENTITY_FIELDS}


def subject_of(reported: Mapping[str, Any]) -> dict[str, Any]:
    """The subject as the contract names it, vocabulary checked (docs/events.md)."""
    subject = kept_subject(reported)
    for key, cls in (("position_kind", PositionKind), ("agency_level", AgencyLevel)):
        raw = subject[key]
        known = parse(cls, raw)
        subject[key] = known.value if known else None
        if raw is not None and known is None:
            subject[f"{key}_reported"] = raw
    subject["is_ppk"] = False
    return subject


__all__ = [
    "SUBJECT_FIELDS",
    "kept_subject",
    "note_report",
    "note_supplement",
    "open_examination",
    "subject_of",
]
