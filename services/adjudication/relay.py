"""`python -m services.adjudication.relay`: the adjudication outbox relay as a process of its own."""

from shared.config import Settings
from shared.processes import run_relay

if __name__ == "__main__":
    run_relay(Settings.from_env(), "adjudication")
