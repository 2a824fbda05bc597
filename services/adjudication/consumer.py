"""`python -m services.adjudication.consumer`: the adjudication inbox consumer as a process of its own."""

from services.adjudication.handlers import WIRING
from shared.config import Settings
from shared.processes import run_consumer

if __name__ == "__main__":
    run_consumer(Settings.from_env(), WIRING)
