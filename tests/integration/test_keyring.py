"""The key store on a real PostgreSQL: keys survive a KEK rotation without any event being
touched, an erased key is gone for good, and `netra privacy` does both for an administrator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from netra.cli import main as netra
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine
from shared.keyring import Erased, ErasedField, KeyringError, KeyStore, kek_source, seal
from tests.conftest import NewDatabase


@pytest.fixture
def home(tmp_path: Path, new_database: NewDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on a fresh keyring database, also given to `netra` through the environment."""
    url = new_database("keyring")
    monkeypatch.setenv("KEYRING_DATABASE_URL", url)
    monkeypatch.setenv("NETRA_HOME", str(tmp_path))
    yield Settings(home=tmp_path, database_urls={"keyring": url})


@pytest.fixture
def keys(home: Settings, clock: ManualClock) -> Iterator[KeyStore]:
    store = KeyStore(create_engine(home.database_url("keyring"), pool_size=1), kek_source(home), clock)
    yield store
    store.engine.dispose()


def test_rotating_the_kek_rewraps_every_key_and_old_seals_still_open(home: Settings, keys: KeyStore) -> None:
    sealed = {
        s: seal(keys.create(s, owner="intake"), s, f"identity of {s}") for s in ("reporter/a", "reporter/b")
    }
    keys.erase("reporter/b", actor="dpo", reason="test")
    before = keys.keks.current

    rotated = CliRunner().invoke(netra, ["privacy", "rotate-kek"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-wrapped 1 data keys" in rotated.output  # the erased key has nothing to re-wrap
    assert keys.keks.current != before  # the running store read the changed file
    assert keys.info("reporter/a").kek_id == keys.keks.current  # type: ignore[union-attr]
    retired = CliRunner().invoke(netra, ["privacy", "retire-keks"])
    assert retired.exit_code == 0, retired.output
    assert list(json.loads((home.home / "kek.json").read_text())["keys"]) == [keys.keks.current]
    assert keys.open(sealed["reporter/a"], purpose="test", actor="t") == "identity of reporter/a"
    assert keys.open(sealed["reporter/b"], purpose="test", actor="t") == ErasedField("reporter/b")


def test_old_keks_are_not_retired_while_a_key_still_needs_one(home: Settings, keys: KeyStore) -> None:
    keys.create("reporter/a", owner="intake")
    # A rotation that made a new KEK current but crashed before re-wrapping.
    keys.keks.with_new_current().write(home.home / "kek.json")
    refused = CliRunner().invoke(netra, ["privacy", "retire-keks"])
    assert refused.exit_code != 0 and "still wrapped by an old KEK" in refused.output
    assert CliRunner().invoke(netra, ["privacy", "rotate-kek"]).exit_code == 0
    assert CliRunner().invoke(netra, ["privacy", "retire-keks"]).exit_code == 0


def test_an_erased_key_is_gone_and_says_who_erased_it_and_why(keys: KeyStore) -> None:
    sealed = seal(keys.create("reporter/a", owner="intake"), "reporter/a", "Ni Luh")
    assert keys.open(sealed, purpose="disclose", actor="dpo") == "Ni Luh"
    keys.erase("reporter/a", actor="dpo", reason="permintaan subjek data")
    keys.erase("reporter/a", actor="someone else", reason="again")  # the first record stands
    info = keys.info("reporter/a")
    assert info is not None and (info.erased_by, info.erased_reason) == ("dpo", "permintaan subjek data")
    with keys.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT wrapped, kek_id FROM data_keys")).one() == (None, None)
    assert keys.open(sealed, purpose="disclose", actor="dpo") == ErasedField("reporter/a")
    assert [(p, a) for p, a, _ in keys.uses("reporter/a")] == [("disclose", "dpo")]


def test_a_key_under_an_unknown_kek_is_an_error_not_a_silent_erasure(home: Settings, keys: KeyStore) -> None:
    sealed = seal(keys.create("reporter/a", owner="intake"), "reporter/a", "x")
    with keys.engine.begin() as conn:
        conn.execute(sa.text("UPDATE data_keys SET kek_id = 'lost'"))
    with pytest.raises(KeyringError, match="not configured"):
        keys.open(sealed, purpose="t", actor="t")


def test_the_subject_command_shows_the_key_and_its_uses_never_the_key_itself(keys: KeyStore) -> None:
    keys.create("reporter/a", owner="intake")
    keys.data_key("reporter/a", purpose="disclose", actor="dpo")
    shown = CliRunner().invoke(netra, ["privacy", "subject", "reporter/a"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["key"]["owner"] == "intake" and "wrapped" not in body["key"]
    assert [u["actor"] for u in body["uses"]] == ["dpo"]


def test_erase_refuses_what_it_cannot_erase() -> None:
    runner = CliRunner()
    no_reason = runner.invoke(
        netra, ["privacy", "erase", "--subject", "reporter/x", "--reason", " ", "--by", "a"]
    )
    assert no_reason.exit_code == 2 and "reporter/<report id>" in no_reason.output


def test_a_subjects_key_is_created_on_first_need_and_fetched_with_a_recorded_use_after(
    keys: KeyStore,
) -> None:
    first = keys.key_for("reporter/k", owner="intake", purpose="seal-report", actor="intake")
    assert keys.uses("reporter/k") == []  # creating a key is no use of it
    again = keys.key_for("reporter/k", owner="intake", purpose="seal-supplement", actor="bawaslu")
    assert again == first
    assert [(p, a) for p, a, _ in keys.uses("reporter/k")] == [("seal-supplement", "bawaslu")]
    keys.erase("reporter/k", actor="dpo", reason="test")
    with pytest.raises(Erased):
        keys.key_for("reporter/k", owner="intake", purpose="seal-supplement", actor="bawaslu")
    assert keys.info("reporter/k").erased_by == "dpo"  # type: ignore[union-attr]  # never created anew


def test_two_first_needs_of_one_subject_at_once_share_one_key(keys: KeyStore) -> None:
    with ThreadPoolExecutor(4) as pool:
        found = list(
            pool.map(
                lambda n: keys.key_for("webhook/p", owner="intake", purpose="register", actor=f"p{n}"),
                range(8),
            )
        )
    assert len(set(found)) == 1
    assert len(keys.uses("webhook/p")) == 7  # one created it; the others fetched it
