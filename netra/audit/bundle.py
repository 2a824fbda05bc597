"""The export bundle of one case, and its offline check.

``case.tar.gz`` holds:
  manifest.json           what is inside: per-service heads, rule sets, a SHA-256 per file
  events/<service>.jsonl  the case's events of each service, one per line, the exact stored
                          (canonical, hashed, published) bytes
  chain/<service>.jsonl   per event: its position and service-log links (log_prev_hash,
                          log_hash), so each event's place in its service's log can be shown
  rules/<service>/<file>  the rule-set files the events name in ``rule_set``
  personal/opened.json    only when exported with personal data (``Disclosure``): each sealed
                          field of the events opened, by service, event id and path; the
                          events themselves stay as stored, sealed

Personal data travels sealed by default (docs/architecture.md §5): a bundle in clear is a
separate act, with who and why in the manifest and every key opened recorded in the key store.

``verify_bundle`` needs neither a database nor Kafka: it recomputes every file's SHA-256, each
event's hash from its bytes, the case chain of each service from version 1, and each event's
service-log link. What that proves, and what it cannot, is in docs/audit.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from netra.audit.history import CaseEvent, load_case_events
from shared.clock import SystemClock
from shared.config import REPO_ROOT, SERVICES, Settings
from shared.db import create_engine
from shared.envelope import GENESIS_HASH, Envelope, EnvelopeError, canonical_json, log_link
from shared.keyring import ErasedField, KeyStore, is_sealed, kek_source

FORMAT = "netra-case-bundle/1"
MANIFEST = "manifest.json"
OPENED = "personal/opened.json"


@dataclass(frozen=True)
class Disclosure:
    """Who exports a bundle with personal data in clear, and why (kept in its manifest)."""

    by: str
    reason: str


def export_case(
    settings: Settings, case_id: str, out: Path, *, at: datetime, disclosure: Disclosure | None = None
) -> dict[str, Any]:
    """Write ``case_id``'s bundle to ``out``; return its manifest. With ``disclosure``, the
    bundle also holds every sealed field opened (``personal/opened.json``)."""
    files: dict[str, bytes] = {}
    opened: dict[str, Any] = {}
    services: dict[str, Any] = {}
    rule_sets: dict[str, list[str]] = {}
    missing: list[str] = []
    total = 0
    for service in SERVICES:
        engine = create_engine(settings.database_url(service), pool_size=1)
        try:
            events = load_case_events(engine, service, case_id)
            head_position, head_hash = _log_head(engine)
        finally:
            engine.dispose()
        if not events:
            continue
        total += len(events)
        if disclosure is not None:
            opened[service] = {
                e.envelope.event_id: sealed for e in events if (sealed := _sealed_in(e.envelope.payload))
            }
        files[f"events/{service}.jsonl"] = b"".join(e.envelope.to_bytes() + b"\n" for e in events)
        files[f"chain/{service}.jsonl"] = b"".join(_chain_line(e) for e in events)
        services[service] = {
            "events": len(events),
            "case_head_version": events[-1].envelope.stream_version,
            "case_head_hash": events[-1].envelope.hash,
            "log_head_position": head_position,
            "log_head_hash": head_hash,
        }
        for name in sorted({e.envelope.rule_set for e in events if e.envelope.rule_set}):
            found = rule_files(service, name)
            if not found:
                missing.append(f"{service}:{name}")
            for path in found:
                member = f"rules/{service}/{path.name}"
                files[member] = path.read_bytes()
                rule_sets.setdefault(f"{service}:{name}", []).append(member)
    personal: dict[str, Any] | None = None
    if disclosure is not None:
        count = _open_all(settings, opened, disclosure)
        files[OPENED] = json.dumps(opened, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        personal = {"disclosed_by": disclosure.by, "reason": disclosure.reason, "fields": count}
    manifest = {
        "format": FORMAT,
        "personal_data": personal,
        "case_id": case_id,
        "exported_at": at.isoformat(),
        "events": total,
        "services": services,
        "rule_sets": rule_sets,
        "missing_rule_sets": missing,
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())},
    }
    _write(out, {MANIFEST: json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n", **files})
    return manifest


def _sealed_in(value: Any, path: str = "payload") -> dict[str, Any]:
    """Every sealed field within ``value``, by its JSON path."""
    if is_sealed(value):
        return {path: value}
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= _sealed_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found |= _sealed_in(item, f"{path}[{i}]")
    return found


def _open_all(settings: Settings, opened: dict[str, Any], disclosure: Disclosure) -> int:
    """Open, in place, every sealed field gathered in ``opened``; how many there were. Each
    opening is a recorded use of its key (purpose ``export: <reason>``, actor ``by``)."""
    keys = KeyStore(
        create_engine(settings.database_url("keyring"), pool_size=1), kek_source(settings), SystemClock()
    )
    count = 0
    try:
        for events in opened.values():
            for fields in events.values():
                for path, sealed in fields.items():
                    value = keys.open(sealed, purpose=f"export: {disclosure.reason}", actor=disclosure.by)
                    fields[path] = value.as_dict() if isinstance(value, ErasedField) else value
                    count += 1
    finally:
        keys.engine.dispose()
    return count


def rule_files(service: str, rule_set: str) -> list[Path]:
    """The files under ``services/<service>/rules`` named for ``rule_set`` (``<name>.yaml``
    or ``<kind>-<name>.yaml``, any extension)."""
    rules = REPO_ROOT / "services" / service / "rules"
    if not rules.is_dir():
        return []
    return sorted(
        p
        for p in rules.rglob("*")
        if p.is_file()
        and p.suffix in (".yaml", ".yml", ".json")
        and (p.stem == rule_set or p.stem.endswith(f"-{rule_set}"))
    )


def _log_head(engine: sa.Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT position, log_hash FROM events ORDER BY position DESC LIMIT 1")
        ).first()
    return (int(row.position), str(row.log_hash)) if row else (0, GENESIS_HASH)


def _chain_line(event: CaseEvent) -> bytes:
    link = {
        "position": event.position,
        "event_id": event.envelope.event_id,
        "hash": event.envelope.hash,
        "log_prev_hash": event.log_prev_hash,
        "log_hash": event.log_hash,
    }
    return canonical_json(link) + b"\n"


def _write(out: Path, files: dict[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mtime = 0  # the same case gives the same members, byte for byte
            tar.addfile(info, io.BytesIO(body))


@dataclass
class BundleCheck:
    """What the offline check found."""

    case_id: str | None = None
    events: int = 0
    heads: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.__dict__}

    def text(self) -> str:
        lines = [f"case {self.case_id}: {self.events} events"]
        lines += [f"  {service} case head {head}" for service, head in self.heads.items()]
        lines += [f"  - {p}" for p in self.problems]
        lines.append("bundle verified" if self.ok else "FAILED: the bundle does not verify")
        return "\n".join(lines)


def verify_bundle(path: Path) -> BundleCheck:
    """Check a bundle offline: file hashes, event hashes, case chains, service-log links."""
    check = BundleCheck()
    try:
        files = _read(path)
        manifest = json.loads(files.pop(MANIFEST))
    except (tarfile.TarError, OSError, EOFError, KeyError, ValueError) as exc:
        check.problems.append(f"not a readable bundle: {exc}")
        return check
    check.case_id = manifest.get("case_id")
    _check_files(files, manifest.get("files", {}), check)
    for service, head in manifest.get("services", {}).items():
        _check_service(service, head, files, check)
    return check


def _read(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                files[member.name] = handle.read()
    return files


def _check_files(files: dict[str, bytes], listed: dict[str, str], check: BundleCheck) -> None:
    for name in sorted(set(files) | set(listed)):
        if name not in files:
            check.problems.append(f"{name}: listed in the manifest but missing")
        elif name not in listed:
            check.problems.append(f"{name}: not listed in the manifest")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            check.problems.append(f"{name}: SHA-256 differs from the manifest: the file was altered")


def _check_service(service: str, head: dict[str, Any], files: dict[str, bytes], check: BundleCheck) -> None:
    lines = files.get(f"events/{service}.jsonl", b"").splitlines()
    links = files.get(f"chain/{service}.jsonl", b"").splitlines()
    if len(links) != len(lines):
        check.problems.append(f"{service}: {len(lines)} events but {len(links)} chain entries")
    prev_hash, last_position = GENESIS_HASH, 0
    for number, line in enumerate(lines, start=1):
        where = f"{service} line {number}"
        try:
            envelope = Envelope.from_bytes(line)
        except EnvelopeError as exc:
            check.problems.append(f"{where}: not an event: {exc}")
            continue
        where = f"{where} (event {envelope.event_id}, v{envelope.stream_version} {envelope.event_type})"
        check.events += 1
        if canonical_json(envelope.as_dict()) != line:
            check.problems.append(f"{where}: not the canonical bytes that were hashed")
        if envelope.computed_hash() != envelope.hash:
            check.problems.append(f"{where}: hash does not match the event's content: edited")
        if envelope.stream_id != check.case_id:
            check.problems.append(f"{where}: belongs to case {envelope.stream_id}")
        if envelope.stream_version != number or envelope.prev_hash != prev_hash:
            check.problems.append(f"{where}: case chain broken: an event is missing, added or out of order")
        prev_hash = envelope.hash
        if number <= len(links):
            last_position = _check_link(where, envelope, links[number - 1], last_position, check)
    check.heads[service] = prev_hash
    if prev_hash != head.get("case_head_hash") or len(lines) != head.get("events"):
        check.problems.append(f"{service}: the events do not end at the manifest's case head")
    if last_position > int(head.get("log_head_position", 0)):
        check.problems.append(f"{service}: an event lies past the manifest's service-log head")


def _check_link(where: str, envelope: Envelope, raw: bytes, last_position: int, check: BundleCheck) -> int:
    try:
        link = json.loads(raw)
        position, log_prev, log_hash = (
            int(link["position"]),
            str(link["log_prev_hash"]),
            str(link["log_hash"]),
        )
    except (ValueError, KeyError, TypeError):
        check.problems.append(f"{where}: unreadable chain entry")
        return last_position
    if link.get("event_id") != envelope.event_id or link.get("hash") != envelope.hash:
        check.problems.append(f"{where}: the chain entry names another event")
    if log_link(log_prev, envelope.hash) != log_hash:
        check.problems.append(f"{where}: service-log link does not match the event's hash")
    if position <= last_position:
        check.problems.append(f"{where}: service-log positions out of order")
    return position
