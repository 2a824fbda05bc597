"""docker-compose.yml's Kafka, read as Compose would read it with and without the three-broker
profile (no Docker engine here to start it): one quorum naming exactly the nodes that run,
each node its own id and host port, the services bootstrapped from every node, and as many
copies of each topic as the nodes allow (issue 16, item 2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
THREE_BROKERS = REPO_ROOT / "deploy" / "compose" / "three-brokers.env"
# ${NAME}, ${NAME:-default} and ${NAME:?error}: the forms the file uses.
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def env_file(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def interpolated(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        assert kind != "?", f"{name} is required: {rest}"
        return rest if kind == "-" else ""

    return VARIABLE.sub(value, text)


def compose(env: dict[str, str]) -> dict[str, Any]:
    """The services Compose starts with ``env``: the ones of no profile or an active one."""
    document = yaml.safe_load(interpolated(COMPOSE.read_text(), env))
    active = set(filter(None, env.get("COMPOSE_PROFILES", "").split(",")))
    return {
        name: service
        for name, service in document["services"].items()
        if not service.get("profiles") or active & set(service["profiles"])
    }


@pytest.mark.parametrize(
    ("env", "nodes"),
    [({}, 1), (env_file(THREE_BROKERS), 3)],
    ids=["default", "three-brokers"],
)
def test_every_running_kafka_node_is_a_voter_of_one_quorum_and_the_services_reach_them_all(
    env: dict[str, str], nodes: int
) -> None:
    services = compose({"NETRA_KEK": "k", **env})
    brokers = {name: s for name, s in services.items() if s.get("image", "").startswith("apache/kafka")}
    assert len(brokers) == nodes
    ids = {name: str(s["environment"]["KAFKA_NODE_ID"]) for name, s in brokers.items()}
    assert sorted(ids.values()) == [str(n) for n in range(1, nodes + 1)]
    voters = {s["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for s in brokers.values()}
    assert voters == {",".join(f"{ids[name]}@{s['hostname']}:9093" for name, s in brokers.items())}
    host_ports = [s["ports"][0].split(":")[1] for s in brokers.values()]
    advertised = [s["environment"]["KAFKA_ADVERTISED_LISTENERS"] for s in brokers.values()]
    assert len(set(host_ports)) == nodes
    assert all(f"HOST://127.0.0.1:{port}" in a for port, a in zip(host_ports, advertised, strict=True))
    assert len({s["volumes"][0] for s in brokers.values()}) == nodes  # a disk each

    copies = min(3, nodes)
    for name in ("topics", "intake-relay", "adjudication-consumer"):
        environment = services[name]["environment"]
        assert set(environment["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == {
            f"{s['hostname']}:9092" for s in brokers.values()
        }
        assert str(environment["NETRA_TOPIC_REPLICATION"]) == str(copies)
    for broker in brokers.values():
        assert str(broker["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == str(copies)
        assert str(broker["environment"]["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]) == str(
            2 if copies >= 3 else 1
        )


def test_the_netra_processes_wait_for_each_broker_that_runs() -> None:
    services = compose({"NETRA_KEK": "k", **env_file(THREE_BROKERS)})
    for name in ("topics", "intake", "intake-relay", "sanctions-consumer"):
        waits = services[name]["depends_on"]
        assert {"kafka", "kafka-2", "kafka-3"} <= set(waits)
        assert waits["kafka-2"] == {"condition": "service_healthy", "required": False}
