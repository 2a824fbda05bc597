"""`python -m services.sanctions.scheduler`: records the sanctions deadlines that lapse (shared.deadlines)."""

from services.sanctions.handlers import WIRING
from shared.config import Settings
from shared.processes import run_scheduler

if __name__ == "__main__":
    run_scheduler(Settings.from_env(), WIRING)
