"""Audit tooling: proves, without trusting the services, that the history is complete and
unaltered, and that replaying it reproduces the same state and the same decisions.

It reads every service's store (read-only, like ``shared.verify``) and every Kafka topic
from offset 0, with the same ``Settings`` as the services. One concern per module:

  kafka_log   a topic read back in position order, with flat memory
  verify      both hash chains, store ⇄ Kafka byte equality, causation across services
  replay      read models rebuilt from Kafka alone and diffed; deciders re-run
  history     one case's events across services in causal order, as of any instant
  bundle      the export an outside party verifies offline
"""
