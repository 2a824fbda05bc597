"""Fuzz a running Netra over real HTTP (``python -m bench.fuzz``): hostile input must get a 4xx
with a JSON body, never a 5xx, on every service.

Against the system ``make run`` serves (intake 8001, adjudication 8002, sanctions 8003,
audit 8004 on 127.0.0.1) it reads each service's ``/openapi.json`` and sends ``--requests``
requests to each (default 2,000) made from the document: bodies from each operation's
schema and examples, valid, broken in one field, of the wrong shape or not JSON at all
(invalid UTF-8, NUL, nesting thousands deep, numbers thousands of digits long); wrong
content types; path ids that are real cases, random UUIDs or random text; stale, absent or
garbled If-Match and Idempotency-Key. The services run concurrently, one connection each.

Each service gets a token for the role that may write there, created with ``netra token
create`` in this environment (so point NETRA_HOME / DATABASE_URL where ``make run`` looks),
or given with ``--token-<service>``: a partner of Bawaslu Kab. Tabanan (channel BAWASLU) on
intake, a supervisor of ``--official-agency`` on adjudication (who may act on every case
and read that agency's), an official of that agency on sanctions holding the office
PPK_KABUPATEN_KOTA, an auditor on audit. Valid reports do get registered: fuzz a development system, not one with real cases.

Prints, per service, the count of answers in each status class, 4xx answers that were not
JSON, requests that got no answer at all, and examples of each 5xx (method and path). Exits
1 when any request got a 5xx or no answer (a worker that died mid-request is a 5xx the
client never saw) or a service could not be fuzzed at all (down, or the token refused),
else 0. Not part of ``python -m bench``.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from tests.support.openapi import ALL_METHODS, Operation, operations

SERVICES = ("intake", "adjudication", "sanctions", "audit")
# As netra.supervisor serves them under `make run`.
PORTS = {"intake": 8001, "adjudication": 8002, "sanctions": 8003, "audit": 8004}
PARTNER_AGENCY, PARTNER_CHANNEL = "Bawaslu Kab. Tabanan", "BAWASLU"
# Sample case C of docs/law.md §7 is this agency's, so its official has a case to act on.
OFFICIAL_AGENCY = "Pemerintah Kabupaten Tulang Bawang Barat"
JSON_TYPES = ("application/json", "application/problem+json")
EXAMPLES_SHOWN = 10
TIMEOUT = 30.0

# Text that trips naive handling: NUL and other controls, lone surrogates (sent as JSON \u
# escapes), right-to-left marks, astral characters, SQL and path fragments.
NASTY_TEXT = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202e\u200f",
    "😀" * 20,
    "'; DROP TABLE events; --",
    "../../etc/passwd",
    "%00",
    "\r\n\r\n",
    "\\u0000",
    "9" * 5_000,
    "",
    " ",
    "null",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/problem+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    None,
]
WEIRD_SEGMENTS = [
    "%00",
    "not-a-uuid",
    "%ED%A0%80",
    "%FF",
    "..",
    "%2F",
    "%2e%2e",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "00000000000000000000000000000000",
    "%7Bcase_id%7D",
    "a" * 3_000,
    "%25",
    "~",
]


# --- the document ----------------------------------------------------------------------


def operations_with_input(doc: Mapping[str, Any]) -> list[Operation]:
    """Every operation in the document that takes some input (a body, a path id or a query)."""
    return [op for op in operations(doc, ALL_METHODS) if op.writes or op.path_params or op.query]


# --- the requests ----------------------------------------------------------------------


@dataclass
class Request:
    """One request as it goes on the wire: ``path`` is already percent-encoded."""

    method: str
    path: str
    headers: dict[str, bytes] = field(default_factory=dict)
    body: bytes | None = None
    # Replace If-Match with the case's current ETag just before sending.
    current_if_match: bool = False


class Generator:
    """Requests to one service's operations, drawn with ``rng`` (so ``--seed`` repeats a run)."""

    def __init__(self, rng: random.Random, ops: Sequence[Operation], known: Mapping[str, list[str]]) -> None:
        self.rng = rng
        self.ops = list(ops)
        self.known = known
        # Writes are where input meets the domain: two in three requests go to them.
        self.writes = [op for op in self.ops if op.writes]
        self.reads = [op for op in self.ops if not op.writes]

    def request(self, auth: Mapping[str, str]) -> Request:
        r = self.rng
        pool = self.writes if self.writes and (not self.reads or r.random() < 2 / 3) else self.reads
        op = r.choice(pool)
        path = op.template
        for name in op.path_params:
            path = path.replace("{" + name + "}", self.path_id(self.known.get(name, [])), 1)
        if op.query:
            params = {name: str(self.value(schema)) for name, schema in op.query if r.random() < 0.5}
            if r.random() < 0.1:
                params[self.text()] = self.text()
            if params:
                path += "?" + urlencode(params, errors="surrogatepass")
        request = Request(op.method, path, {k: v.encode("latin-1") for k, v in auth.items()})
        for name, schema in op.headers:
            self.header(request, name, schema)
        if op.method != "GET":
            request.body, content_type = self.body(op)
            if content_type is not None:
                request.headers["Content-Type"] = content_type.encode()
        return request

    def path_id(self, known: list[str]) -> str:
        r = self.rng
        roll = r.random()
        if known and roll < 0.6:
            return r.choice(known)
        if roll < 0.75:
            return str(uuid.UUID(int=r.getrandbits(128), version=4))
        if roll < 0.85:
            return r.choice(WEIRD_SEGMENTS)
        return quote(self.text(), safe="", errors="surrogatepass") or "x"

    def header(self, request: Request, name: str, schema: Any) -> None:
        r = self.rng
        roll = r.random()
        if roll < 0.1:
            return  # absent
        if roll < 0.2:
            value = self.text()
        elif name == "If-Match" and roll < 0.8:
            request.current_if_match = True
            return
        elif name == "If-Match":
            value = f'"{r.choice([0, 1, -1, 2**31, 10**30, r.randrange(100)])}"'
        elif name == "Idempotency-Key":
            value = uuid.UUID(int=r.getrandbits(128)).hex
        else:
            value = str(self.value(schema))
        raw = value.encode("utf-8", "surrogatepass")
        # HTTP itself has no way to send a line break in a header: http.client refuses it.
        if b"\r" not in raw and b"\n" not in raw:
            request.headers[name] = raw

    def body(self, op: Operation) -> tuple[bytes | None, str | None]:
        r = self.rng
        roll = r.random()
        if roll < 0.45:
            value = op.example if op.example is not None and r.random() < 0.3 else self.value(op.body or {})
            return dumps(value), "application/json"
        if roll < 0.7:
            return dumps(self.mutated(self.value(op.body or {}))), "application/json"
        if roll < 0.8:
            return dumps(self.any_json()), "application/json"
        if roll < 0.95:
            return self.hostile(), r.choice(["application/json", *CONTENT_TYPES])
        return None, r.choice(CONTENT_TYPES)

    def value(self, schema: Any, depth: int = 0) -> Any:
        """A value ``schema`` mostly accepts: the document's example half the time."""
        r = self.rng
        if not isinstance(schema, Mapping) or not schema:
            return self.any_json()
        if "example" in schema and r.random() < 0.5:
            return copy.deepcopy(schema["example"])
        if "anyOf" in schema or "oneOf" in schema:
            return self.value(r.choice(schema.get("anyOf", schema.get("oneOf"))), depth)
        if "enum" in schema:
            return r.choice(schema["enum"]) if r.random() < 0.9 else self.text()
        kind = schema.get("type")
        if kind == "null":
            return None
        if kind == "boolean":
            return r.random() < 0.5
        if kind == "integer":
            return r.choice([0, 1, -1, 2024, r.randrange(-(10**6), 10**6), 2**63, -(2**63) - 1, 10**40])
        if kind == "number":
            return r.choice([0.5, -1e308, 1e308, 5e-324, r.uniform(-1e6, 1e6)])
        if kind == "string":
            return self.string(schema)
        if kind == "array":
            return [self.value(schema.get("items", {}), depth + 1) for _ in range(r.randrange(0, 4))]
        if kind == "object":
            properties = schema.get("properties", {})
            if not properties:
                return {self.text(): self.any_json() for _ in range(r.randrange(0, 4))}
            required = set(schema.get("required", ()))
            return {
                name: self.value(sub, depth + 1)
                for name, sub in properties.items()
                if name in required or r.random() < 0.6
            }
        return self.any_json()

    def string(self, schema: Mapping[str, Any]) -> str:
        r = self.rng
        fmt = schema.get("format")
        if fmt == "date":
            day = r.choice(
                [
                    date.today() - timedelta(days=r.randrange(0, 60)),
                    date(2017, 1, 1) + timedelta(days=r.randrange(0, 4000)),
                    date.min,
                    date.max,
                    date(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29)),
                ]
            )
            return day.isoformat()
        if fmt == "date-time":
            zone = r.choice([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-12)), None])
            moment = datetime(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29), tzinfo=zone)
            return moment.isoformat()
        if fmt == "uuid":
            return str(uuid.UUID(int=r.getrandbits(128)))
        if fmt in ("url", "uri"):
            return r.choice(
                ["https://partner.example/x", "http://localhost:1/hook", "ftp://x", "https://", self.text()]
            )
        if "pattern" in schema:
            candidates = [f"{r.getrandbits(256):064x}", "N2", "B2", self.text()]
            matching = [c for c in candidates if re.search(schema["pattern"], c)]
            return r.choice(matching or candidates)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 60)
        text = (
            self.text() if r.random() < 0.3 else "".join(r.choice("abcdefghij ") for _ in range(max(low, 3)))
        )
        return text if r.random() < 0.2 else text[:high].ljust(low, "x")

    def text(self) -> str:
        r = self.rng
        if r.random() < 0.4:
            return r.choice(NASTY_TEXT)
        return "".join(
            chr(
                r.choice(
                    [
                        r.randrange(0x20, 0x7F),
                        r.randrange(0, 0x20),
                        r.randrange(0x80, 0x3000),
                        r.randrange(0x10000, 0x10FFFF),
                    ]
                )
            )
            for _ in range(r.randrange(0, 20))
        )

    def any_json(self, depth: int = 0) -> Any:
        """Any JSON value at all: the wrong shape for every endpoint."""
        r = self.rng
        roll = r.random()
        if depth > 3 or roll < 0.5:
            return r.choice([None, True, False, 0, -1, 10**20, 1.5, self.text(), [], {}])
        if roll < 0.75:
            return [self.any_json(depth + 1) for _ in range(r.randrange(0, 4))]
        return {self.text(): self.any_json(depth + 1) for _ in range(r.randrange(0, 4))}

    def mutated(self, body: Any) -> Any:
        """``body`` with one value, at any depth, replaced or dropped."""
        r = self.rng
        paths: list[tuple[Any, ...]] = []

        def walk(node: Any, path: tuple[Any, ...]) -> None:
            items = (
                node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            )
            for key, child in items:
                paths.append((*path, key))
                walk(child, (*path, key))

        walk(body, ())
        if not paths:
            return self.any_json()
        path = r.choice(paths)
        target = body
        for key in path[:-1]:
            target = target[key]
        if r.random() < 0.25:
            del target[path[-1]]
        else:
            target[path[-1]] = r.choice([self.any_json(), self.text(), 10 ** r.randrange(19, 400), None])
        return body

    def hostile(self) -> bytes:
        """Bytes no JSON parser should answer with a 500."""
        r = self.rng
        depth = r.choice([33, 200, 5_000, 100_000])
        return r.choice(
            [
                b"\xff\xfe\xfd",
                b'{"a": "\xed\xa0\x80"}',
                b'{"a": "x\x00y"}',
                b'"\\u0000"',
                b'{"\\ud800": 1}',
                b"[" * depth,
                b"[" * depth + b"]" * depth,
                b'{"a":' * depth + b"1" + b"}" * depth,
                b"9" * r.choice([4_300, 4_301, 20_000]),
                b"-" + b"1" * 5_000 + b".5e1",
                b"1e999",
                b"NaN",
                b"-Infinity",
                b"",
                b"null",
                b"\xef\xbb\xbf{}",
                '{"a": 1}'.encode("utf-16"),
                b"{'single': 'quotes'}",
                bytes(r.getrandbits(8) for _ in range(r.randrange(1, 200))),
            ]
        )


