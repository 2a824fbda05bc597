"""The retention process (``python -m services.intake retention``): erases, by rule and
without anyone asking, the personal data a case no longer needs (domain.retention).

Each round takes the rule set in force today (Jakarta's date), finds the reports whose
reporter is still kept and whose case reached the rule's stage longer ago than its period,
and erases each through the same path as ``netra privacy erase`` (handlers.erase_subject):
the key first, then the erasure event on the case. A crash between the two is healed by the
next round, since the report stays due until its erasure is recorded.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.intake.domain.retention import RetentionSet, load_retention
from services.intake.handlers import erase_subject
from services.intake.store import records
from services.intake.store.identities import reporter_subject
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db import create_engine
from shared.envelope import Actor
from shared.keyring import KeyStore, kek_source
from shared.logs import configure_logging
from shared.processes import keep_beating, stop_on_signals
from shared.rulefiles import RuleBook
from shared.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

ACTOR = Actor(id="intake-retention", role="system")
WIB = ZoneInfo("Asia/Jakarta")
# Erasure is not urgent to the minute; once an hour keeps the load negligible.
INTERVAL_S = 3600.0


class RetentionWorker:
    """Applies the retention rules to intake's reports, a bounded batch at a time."""

    def __init__(
        self, engine: sa.Engine, keys: KeyStore, clock: Clock, rules: RuleBook[RetentionSet]
    ) -> None:
        self.engine, self.keys, self.clock, self.rules = engine, keys, clock, rules

    def run_once(self, batch: int = 100) -> int:
        """Erase what is due now; how many reporters were erased."""
        today = self.clock.now().astimezone(WIB).date()
        rule_set = self.rules.in_force_or_none(today)
        erased = 0
        for rule in rule_set.rules if rule_set else ():
            # The period runs from the day the stage was reached, in WIB, counted whole.
            reached_by = datetime.combine(rule.cutoff(today), time.min, WIB)
            while due := self._due(rule.after_stage, reached_by, batch):
                done = sum(self._erase(report_id, rule.reason()) for report_id in due)
                erased += done
                # A short batch was the last; one with nothing erasable would come back whole.
                if len(due) < batch or done == 0:
                    break
        if erased:
            log.info("retention: erased %d reporters", erased)
        return erased

    def _due(self, stage: str, reached_by: datetime, batch: int) -> list[str]:
        with self.engine.connect() as conn:
            return records.reporters_due(conn, stage, reached_by, batch)

    def _erase(self, report_id: str, reason: str) -> int:
        subject = reporter_subject(report_id)
        done = erase_subject(
            subject, actor=ACTOR, reason=reason, uow=SqlUnitOfWork(self.engine, self.clock), keys=self.keys
        )
        if done is None:
            # No key was ever made for it (a report from before sealing): nothing to destroy.
            log.warning("retention: report %s has no data key; its reporter was never sealed", report_id)
            return 0
        return 1

    def run(self, stop: threading.Event, interval_s: float = INTERVAL_S) -> None:
        """Apply the rules every ``interval_s`` until ``stop``; a failed round is logged and
        tried again next time, never fatal."""
        while not stop.is_set():
            try:
                self.run_once()
            except (sa.exc.DBAPIError, OSError):
                log.exception("retention round failed; trying again in %.0f s", interval_s)
            stop.wait(interval_s)


def run_retention(settings: Settings) -> None:
    """Run the retention process until SIGTERM or SIGINT."""
    configure_logging(settings)
    stop = stop_on_signals()
    clock = SystemClock()
    keys = KeyStore(create_engine(settings.database_url("keyring"), pool_size=1), kek_source(settings), clock)
    worker = RetentionWorker(
        create_engine(settings.database_url("intake"), pool_size=2), keys, clock, load_retention()
    )
    keep_beating(settings, "intake", "retention", stop)
    worker.run(stop)
