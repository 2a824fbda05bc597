"""Who a report names, sealed: the reporter (a whistleblower, often) and the subject (the
accused civil servant) are personal data, kept only as ciphertext under data keys of their
own (shared.keyring), in the events and in the kept request body alike. The rest of the
report (position, agency, incident) stays in the clear: it decides who may punish.

The data subjects:
- ``reporter/<report_id>``: each report's reporter (a reporter has no number to know them by);
- ``person/<blind index>``: a civil servant known by NIP or NI PPPK, one key across all their
  reports and cases, so erasing it erases them everywhere;
- ``subject/<report_id>``: a subject with no number (non-ASN, or not yet given), or one whose
  person key was erased before this report came.

Linking matches the person by the keyed blind index of their number
(``KeyStore.blind_index``), never by the number itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from services.intake.domain.linking import LinkFacts, PersonKey
from services.intake.domain.report import IDENTIFYING_FIELDS, Reporter, Subject
from shared.keyring import Erased, KeyStore, SubjectSeal, is_sealed

OWNER = "intake"
REPORTER, SUBJECT = "reporter", "subject"
REPORTER_FIELDS = ("name", "address", "contact")


def reporter_subject(report_id: str) -> str:
    """The data subject a report's reporter is, in the key store."""
    return f"reporter/{report_id}"


@dataclass
class ReportSeals:
    """Seals and opens what one command records of one report (see the module docstring)."""

    keys: KeyStore
    report_id: str
    actor: str
    purpose: str
    _seals: dict[str, SubjectSeal] = field(default_factory=dict, repr=False)

    def _seal(self, subject: str) -> SubjectSeal:
        if subject not in self._seals:
            self._seals[subject] = SubjectSeal(self.keys, subject, OWNER, self.actor, self.purpose)
        return self._seals[subject]

    def blind(self, person: PersonKey | None) -> PersonKey | None:
        """``person`` with its number replaced by the number's blind index."""
        if person is None:
            return None
        return PersonKey(person.scheme, self.keys.blind_index(f"{person.scheme.value}:{person.number}"))

    def blinded(self, facts: LinkFacts) -> LinkFacts:
        """Linking facts keyed by the blinded person, as the store keeps them."""
        return replace(facts, person=self.blind(facts.person))

    def reporter_identity(self, reporter: Reporter | None) -> dict[str, str] | None:
        """Who the reporter is, sealed; None without a reporter."""
        if reporter is None:
            return None
        identity = {name: value for name in REPORTER_FIELDS if (value := getattr(reporter, name)) is not None}
        return self._seal(reporter_subject(self.report_id)).seal(identity)

    def subject_identity(self, subject: Subject, person: PersonKey | None) -> dict[str, str] | None:
        """Who the subject is (name, NIP, NI PPPK), sealed under their person key (``person``,
        blinded) or this report's; None when the report names nothing of them."""
        identity = {
            name: value for name in IDENTIFYING_FIELDS if (value := getattr(subject, name)) is not None
        }
        if not identity:
            return None
        return self._seal_subject(person, identity)

    def _seal_subject(self, person: PersonKey | None, value: Any) -> dict[str, str]:
        if person is not None:
            try:
                return self._seal(f"person/{person.number}").seal(value)
            except Erased:
                pass  # erased before this report came: what it says now is kept under its own key
        return self._seal(f"subject/{self.report_id}").seal(value)

    def sealed_body(self, body: dict[str, Any], person: PersonKey | None) -> dict[str, Any]:
        """A request body (or supplement) with its ``reporter`` and ``subject`` objects sealed."""
        sealed = dict(body)
        if isinstance(body.get(REPORTER), dict):
            sealed[REPORTER] = self._seal(reporter_subject(self.report_id)).seal(body[REPORTER])
        if isinstance(body.get(SUBJECT), dict):
            sealed[SUBJECT] = self._seal_subject(person, body[SUBJECT])
        return sealed

    def opened_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """A kept body with its sealed objects opened again; ``Erased`` when a key they were
        sealed under was erased (the report can then no longer be completed)."""
        opened = dict(body)
        for name in (REPORTER, SUBJECT):
            value = body.get(name)
            if is_sealed(value):
                opened[name] = self._seal(value["subject"]).open(value)
        return opened


__all__ = ["Erased", "ReportSeals", "reporter_subject"]
