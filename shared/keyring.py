"""The key store: one data key per data subject, so that erasing a person's key erases their
personal fields from an append-only, hash-chained log without touching a single event
(crypto-shredding; docs/architecture.md §5).

What lives where:
- Events carry personal fields *sealed* (``seal``): AES-256-GCM ciphertext under the data
  subject's key, sealed before the event is hashed, so the hash chains cover ciphertext and
  stay valid after an erasure.
- Data keys live here, in their own ``keyring`` database, never next to the events. Each is
  stored wrapped (AES-256-GCM again) by a key-encryption key (KEK) that comes from outside:
  ``NETRA_KEK`` (base64 of 32 bytes) or the KEK file (``KeyEncryptionKeys``). The KEK is
  only ever used through ``KeyEncryptionKeys.wrap``/``unwrap``, so a KMS or Vault can take
  its place without the rest changing.
- Every use of a clear value is recorded in ``key_uses`` (who, for what); erasing a key
  leaves its row with the reason, so "why can't I read this?" always has an answer.

Data keys are never cached across calls: an erasure takes effect in every process at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import rfc8785
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.clock import Clock
from shared.config import Settings

log = logging.getLogger(__name__)

ALGORITHM = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
# Bound into every ciphertext, so a sealed value cannot be passed off under another subject
# and a wrapped key cannot be moved to another subject's row.
_SEALED_CONTEXT = b"netra-sealed-v1\x00"
_WRAPPED_CONTEXT = b"netra-wrapped-v1\x00"
# The row holding the key of every blind index (``KeyStore.blind_index``).
BLIND_INDEX_SUBJECT = "keyring/blind-index"

metadata = sa.MetaData()
data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("kek_id", sa.Text),
    sa.Column("wrapped", sa.LargeBinary),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True)),
    sa.Column("erased_by", sa.Text),
    sa.Column("erased_reason", sa.Text),
)
key_uses = sa.Table(
    "key_uses",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class KeyringError(Exception):
    """The KEK is missing or wrong, or a sealed value is not one of ours."""


class Erased(Exception):
    """The data subject's key was erased: the sealed value can never be read again."""


@dataclass(frozen=True)
class ErasedField:
    """What a read shows for a sealed field whose key was erased."""

    subject: str

    def as_dict(self) -> dict[str, Any]:
        """The field as an answer shows it: erased, with the subject it belonged to."""
        return {"erased": True, "subject": self.subject}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise KeyringError("not base64") from exc