def dumps(value: Any) -> bytes:
    """JSON as a hostile client sends it: lone surrogates as \\u escapes, huge integers whole."""
    return json.dumps(value, allow_nan=True).encode()


# --- the wire --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None
    content_type: str
    headers: dict[str, str]
    body: bytes
    error: str = ""


class Client:
    """One keep-alive connection to one service, reopened whenever the server closes it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, headers: Mapping[str, bytes | str], body: bytes | None) -> Answer:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=dict(headers))
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return Answer(
                    response.status,
                    (response.getheader("Content-Type") or "").split(";")[0].strip(),
                    dict(response.getheaders()),
                    data,
                )
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                # A kept-alive connection the server closed between requests: retry once on a new one.
                if attempt == 2 or not isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                ):
                    return Answer(None, "", {}, b"", f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def get_json(client: Client, path: str, auth: Mapping[str, str]) -> Any:
    answer = client.send("GET", path, auth, None)
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status or answer.error}: {answer.body[:200]!r}")
    return json.loads(answer.body)


# --- one service -----------------------------------------------------------------------


@dataclass
class Tally:
    """What one service answered."""

    service: str
    classes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    non_json_4xx: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    no_answer: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.classes.values())


def seed_ids(service: str, client: Client, auth: Mapping[str, str]) -> dict[str, list[str]]:
    """Real ids for the paths: cases the token may see, and on intake a report of its own."""
    known: dict[str, list[str]] = {}
    if service == "intake":
        from services.intake.web.examples import CONTRACT_EXAMPLE

        body = {**copy.deepcopy(CONTRACT_EXAMPLE), "source_ref": f"fuzz-{uuid.uuid4().hex[:8]}"}
        answer = client.send(
            "POST",
            "/v1/reports",
            {**auth, "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
            json.dumps(body).encode(),
        )
        if answer.status in (200, 201):
            created = json.loads(answer.body)
            known = {"report_id": [created["report_id"]], "case_id": [created["case_id"]]}
        return known
    if service in ("adjudication", "sanctions"):
        cases = get_json(client, "/v1/cases?page_size=50", auth)
        known["case_id"] = [c["case_id"] for c in cases]
        if service == "adjudication":
            evidence: list[str] = []
            for case_id in known["case_id"][:10]:
                detail = get_json(client, f"/v1/cases/{case_id}", auth)
                evidence += [e["evidence_id"] for e in detail.get("evidence", [])]
            known["evidence_id"] = evidence
    return known


def current_etag(client: Client, path: str, auth: Mapping[str, str]) -> str:
    """The ETag of the case named in ``path``, or "1" when it cannot be read."""
    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "cases":
        answer = client.send("GET", f"/v1/cases/{parts[3]}", auth, None)
        if answer.status == 200 and "ETag" in answer.headers:
            return answer.headers["ETag"]
    return '"1"'


@dataclass
class Target:
    """One service ready to fuzz: its connection, token, document and real ids."""

    service: str
    client: Client
    auth: dict[str, str]
    ops: list[Operation]
    known: dict[str, list[str]]


def prepare(service: str, host: str, port: int, token: str) -> Target:
    """Read the service's document and find real ids for its paths."""
    client = Client(host, port, TIMEOUT)
    auth = {"Authorization": f"Bearer {token}"}
    doc = get_json(client, "/openapi.json", {})
    return Target(service, client, auth, operations_with_input(doc), seed_ids(service, client, auth))


