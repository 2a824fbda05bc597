"""A case's history across services in causal order and as of an instant, and its export
bundle checked offline, untouched and with one byte changed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from netra.audit.bundle import export_case, verify_bundle
from netra.audit.history import case_history
from netra.cli import main
from shared.clock import ManualClock
from shared.config import Settings
from tests.conftest import KafkaBroker, NewDatabase
from tests.support.audit_system import AuditedSystem, build_system
from tests.support.events import AT


@pytest.fixture(scope="module")
def system(
    kafka: KafkaBroker, new_database: NewDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditedSystem]:
    urls = {name: new_database(name) for name in ("intake", "adjudication", "sanctions", "auth", "keyring")}
    settings = Settings(
        home=tmp_path_factory.mktemp("home"), database_urls=urls, kafka_bootstrap=kafka.bootstrap
    )
    built = build_system(settings, ManualClock(datetime(2024, 10, 10, 2, 30, tzinfo=UTC)), cases=2)
    yield built
    built.close()


def case_of(system: AuditedSystem) -> str:
    return system.recorded["intake"][0].stream_id


def test_a_case_history_follows_causation_across_services(system: AuditedSystem) -> None:
    history = case_history(system.settings, case_of(system))
    assert [(e.service, e.envelope.event_type) for e in history.events] == [
        ("intake", "intake.report_received"),
        ("intake", "intake.case_registered"),
        ("adjudication", "adjudication.examination_opened"),
        ("sanctions", "sanctions.decision_issued"),
        ("adjudication", "adjudication.bap_recorded"),
    ]
    assert history.state()["services"]["adjudication"]["version"] == 2


def test_as_of_cuts_by_record_time_and_valid_time_cuts_by_occurred_at(system: AuditedSystem) -> None:
    case = case_of(system)
    opened = next(e for e in system.recorded["adjudication"] if e.stream_id == case)
    cut = datetime.fromisoformat(opened.recorded_at)
    then = case_history(system.settings, case, as_of=cut)
    assert [e.envelope.event_type for e in then.events][-1] == "adjudication.examination_opened"
    assert len(then.events) == 3 and "sanctions" not in then.state()["services"]
    before = case_history(system.settings, case, as_of=AT - timedelta(seconds=1), time="valid")
    assert before.events == [] and before.known


def test_history_cli_refuses_an_instant_without_an_offset(system: AuditedSystem) -> None:
    env = {f"{n.upper()}_DATABASE_URL": u for n, u in system.settings.database_urls.items()}
    bad = CliRunner().invoke(
        main, ["audit", "history", case_of(system), "--as-of", "2024-11-01T00:00:00"], env=env
    )
    assert bad.exit_code == 2 and "offset" in bad.output
    good = CliRunner().invoke(
        main, ["audit", "history", case_of(system), "--as-of", "2024-11-01T00:00:00+07:00", "--json"], env=env
    )
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["state"]["events"] == 5


def test_an_exported_bundle_verifies_offline(system: AuditedSystem, tmp_path: Path) -> None:
    out = tmp_path / "case.tar.gz"
    manifest = export_case(system.settings, case_of(system), out, at=datetime(2024, 12, 1, tzinfo=UTC))
    assert manifest["events"] == 5 and set(manifest["services"]) == {"intake", "adjudication", "sanctions"}
    check = verify_bundle(out)
    assert check.ok, check.problems
    assert check.events == 5


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def write(out: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_bundle_with_one_byte_changed_fails_naming_the_file(system: AuditedSystem, tmp_path: Path) -> None:
    original = tmp_path / "case.tar.gz"
    export_case(system.settings, case_of(system), original, at=datetime(2024, 12, 1, tzinfo=UTC))
    tampered = tmp_path / "tampered.tar.gz"
    files = members(original)
    body = bytearray(files["events/sanctions.jsonl"])
    body[40] ^= 0x01  # one bit of one byte
    write(tampered, {**files, "events/sanctions.jsonl": bytes(body)})
    result = CliRunner().invoke(main, ["audit", "verify-bundle", str(tampered)])
    assert result.exit_code == 1
    assert "events/sanctions.jsonl: SHA-256 differs" in result.output


def test_an_edited_event_with_a_recomputed_manifest_is_named_by_its_hash(
    system: AuditedSystem, tmp_path: Path
) -> None:
    original = tmp_path / "case.tar.gz"
    export_case(system.settings, case_of(system), original, at=datetime(2024, 12, 1, tzinfo=UTC))
    files = members(original)
    files["events/intake.jsonl"] = files["events/intake.jsonl"].replace(b'"n":1', b'"n":7', 1)
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["events/intake.jsonl"] = hashlib.sha256(files["events/intake.jsonl"]).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    forged = tmp_path / "forged.tar.gz"
    write(forged, files)
    edited = system.recorded["intake"][1]
    problems = verify_bundle(forged).problems
    assert any(edited.event_id in p and "edited" in p for p in problems), problems


def test_an_export_in_clear_needs_who_and_why(tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "x.tar.gz")
    unnamed = runner.invoke(main, ["audit", "export", "some-case", "--out", out, "--with-personal-data"])
    assert unnamed.exit_code == 2 and "needs --by and --reason" in unnamed.output
    stray = runner.invoke(main, ["audit", "export", "some-case", "--out", out, "--by", "x"])
    assert stray.exit_code == 2 and "go with --with-personal-data" in stray.output
