"""The five sample cases of docs/law.md §7 as one script: each partner's report, then every
command the case goes through at adjudication and sanctions, with the legal date of each.

Data only. ``netra.sample_run`` plays it over HTTP against the three services: the e2e test
(tests/e2e/test_sample_cases.py) with clocks it moves to each step's date, ``netra demo load``
against a running system on the real clock. The people are fictional; their NIPs are made up
but pass the NIP rules (services/intake/domain/nip.py): a real birth date, a real CPNS appointment
month on or after the 18th birthday, gender 1 or 2.

  A  PPPK, code of ethics            → M1 declared (moral), CLOSED
  B  PNS sedang, Sekda two levels up → S2L, delivered 3 Apr 2024, in force 18 Apr, executed, CLOSED
  C  PNS berat, Bupati (PPK)         → B2, keberatan inside the window suspends it, confirmed, CLOSED
  D  two linked reports: D1 PNS berat → B3 dismissal, banding to BPASN, confirmed, CLOSED;
     D2 PPPK, code of ethics         → M2 declared, CLOSED
  E  Pilkada 2020 (PP 53/2010)       → KASN, the team's examination, N6 levelled berat by a person
                                       with a reason; the PPK does not act: PPK_NONCOMPLIANT
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoReport:
    """One report of a sample case, and the partner that would push it."""

    case: str  # the §7 letter; D has two reports, D1 and D2
    agency: str
    channel: str
    body: Mapping[str, Any]

    @property
    def idempotency_key(self) -> str:
        """A fixed key per report: a second load replays instead of duplicating."""
        return f"netra-demo-{self.case}"


_REPORTER_TABANAN = {"name": "Ni Luh Pelapor", "address": "Tabanan, Bali", "confidential": True}

REPORTS: tuple[DemoReport, ...] = (
    # A. A PPPK admin officer shares a Bupati pair's campaign post and has its APK sticker on
    # a private car; seen Tue 8 Oct, reported Thu 10 Oct (limit 15 Oct): in time, BKN.
    DemoReport(
        case="A",
        agency="Bawaslu Kab. Tabanan",
        channel="BAWASLU",
        body={
            "source_ref": "031/LP/PB/Kab/17.03/X/2024",
            "election": {"type": "PILKADA_BUP", "year": 2024, "candidate_determination_date": "2024-09-22"},
            "subject": {
                "employee_type": "PPPK",
                "ni_pppk": "199204152021212003",
                "name": "Ni Kadek Contoh",
                "position": "Pengadministrasi Umum",
                "position_kind": "PELAKSANA",
                "agency": "Pemerintah Provinsi Bali",
                "agency_level": "PROVINCIAL",
                "work_unit": "UPTD Samsat Tabanan, Bapenda Provinsi Bali",
            },
            "incident": {
                "date": "2024-10-08",
                "province": "Bali",
                "regency": "Tabanan",
                "description": (
                    "Shared and commented on a Bupati pair's campaign post; the pair's APK "
                    "sticker is on the officer's private car."
                ),
            },
            "known_at": "2024-10-08",
            "reported_at": "2024-10-10T10:30:00+08:00",
            # SKB Lampiran II A: 1 APK of a candidate, 4 posting/comment/share on social media.
            "alleged_violations": ["SKB-KE-1", "SKB-KE-4"],
            "reporter": _REPORTER_TABANAN,
        },
    ),
    # B. A PNS Kepala Bidang attends a DPR candidate's campaign in Korpri uniform, Sat 3 Feb
    # 2024; reported Mon 5 Feb (limit 16 Feb, 7 working days): in time, KASN (before 24 Aug).
    DemoReport(
        case="B",
        agency="Bawaslu Provinsi Bali",
        channel="BAWASLU",
        body={
            "source_ref": "007/LP/PL/Prov/17.00/II/2024",
            "election": {"type": "PILEG", "year": 2024},
            "subject": {
                "employee_type": "PNS",
                "nip": "197805142003031001",
                "name": "I Wayan Contoh",
                "position": "Kepala Bidang",
                "position_kind": "ADMINISTRATOR",
                "agency": "Pemerintah Provinsi Bali",
                "agency_level": "PROVINCIAL",
                "work_unit": "Dinas Provinsi Bali",
            },
            "incident": {
                "date": "2024-02-03",
                "province": "Bali",
                "regency": "Denpasar",
                "description": "Attended a DPR candidate's campaign in Korpri uniform.",
            },
            "known_at": "2024-02-03",
            "reported_at": "2024-02-05T09:00:00+08:00",
            "alleged_violations": ["N2"],
            "reporter": {"name": "Made Pelapor", "address": "Denpasar, Bali", "confidential": False},
        },
    ),
    # C. A PNS Kabid gathers village heads in the office hall, urges support for a pair and
    # hands out sembako (Sat 12 Oct); reported 14 Oct (limit 19 Oct). N4 + N6, and the gifts
    # flag the case for Gakkumdu (UU 1/2015 Ps 188).
    DemoReport(
        case="C",
        agency="Bawaslu Kab. Tulang Bawang Barat",
        channel="BAWASLU",
        body={
            "source_ref": "012/LP/PB/Kab/08.12/X/2024",
            "election": {"type": "PILKADA_BUP", "year": 2024, "candidate_determination_date": "2024-09-22"},
            "subject": {
                "employee_type": "PNS",
                "nip": "198001102005011002",
                "name": "Budi Contoh",
                "position": "Kepala Bidang Pemerintahan Desa",
                "position_kind": "ADMINISTRATOR",
                "agency": "Pemerintah Kabupaten Tulang Bawang Barat",
                "agency_level": "REGENCY_CITY",
                "work_unit": "Dinas Pemberdayaan Masyarakat dan Desa",
            },
            "incident": {
                "date": "2024-10-12",
                "province": "Lampung",
                "regency": "Tulang Bawang Barat",
                "description": (
                    "Gathered village heads in the office hall, urged support for a candidate "
                    "pair and handed out sembako with the pair's stickers."
                ),
            },
            "known_at": "2024-10-12",
            "reported_at": "2024-10-14T11:00:00+07:00",
            "alleged_violations": ["N4", "N6"],
            "reporter": {"name": "Sari Pelapor", "address": "Panaragan, Tulang Bawang Barat"},
        },
    ),
    # D. One register entry (one source_ref) names two people: a PNS teacher running a
    # Gubernur pair's "tim pemenangan" WhatsApp group and a PPPK teacher sharing its flyers.
    # Different people, so two cases that are linked to each other, not one.
    DemoReport(
        case="D1",
        agency="Bawaslu Provinsi Sumatera Selatan",
        channel="BAWASLU",
        body={
            "source_ref": "019/LP/PG/Prov/06.00/X/2024",
            "election": {"type": "PILKADA_GUB", "year": 2024, "candidate_determination_date": "2024-09-22"},
            "subject": {
                "employee_type": "PNS",
                "nip": "198707222010011005",
                "name": "Andi Contoh",
                "position": "Guru",
                "position_kind": "JF",
                "agency": "Pemerintah Provinsi Sumatera Selatan",
                "agency_level": "PROVINCIAL",
                "work_unit": "SMA Negeri, Palembang",
            },
            "incident": {
                "date": "2024-10-14",
                "province": "Sumatera Selatan",
                "regency": "Palembang",
                "description": "Runs a Gubernur pair's 'tim pemenangan' WhatsApp group.",
            },
            "known_at": "2024-10-15",
            "reported_at": "2024-10-17T10:00:00+07:00",
            # Left unclassified: which SKB-DS item "tim pemenangan" is, and its level, depends
            # on the timing against candidate determination (docs/law.md OQ2); staff classify.
            "alleged_violations": [],
            "reporter": {"name": "Rina Pelapor", "address": "Palembang, Sumatera Selatan"},
        },
    ),
    DemoReport(
        case="D2",
        agency="Bawaslu Provinsi Sumatera Selatan",
        channel="BAWASLU",
        body={
            "source_ref": "019/LP/PG/Prov/06.00/X/2024",
            "election": {"type": "PILKADA_GUB", "year": 2024, "candidate_determination_date": "2024-09-22"},
            "subject": {
                "employee_type": "PPPK",
                "ni_pppk": "199503172022212001",
                "name": "Dewi Contoh",
                "position": "Guru",
                "position_kind": "JF",
                "agency": "Pemerintah Provinsi Sumatera Selatan",
                "agency_level": "PROVINCIAL",
                "work_unit": "SMA Negeri, Palembang",
            },
            "incident": {
                "date": "2024-10-14",
                "province": "Sumatera Selatan",
                "regency": "Palembang",
                "description": "Shares the flyers of a Gubernur pair's 'tim pemenangan' group.",
            },
            "known_at": "2024-10-15",
            "reported_at": "2024-10-17T10:00:00+07:00",
            "alleged_violations": ["SKB-KE-4"],
            "reporter": {"name": "Rina Pelapor", "address": "Palembang, Sumatera Selatan"},
        },
    ),
    # E. A PNS Lurah hands out cash for a pair in Nov 2020: the legacy regime, so the
    # recommendation goes to KASN (known before 24 Aug 2024), and money flags Gakkumdu.
    DemoReport(
        case="E",
        agency="Bawaslu Kota Contoh",
        channel="BAWASLU",
        body={
            "source_ref": "004/LP/PW/Kota/00.00/XI/2020",
            "election": {"type": "PILKADA_WAKO", "year": 2020},
            "subject": {
                "employee_type": "PNS",
                "nip": "197511032000121003",
                "name": "Agus Contoh",
                "position": "Lurah",
                "position_kind": "ADMINISTRATOR",
                "agency": "Pemerintah Kota Contoh",
                "agency_level": "REGENCY_CITY",
                "work_unit": "Kelurahan Contoh",
            },
            "incident": {
                "date": "2020-11-20",
                "province": "Jawa Tengah",
                "regency": "Kota Contoh",
                "description": "Handed out cash (politik uang) to residents for a candidate pair.",
            },
            "known_at": "2020-11-21",
            "reported_at": "2020-11-23T09:00:00+07:00",
            "alleged_violations": ["N6"],
            "reporter": {"name": "Joko Pelapor", "address": "Kota Contoh"},
        },
    ),
)


@dataclass(frozen=True)
class Step:
    """One command: ``POST /v1/cases/{id}/<action>`` at ``service`` by ``role`` on day ``on``.

    ``mark`` names the moment for whoever plays the script (the e2e test checks §7's dates
    there); ``on`` is the legal date the step belongs to (the e2e test's clocks move to it).
    """

    service: str  # adjudication or sanctions
    action: str
    body: Mapping[str, Any]
    on: str
    role: str = "investigator"  # supervisor, investigator (adjudication) or official (sanctions)
    mark: str | None = None


@dataclass(frozen=True)
class Lapse:
    """Sanctions' deadline scheduler sees day ``on`` and moves the case to ``state`` (and, with
    ``has``, gives it that field): a penalty taking effect, an appeal window closing, a PPK
    not acting. The e2e test moves the clock and runs the scheduler once; on the real clock
    the running scheduler records it on its own, so the demo waits for it."""

    on: str
    state: str
    has: str | None = None
    mark: str | None = None


@dataclass(frozen=True)
class SampleCase:
    """One sample case: its report, its steps in order, and where the law leaves it."""

    report: DemoReport
    steps: tuple[Step | Lapse, ...]
    end_state: str  # at sanctions
    partner_stage: str  # at intake, as the partner sees it
    # The office of the referral's deciding official, which the decision is signed in: the
    # sanctions official's token holds it (netra token create --office).
    office: str

    @property
    def letter(self) -> str:
        """A, B, C, D1, D2 or E."""
        return self.report.case


SHA = "f" * 64
TEAM = (
    {"name": "Atasan langsung", "role": "ATASAN_LANGSUNG"},
    {"name": "Inspektur Pembantu", "role": "PENGAWASAN"},
    {"name": "Kepala BKPSDM", "role": "KEPEGAWAIAN"},
)
SUPERIOR = ({"name": "Atasan langsung", "role": "ATASAN_LANGSUNG"},)


def adj(action: str, body: Mapping[str, Any], on: str, *, role: str = "investigator") -> Step:
    """A step at adjudication."""
    return Step("adjudication", action, body, on, role)


def san(action: str, body: Mapping[str, Any], on: str, mark: str | None = None) -> Step:
    """A step at sanctions, by the deciding official."""
    return Step("sanctions", action, body, on, "official", mark)


def assign(letter: str, on: str) -> Step:
    """The supervisor assigns the case's investigator (``inv-<letter>``)."""
    return adj("assignment", {"investigator_id": investigator(letter)}, on, role="supervisor")


