"""Operator tooling for Netra: the ``netra`` command (tokens, databases, Kafka, relays,
consumers, ``make run``'s supervisor)."""
