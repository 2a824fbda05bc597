"""The capacity a decision is signed in, bound to the caller's token.

An official's token names the offices its holder holds (``netra token create --office``,
``shared.auth.Identity.offices``). A decision signed in an office the token does not hold
is refused with 403 naming that office, whether it is named in ``signed_as`` or, with
``signed_as`` omitted, is the referral's deciding official.

Why here and not in the decider: the domain rules on *authority*, whether an office has
power in law over this employee and for this penalty (PP 94/2021 Ps 17-25, from the
referral), and answers 422 with the article. Whether *this caller* holds the office is
*authorisation*, a fact about the token, like the agency check of
``services.sanctions.handlers.visible``; it is not an input of the decision. A recorded
decision is re-derived from its inputs on replay (``decision.rederive_decision``) and must
not depend on a token that may since have been revoked, so the held offices stay out of the
domain and out of the event.
"""

from __future__ import annotations

from typing import Any

from services.sanctions.domain.case import Case
from shared.auth import Identity

RULE = "OFFICE_HELD (the offices of the caller's token: netra token create --office)"


class OfficeNotHeld(Exception):
    """The caller signs in an office its token does not hold."""

    def __init__(self, office: str, held: tuple[str, ...], named: bool) -> None:
        self.office, self.held, self.named = office, held, named
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Bahasa Indonesia first, then English."""
        held_id = ", ".join(self.held) or "tidak ada"
        held_en = ", ".join(self.held) or "none"
        where_id = (
            "" if self.named else " (pejabat yang berwenang menghukum pada rujukan, karena signed_as kosong)"
        )
        where_en = "" if self.named else " (the referral's deciding official, as signed_as is omitted)"
        return (
            f"Token ini tidak memegang jabatan {self.office}{where_id}; jabatan token ini: {held_id}. / "
            f"This token does not hold the office {self.office}{where_en}; it holds: {held_en}."
        )


def require_office(identity: Identity, case: Case, signed_as: str | None) -> None:
    """Raise OfficeNotHeld unless ``identity`` holds the office the decision is signed in."""
    if signed_as is not None:
        office = signed_as
    elif case.referral is not None:
        office = case.referral.deciding_official.official
    else:
        return  # no referral: nothing can be signed, and the decider says why (409)
    if office not in identity.offices:
        raise OfficeNotHeld(office, identity.offices, named=signed_as is not None)


def office_not_held(error: OfficeNotHeld) -> Any:
    """403 naming the office, shaped like sanctions' other refusals (``errors`` and ``rules``)."""
    body = {
        "code": 403,
        "status": "Forbidden",
        "message": error.message,
        "office": error.office,
        "held_offices": list(error.held),
        "errors": {"signed_as": [error.message]},
        "rules": [{"field": "signed_as", "rule": RULE, "message": error.message}],
    }
    return body, 403