def fuzz_service(target: Target, requests: int, seed: int) -> Tally:
    """Send ``requests`` generated requests to one service and tally the answers."""
    tally = Tally(target.service)
    client, auth = target.client, target.auth
    generator = Generator(random.Random(f"{seed}:{target.service}"), target.ops, target.known)
    started = time.perf_counter()
    for _ in range(requests):
        request = generator.request(auth)
        if request.current_if_match:
            request.headers["If-Match"] = current_etag(client, request.path, auth).encode()
        answer = client.send(request.method, request.path, request.headers, request.body)
        shown = f"{request.method} {request.path[:120]}"
        if answer.status is None:
            tally.classes["no answer"] += 1
            tally.no_answer.append(f"{shown} ({answer.error})")
            continue
        tally.statuses[answer.status] += 1
        tally.classes[f"{answer.status // 100}xx"] += 1
        if answer.status >= 500:
            tally.server_errors.append(f"{answer.status} {shown} body={(request.body or b'')[:80]!r}")
        elif answer.status >= 400 and answer.content_type not in JSON_TYPES:
            tally.non_json_4xx.append(f"{answer.status} {answer.content_type or '-'} {shown}")
    tally.seconds = time.perf_counter() - started
    client.close()
    return tally


# --- tokens and the report -------------------------------------------------------------