class KeyEncryptionKeys:
    """The KEKs by id: the ``current`` one wraps new data keys, any of them unwraps.

    The file form is JSON ``{"current": id, "keys": {id: base64}}``, so rotating adds a key
    and makes it current while the old one still unwraps until ``KeyStore.rewrap`` is done.
    """

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise KeyringError(f"the current KEK {current!r} is not among the keys")
        for kek_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"KEK {kek_id!r} must be {KEY_BYTES} bytes")
        self._keys = dict(keys)
        self.current = current

    @classmethod
    def read(cls, path: Path) -> KeyEncryptionKeys:
        """The KEKs kept in ``path``."""
        try:
            data = json.loads(path.read_text())
            return cls({k: _unb64(v) for k, v in data["keys"].items()}, data["current"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError(f"the KEK file {path} is unreadable or malformed") from exc

    @classmethod
    def generate(cls, path: Path) -> None:
        """Write a KEK file with one fresh key, readable by its owner only. Processes starting
        at once may race: the file appears whole (a hard link of a finished file) and the
        first one wins."""
        kek_id = f"kek-{secrets.token_hex(4)}"
        fresh = cls({kek_id: AESGCM.generate_key(256)}, kek_id)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fresh.write(tmp)
        try:
            os.link(tmp, path)
            log.info("created a key-encryption key file", extra={"kek_id": kek_id})
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    def with_new_current(self) -> KeyEncryptionKeys:
        """These KEKs plus a fresh one made current (for rotation)."""
        kek_id = f"kek-{secrets.token_hex(4)}"
        return KeyEncryptionKeys({**self._keys, kek_id: AESGCM.generate_key(256)}, kek_id)

    def only_current(self) -> KeyEncryptionKeys:
        """The current KEK alone: what remains once every data key is re-wrapped."""
        return KeyEncryptionKeys({self.current: self._keys[self.current]}, self.current)

    def write(self, path: Path) -> None:
        """Replace the KEK file atomically (owner-only)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"current": self.current, "keys": {k: _b64(v) for k, v in self._keys.items()}}, out)
        tmp.replace(path)

    def wrap(self, subject: str, data_key: bytes) -> tuple[str, bytes]:
        """``data_key`` wrapped under the current KEK: (KEK id, nonce + ciphertext)."""
        nonce = os.urandom(NONCE_BYTES)
        aad = _WRAPPED_CONTEXT + subject.encode()
        return self.current, nonce + AESGCM(self._keys[self.current]).encrypt(nonce, data_key, aad)

    def unwrap(self, subject: str, kek_id: str, wrapped: bytes) -> bytes:
        """The data key ``wrap`` wrapped for ``subject``."""
        key = self._keys.get(kek_id)
        if key is None:
            raise KeyringError(
                f"the data key of {subject} is wrapped by KEK {kek_id!r}, which is not configured"
            )
        try:
            return AESGCM(key).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAPPED_CONTEXT + subject.encode()
            )
        except InvalidTag as exc:
            raise KeyringError(f"the data key of {subject} does not unwrap under KEK {kek_id!r}") from exc


def kek_source(settings: Settings) -> Callable[[], KeyEncryptionKeys]:
    """Where the KEKs come from: ``NETRA_KEK``, else ``NETRA_KEK_FILE``, else
    ``<home>/kek.json``, created with a fresh KEK when missing so ``make run`` needs no step
    (a named file that is missing is an error, never silently replaced).

    The file is read again whenever it changes, so a rotation reaches every running process
    at its next use of a key: none goes on wrapping new keys under the KEK being retired."""
    if settings.kek:
        fixed = KeyEncryptionKeys({"env": _unb64(settings.kek)}, "env")
        return lambda: fixed
    path = settings.kek_file or settings.home / "kek.json"
    if not path.exists():
        if settings.kek_file is not None:
            raise KeyringError(f"NETRA_KEK_FILE {path} does not exist")
        KeyEncryptionKeys.generate(path)
    cache: dict[tuple[int, int], KeyEncryptionKeys] = {}

    def current() -> KeyEncryptionKeys:
        try:
            stat = path.stat()
        except OSError as exc:
            raise KeyringError(f"the KEK file {path} is gone") from exc
        version = (stat.st_mtime_ns, stat.st_size)
        if version not in cache:
            cache.clear()
            cache[version] = KeyEncryptionKeys.read(path)
        return cache[version]

    return current


def is_sealed(value: Any) -> TypeGuard[dict[str, Any]]:
    """Whether ``value`` is a sealed field as ``seal`` writes it."""
    return (
        isinstance(value, dict) and value.get("sealed") == ALGORITHM and isinstance(value.get("subject"), str)
    )


def seal(data_key: bytes, subject: str, value: Any) -> dict[str, str]:
    """``value`` (any JSON) encrypted under ``subject``'s data key, as it goes into an event."""
    nonce = os.urandom(NONCE_BYTES)
    plain = rfc8785.dumps(value)
    ciphertext = AESGCM(data_key).encrypt(nonce, plain, _SEALED_CONTEXT + subject.encode())
    return {"sealed": ALGORITHM, "subject": subject, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}


def unseal(data_key: bytes, sealed: Mapping[str, Any]) -> Any:
    """The JSON value ``seal`` sealed."""
    subject = str(sealed["subject"])
    try:
        plain = AESGCM(data_key).decrypt(
            _unb64(sealed["nonce"]), _unb64(sealed["ciphertext"]), _SEALED_CONTEXT + subject.encode()
        )
    except (InvalidTag, KeyError, TypeError) as exc:
        raise KeyringError(f"a sealed value of {subject} does not open under its key") from exc
    return json.loads(plain)


@dataclass(frozen=True)
class DataKeyInfo:
    """A data key's row as an administrator sees it: never the key."""

    subject: str
    owner: str
    kek_id: str | None
    erased_at: Any
    erased_by: str | None
    erased_reason: str | None


class KeyStore:
    """Data keys on the ``keyring`` database, wrapped by the KEKs ``keks`` gives."""

    def __init__(self, engine: sa.Engine, keks: Callable[[], KeyEncryptionKeys], clock: Clock) -> None:
        self.engine = engine
        self._keks = keks
        self.clock = clock
        self._blind_key: bytes | None = None

    @property
    def keks(self) -> KeyEncryptionKeys:
        """The KEKs as they are now."""
        return self._keks()

    def create(self, subject: str, *, owner: str) -> bytes:
        """A new data key for ``subject``, committed before any event is sealed under it: an
        event can never hold ciphertext whose key was not stored (a key no event uses, left
        by a failed command, is harmless). ``KeyringError`` if the subject has one already."""
        with self.engine.begin() as conn:
            data_key = self._insert_new(conn, subject, owner)
        if data_key is None:
            raise KeyringError(f"{subject} has a data key already")
        return data_key

    def _insert_new(self, conn: sa.Connection, subject: str, owner: str) -> bytes | None:
        """A new data key for ``subject``, stored wrapped; None when it has one already."""
        data_key = AESGCM.generate_key(256)
        kek_id, wrapped = self.keks.wrap(subject, data_key)
        created = conn.execute(
            pg_insert(data_keys)
            .values(subject=subject, owner=owner, kek_id=kek_id, wrapped=wrapped, created_at=self.clock.now())
            .on_conflict_do_nothing(index_elements=["subject"])
            .returning(data_keys.c.subject)
        ).first()
        return data_key if created is not None else None

    def blind_index(self, value: str) -> str:
        """The keyed blind index of ``value`` (already normalised by the caller): what lets a
        store match a person's number without holding it. HMAC-SHA256 under a key of its own
        (kept here, wrapped like the data keys, never erased), so nobody without the key store
        can recompute it from a guessed number."""
        digest = hmac.new(self._blinding_key(), value.encode(), hashlib.sha256).hexdigest()
        return f"bi1:{digest}"

    def _blinding_key(self) -> bytes:
        # Cached: unlike a data key it is never erased, and every report needs it.
        if self._blind_key is None:
            with self.engine.begin() as conn:
                key = self._insert_new(conn, BLIND_INDEX_SUBJECT, "keyring")
                if key is None:  # made before (by this or another process): no use to record
                    row = conn.execute(
                        sa.select(data_keys).where(data_keys.c.subject == BLIND_INDEX_SUBJECT)
                    ).one()
                    key = self.keks.unwrap(BLIND_INDEX_SUBJECT, row.kek_id, row.wrapped)
            self._blind_key = key
        return self._blind_key

    def data_key(self, subject: str, *, purpose: str, actor: str) -> bytes:
        """``subject``'s data key for one use, recorded; ``Erased`` once it was erased."""
        with self.engine.begin() as conn:
            return self._recorded_use(conn, subject, purpose, actor)

    def key_for(self, subject: str, *, owner: str, purpose: str, actor: str) -> bytes:
        """``subject``'s data key: created on first need (committed before anything is sealed
        under it, as ``create``), else fetched as ``data_key`` (the use recorded; ``Erased``
        once it was erased). One transaction either way, and a concurrent first need of the
        same subject finds the key the other created."""
        with self.engine.begin() as conn:
            created = self._insert_new(conn, subject, owner)
            return created if created is not None else self._recorded_use(conn, subject, purpose, actor)

    def _recorded_use(self, conn: sa.Connection, subject: str, purpose: str, actor: str) -> bytes:
        row = conn.execute(sa.select(data_keys).where(data_keys.c.subject == subject)).first()
        if row is None:
            raise KeyringError(f"no data key for {subject}")
        if row.wrapped is None:
            raise Erased(subject)
        conn.execute(
            key_uses.insert().values(subject=subject, purpose=purpose, actor=actor, at=self.clock.now())
        )
        return self.keks.unwrap(subject, row.kek_id, row.wrapped)

    def open(self, sealed: Mapping[str, Any], *, purpose: str, actor: str) -> Any:
        """The clear value of a sealed field, or ``ErasedField`` when its key was erased."""
        subject = str(sealed["subject"])
        try:
            return unseal(self.data_key(subject, purpose=purpose, actor=actor), sealed)
        except Erased:
            return ErasedField(subject)

    def erase(self, subject: str, *, actor: str, reason: str) -> DataKeyInfo | None:
        """Destroy ``subject``'s data key (kept: who erased it, when, why); the row as it now
        is, or None when there is no such subject. Erasing twice keeps the first record."""
        if subject == BLIND_INDEX_SUBJECT:
            raise KeyringError("the blind-index key is no data subject's: it cannot be erased")
        with self.engine.begin() as conn:
            conn.execute(
                data_keys.update()
                .where(data_keys.c.subject == subject, data_keys.c.erased_at.is_(None))
                .values(
                    wrapped=None,
                    kek_id=None,
                    erased_at=self.clock.now(),
                    erased_by=actor,
                    erased_reason=reason,
                )
            )
        return self.info(subject)

    def info(self, subject: str) -> DataKeyInfo | None:
        """``subject``'s row, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(data_keys).where(data_keys.c.subject == subject)).first()
        if row is None:
            return None
        return DataKeyInfo(
            row.subject, row.owner, row.kek_id, row.erased_at, row.erased_by, row.erased_reason
        )

    def uses(self, subject: str) -> list[tuple[str, str, Any]]:
        """Every recorded use of ``subject``'s key: (purpose, actor, at), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(key_uses.c.purpose, key_uses.c.actor, key_uses.c.at)
                .where(key_uses.c.subject == subject)
                .order_by(key_uses.c.id)
            ).all()
        return [(r.purpose, r.actor, r.at) for r in rows]

    def rewrap(self, keks: KeyEncryptionKeys, batch: int = 500) -> int:
        """Re-wrap every live data key under ``keks``' current KEK (rotation); events are not
        touched. Returns how many keys were re-wrapped. Safe to run again after a crash."""
        done = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    sa.select(data_keys.c.subject, data_keys.c.kek_id, data_keys.c.wrapped)
                    .where(data_keys.c.wrapped.is_not(None), data_keys.c.kek_id != keks.current)
                    .limit(batch)
                    .with_for_update()
                ).all()
                for row in rows:
                    kek_id, wrapped = keks.wrap(
                        row.subject, keks.unwrap(row.subject, row.kek_id, row.wrapped)
                    )
                    conn.execute(
                        data_keys.update()
                        .where(data_keys.c.subject == row.subject)
                        .values(kek_id=kek_id, wrapped=wrapped)
                    )
            done += len(rows)
            if not rows:
                return done

    def wrapped_by_others(self, kek_id: str) -> int:
        """How many live data keys are wrapped by a KEK other than ``kek_id``."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(data_keys)
                    .where(data_keys.c.wrapped.is_not(None), data_keys.c.kek_id != kek_id)
                ).scalar_one()
            )


@dataclass
class SubjectSeal:
    """Seals and opens the fields of one data subject during one command: the subject's key
    is created on first need, or fetched at most once (that fetch recorded as ``purpose`` by
    ``actor``)."""

    keys: KeyStore
    subject: str
    owner: str
    actor: str
    purpose: str
    _key: bytes | None = field(default=None, repr=False)

    def _data_key(self) -> bytes:
        if self._key is None:
            self._key = self.keys.key_for(
                self.subject, owner=self.owner, purpose=self.purpose, actor=self.actor
            )
        return self._key

    def seal(self, value: Any) -> dict[str, str]:
        """``value`` sealed under the subject's key; ``Erased`` if that key was erased."""
        return seal(self._data_key(), self.subject, value)

    def open(self, sealed: Mapping[str, Any]) -> Any:
        """A value this subject's key sealed; ``Erased`` if that key was erased."""
        return unseal(self._data_key(), sealed)
