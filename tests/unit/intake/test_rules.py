"""Admissibility rules are versioned data: validated on load, picked by date, replayable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from services.intake.domain.report import ElectionType
from services.intake.domain.rules import (
    RULES_DIR,
    Confidence,
    RuleSetError,
    load_rule_book,
    load_rule_set,
    parse_rule_set,
)
from shared.workdays import DayCount

SHIPPED = RULES_DIR / "admissibility-2024.1.yaml"


def shipped_data() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(directory: Path, version: str, effective_from: str, **changes: object) -> None:
    data = shipped_data() | {"version": version, "effective_from": effective_from} | changes
    (directory / f"admissibility-{version}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_the_shipped_rule_set_loads_and_every_rule_names_its_article_and_confidence() -> None:
    rules = load_rule_set(SHIPPED)
    groups = (
        rules.reporting_windows,
        rules.required_content,
        rules.recommending_bodies,
        rules.out_of_scope,
        rules.gakkumdu,
    )
    assert rules.version == "2024.1"
    assert rules.sources
    assert all(
        rule.basis.article and isinstance(rule.basis.confidence, Confidence) for g in groups for rule in g
    )


def test_the_shipped_windows_encode_uu_1_2015_ps_134_and_uu_7_2017_ps_454() -> None:
    windows = {w.basis.id: w for w in load_rule_set(SHIPPED).reporting_windows}
    pilkada, pemilu = windows["PILKADA_LAPORAN_7_HARI"], windows["PEMILU_LAPORAN_7_HARI_KERJA"]
    assert (pilkada.days, pilkada.count, pilkada.basis.confidence) == (7, DayCount.CALENDAR, Confidence.V)
    assert (pemilu.days, pemilu.count) == (7, DayCount.WORKING)
    assert ElectionType.PILKADA_WAKO in pilkada.election_types
    assert "Ps 134" in pilkada.basis.article
    assert "Ps 454" in pemilu.basis.article


def test_the_rule_set_in_force_is_the_latest_that_took_effect_by_that_date(tmp_path: Path) -> None:
    write(tmp_path, "2024.1", "2017-08-16")
    write(tmp_path, "2025.1", "2025-01-01")
    book = load_rule_book(tmp_path)
    assert book.in_force(date(2024, 12, 31)).version == "2024.1"
    assert book.in_force(date(2025, 1, 1)).version == "2025.1"
    assert book.version("2024.1").effective_from == date(2017, 8, 16)  # replay an old decision


def test_no_rule_set_is_in_force_before_the_first_took_effect() -> None:
    with pytest.raises(LookupError):
        load_rule_book().in_force(date(2017, 8, 15))
    with pytest.raises(LookupError):
        load_rule_book().version("1999.1")


def test_a_file_whose_name_and_header_disagree_on_the_version_is_rejected(tmp_path: Path) -> None:
    data = shipped_data() | {"version": "2024.2"}
    path = tmp_path / "admissibility-2024.1.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RuleSetError, match="does not match the name"):
        load_rule_set(path)


def test_two_rule_sets_taking_effect_on_the_same_day_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "2024.1", "2017-08-16")
    write(tmp_path, "2024.2", "2017-08-16")
    with pytest.raises(RuleSetError, match="two rule sets take effect on 2017-08-16"):
        load_rule_book(tmp_path)


def test_an_empty_rules_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match="no admissibility"):
        load_rule_book(tmp_path)


def test_a_broken_rule_set_names_every_problem_at_once() -> None:
    data = shipped_data()
    data["reporting_windows"][0]["count"] = "FORTNIGHTS"
    data["reporting_windows"][1]["days"] = -1
    data["required_content"][0]["fields"].append("reporter.shoe_size")
    data["recommending_bodies"][1]["from"] = "2024-09-01"
    del data["gakkumdu"][0]["article"]
    data["gakkumdu"][1].pop("any_of_keywords")
    data["out_of_scope"][0].pop("employee_types")
    data["out_of_scope"][1]["id"] = data["out_of_scope"][0]["id"]
    with pytest.raises(RuleSetError) as raised:
        parse_rule_set(data)
    message = str(raised.value)
    for expected in (
        "'FORTNIGHTS' is not one of WORKING, CALENDAR",
        "days must be a whole number",
        "unknown field 'reporter.shoe_size'",
        "must start where KASN_UU_5_2014 ends",
        "gakkumdu[PILKADA_KEPUTUSAN_TINDAKAN].article: must be a non-empty string",
        "a rule without conditions flags all",
        "a rule without conditions matches all",
        "rule id NON_ASN_KE_PEMBERI_KERJA appears twice",
    ):
        assert expected in message


def test_two_windows_for_the_same_election_channel_and_kind_are_ambiguous() -> None:
    data = shipped_data()
    data["reporting_windows"].append(data["reporting_windows"][0] | {"id": "PILKADA_LAGI", "days": 14})
    with pytest.raises(RuleSetError, match="a second window for PILKADA_"):
        parse_rule_set(data)


@pytest.mark.parametrize("data", [None, [], "rules", {"version": 1}])
def test_yaml_that_is_not_a_rule_set_is_rejected_not_crashed_on(data: object) -> None:
    with pytest.raises(RuleSetError):
        parse_rule_set(data)


def test_an_administrator_can_correct_a_rule_without_touching_code(tmp_path: Path) -> None:
    # e.g. a court reading "hari" in Ps 134(4) as working days (docs/law.md OQ5)
    data = shipped_data()
    data["reporting_windows"][0]["count"] = "WORKING"
    write(tmp_path, "2025.1", "2025-01-01", reporting_windows=data["reporting_windows"])
    corrected = load_rule_book(tmp_path).in_force(date(2025, 6, 1))
    assert corrected.reporting_windows[0].count is DayCount.WORKING
