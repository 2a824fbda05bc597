"""``netra``: the operator's command line.

netra token create --role partner --agency "Bawaslu Kab. Tabanan" --channel BAWASLU
netra db url intake                 (for psql and backups)
netra pg start | stop               (the embedded PostgreSQL of `make run`)
netra kafka start | stop | topics   (the local broker, and topic creation)
netra relay intake | consumer intake
netra inbox parked intake | inbox release intake ID --by NAME --reason TEXT
netra deadlines set-aside adjudication | deadlines retry adjudication ID
netra audit verify | replay | history CASE | export CASE --out F | verify-bundle F
netra demo load [--url URL]         (the five sample cases of docs/law.md §7, over HTTP)
netra run                           (what `make run` calls)
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from typing import Any

import click

from netra.audit.cli import audit as audit_commands
from netra.demo import DEFAULT_URL
from netra.privacy import privacy as privacy_commands
from shared.config import DEADLINE_KEEPERS, PLATFORM_DATABASES, REPO_ROOT, SERVICES, Settings
from shared.processes import ServiceWiring

SERVICE = click.Choice(SERVICES)
# The services that keep legal deadlines (see netra.supervisor).
DEADLINE_KEEPER = click.Choice(DEADLINE_KEEPERS)
KAFKA_SH = REPO_ROOT / "deploy" / "kafka" / "kafka.sh"


def settings() -> Settings:
    """The settings of this invocation, read once from the environment."""
    return Settings.from_env()


def wiring(service: str) -> ServiceWiring:
    """A service's consumer wiring (imported lazily: commands that don't need it stay fast)."""
    module: Any = importlib.import_module(f"services.{service}.bootstrap")
    return module.WIRING


@click.group(help=__doc__)
def main() -> None:
    pass


# --- tokens ---------------------------------------------------------------------------------


@main.group()
def token() -> None:
    """Bearer tokens for partners, staff and auditors."""


def _offices() -> list[str]:
    """The offices a decision is signed in, as sanctions' rules name them (``signed_as``)."""
    from services.sanctions.domain.rules import OFFICIALS

    return sorted(OFFICIALS)


@token.command("create")
@click.option("--role", required=True, help="partner, investigator, supervisor, official, auditor or admin")
@click.option("--identity", help="who holds it (default: the agency, or the role)")
@click.option("--agency", help="the partner's or official's agency")
@click.option("--channel", help="for partners: BAWASLU, BKN, INSPEKTORAT, ATASAN_LANGSUNG or PUBLIC_PORTAL")
@click.option(
    "--office",
    "offices",
    multiple=True,
    type=click.Choice(_offices()),
    help="for officials, repeatable: an office the holder holds and may sign a decision in",
)
def token_create(
    role: str, identity: str | None, agency: str | None, channel: str | None, offices: tuple[str, ...]
) -> None:
    """Print a new token; only its hash is stored, so keep the printed value."""
    registry = _registry()
    try:
        value = registry.create(
            identity or agency or role, role, agency=agency, channel=channel, offices=offices
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if role == "official" and not offices:
        click.echo(
            "note: this official token holds no office, so it cannot sign a decision (--office)", err=True
        )
    click.echo(value)


@token.command("list")
def token_list() -> None:
    """The tokens' holders, roles, offices and hashes (never the tokens themselves)."""
    for entry in _registry().list():
        click.echo(json.dumps(dataclasses.asdict(entry), default=str))


@token.command("revoke")
@click.argument("token_or_hash_prefix")
def token_revoke(token_or_hash_prefix: str) -> None:
    """Revoke a token (the services notice within their cache time)."""
    try:
        revoked = _registry().revoke(token_or_hash_prefix)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {revoked}")


def _registry() -> Any:
    from shared.auth import TokenRegistry
    from shared.clock import SystemClock
    from shared.db import create_engine, prepare_database

    return TokenRegistry(create_engine(prepare_database(settings(), "auth"), pool_size=1), SystemClock())


# --- databases ------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The services' databases."""


@db.command("url")
@click.argument("service", type=click.Choice((*SERVICES, *PLATFORM_DATABASES)))
@click.option("--sqlalchemy", is_flag=True, help="print the SQLAlchemy form (postgresql+psycopg://)")
def db_url(service: str, sqlalchemy: bool) -> None:
    """Print a service's database URL (libpq form, for psql and pg_dump)."""
    url = settings().database_url(service)
    click.echo(url if sqlalchemy else url.replace("postgresql+psycopg://", "postgresql://", 1))


@db.command("migrate")
@click.argument("services", nargs=-1, type=click.Choice((*SERVICES, *PLATFORM_DATABASES)))
def db_migrate(services: tuple[str, ...]) -> None:
    """Create (if missing) and migrate databases to head; all of them by default."""
    from shared.db import prepare_database

    for service in services or (*SERVICES, *PLATFORM_DATABASES):
        prepare_database(settings(), service)
        click.echo(f"{service}: migrated")


@main.group()
def pg() -> None:
    """The embedded PostgreSQL (used when DATABASE_URL is unset)."""


@pg.command("start")
@click.option("--port", type=int, default=None, help="TCP port (default: a free one)")
def pg_start(port: int | None) -> None:
    """Start it (initialising the data directory the first time)."""
    from shared.pg_embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings().home / "pg")
    click.echo(server.start(port).replace("postgresql+psycopg://", "postgresql://", 1))


