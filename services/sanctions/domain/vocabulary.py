"""Sanctions' own copy of the vocabulary the services share on the wire.

Each service keeps its own copy of these enums rather than importing another's (the services
share infrastructure, not payload classes). The copies are held to the tables of
docs/events.md ("Shared vocabulary") by tests/contract/test_vocabulary.py, so a value changed
here without the document (and the other services) fails that test.
"""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    """The level of a disciplinary finding, lightest first (PP 94/2021 Ps 8)."""

    RINGAN = "RINGAN"
    SEDANG = "SEDANG"
    BERAT = "BERAT"
    PTDH = "PTDH"

    @property
    def rank(self) -> int:
        """Its place in the order of severity."""
        return list(Level).index(self)


class Category(enum.StrEnum):
    """Discipline (PP 94/2021, PP 49/2018) or the code of ethics (PP 42/2004, moral)."""

    DISIPLIN = "DISIPLIN"
    KODE_ETIK = "KODE_ETIK"
