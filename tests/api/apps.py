"""The four apps (intake, adjudication, sanctions, audit) on fresh databases, built once per
test module, with a token for a role allowed to write and one allowed to read on each.

Behind the ``services`` fixture (tests/api/conftest.py). No Kafka: the
web apps never talk to the broker (the relays do), so these tests start none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from shared.clock import ManualClock
from shared.config import Settings
from shared.web.runtime import runtime
from tests.conftest import NewDatabase

AGENCY = "Pemerintah Kabupaten Tabanan"
# The subject's agency of intake's contract example and of tests.unit.adjudication.builders:
# the unit of the supervisors below, who read only their unit's cases (shared.scope).
UNIT = "Pemerintah Provinsi Bali"
# The deciding official and the other authority of tests.unit.sanctions.support.referral().
SIGNING_OFFICES = ("PPK_KABUPATEN_KOTA", "JPT_PRATAMA")


@dataclass
class Service:
    """One app with the headers of a caller who may write and of one who may read."""

    name: str
    app: Flask
    writer: dict[str, str]
    reader: dict[str, str]
    # Tables whose row counts prove that a refused request wrote nothing.
    tables: tuple[str, ...] = ("events",)

    def counts(self) -> dict[str, int]:
        """Rows in each of ``tables``, to compare before and after a request."""
        with runtime(self.app).engine.connect() as conn:
            return {
                t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in self.tables
            }


def _bearer(app: Flask, who: str, role: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime(app).tokens.create(who, role, **kwargs)}"}


def build_services(new_database: NewDatabase, home: Path) -> dict[str, Service]:
    """All four apps on fresh databases; close them with ``close_services``."""
    from netra.audit_app import create_app as audit_app
    from services.adjudication import create_app as adjudication_app
    from services.intake import create_app as intake_app
    from services.sanctions import create_app as sanctions_app

    urls = {
        name: new_database(name)
        for name in ("intake", "adjudication", "sanctions", "auth", "keyring", "audit")
    }
    settings = Settings(home=home, database_urls=urls, kafka_bootstrap="127.0.0.1:1", log_format="text")
    clock = ManualClock(datetime(2024, 12, 10, 3, 0, tzinfo=UTC))
    factories: dict[str, Callable[..., Flask]] = {
        "intake": intake_app,
        "adjudication": adjudication_app,
        "sanctions": sanctions_app,
        "audit": audit_app,
    }
    apps = {name: make(settings, clock=clock) for name, make in factories.items()}
    intake, adjudication, sanctions, audit = (apps[n] for n in factories)
    return {
        "intake": Service(
            "intake",
            intake,
            _bearer(
                intake, "Bawaslu Kab. Tabanan", "partner", agency="Bawaslu Kab. Tabanan", channel="BAWASLU"
            ),
            _bearer(intake, "sup.made", "supervisor", agency=UNIT),
            ("events", "webhooks"),
        ),
        "adjudication": Service(
            "adjudication",
            adjudication,
            _bearer(adjudication, "sup.made", "supervisor", agency=UNIT),
            _bearer(adjudication, "sup.made", "supervisor", agency=UNIT),
        ),
        "sanctions": Service(
            "sanctions",
            sanctions,
            # The offices the seeded referrals' officials sign in (tests.unit.sanctions.support).
            _bearer(sanctions, "kepala.bkpsdm", "official", agency=AGENCY, offices=SIGNING_OFFICES),
            _bearer(sanctions, "kepala.bkpsdm", "official", agency=AGENCY, offices=SIGNING_OFFICES),
        ),
        "audit": Service(
            "audit", audit, _bearer(audit, "auditor-1", "auditor"), _bearer(audit, "auditor-1", "auditor")
        ),
    }


def close_services(services: dict[str, Service]) -> None:
    for service in services.values():
        runtime(service.app).close()