@pg.command("stop")
def pg_stop() -> None:
    """Stop it."""
    from shared.pg_embedded import EmbeddedPostgres

    EmbeddedPostgres(settings().home / "pg").stop()


# --- Kafka ----------------------------------------------------------------------------------


@main.group()
def kafka() -> None:
    """The local Kafka broker and the topics."""


@kafka.command("start")
@click.option("--port", type=int, default=9092)
@click.option("--controller-port", type=int, default=9093)
def kafka_start(port: int, controller_port: int) -> None:
    """Start a single-node KRaft broker with its data under NETRA_HOME/kafka."""
    data = settings().home / "kafka"
    sys.exit(subprocess.call([str(KAFKA_SH), "start", str(data), str(port), str(controller_port)]))


@kafka.command("stop")
def kafka_stop() -> None:
    """Stop the local broker."""
    sys.exit(subprocess.call([str(KAFKA_SH), "stop", str(settings().home / "kafka")]))


@kafka.command("topics")
def kafka_topics() -> None:
    """Create the services' topics and DLQs, and the auditor app's topic, with retention.ms=-1 (idempotent)."""
    from shared.processes import ensure_system_topics

    created = ensure_system_topics(settings())
    click.echo(f"created: {', '.join(created)}" if created else "all topics exist")


# --- processes ------------------------------------------------------------------------------


@main.command()
@click.argument("service", type=SERVICE)
@click.option("--batch-size", type=int, default=500, show_default=True)
def relay(service: str, batch_size: int) -> None:
    """Run SERVICE's outbox relay (one leader at a time; extra relays wait as standbys)."""
    from shared.processes import run_relay

    run_relay(settings(), service, batch_size)


@main.command()
@click.argument("service", type=SERVICE)
def consumer(service: str) -> None:
    """Run SERVICE's inbox consumer."""
    from shared.processes import run_consumer

    run_consumer(settings(), wiring(service))


@main.group()
def inbox() -> None:
    """Records parked on the DLQ and the case records waiting behind them."""


@inbox.command("parked")
@click.argument("service", type=SERVICE)
def inbox_parked(service: str) -> None:
    """List unresolved parked records, one JSON object per line."""
    import sqlalchemy as sa

    from shared.db import create_engine
    from shared.schema import held, quarantine

    engine = create_engine(settings().database_url(service), pool_size=1)
    q = quarantine.c
    waiting = (
        sa.select(sa.func.count())
        .where(held.c.consumer == q.consumer, held.c.stream_key == q.stream_key, held.c.released_at.is_(None))
        .scalar_subquery()
    )
    query = sa.select(
        q.id, q.stream_key, q.topic, q.partition, q.offset, q.reason, q.parked_at, waiting.label("waiting")
    )
    with engine.connect() as conn:
        for row in conn.execute(query.where(q.resolved_at.is_(None)).order_by(q.id)):
            click.echo(json.dumps(row._asdict(), default=str))


