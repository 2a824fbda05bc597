"""Who may learn who a reporter is, and the events that record each disclosure and erasure.
Pure: the caller opens the sealed identity only after ``disclose`` allowed it.

A reporter's identity goes to the partner that filed the report and to the intake privacy
officer (``privacy_officer``), who answers for the reporters' data under UU 27/2022. When
the reporter did not ask for confidentiality, a supervisor whose reads include the case
(shared.scope: the subject's agency) may read it as well, to hear the reporter as a witness;
a confidential reporter is known to no one who works the case. Investigators read cases at
adjudication, which knows their assignments; intake does not, so it shows them no reporter. Officials and auditors never read it here: the official may be the accused's
own employer. Every disclosure is an event on the case, so the record says who learnt it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.events import PERSONAL_DATA_ERASED, REPORTER_IDENTITY_DISCLOSED
from shared.envelope import NewEvent

PRIVACY_OFFICER = "privacy_officer"
# Who may read a reporter who did not ask for confidentiality, besides the two above.
CASE_WORKERS = ("supervisor",)


class NotDisclosed(Exception):
    """The reader may not learn who the reporter is (answered 403)."""


@dataclass(frozen=True)
class Reader:
    """Who asks to see a reporter's identity."""

    id: str
    role: str
    agency: str | None = None


def may_read(reader: Reader, *, filed_by: str, confidential: bool) -> bool:
    """Whether ``reader`` may learn who the reporter of a report filed by ``filed_by`` is."""
    if reader.role == PRIVACY_OFFICER:
        return True
    if reader.role == "partner":
        return reader.id == filed_by
    return not confidential and reader.role in CASE_WORKERS


def disclose(reader: Reader, *, report_id: str, filed_by: str, confidential: bool, at: datetime) -> NewEvent:
    """The event recording that ``reader`` is shown the reporter's identity; ``NotDisclosed``
    when they may not see it."""
    if not may_read(reader, filed_by=filed_by, confidential=confidential):
        raise NotDisclosed(_only_for(report_id, confidential))
    return NewEvent(
        REPORTER_IDENTITY_DISCLOSED,
        {
            "report_id": report_id,
            "reader": {"id": reader.id, "role": reader.role},
            "confidential": confidential,
        },
        occurred_at=at,
    )


def _only_for(report_id: str, confidential: bool) -> str:
    if confidential:
        siapa, who = (
            "mitra yang menyampaikannya dan petugas pelindungan data",
            "the partner that filed it and the privacy officer",
        )
    else:
        siapa = "mitra yang menyampaikannya, petugas pelindungan data dan supervisor"
        who = "the partner that filed it, the privacy officer and the supervisor"
    return (
        f"identitas pelapor laporan {report_id} hanya dapat dibaca oleh {siapa} / "
        f"the reporter's identity of report {report_id} may be read only by {who}"
    )


def erasure(
    *, subject: str, fields: list[str], reason: str, at: datetime, report_id: str | None = None
) -> NewEvent:
    """The event recording that a data subject's key was destroyed: their ``fields`` can
    never be read again, anywhere they were recorded."""
    return NewEvent(
        PERSONAL_DATA_ERASED,
        {"report_id": report_id, "subject": subject, "fields": fields, "reason": reason},
        occurred_at=at,
    )
