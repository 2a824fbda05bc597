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


class PositionKind(enum.StrEnum):
    """The subject's *jenis jabatan*: adjudication's list, and the two village offices.

    ``KEPALA_DESA`` and ``PERANGKAT_DESA`` are intake's own: a village official is not ASN,
    and the admissibility rules match these values to forward the report OUT_OF_SCOPE.
    """

    JPT_UTAMA = "JPT_UTAMA"
    JPT_MADYA = "JPT_MADYA"
    JPT_PRATAMA = "JPT_PRATAMA"
    ADMINISTRATOR = "ADMINISTRATOR"
    PENGAWAS = "PENGAWAS"
    PELAKSANA = "PELAKSANA"
    JF_AHLI_UTAMA = "JF_AHLI_UTAMA"
    JF = "JF"
    KEPALA_DESA = "KEPALA_DESA"
    PERANGKAT_DESA = "PERANGKAT_DESA"


class AgencyLevel(enum.StrEnum):
    """The subject's *instansi*: central, provincial or regency/city government."""

    CENTRAL = "CENTRAL"
    PROVINCIAL = "PROVINCIAL"
    REGENCY_CITY = "REGENCY_CITY"


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
