"""The tables every service database has (docs/architecture.md §2): the append-only event store, the
outbox cursor, the inbox and its quarantine, and durable deadlines.

The tables are declared once here; each service's first Alembic migration creates them with
``create_core_tables`` so the three schemas cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    # Contiguous: assigned under the service-log lock, so a deleted row leaves a visible gap.
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    # The canonical bytes that were hashed and are published; the columns above are copies
    # for querying, and the verifier checks that they agree with it.
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("log_prev_hash", sa.String(64), nullable=False),
    sa.Column("log_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "stream_version", name="events_stream_version_key"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    # Appends commit in position order (see eventstore), so "unpublished" is simply every
    # event past this cursor; the relay advances it only after Kafka acknowledged.
    sa.Column("relay", sa.Text, primary_key=True),
    sa.Column("published_position", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


def _kafka_record_columns() -> list[sa.Column[Any]]:
    """A consumed Kafka record kept in the database: whose it is, where it came from, its bytes."""
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("stream_key", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=True),
    ]


quarantine = sa.Table(
    "inbox_quarantine",
    metadata,
    # One row per record that was parked on the DLQ; while unresolved, later records of the
    # same case wait in inbox_held.
    *_kafka_record_columns(),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolved_by", sa.Text, nullable=True),
    sa.Column("resolution", sa.Text, nullable=True),
    sa.Index(
        "inbox_quarantine_open", "consumer", "stream_key", postgresql_where=sa.text("resolved_at IS NULL")
    ),
)

held = sa.Table(
    "inbox_held",
    metadata,
    *_kafka_record_columns(),
    sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("consumer", "topic", "partition", "offset", name="inbox_held_record_key"),
)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("deadline_id", sa.Uuid, primary_key=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("day_count", sa.Text, nullable=False),
    sa.Column("rule_set", sa.Text, nullable=True),
    sa.Column("started_by", sa.Uuid, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="PENDING"),
    sa.Column("resolved_by", sa.Uuid, nullable=True),
    sa.Index("deadlines_pending_due", "due_on", postgresql_where=sa.text("status = 'PENDING'")),
)

# A lapsed deadline the scheduler could not record (its handler raised): set aside with the
# reason so the deadlines behind it go on, and tried again after ``retry_after`` (backoff).
deadlines_set_aside = sa.Table(
    "deadlines_set_aside",
    metadata,
    sa.Column("deadline_id", sa.Uuid, sa.ForeignKey("deadlines.deadline_id"), primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    # The id logged with the traceback, so a person can find the whole story in the log.
    sa.Column("error_id", sa.Text, nullable=False),
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retry_after", sa.DateTime(timezone=True), nullable=False),
)

# Each background process (relay, consumer, scheduler, webhooks) beats here every few
# seconds, so /readyz and `netra` can say which of a service's processes is down.
heartbeats = sa.Table(
    "process_heartbeats",
    metadata,
    sa.Column("process", sa.Text, primary_key=True),
    sa.Column("instance", sa.Text, primary_key=True),  # host:pid
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
    # What the process reports about itself, e.g. the consumer's lag per partition.
    sa.Column("detail", sa.JSON, nullable=False, server_default="{}"),
)

# What each migration creates: a later table must not appear in an earlier migration, or a
# database migrated step by step would differ from a fresh one.
FIRST_CORE_TABLES = (events, outbox, inbox, quarantine, held, deadlines)
SUPERVISION_TABLES = (deadlines_set_aside, heartbeats)

# Events are facts: a correction is a new event. The trigger turns an accidental UPDATE or
# DELETE into an error; a superuser who disables it is what `netra audit verify` catches.
APPEND_ONLY_DDL = (
    """
    CREATE OR REPLACE FUNCTION netra_events_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'events are append-only: % refused', TG_OP;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION netra_events_append_only()
    """,
)


# An append in one round trip. Under the service-log lock it checks that the case is still
# at the version (and hash) the caller sealed against, extends the service-log chain with
# PostgreSQL's own sha256 (the same link as shared.envelope.log_link) and inserts the rows.
# A moved case raises SQLSTATE NT409 with the actual version as DETAIL.
APPEND_DDL = """
CREATE OR REPLACE FUNCTION netra_append(
    p_lock bigint, p_stream text, p_expected integer, p_prev_hash text, p_rows jsonb
) RETURNS bigint AS $$
DECLARE
  head_version integer;
  head_hash text;
  log_pos bigint;
  log_prev text;
  link text;
  r jsonb;
BEGIN
  -- The heads read below must be what the lock's previous holder committed: a snapshot taken
  -- before the lock (REPEATABLE READ, SERIALIZABLE) would chain to a stale head.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'netra_append needs READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'NT500';
  END IF;
  PERFORM pg_advisory_xact_lock(p_lock);
  SELECT e.stream_version, e.hash INTO head_version, head_hash
    FROM events e WHERE e.stream_id = p_stream ORDER BY e.stream_version DESC LIMIT 1;
  IF coalesce(head_version, 0) <> p_expected
     OR coalesce(head_hash, '0000000000000000000000000000000000000000000000000000000000000000') <> p_prev_hash THEN
    RAISE EXCEPTION 'stream % moved on', p_stream
      USING ERRCODE = 'NT409', DETAIL = coalesce(head_version, 0)::text;
  END IF;
  SELECT e.position, e.log_hash INTO log_pos, log_prev FROM events e ORDER BY e.position DESC LIMIT 1;
  log_pos := coalesce(log_pos, 0);
  log_prev := coalesce(log_prev, '0000000000000000000000000000000000000000000000000000000000000000');
  FOR r IN SELECT * FROM jsonb_array_elements(p_rows) LOOP
    log_pos := log_pos + 1;
    link := encode(sha256(convert_to(log_prev || (r->>'hash'), 'UTF8')), 'hex');
    INSERT INTO events (position, event_id, stream_id, stream_version, event_type, occurred_at,
                        recorded_at, envelope, hash, log_prev_hash, log_hash)
    VALUES (log_pos, (r->>'event_id')::uuid, p_stream, (r->>'stream_version')::integer,
            r->>'event_type', (r->>'occurred_at')::timestamptz, (r->>'recorded_at')::timestamptz,
            r->>'envelope', r->>'hash', log_prev, link);
    log_prev := link;
  END LOOP;
  RETURN log_pos;
END $$ LANGUAGE plpgsql
"""


def create_core_tables(op: Any) -> None:
    """Create the shared tables inside an Alembic migration (``op`` is ``alembic.op``)."""
    metadata.create_all(op.get_bind(), tables=FIRST_CORE_TABLES)
    for statement in (*APPEND_ONLY_DDL, APPEND_DDL):
        op.execute(statement)


def drop_core_tables(op: Any) -> None:
    """Reverse of ``create_core_tables``."""
    op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
    op.execute("DROP FUNCTION IF EXISTS netra_events_append_only()")
    op.execute("DROP FUNCTION IF EXISTS netra_append(bigint, text, integer, text, jsonb)")
    metadata.drop_all(op.get_bind(), tables=FIRST_CORE_TABLES)


def create_supervision_tables(op: Any) -> None:
    """The second core migration: set-aside deadlines, process heartbeats, and netra_append
    refusing any isolation but READ COMMITTED."""
    metadata.create_all(op.get_bind(), tables=SUPERVISION_TABLES)
    op.execute(APPEND_DDL)


def drop_supervision_tables(op: Any) -> None:
    """Reverse of ``create_supervision_tables``."""
    metadata.drop_all(op.get_bind(), tables=SUPERVISION_TABLES)
