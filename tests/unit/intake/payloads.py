"""Sample ``POST /v1/reports`` bodies: the contract's example, complete and valid at ``RECEIVED``."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

WITA = timezone(timedelta(hours=8))

# Two days after the contract example's register time: every date in the body is in the past.
RECEIVED = datetime(2024, 10, 12, 9, 0, tzinfo=WITA)

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

# The least a body may carry: everything else is optional at validation (admissibility then
# decides whether the report is complete).
MINIMAL: dict[str, Any] = {
    "election": {"type": "PILEG", "year": 2024},
    "subject": {"employee_type": "NON_ASN"},
    "known_at": "2024-10-08",
}


def a_body(**changes: Any) -> dict[str, Any]:
    """The contract example with dotted-path changes: ``a_body(**{"subject.nip": None})``.

    A value of ``DROP`` removes the key instead of setting it.
    """
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DROP:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return body


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()
