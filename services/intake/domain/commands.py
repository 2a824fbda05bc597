"""What partners ask intake to do: the commands its handlers carry out (services.intake.handlers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.intake.domain.report import Report


@dataclass(frozen=True)
class SubmitReport:
    """A partner pushes a report under an idempotency key."""

    partner: str
    idempotency_key: str
    body: bytes
    report: Report


@dataclass(frozen=True)
class SupplementReport:
    """A partner completes its INCOMPLETE report with the fields the law asks for."""

    partner: str
    report_id: uuid.UUID
    supplied: dict[str, Any]