def create_token(service: str, official_agency: str) -> str:
    """A token for the role that may write on ``service``, made by ``netra token create``."""
    role_args = {
        "intake": ["--role", "partner", "--agency", PARTNER_AGENCY, "--channel", PARTNER_CHANNEL],
        # Reads are scoped by agency (shared.scope), and a decision is signed in an office the
        # token holds: sample case C's PPK is a regency's.
        "adjudication": [
            "--role",
            "supervisor",
            "--agency",
            official_agency,
            "--identity",
            "fuzz.supervisor",
        ],
        "sanctions": [
            *("--role", "official", "--agency", official_agency, "--identity", "fuzz.official"),
            *("--office", "PPK_KABUPATEN_KOTA"),
        ],
        "audit": ["--role", "auditor", "--identity", "fuzz.auditor"],
    }[service]
    netra = Path(sys.executable).with_name("netra")
    command = [str(netra)] if netra.exists() else [sys.executable, "-m", "netra.cli"]
    done = subprocess.run(
        [*command, "token", "create", *role_args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"netra token create for {service} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1]


def report(tallies: Sequence[Tally]) -> str:
    """The table of status classes per service, then examples of what went wrong."""
    columns = ("2xx", "3xx", "4xx", "5xx", "no answer")
    lines = [
        f"{'service':<14}{'requests':>9}"
        + "".join(f"{c:>11}" for c in columns)
        + f"{'non-JSON 4xx':>14}{'req/s':>8}"
    ]
    for t in tallies:
        rate = t.requests / t.seconds if t.seconds else 0.0
        lines.append(
            f"{t.service:<14}{t.requests:>9}"
            + "".join(f"{t.classes[c]:>11}" for c in columns)
            + f"{len(t.non_json_4xx):>14}{rate:>8.0f}"
        )
    for t in tallies:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(t.statuses.items()))
        lines.append(f"\n{t.service} statuses: {statuses}")
        for title, items in (
            ("5xx", t.server_errors),
            ("no answer", t.no_answer),
            ("non-JSON 4xx", t.non_json_4xx),
        ):
            if items:
                lines.append(f"  {title} ({len(items)}), first {min(len(items), EXAMPLES_SHOWN)}:")
                lines += [f"    {item}" for item in items[:EXAMPLES_SHOWN]]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per service (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed sends the same requests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--services", nargs="+", choices=SERVICES, default=list(SERVICES))
    parser.add_argument(
        "--official-agency", default=OFFICIAL_AGENCY, help="the agency of the sanctions official's token"
    )
    for service in SERVICES:
        parser.add_argument(f"--port-{service}", type=int, default=PORTS[service])
        parser.add_argument(f"--token-{service}", help=f"a token for {service} (default: netra token create)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Fuzz every chosen service at once, print the table, and return the exit code."""
    args = parse_args(argv)
    tokens = {s: getattr(args, f"token_{s}") or create_token(s, args.official_agency) for s in args.services}
    tallies: dict[str, Tally] = {}
    failures: list[str] = []
    targets: dict[str, Target] = {}
    for service in args.services:
        try:
            port = getattr(args, f"port_{service}")
            targets[service] = prepare(service, args.host, port, tokens[service])
        except Exception as exc:  # a service that is down or refuses the token: say so, go on
            failures.append(f"{service}: {type(exc).__name__}: {exc}")
    if "audit" in targets:
        # The auditors read every service's cases: give them the ids the others found.
        found = {i for t in targets.values() for i in t.known.get("case_id", [])}
        targets["audit"].known["case_id"] = sorted(found)

    def run(target: Target) -> None:
        try:
            tallies[target.service] = fuzz_service(target, args.requests, args.seed)
        except Exception as exc:
            failures.append(f"{target.service}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(t,), name=f"fuzz-{t.service}") for t in targets.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(report([tallies[s] for s in args.services if s in tallies]))
    for failure in failures:
        print(f"\nnot fuzzed: {failure}", file=sys.stderr)
    broken = any(t.classes["5xx"] or t.classes["no answer"] for t in tallies.values())
    return 1 if broken or failures else 0


if __name__ == "__main__":
    sys.exit(main())
