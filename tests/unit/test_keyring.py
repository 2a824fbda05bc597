"""shared.keyring without a database: sealing, wrapping and where the KEK comes from."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.config import Settings
from shared.keyring import KeyEncryptionKeys, KeyringError, is_sealed, kek_source, seal, unseal


def test_a_sealed_value_opens_under_its_key_and_hides_its_bytes() -> None:
    key = AESGCM.generate_key(256)
    sealed = seal(key, "reporter/1", {"name": "Ni Luh Rahasia"})
    assert is_sealed(sealed)
    assert "Rahasia" not in str(sealed)
    assert unseal(key, sealed) == {"name": "Ni Luh Rahasia"}
    # Fresh nonce each time: two seals of one value do not show that they are equal.
    assert seal(key, "reporter/1", "x")["ciphertext"] != seal(key, "reporter/1", "x")["ciphertext"]


def test_a_sealed_value_opens_under_no_other_key_or_subject() -> None:
    key = AESGCM.generate_key(256)
    sealed = seal(key, "reporter/1", "Ni Luh")
    with pytest.raises(KeyringError):
        unseal(AESGCM.generate_key(256), sealed)
    with pytest.raises(KeyringError):  # relabelled as another person's: the subject is bound in
        unseal(key, {**sealed, "subject": "reporter/2"})
    tampered = bytearray(base64.urlsafe_b64decode(sealed["ciphertext"]))
    tampered[0] ^= 1
    with pytest.raises(KeyringError):
        unseal(key, {**sealed, "ciphertext": base64.urlsafe_b64encode(bytes(tampered)).decode()})


def test_a_wrapped_key_unwraps_only_for_its_subject_and_any_configured_kek() -> None:
    keks = KeyEncryptionKeys({"a": AESGCM.generate_key(256)}, "a")
    data_key = AESGCM.generate_key(256)
    kek_id, wrapped = keks.wrap("reporter/1", data_key)
    assert keks.unwrap("reporter/1", kek_id, wrapped) == data_key
    with pytest.raises(KeyringError):
        keks.unwrap("reporter/2", kek_id, wrapped)
    rotated = keks.with_new_current()
    assert rotated.current != "a" and rotated.unwrap("reporter/1", "a", wrapped) == data_key
    with pytest.raises(KeyringError, match="not configured"):
        rotated.only_current().unwrap("reporter/1", "a", wrapped)


def test_a_missing_default_kek_file_is_created_owner_only_and_reread_when_it_changes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    source = kek_source(settings)
    path = tmp_path / "kek.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = source()
    rotated = first.with_new_current()
    rotated.write(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert source().current == rotated.current != first.current


def test_a_named_kek_file_that_is_missing_or_broken_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="does not exist"):
        kek_source(Settings(home=tmp_path, kek_file=tmp_path / "nope.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(KeyringError, match="malformed"):
        kek_source(Settings(home=tmp_path, kek_file=broken))()


def test_a_kek_from_the_environment_must_be_32_bytes(tmp_path: Path) -> None:
    good = base64.urlsafe_b64encode(AESGCM.generate_key(256)).decode()
    assert kek_source(Settings(home=tmp_path, kek=good))().current == "env"
    with pytest.raises(KeyringError, match="32 bytes"):
        kek_source(Settings(home=tmp_path, kek=base64.urlsafe_b64encode(b"short").decode()))
