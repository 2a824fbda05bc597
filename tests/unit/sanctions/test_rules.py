"""The rule files: validated whole on load, each rule citing its article and confidence, and
the set for a case chosen by its incident date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from services.sanctions.domain.rules import (
    RULES_DIR,
    RuleSetError,
    default_rule_book,
    parse_rule_set,
)


def test_the_rule_set_is_chosen_by_the_incident_date() -> None:
    book = default_rule_book()
    assert book.in_force(date(2020, 11, 20)).version == "pp53-2010.1"
    assert book.in_force(date(2021, 8, 30)).version == "pp53-2010.1"
    assert book.in_force(date(2021, 8, 31)).version == "pp94-2021.1"
    with pytest.raises(LookupError, match="earliest takes effect on 2010"):
        book.in_force(date(2009, 1, 1))


def test_every_shipped_rule_cites_an_article_and_a_confidence() -> None:
    for rule_set in default_rule_book().rule_sets:
        bases = [p.basis for p in rule_set.penalties] + [d.basis for d in rule_set.deadlines.values()]
        bases += [e.basis for e in rule_set.escalation] + [b for _, b in rule_set.switches.values()]
        assert all(b.article and b.confidence in ("V", "S", "R", "unknown") for b in bases), rule_set.version


def test_a_rule_file_with_mistakes_is_refused_naming_every_one(tmp_path: Path) -> None:
    data = yaml.safe_load((RULES_DIR / "sanctions-pp94-2021.1.yaml").read_text(encoding="utf-8"))
    data["penalties"][0]["level"] = "MEDIUM"
    data["penalties"][3]["requires"] = {"NO_SUCH_SWITCH": True}
    del data["deadlines"]["delivery"]
    with pytest.raises(RuleSetError) as refused:
        parse_rule_set(data, origin="broken.yaml")
    message = str(refused.value)
    assert message.startswith("broken.yaml: ")
    assert "penalties[0].level: 'MEDIUM' is not one of RINGAN, SEDANG, BERAT, PTDH" in message
    assert "requires unknown switch NO_SUCH_SWITCH" in message
    assert "deadlines.delivery: must be a mapping" in message
