"""``netra privacy``: erase a data subject, rotate the key-encryption key, see a key's uses.

An erasure destroys the subject's data key in the key store (shared.keyring) and records an
``intake.personal_data_erased`` event on the case: the events themselves are never touched,
so every hash chain still verifies and the sealed fields read as erased from then on.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import click

from shared.clock import SystemClock
from shared.config import Settings
from shared.db import create_engine, prepare_database
from shared.envelope import Actor
from shared.keyring import KeyStore, kek_source

# The data subjects intake keeps (services/intake/store/identities.py): a report's reporter,
# and a civil servant known by number (``netra privacy find`` names theirs).
SUBJECT = re.compile(r"reporter/[0-9a-fA-F-]{36}|person/bi1:[0-9a-f]{64}")


def _keys(settings: Settings) -> KeyStore:
    engine = create_engine(prepare_database(settings, "keyring"), pool_size=1)
    return KeyStore(engine, kek_source(settings), SystemClock())


@click.group()
def privacy() -> None:
    """Personal data: erasure, key rotation, and who used a key."""


@privacy.command("erase")
@click.option("--subject", required=True, help="reporter/<report id>, or person/bi1:... (see `find`)")
@click.option("--reason", required=True, help="why (the request, the retention rule): kept with the erasure")
@click.option("--by", "by", required=True, help="the administrator who erases")
def erase(subject: str, reason: str, by: str) -> None:
    """Destroy a data subject's key for good and record the erasure on their cases."""
    from services.intake.handlers import erase_subject
    from shared.uow import SqlUnitOfWork

    if SUBJECT.fullmatch(subject) is None:
        raise click.BadParameter("name reporter/<report id> or person/bi1:<64 hex>", param_hint="--subject")
    if not reason.strip():
        raise click.BadParameter("say why the subject is erased", param_hint="--reason")
    settings = Settings.from_env()
    engine = create_engine(prepare_database(settings, "intake"), pool_size=1)
    try:
        case_ids = erase_subject(
            subject,
            actor=Actor(by, "admin"),
            reason=reason.strip(),
            uow=SqlUnitOfWork(engine, SystemClock()),
            keys=_keys(settings),
        )
    finally:
        engine.dispose()
    if case_ids is None:
        raise click.ClickException(f"no data subject {subject}")
    click.echo(
        f"erased {subject}: its key is destroyed; recorded on {len(case_ids)} case(s): {', '.join(case_ids)}"
    )


@privacy.command("find")
@click.option("--nip", help="a PNS or CPNS's NIP")
@click.option("--ni-pppk", "ni_pppk", help="a PPPK's NI PPPK")
def find(nip: str | None, ni_pppk: str | None) -> None:
    """The data subject of a civil servant, by number, and the intake cases about them (found
    by the number's blind index: no store holds the number itself)."""
    from services.intake.store.records import cases_of_person

    if (nip is None) == (ni_pppk is None):
        raise click.UsageError("give exactly one of --nip and --ni-pppk")
    scheme, number = ("NIP", nip) if nip is not None else ("NI_PPPK", ni_pppk)
    settings = Settings.from_env()
    blind = _keys(settings).blind_index(f"{scheme}:{str(number).strip()}")
    engine = create_engine(prepare_database(settings, "intake"), pool_size=1)
    try:
        with engine.connect() as conn:
            case_ids = cases_of_person(conn, blind)
    finally:
        engine.dispose()
    click.echo(json.dumps({"subject": f"person/{blind}", "intake_cases": case_ids}, indent=2))


@privacy.command("subject")
@click.argument("subject")
def subject_info(subject: str) -> None:
    """A data subject's key: whether it is erased (by whom, why) and every recorded use."""
    keys = _keys(Settings.from_env())
    info = keys.info(subject)
    if info is None:
        raise click.ClickException(f"no data key for {subject}")
    uses = [{"purpose": p, "actor": a, "at": at} for p, a, at in keys.uses(subject)]
    click.echo(json.dumps({"key": vars(info), "uses": uses}, default=_iso, indent=2))


@privacy.command("rotate-kek")
def rotate_kek() -> None:
    """Make a fresh KEK current in the KEK file and re-wrap every data key under it; the
    events are not touched. The old KEKs stay in the file until ``retire-keks``."""
    path = _kek_file(Settings.from_env())
    keys = _keys(Settings.from_env())
    rotated = keys.keks.with_new_current()
    # Written first: running processes read the file again at their next use of a key, so
    # from here on new keys are wrapped by the new KEK, and every old one still unwraps.
    rotated.write(path)
    count = keys.rewrap(rotated)
    click.echo(
        f"re-wrapped {count} data keys under {rotated.current}; retire the old KEKs with `netra privacy retire-keks`"
    )


@privacy.command("retire-keks")
def retire_keks() -> None:
    """Drop every KEK but the current one from the KEK file, once no data key needs them."""
    path = _kek_file(Settings.from_env())
    keys = _keys(Settings.from_env())
    keks = keys.keks
    left = keys.wrapped_by_others(keks.current)
    if left:
        raise click.ClickException(
            f"{left} data keys are still wrapped by an old KEK: run `netra privacy rotate-kek`"
        )
    keks.only_current().write(path)
    click.echo(f"only {keks.current} is left in {path}")


def _kek_file(settings: Settings) -> Path:
    if settings.kek:
        raise click.ClickException("the KEK comes from NETRA_KEK: rotate it where it is kept")
    return settings.kek_file or settings.home / "kek.json"


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
