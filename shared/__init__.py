"""Infrastructure shared by the Netra services: the event envelope and its hash chains, the
event store, unit of work, outbox relay, inbox consumer, Kafka bus, auth, config, clock and
the working-day calendar. Nothing here knows the law; the services' domain modules do."""
