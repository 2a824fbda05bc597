"""Demo data: the five sample cases of domain.md §7, sent through the real partner API.

``netra demo load`` (and ``make run DEMO=1``) calls :func:`load_demo`, which makes one partner
token per sending agency and POSTs each report over HTTP exactly as a partner would, so the
demo exercises validation, admissibility, linking and the events, not a back door.

The people are fictional; their NIPs are made up but pass the NIP rules (services/intake/nip.py):
a real birth date, a real CPNS appointment month on or after the 18th birthday, gender 1 or 2.
The cases are 2024 (and 2020) events: the API refuses only dates in the future, and every
``reported_at`` is in the past. Idempotency keys are fixed per report, so loading the demo
twice answers the first responses again (200) instead of opening duplicate cases.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth import TokenRegistry

DEFAULT_URL = "http://127.0.0.1:8001"

# Makes a partner token for (agency, channel); a TokenRegistry is adapted to this shape.
TokenMaker = Callable[[str, str], str]


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
                "agency_level": "REGENCY",
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
                "position_kind": "FUNGSIONAL",
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
            # on the timing against candidate determination (domain.md OQ2); staff classify.
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
                "position_kind": "FUNGSIONAL",
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
                "agency_level": "CITY",
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


def token_maker(tokens: TokenRegistry | TokenMaker) -> TokenMaker:
    """A function (agency, channel) → new partner token, from a registry or such a function."""
    if isinstance(tokens, TokenRegistry):
        registry = tokens
        return lambda agency, channel: registry.create(agency, "partner", agency=agency, channel=channel)
    return tokens


def load_demo(
    base_url: str, tokens: TokenRegistry | TokenMaker, *, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """POST every sample report to ``base_url`` and return one entry per report, in order.

    Each entry is ``{"case": "A", "http_status": 201, "response": {...}}``; the response is
    the API's JSON answer (an error answer too: the caller decides what a 4xx means). One
    partner token is made per agency, as each agency would hold its own.
    """
    make = token_maker(tokens)
    bearer: dict[tuple[str, str], str] = {}
    results: list[dict[str, Any]] = []
    for report in REPORTS:
        key = (report.agency, report.channel)
        if key not in bearer:
            bearer[key] = make(*key)
        status, answer = _post(base_url, bearer[key], report, timeout)
        results.append({"case": report.case, "http_status": status, "response": answer})
    return results


def summary_line(result: Mapping[str, Any]) -> str:
    """One human line for a loaded report: case, case number, status, late."""
    answer = result["response"]
    if not 200 <= result["http_status"] < 300:
        return f"{result['case']:<3} HTTP {result['http_status']}: {json.dumps(answer)}"
    line = f"{result['case']:<3} {answer.get('case_number') or '-':<16} {answer['status']:<13} late={answer['late']}"
    if answer.get("missing"):
        line += f" missing={','.join(answer['missing'])}"
    if answer.get("forwarded_to"):
        line += f" forwarded_to={answer['forwarded_to']}"
    return line


def _post(base_url: str, token: str, report: DemoReport, timeout: float) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/v1/reports",
        data=json.dumps(report.body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": report.idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        # A 4xx/5xx still carries the API's JSON answer; it is the useful part to show.
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode(errors="replace")