def investigator(letter: str) -> str:
    """The identity of the investigator a sample case is assigned to."""
    return f"inv-{letter}"


def summons(letter_date: str, exam: str, number: str = "800/1", signed_by: str = "Atasan langsung") -> Step:
    """A written summons (PP 94/2021 Ps 26(1)–(2))."""
    body = {
        "letter_number": number,
        "letter_date": letter_date,
        "examination_date": exam,
        "signed_by": signed_by,
    }
    return adj("summons", body, letter_date)


def examiner(mode: str, members: tuple[Mapping[str, str], ...], on: str) -> Step:
    """The direct superior alone, or a tim pemeriksa, appointed on ``on``."""
    return adj("examiner", {"mode": mode, "members": list(members), "appointed_on": on}, on)


def attended(on: str) -> Step:
    """The subject came and was examined in person."""
    return adj("attendance", {"examined_on": on, "mode": "TATAP_MUKA"}, on)


def bap(on: str) -> Step:
    """The BAP, signed by the subject."""
    body = {
        "document_uri": "https://dms.example/bap.pdf",
        "sha256": SHA,
        "signed_on": on,
        "signed_by_subject": True,
    }
    return adj("bap", body, on)


def finding(violations: list[dict[str, Any]], on: str) -> Step:
    """Proven, with these violations (a code, and a level with a reason where the law has none)."""
    body = {"proven": True, "reasoning": "BAP and evidence", "violations": violations, "found_on": on}
    return adj("finding", body, on)


