"""How long intake keeps personal data a case no longer needs: retention rules as versioned
data (``retention-<version>.yaml`` beside ``rules``), applied by the retention process
(services/intake/retention.py) without anyone asking.

A rule names the data it erases (today: ``reporter``, who filed a report), the case stage
after which the period runs (``CLOSED``: nothing is left to decide), and the period in
calendar days. The period is an administrator's choice within the law; the file cites the
article that obliges erasure once data is no longer needed, and how sure we are of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shared import rulefiles
from shared.rulefiles import Confidence, Reader, RuleBook

KIND = "retention"
RULES_DIR = Path(__file__).parent / "rules"
# What a rule may erase, and the stage its period may run from.
DATA = ("reporter",)
STAGES = ("CLOSED",)


@dataclass(frozen=True)
class RetentionRule:
    """Erase ``data`` of a case ``days`` calendar days after it reached ``after_stage``."""

    id: str
    data: str
    after_stage: str
    days: int
    article: str
    confidence: Confidence

    def cutoff(self, today: date) -> date:
        """The last day a case may have reached ``after_stage`` on and be due today."""
        return today - timedelta(days=self.days)

    def reason(self) -> str:
        """What the erasure records as its reason."""
        return (
            f"aturan retensi {self.id}: {self.days} hari setelah {self.after_stage} ({self.article}) / "
            f"retention rule {self.id}: {self.days} days after {self.after_stage} ({self.article})"
        )


@dataclass(frozen=True)
class RetentionSet:
    """One version of the retention rules."""

    version: str
    effective_from: date
    rules: tuple[RetentionRule, ...]


def parse_retention(data: Any, origin: str) -> RetentionSet:
    """A retention rule set from parsed YAML; ``RuleSetError`` naming every problem."""
    read = Reader(origin)
    top = read.mapping(data, "file")
    rules = tuple(
        RetentionRule(
            id=read.text(m, "id", where),
            data=_one_of(read, m, "data", DATA, where),
            after_stage=_one_of(read, m, "after_stage", STAGES, where),
            days=read.count(m, "days", where),
            article=read.text(m, "article", where),
            confidence=read.enum(Confidence, m, "confidence", where),
        )
        for m, where in read.items(top, "rules")
    )
    rule_set = RetentionSet(
        version=read.text(top, "version", "file"),
        effective_from=read.day(top, "effective_from", "file"),
        rules=rules,
    )
    read.raise_if_any()
    return rule_set


def _one_of(read: Reader, m: Any, key: str, allowed: tuple[str, ...], where: str) -> str:
    value = read.text(m, key, where)
    if value and value not in allowed:
        read.problem(where, f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def load_retention(directory: Path = RULES_DIR) -> RuleBook[RetentionSet]:
    """Every retention rule set, validated (a bad file stops the process at start)."""
    return rulefiles.load_rule_book(directory, KIND, parse_retention)
