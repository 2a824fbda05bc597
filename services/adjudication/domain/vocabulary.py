"""The names the law data uses on both sides of the wire (docs/events.md, "Vocabulary").

Kept as enums so a rule file or a request with a typo is refused by name, and so the
domain never compares free text. The Indonesian terms of the law stay in the values.
"""

from __future__ import annotations

import enum


class PositionKind(enum.StrEnum):
    """The subject's *jenis jabatan* (docs/law.md §6 ``jabatan_kind``)."""

    JPT_UTAMA = "JPT_UTAMA"
    JPT_MADYA = "JPT_MADYA"
    JPT_PRATAMA = "JPT_PRATAMA"
    ADMINISTRATOR = "ADMINISTRATOR"
    PENGAWAS = "PENGAWAS"
    PELAKSANA = "PELAKSANA"
    JF_AHLI_UTAMA = "JF_AHLI_UTAMA"
    JF = "JF"


class AgencyLevel(enum.StrEnum):
    """The subject's *instansi*: central, provincial or regency/city government."""

    CENTRAL = "CENTRAL"
    PROVINCIAL = "PROVINCIAL"
    REGENCY_CITY = "REGENCY_CITY"


class EmployeeType(enum.StrEnum):
    """PNS and CPNS fall under PP 94/2021 (Ps 43); PPPK under PP 49/2018."""

    PNS = "PNS"
    CPNS = "CPNS"
    PPPK = "PPPK"
    NON_ASN = "NON_ASN"


class Level(enum.StrEnum):
    """*Tingkat hukuman disiplin*, lightest first; PTDH is party membership (UU 20/2023 Ps 52)."""

    RINGAN = "RINGAN"
    SEDANG = "SEDANG"
    BERAT = "BERAT"
    PTDH = "PTDH"

    @property
    def rank(self) -> int:
        """Heavier levels rank higher (PP 94 Ps 35(1): one penalty, the heaviest)."""
        return list(Level).index(self)


class Category(enum.StrEnum):
    """*Disiplin* (PP 94/2021, PP 49/2018) or *kode etik* (PP 42/2004: moral sanction)."""

    DISIPLIN = "DISIPLIN"
    KODE_ETIK = "KODE_ETIK"


class RecommendationCategory(enum.StrEnum):
    """What the recommending body (KASN / BKN) concluded (docs/law.md §5 row 5)."""

    KODE_ETIK = "KODE_ETIK"
    DISIPLIN = "DISIPLIN"
    NOT_PROVEN = "NOT_PROVEN"


class RecommendingBody(enum.StrEnum):
    """Who issues recommendations to the PPK: KASN until 24 Aug 2024, BKN after."""

    KASN = "KASN"
    BKN = "BKN"


class Official(enum.StrEnum):
    """*Pejabat yang Berwenang Menghukum* (PP 94 Ps 16)."""

    PRESIDEN = "PRESIDEN"
    PPK_PUSAT = "PPK_PUSAT"
    PPK_PROVINSI = "PPK_PROVINSI"
    PPK_KABUPATEN_KOTA = "PPK_KABUPATEN_KOTA"
    JPT_MADYA = "JPT_MADYA"
    JPT_PRATAMA = "JPT_PRATAMA"
    ADMINISTRATOR = "ADMINISTRATOR"
    PENGAWAS = "PENGAWAS"


class Relation(enum.StrEnum):
    """How far above the subject a hierarchical official sits (PP 94 Ps 20–23)."""

    ONE_LEVEL_UP = "ONE_LEVEL_UP"
    TWO_LEVELS_UP = "TWO_LEVELS_UP"


class ExaminerMode(enum.StrEnum):
    """Who examines: the direct superior alone, or a team (PP 94 Ps 27, 29)."""

    ATASAN_LANGSUNG = "ATASAN_LANGSUNG"
    TIM_PEMERIKSA = "TIM_PEMERIKSA"


class TeamRole(enum.StrEnum):
    """The *unsur* a tim pemeriksa is made of (PP 94 Ps 29(3)–(4))."""

    ATASAN_LANGSUNG = "ATASAN_LANGSUNG"
    PENGAWASAN = "PENGAWASAN"
    KEPEGAWAIAN = "KEPEGAWAIAN"
    LAINNYA = "LAINNYA"


class AttendanceMode(enum.StrEnum):
    """An examination is closed, in person or virtual (PP 94 Ps 27(2))."""

    TATAP_MUKA = "TATAP_MUKA"
    VIRTUAL = "VIRTUAL"


class CustodyAction(enum.StrEnum):
    """Chain-of-custody steps of an evidence item."""

    RECEIVED = "RECEIVED"
    EXAMINED = "EXAMINED"
    RETURNED = "RETURNED"


def parse(cls: type[enum.StrEnum], value: object) -> enum.StrEnum | None:
    """``value`` as a member of ``cls`` when it names one exactly, else None (free text)."""
    if not isinstance(value, str):
        return None
    try:
        return cls(value)
    except ValueError:
        return None
