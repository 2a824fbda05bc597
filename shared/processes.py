"""Entry points for a service's background processes: its outbox relay, its inbox consumer
and its deadline scheduler. Each runs until SIGTERM or SIGINT, finishing the record or batch
in hand first. ``python -m services.<name> <process>`` starts one (``run_process``)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shared.bus import ensure_topics, make_consumer, make_producer, with_dlqs
from shared.clock import Clock, SystemClock
from shared.config import SERVICES, Settings
from shared.db import create_engine, prepare_database
from shared.deadlines import DeadlineScheduler, MissedHandler
from shared.heartbeat import Heartbeat
from shared.inbox import Handler, InboxConsumer
from shared.logs import configure_logging
from shared.outbox import OutboxRelay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceWiring:
    """What a service consumes and how it reacts: built in its ``bootstrap`` module."""

    name: str
    consumes: Sequence[str]
    handlers: Mapping[str, Handler]
    # What a lapsed deadline means to the service; None for a service that keeps none.
    on_deadline_missed: MissedHandler | None = None


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so loops end between records, not inside one."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def keep_beating(
    settings: Settings, service: str, process: str, stop: threading.Event, detail: Callable[[], dict] = dict
) -> None:
    """Beat for ``process`` of ``service`` until ``stop``, on a connection of its own (so a
    long batch in the process's main loop never delays a beat)."""
    engine = create_engine(settings.database_url(service), pool_size=1)
    Heartbeat(engine, process, detail).keep_beating(stop)


def ensure_system_topics(settings: Settings) -> list[str]:
    """Create every service's topic and DLQ, and the topic of the auditor app's record of
    reads (``audit``, netra/audit_app; no consumer reads it, so no DLQ), retention.ms=-1,
    if missing."""
    return ensure_topics(
        settings.kafka_bootstrap,
        [*with_dlqs(settings.topic(s) for s in SERVICES), settings.topic("audit")],
        partitions=settings.topic_partitions,
        replication=settings.topic_replication,
    )


def build_relay(settings: Settings, service: str, batch_size: int = 500) -> OutboxRelay:
    """The relay publishing ``service``'s events to its topic."""
    engine = create_engine(prepare_database(settings, service), pool_size=2, pre_ping=False)
    return OutboxRelay(
        engine,
        lambda: make_producer(settings.kafka_bootstrap, f"{service}-relay"),
        topic=settings.topic(service),
        name=service,
        batch_size=batch_size,
    )


def run_relay(settings: Settings, service: str, batch_size: int = 500) -> None:
    """Run ``service``'s outbox relay until signalled."""
    configure_logging(settings)
    stop = stop_on_signals()
    ensure_system_topics(settings)
    relay = build_relay(settings, service, batch_size)
    keep_beating(settings, service, "relay", stop)
    relay.run(stop)


def build_consumer(settings: Settings, wiring: ServiceWiring, clock: Clock | None = None) -> InboxConsumer:
    """The inbox consumer of one service (on the system clock unless given one)."""
    engine = create_engine(prepare_database(settings, wiring.name), pool_size=2, pre_ping=False)
    return InboxConsumer(
        f"{wiring.name}-inbox",
        engine,
        clock or SystemClock(),
        wiring.handlers,
        dlq_producer=lambda: make_producer(settings.kafka_bootstrap, f"{wiring.name}-dlq"),
        service=wiring.name,
    )


def run_consumer(settings: Settings, wiring: ServiceWiring) -> None:
    """Run one service's inbox consumer until signalled."""
    configure_logging(settings)
    stop = stop_on_signals()
    ensure_system_topics(settings)
    consumer = build_consumer(settings, wiring)
    keep_beating(settings, wiring.name, "consumer", stop, lambda: {"lag": dict(consumer.lag)})
    kafka = make_consumer(
        settings.kafka_bootstrap,
        f"{settings.topic_prefix}{wiring.name}",
        [settings.topic(s) for s in wiring.consumes],
        instance=settings.consumer_instance,
    )
    try:
        consumer.run(kafka, stop)
    finally:
        kafka.close(autocommit=False)


def build_scheduler(settings: Settings, wiring: ServiceWiring) -> DeadlineScheduler:
    """The deadline scheduler of one service (it must declare ``on_deadline_missed``)."""
    if wiring.on_deadline_missed is None:
        raise ValueError(f"{wiring.name} keeps no deadlines")
    engine = create_engine(prepare_database(settings, wiring.name), pool_size=2, pre_ping=False)
    return DeadlineScheduler(engine, SystemClock(), wiring.on_deadline_missed, wiring.name)


def run_scheduler(settings: Settings, wiring: ServiceWiring, interval_s: float = 30.0) -> None:
    """Run one service's deadline scheduler until signalled; several may run at once."""
    configure_logging(settings)
    stop = stop_on_signals()
    scheduler = build_scheduler(settings, wiring)
    keep_beating(settings, wiring.name, "scheduler", stop)
    scheduler.run(stop, interval_s)


def run_process(
    wiring: ServiceWiring,
    argv: Sequence[str],
    extra: Mapping[str, Callable[[Settings], None]] | None = None,
) -> None:
    """``python -m services.<name> <process>``: run one background process of the service.

    Every service has ``relay`` and ``consumer``; ``scheduler`` when it keeps deadlines;
    ``extra`` names any process of its own (intake's ``webhooks``).
    """
    runners: dict[str, Callable[[Settings], None]] = {
        "relay": lambda settings: run_relay(settings, wiring.name),
        "consumer": lambda settings: run_consumer(settings, wiring),
    }
    if wiring.on_deadline_missed is not None:
        runners["scheduler"] = lambda settings: run_scheduler(settings, wiring)
    runners.update(extra or {})
    parser = argparse.ArgumentParser(prog=f"python -m services.{wiring.name}")
    parser.add_argument("process", choices=sorted(runners), help="the background process to run")
    runners[parser.parse_args(argv).process](Settings.from_env())
