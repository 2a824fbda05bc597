"""`python -m services.adjudication.scheduler`: records the adjudication deadlines that lapse (shared.deadlines)."""

from services.adjudication.handlers import WIRING
from shared.config import Settings
from shared.processes import run_scheduler

if __name__ == "__main__":
    run_scheduler(Settings.from_env(), WIRING)
