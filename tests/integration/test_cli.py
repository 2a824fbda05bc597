"""The operator's `netra` command against real databases."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from netra.cli import main
from shared.auth import TokenRegistry
from shared.clock import ManualClock, SystemClock
from shared.config import Settings
from shared.db import create_engine
from shared.deadlines import DeadlineScheduler
from shared.outcome import DueDeadline
from shared.schema import deadlines_set_aside
from shared.uow import Deadline, SqlUnitOfWork
from shared.workdays import DayCount
from tests.conftest import NewDatabase
from tests.support.events import context, event


def env_of(settings: Settings) -> dict[str, str]:
    env = {f"{name.upper()}_DATABASE_URL": url for name, url in settings.database_urls.items()}
    return {**env, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap}


def test_token_create_prints_a_token_the_services_accept(settings: Settings) -> None:
    result = CliRunner().invoke(
        main,
        ["token", "create", "--role", "partner", "--agency", "Bawaslu Kab. Tabanan", "--channel", "BAWASLU"],
        env=env_of(settings),
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    registry = TokenRegistry(create_engine(settings.database_url("auth")), SystemClock())
    identity = registry.verify(token)
    assert identity is not None
    assert (identity.role, identity.agency, identity.channel) == (
        "partner",
        "Bawaslu Kab. Tabanan",
        "BAWASLU",
    )


def test_token_create_refuses_a_partner_without_a_channel(settings: Settings) -> None:
    result = CliRunner().invoke(
        main, ["token", "create", "--role", "partner", "--agency", "X"], env=env_of(settings)
    )
    assert result.exit_code == 2
    assert "channel" in result.output


@pytest.fixture
def auth_only(new_database: NewDatabase, tmp_path: Path) -> Settings:
    """Only the token registry's database: the token commands need no broker."""
    return Settings(home=tmp_path, database_urls={"auth": new_database("auth")})


def test_token_create_records_an_officials_offices_and_list_shows_them(auth_only: Settings) -> None:
    settings = auth_only
    agency = "Pemerintah Kabupaten Tulang Bawang Barat"
    args = ["token", "create", "--role", "official", "--agency", agency, "--identity", "kepala.bkpsdm"]
    offices = ["--office", "PPK_KABUPATEN_KOTA", "--office", "JPT_PRATAMA"]
    created = CliRunner().invoke(main, [*args, *offices], env=env_of(settings))
    assert created.exit_code == 0, created.output
    registry = TokenRegistry(create_engine(settings.database_url("auth")), SystemClock())
    identity = registry.verify(created.output.strip())
    assert identity is not None and identity.offices == ("PPK_KABUPATEN_KOTA", "JPT_PRATAMA")
    listed = CliRunner().invoke(main, ["token", "list"], env=env_of(settings))
    assert listed.exit_code == 0, listed.output
    [entry] = [json.loads(line) for line in listed.output.splitlines()]
    assert (entry["identity"], entry["offices"]) == ("kepala.bkpsdm", ["PPK_KABUPATEN_KOTA", "JPT_PRATAMA"])


def test_token_create_refuses_an_office_sanctions_does_not_know(auth_only: Settings) -> None:
    settings = auth_only
    args = ["token", "create", "--role", "official", "--agency", "X", "--office", "BUPATI"]
    result = CliRunner().invoke(main, args, env=env_of(settings))
    assert result.exit_code == 2
    assert "Invalid value for '--office': 'BUPATI' is not one of" in result.output
    assert "'PPK_KABUPATEN_KOTA'" in result.output


def test_token_create_refuses_offices_on_a_token_that_is_not_an_officials(auth_only: Settings) -> None:
    settings = auth_only
    args = ["token", "create", "--role", "supervisor", "--office", "PPK_PUSAT"]
    result = CliRunner().invoke(main, args, env=env_of(settings))
    assert result.exit_code == 2
    assert "only official tokens hold offices" in result.output


def test_db_url_prints_a_libpq_url_for_psql(settings: Settings) -> None:
    result = CliRunner().invoke(main, ["db", "url", "intake"], env=env_of(settings))
    assert result.exit_code == 0
    printed = result.output.strip()
    assert printed.startswith("postgresql://")
    assert printed == settings.database_url("intake").replace("postgresql+psycopg://", "postgresql://")


def test_audit_verify_passes_a_clean_log_and_fails_naming_a_tampered_event(settings: Settings) -> None:
    engine = create_engine(settings.database_url("adjudication"))
    with SqlUnitOfWork(engine, SystemClock()) as uow:
        [first, _] = uow.events.append("case-1", [event(), event()], expected_version=0, context=context())
        uow.commit()
    clean = CliRunner().invoke(main, ["audit", "verify"], env=env_of(settings))
    assert clean.exit_code == 0, clean.output
    assert "adjudication: 2 events in 1 cases" in clean.output
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            sa.text("UPDATE events SET envelope = replace(envelope, :old, :new) WHERE position = 1"),
            {"old": '"n":1', "new": '"n":2'},
        )
    tampered = CliRunner().invoke(main, ["audit", "verify", "--json"], env=env_of(settings))
    assert tampered.exit_code == 1
    assert first.event_id in tampered.output


def test_deadlines_set_aside_lists_a_failing_deadline_and_retry_brings_it_back(settings: Settings) -> None:
    engine = create_engine(settings.database_url("adjudication"))
    clock = ManualClock(datetime(2024, 3, 6, 10, tzinfo=UTC))
    with SqlUnitOfWork(engine, clock) as uow:
        [started] = uow.events.append("case-1", [event()], expected_version=0, context=context())
        uow.schedule(Deadline("case-1", "examination", date(2024, 3, 19), DayCount.WORKING, started.event_id))
        uow.commit()
    clock.set(datetime(2024, 3, 21, 3, tzinfo=UTC))

    def failing(due: DueDeadline, uow: SqlUnitOfWork) -> str:
        raise LookupError("no such rule")

    assert DeadlineScheduler(engine, clock, failing, "adjudication").run_once() == 0
    listed = CliRunner().invoke(main, ["deadlines", "set-aside", "adjudication"], env=env_of(settings))
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (row["case_id"], row["kind"], row["attempts"]) == ("case-1", "examination", 1)
    assert row["reason"] == "examination of case case-1: LookupError: no such rule"

    retried = CliRunner().invoke(
        main, ["deadlines", "retry", "adjudication", row["deadline_id"]], env=env_of(settings)
    )
    assert retried.exit_code == 0, retried.output
    with engine.connect() as conn:
        retry_after = conn.execute(sa.select(deadlines_set_aside.c.retry_after)).scalar_one()
    assert retry_after < datetime.now(UTC)  # the scheduler's next pass takes it again
    unknown = CliRunner().invoke(
        main, ["deadlines", "retry", "adjudication", str(uuid.uuid4())], env=env_of(settings)
    )
    assert unknown.exit_code == 1 and "is not set aside" in unknown.output