def codes(*names: str) -> list[dict[str, Any]]:
    """Violations whose level the catalogue sets."""
    return [{"code": name} for name in names]


def recommendation(number: str, issued_on: str, level: str) -> Step:
    """KASN's or BKN's disiplin recommendation (the body is chosen by date)."""
    body = {"number": number, "issued_on": issued_on, "category": "DISIPLIN", "level": level}
    return adj("recommendation", body, issued_on)


def acknowledged(received_on: str, ppk: str) -> Step:
    """The PPK received the recommendation: its follow-up clock starts."""
    return adj("ppk-acknowledgement", {"received_on": received_on, "ppk": ppk}, received_on)


def decree(number: str, on: str, mark: str | None = None) -> Step:
    """The decree of the decision, with its document's hash."""
    return san("decree", {"number": number, "issued_on": on, "document_sha256": SHA}, on, mark)


def report_of(letter: str) -> DemoReport:
    """The report of sample case ``letter``."""
    return next(r for r in REPORTS if r.case == letter)


CASE_A = SampleCase(
    report_of("A"),
    (
        assign("A", "2024-10-21"),
        summons("2024-10-21", "2024-10-25"),
        examiner("ATASAN_LANGSUNG", SUPERIOR, "2024-10-21"),
        attended("2024-10-25"),
        bap("2024-10-25"),
        finding(codes("SKB-KE-1", "SKB-KE-4"), "2024-10-28"),
        san("decision", {"penalty": "M1", "decided_on": "2024-11-04"}, "2024-11-04"),
        decree("800/9/BKD", "2024-11-04", mark="declared"),
    ),
    end_state="CLOSED",
    partner_stage="CLOSED",
    office="PPK_PROVINSI",
)