@inbox.command("release")
@click.argument("service", type=SERVICE)
@click.argument("parked_id", type=int)
@click.option("--by", "by", required=True, help="who resolves it (recorded in the case's events)")
@click.option("--reason", required=True, help="why the parked record may be skipped")
def inbox_release(service: str, parked_id: int, by: str, reason: str) -> None:
    """Skip a parked record and let its case's waiting records through, in order."""
    from shared.envelope import Actor
    from shared.processes import build_consumer

    consumer = build_consumer(settings(), wiring(service))
    try:
        outcome = consumer.release(parked_id, actor=Actor(id=by, role="admin"), resolution=reason)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"released": parked_id, "waiting_records": outcome}))


@main.group()
def deadlines() -> None:
    """Lapsed deadlines the scheduler set aside because recording them failed."""


@deadlines.command("set-aside")
@click.argument("service", type=DEADLINE_KEEPER)
def deadlines_set_aside(service: str) -> None:
    """List pending deadlines set aside, with the reason and the error id to find in the
    scheduler's log, one JSON object per line."""
    import sqlalchemy as sa

    from shared.db import create_engine
    from shared.schema import deadlines, deadlines_set_aside

    engine = create_engine(settings().database_url(service), pool_size=1)
    d, a = deadlines.c, deadlines_set_aside.c
    query = (
        sa.select(
            d.deadline_id,
            d.stream_id.label("case_id"),
            d.kind,
            d.due_on,
            a.attempts,
            a.reason,
            a.error_id,
            a.first_failed_at,
            a.last_failed_at,
            a.retry_after,
        )
        .join_from(deadlines, deadlines_set_aside)
        .where(d.status == "PENDING")
        .order_by(d.due_on)
    )
    with engine.connect() as conn:
        for row in conn.execute(query):
            click.echo(json.dumps(row._asdict(), default=str))


@deadlines.command("retry")
@click.argument("service", type=DEADLINE_KEEPER)
@click.argument("deadline_id", type=click.UUID)
def deadlines_retry(service: str, deadline_id: Any) -> None:
    """Have the scheduler try a set-aside deadline on its next pass (e.g. after a fix)."""
    import sqlalchemy as sa

    from shared.db import create_engine
    from shared.schema import deadlines_set_aside

    engine = create_engine(settings().database_url(service), pool_size=1)
    with engine.begin() as conn:
        moved = conn.execute(
            deadlines_set_aside.update()
            .where(deadlines_set_aside.c.deadline_id == deadline_id)
            .values(retry_after=sa.func.now())
        ).rowcount
    if not moved:
        raise click.ClickException(f"deadline {deadline_id} is not set aside in {service}")
    click.echo(json.dumps({"retry": str(deadline_id)}))


# --- audit ----------------------------------------------------------------------------------

# verify, replay, history, export and verify-bundle: netra/audit/cli.py.
main.add_command(audit_commands)
main.add_command(privacy_commands)


# --- demo data ------------------------------------------------------------------------------


@main.group()
def demo() -> None:
    """Sample data for trying Netra out."""


@demo.command("load")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="the intake service")
def demo_load(url: str) -> None:
    """Send the five sample cases of docs/law.md §7 through the partner API, one token per agency."""
    from netra.demo import load_demo, summary_line

    results = load_demo(url, _registry())
    for result in results:
        click.echo(summary_line(result))
    sys.exit(0 if all(200 <= r["http_status"] < 300 for r in results) else 1)


@main.command()
def run() -> None:
    """Start PostgreSQL (embedded unless configured), Kafka, and every service with its relay
    and consumer; stop them all on Ctrl-C."""
    from netra.supervisor import run_system

    sys.exit(run_system(settings()))


if __name__ == "__main__":
    main()
