"""One audit measurement in a process of its own: ``python -m bench.audit_child
consume|verify|replay``; prints one JSON line with the events, seconds and peak RSS (MB).

The events are intake's; adjudication and sanctions are empty, so verify's figure is
intake's log plus two empty services."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from netra.audit.replay import replay_service
from netra.audit.verify import verify_system
from shared.config import Settings


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    across exec, so a child would report the (larger) parent it was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def consume(settings: Settings) -> dict[str, Any]:
    """Baseline: kafka-python reading the topic from offset 0 to its end, doing nothing else."""
    topic = settings.topic("intake")
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=5000,
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    total, wanted = 0, sum(ends.values())
    started = time.perf_counter()
    while total < wanted:
        for batch in consumer.poll(timeout_ms=500).values():
            total += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close()
    return {"events": total, "elapsed": elapsed, "ok": True}


def verify(settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    report = verify_system(settings)
    elapsed = time.perf_counter() - started
    return {"events": sum(s.events for s in report.services), "elapsed": elapsed, "ok": report.ok}


def replay(settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = replay_service(settings, "intake")
    elapsed = time.perf_counter() - started
    return {
        "events": outcome.events,
        "elapsed": elapsed,
        "ok": outcome.ok,
        "seconds": outcome.seconds,
        "differences": [str(d) for d in outcome.differences[:5]],
    }


if __name__ == "__main__":
    measured = {"consume": consume, "verify": verify, "replay": replay}[sys.argv[1]](Settings.from_env())
    measured["rss_mb"] = peak_rss_mb()
    print(json.dumps(measured))
