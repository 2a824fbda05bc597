"""The reporter's identity, sealed: who filed a report is personal data (a whistleblower's,
often), so it is kept only as ciphertext under a data key of its own (shared.keyring), in the
events and in the kept request body alike. The rest of the report stays in the clear.

Each report's reporter is one data subject, ``reporter/<report_id>``: erasing that key
erases the identity everywhere it was recorded, Kafka and exports included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.intake.domain.report import Reporter
from shared.keyring import Erased, KeyStore, is_sealed, seal, unseal

OWNER = "intake"
REPORTER = "reporter"
IDENTITY_FIELDS = ("name", "address", "contact")


def reporter_subject(report_id: str) -> str:
    """The data subject a report's reporter is, in the key store."""
    return f"reporter/{report_id}"


def identity_of(reporter: Reporter) -> dict[str, str]:
    """Who the reporter is: the fields that name or reach them."""
    return {name: value for name in IDENTITY_FIELDS if (value := getattr(reporter, name)) is not None}


@dataclass
class ReporterSeal:
    """Seals and opens the reporter identity of one report, under that reporter's data key
    (created on first need, fetched at most once per command and each fetch recorded)."""

    keys: KeyStore
    report_id: str
    actor: str
    purpose: str
    _key: bytes | None = field(default=None, repr=False)

    @property
    def subject(self) -> str:
        """The reporter's data subject."""
        return reporter_subject(self.report_id)

    def _data_key(self) -> bytes:
        if self._key is None:
            if self.keys.info(self.subject) is None:
                self._key = self.keys.create(self.subject, owner=OWNER)
            else:
                self._key = self.keys.data_key(self.subject, purpose=self.purpose, actor=self.actor)
        return self._key

    def seal(self, value: Any) -> dict[str, str]:
        """``value`` sealed under the reporter's key."""
        return seal(self._data_key(), self.subject, value)

    def identity(self, reporter: Reporter | None) -> dict[str, str] | None:
        """The reporter's identity as an event records it: sealed, or None without a reporter."""
        return None if reporter is None else self.seal(identity_of(reporter))

    def sealed_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """A request body (or supplement) with its ``reporter`` object sealed."""
        if not isinstance(body.get(REPORTER), dict):
            return body
        return {**body, REPORTER: self.seal(body[REPORTER])}

    def opened_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """A kept body with its ``reporter`` object opened again. ``Erased`` when the
        reporter's key was erased: the report can no longer be completed."""
        sealed = body.get(REPORTER)
        if not is_sealed(sealed):
            return body
        return {**body, REPORTER: unseal(self._data_key(), sealed)}


__all__ = ["Erased", "ReporterSeal", "identity_of", "reporter_subject"]