CASE_B = SampleCase(
    report_of("B"),
    (
        assign("B", "2024-03-04"),
        recommendation("R-1/KASN/3/2024", "2024-03-04", "SEDANG"),
        acknowledged("2024-03-05", "Pj Gubernur Bali"),
        summons("2024-03-06", "2024-03-15"),
        examiner("ATASAN_LANGSUNG", SUPERIOR, "2024-03-06"),
        attended("2024-03-15"),
        bap("2024-03-15"),
        finding(codes("N2"), "2024-03-20"),
        san("decision", {"penalty": "S2L", "decided_on": "2024-04-01"}, "2024-04-01"),
        decree("800/45/BKD/2024", "2024-04-01"),
        san("delivery", {"received_on": "2024-04-03"}, "2024-04-03", mark="delivered"),
        Lapse("2024-04-18", "IN_FORCE", mark="in_force"),
        # No keberatan came by 2 May: the window closes and the 12 months run from 18 Apr.
        Lapse("2024-05-03", "IN_FORCE", has="execution", mark="executing"),
        san("execution/completion", {"completed_on": "2025-04-17"}, "2025-04-17"),
    ),
    end_state="CLOSED",
    partner_stage="CLOSED",
    office="JPT_MADYA",
)

CASE_C = SampleCase(
    report_of("C"),
    (
        assign("C", "2024-11-04"),
        recommendation("R-9/BKN/11/2024", "2024-11-04", "BERAT"),
        acknowledged("2024-11-05", "Pj Bupati Tulang Bawang Barat"),
        summons("2024-11-06", "2024-11-13"),
        adj("absence", {"missed_on": "2024-11-13"}, "2024-11-13"),
        adj(
            "second-summons",
            {
                "letter_number": "800/2",
                "letter_date": "2024-11-15",
                "examination_date": "2024-11-22",
                "signed_by": "Kadis PMD",
            },
            "2024-11-15",
        ),
        examiner("TIM_PEMERIKSA", TEAM, "2024-11-15"),
        attended("2024-11-22"),
        bap("2024-11-22"),
        finding(codes("N4", "N6"), "2024-11-25"),
        san("decision", {"penalty": "B2", "decided_on": "2024-12-09"}, "2024-12-09"),
        decree("800/77/BKPSDM/2024", "2024-12-09"),
        san("delivery", {"received_on": "2024-12-12"}, "2024-12-12", mark="delivered"),
        Lapse("2024-12-27", "IN_FORCE", mark="in_force"),
        # Filed after the penalty took effect (27 Dec) but inside the window (6 Jan 2025).
        san("objection", {"filed_on": "2025-01-03"}, "2025-01-03", mark="objection"),
        san(
            "objection/decision",
            {"ruling": "CONFIRM", "decided_on": "2025-01-20"},
            "2025-01-20",
            mark="confirmed",
        ),
        san("execution/completion", {"completed_on": "2026-01-19"}, "2026-01-19"),
    ),
    end_state="CLOSED",
    partner_stage="CLOSED",
    office="PPK_KABUPATEN_KOTA",
)

