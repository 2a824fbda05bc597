"""The partner contract's example report (docs/partner-api.md, ``POST /v1/reports``), complete
and valid: shared by the tests, the benchmark and anyone trying the API by hand."""

from __future__ import annotations

from typing import Any

EVIDENCE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

CONTRACT_EXAMPLE: dict[str, Any] = {
    "source_ref": "023/LP/PB/Kab/17.03/X/2024",
    "election": {"type": "PILKADA_BUP", "year": 2024, "candidate_determination_date": "2024-09-22"},
    "subject": {
        "employee_type": "PNS",
        "nip": "198503122010011004",
        "name": "I Made Contoh",
        "position": "Kepala Bidang Pendapatan",
        "position_kind": "ADMINISTRATOR",
        "agency": "Pemerintah Provinsi Bali",
        "agency_level": "PROVINCIAL",
        "work_unit": "UPTD Samsat Tabanan",
    },
    "incident": {
        "date": "2024-10-08",
        "province": "Bali",
        "regency": "Tabanan",
        "description": "Shared and commented on a candidate pair's campaign post.",
    },
    "known_at": "2024-10-08",
    "reported_at": "2024-10-10T10:30:00+08:00",
    "alleged_violations": ["N2"],
    "evidence": [
        {
            "kind": "SCREENSHOT",
            "uri": "https://partner.example/evidence/77",
            "sha256": EVIDENCE_SHA256,
            "captured_at": "2024-10-08T09:12:00+08:00",
        }
    ],
    "reporter": {
        "name": "Ni Luh Contoh",
        "address": "Tabanan",
        "contact": "+62812000000",
        "confidential": True,
    },
}
