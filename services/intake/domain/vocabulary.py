"""Intake's own copy of the vocabulary the services share on the wire.

The enums a partner's report is read into and ``intake.report_received`` records by value.
Each service keeps its own copy of the shared names rather than importing another's (the
services share infrastructure, not payload classes). The shared ones are held to the tables
of docs/events.md ("Shared vocabulary") by tests/contract/test_vocabulary.py, so a value
changed here without the document (and the other services) fails that test.
"""

from __future__ import annotations

import enum


class ElectionType(enum.StrEnum):
    """Pemilu (national, UU 7/2017) or Pilkada (regional, UU 1/2015 as amended)."""

    PILPRES = "PILPRES"
    PILEG = "PILEG"
    PILKADA_GUB = "PILKADA_GUB"
    PILKADA_BUP = "PILKADA_BUP"
    PILKADA_WAKO = "PILKADA_WAKO"


class EmployeeType(enum.StrEnum):
    """The reported person's employment: ASN (PNS, CPNS, PPPK) or not."""

    PNS = "PNS"
    CPNS = "CPNS"
    PPPK = "PPPK"
    NON_ASN = "NON_ASN"


class Channel(enum.StrEnum):
    """The partner channel a report arrived through (named by the partner's token)."""

    BAWASLU = "BAWASLU"
    BKN = "BKN"
    INSPEKTORAT = "INSPEKTORAT"
    ATASAN_LANGSUNG = "ATASAN_LANGSUNG"
    PUBLIC_PORTAL = "PUBLIC_PORTAL"


class ReportKind(enum.StrEnum):
    """A *laporan* comes from a reporter; a *temuan* is the supervisor's own finding.

    The contract has no such field yet, so adapters pass LAPORAN; the law treats them
    differently (UU 7/2017 Ps 454: temuan ≤7 days, laporan ≤7 working days).
    """

    LAPORAN = "LAPORAN"
    TEMUAN = "TEMUAN"