CASE_D1 = SampleCase(
    report_of("D1"),
    (
        assign("D1", "2024-10-21"),
        summons("2024-10-21", "2024-10-25"),
        examiner("TIM_PEMERIKSA", TEAM, "2024-10-21"),
        attended("2024-10-25"),
        bap("2024-10-25"),
        # He mobilises colleagues in the group: N3, berat (docs/law.md §7 D).
        finding(codes("N3"), "2024-10-28"),
        san("decision", {"penalty": "B3", "decided_on": "2024-11-04"}, "2024-11-04"),
        decree("800/3/BKD", "2024-11-04"),
        san("delivery", {"received_on": "2024-11-05"}, "2024-11-05"),
        san("appeal", {"filed_on": "2024-11-12"}, "2024-11-12", mark="banding"),
        san("appeal/answer", {"answered_on": "2024-12-02"}, "2024-12-02"),
        san(
            "appeal/decision",
            {"ruling": "CONFIRM", "decided_on": "2025-02-03", "in_force_on": "2025-02-03"},
            "2025-02-03",
            mark="confirmed",
        ),
    ),
    end_state="CLOSED",
    partner_stage="CLOSED",
    office="PPK_PROVINSI",
)

CASE_D2 = SampleCase(
    report_of("D2"),
    (
        assign("D2", "2024-10-21"),
        summons("2024-10-21", "2024-10-25"),
        examiner("ATASAN_LANGSUNG", SUPERIOR, "2024-10-21"),
        attended("2024-10-25"),
        bap("2024-10-25"),
        finding(codes("SKB-KE-4"), "2024-10-28"),
        san("decision", {"penalty": "M2", "decided_on": "2024-11-04"}, "2024-11-04"),
        decree("800/4/BKD", "2024-11-04", mark="declared"),
    ),
    end_state="CLOSED",
    partner_stage="CLOSED",
    office="PPK_PROVINSI",
)

# E: under PP 53/2010 (adjudication-pp53-2010.1, sanctions-pp53-2010.1). The legacy data has no
# level for N6, so the investigator chooses berat and writes why; the Wali Kota as PPK does
# not act within 14 days of the referral (R), so sanctions escalates (docs/law.md §7 E).
CASE_E = SampleCase(
    report_of("E"),
    (
        assign("E", "2020-12-14"),
        recommendation("R-5/KASN/12/2020", "2020-12-14", "BERAT"),
        acknowledged("2020-12-15", "Wali Kota Contoh"),
        summons("2020-12-16", "2020-12-22", signed_by="Camat"),
        examiner("TIM_PEMERIKSA", TEAM, "2020-12-16"),
        attended("2020-12-22"),
        bap("2020-12-22"),
        finding(
            [
                {
                    "code": "N6",
                    "level": "BERAT",
                    "level_reason": (
                        "cash handed to residents for a pair; PP 53/2010's level is not in the rule "
                        "data, and PP 94/2021 Ps 14 i 4 puts the same conduct at berat"
                    ),
                }
            ],
            "2020-12-23",
        ),
        Lapse("2021-01-07", "PPK_NONCOMPLIANT", mark="escalated"),
    ),
    end_state="PPK_NONCOMPLIANT",
    partner_stage="UNDER_EXAMINATION",
    office="PPK_KABUPATEN_KOTA",
)

SAMPLE_CASES: tuple[SampleCase, ...] = (CASE_A, CASE_B, CASE_C, CASE_D1, CASE_D2, CASE_E)
