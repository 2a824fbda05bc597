"""Configuration, read once at start-up from the environment (nothing else reads os.environ).

Database URL of a service, first match wins:
  1. ``<SERVICE>_DATABASE_URL`` (e.g. ``INTAKE_DATABASE_URL``): used as given;
  2. ``DATABASE_URL``: the same server, database ``netra_<service>``;
  3. neither: the embedded PostgreSQL that ``netra pg start`` (run by ``make run``) started,
     whose address is in ``<NETRA_HOME>/pg/server.json``.
The token registry (``auth``), the key store (``keyring``) and the auditor app's record of
reads (``audit``) resolve the same way, under their own names.

The key-encryption key (shared.keyring) comes from ``NETRA_KEK`` (base64 of 32 bytes), else
the file ``NETRA_KEK_FILE``, else ``<NETRA_HOME>/kek.json``, created on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

SERVICES = ("intake", "adjudication", "sanctions")
# The databases that are not one service's own: tokens, data keys, the auditor app's reads.
PLATFORM_DATABASES = ("auth", "keyring", "audit")
# The web apps `netra run` serves, in the order of their ports (8001, 8002, …).
WEB_APPS = (*SERVICES, "audit")
# The background processes each service runs beside its web app (`netra run` starts them;
# their heartbeats say which is down). The auditor app's relay publishes its record of reads.
BACKGROUND_PROCESSES: dict[str, tuple[str, ...]] = {
    "intake": ("relay", "consumer", "webhooks", "retention"),
    "adjudication": ("relay", "consumer", "scheduler"),
    "sanctions": ("relay", "consumer", "scheduler"),
    "audit": ("relay",),
}
# The services that keep legal deadlines: each runs a deadline scheduler.
DEADLINE_KEEPERS = tuple(s for s, processes in BACKGROUND_PROCESSES.items() if "scheduler" in processes)
REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Configuration that cannot work, with what to set to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything a process needs from its environment."""

    home: Path
    database_urls: Mapping[str, str] = field(default_factory=dict)
    server_url: str | None = None
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_partitions: int = 6
    topic_replication: int = 1
    log_level: str = "INFO"
    log_format: str = "json"
    # Lets tests and side-by-side deployments share one Kafka cluster without sharing topics.
    topic_prefix: str = ""
    # NETRA_WEBHOOK_HTTP_HOSTS, comma-separated: the hosts an administrator vouches for as
    # partner webhook destinations. Only they may be reached over plain http or at an address
    # that is not public (an intranet partner, a test server); every other webhook must be
    # https to public addresses only (services.intake.store.webhooks.DestinationPolicy).
    webhook_http_hosts: tuple[str, ...] = ()
    # Set when gunicorn runs several workers: each writes its metrics there and /metrics sums
    # them (prometheus_client reads the same variable itself to choose its storage).
    prometheus_multiproc_dir: str | None = None
    # The key-encryption key, base64 (NETRA_KEK), or the file holding the KEKs (NETRA_KEK_FILE).
    kek: str | None = field(default=None, repr=False)
    kek_file: Path | None = None
    # NETRA_CONSUMER_INSTANCE: which of a service's consumers this is (1, 2, …). Each joins its
    # group as the static member "<group>-<instance>", so a restarted one takes its partitions
    # straight back; two consumers of one service must have different instances.
    consumer_instance: str = "1"
    # NETRA_WEB_PORT: the first of the four consecutive ports `netra run` serves on (intake,
    # adjudication, sanctions, the auditor app), so a second system can run beside the first.
    web_port: int = 8001

    @property
    def web_ports(self) -> dict[str, int]:
        """The port each web app of ``netra run`` listens on, by name."""
        return {name: self.web_port + i for i, name in enumerate(WEB_APPS)}

    def topic(self, service: str) -> str:
        """The topic ``service`` publishes its case events on."""
        return f"{self.topic_prefix}{service}.case-events"

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` (a service, or a platform database)."""
        if name in self.database_urls:
            return self.database_urls[name]
        server = self.server_url or embedded_server_url(self.home)
        return str(make_url(server).set(database=f"netra_{name}").render_as_string(hide_password=False))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        urls = {
            name: _sqlalchemy_url(env[f"{name.upper()}_DATABASE_URL"])
            for name in (*SERVICES, *PLATFORM_DATABASES)
            if env.get(f"{name.upper()}_DATABASE_URL")
        }
        server = env.get("DATABASE_URL")
        return cls(
            home=Path(env.get("NETRA_HOME", REPO_ROOT / ".netra")),
            database_urls=urls,
            server_url=_sqlalchemy_url(server) if server else None,
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            topic_partitions=int(env.get("NETRA_TOPIC_PARTITIONS", "6")),
            topic_replication=int(env.get("NETRA_TOPIC_REPLICATION", "1")),
            log_level=env.get("NETRA_LOG_LEVEL", "INFO"),
            log_format=env.get("NETRA_LOG_FORMAT", "json"),
            topic_prefix=env.get("NETRA_TOPIC_PREFIX", ""),
            webhook_http_hosts=tuple(
                host.strip() for host in env.get("NETRA_WEBHOOK_HTTP_HOSTS", "").split(",") if host.strip()
            ),
            prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
            kek=env.get("NETRA_KEK") or None,
            kek_file=Path(env["NETRA_KEK_FILE"]) if env.get("NETRA_KEK_FILE") else None,
            consumer_instance=env.get("NETRA_CONSUMER_INSTANCE", "1"),
            web_port=int(env.get("NETRA_WEB_PORT", "8001")),
        )


def _sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and point them at psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def embedded_server_url(home: Path) -> str:
    """The address of the embedded server started by ``netra pg start``."""
    from shared.pg_embedded import EmbeddedPostgres

    url = EmbeddedPostgres(home / "pg").url()
    if url is None:
        raise ConfigError(
            "no database configured: set DATABASE_URL (or <SERVICE>_DATABASE_URL), "
            f"or start the embedded PostgreSQL with `netra pg start` (data under {home / 'pg'})"
        )
    return url
