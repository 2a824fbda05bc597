"""Play the sample cases (netra.samples) over HTTP through intake, adjudication and sanctions.

One driver for the e2e test and ``netra demo load``: the partner's report at intake, then
each step at the service that owns it, waiting for the case to arrive there over Kafka. What
differs between the two is behind ``Transport``: how a request reaches a service, and what
time means. The e2e test moves each service's clock to the step's legal date and runs the
sanctions scheduler itself at a ``Lapse``; the demo runs on the real clock, where the
services' own schedulers record lapses, so it waits for them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from netra.samples import Lapse, SampleCase, Step, investigator

# (identity, role, agency, channel, offices) -> a bearer token; TokenRegistry.create has this shape.
TokenMaker = Callable[[str, str, "str | None", "str | None", "tuple[str, ...]"], str]
# A line of progress for a person to read.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    """A service's answer: status, JSON body (None when not JSON) and ETag."""

    status: int
    body: Any
    etag: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300


class Transport(Protocol):
    """How the driver reaches the services and what time it is for them."""

    def request(
        self, service: str, method: str, path: str, headers: Mapping[str, str], body: Any = None
    ) -> Answer:
        """Send one request to ``service`` (intake, adjudication or sanctions)."""
        ...

    def moment(self, service: str, instant: datetime) -> None:
        """The instant a command to ``service`` is sent at (a test clock; nothing on the real one)."""
        ...

    def lapse(self, lapse: Lapse) -> None:
        """Let sanctions' scheduler see ``lapse.on`` (the real clock is long past it)."""
        ...


class Refused(Exception):
    """A step the service refused, or a case that did not arrive in time; says which."""


def at(day: str) -> datetime:
    """10:00 WIB on ``day``: a step's instant."""
    return datetime.fromisoformat(f"{day}T10:00:00+07:00")


@dataclass
class CaseRun:
    """One sample case being played: its ids, tokens and the answers so far."""

    sample: SampleCase
    transport: Transport
    tokens: TokenMaker
    wait_s: float = 60.0
    poll_s: float = 0.25
    case_id: str = ""
    report_id: str = ""
    case_number: str | None = None
    report_answer: Answer | None = None
    referred: bool = False
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def report(self) -> Answer:
        """POST the partner's report to intake (idempotent per sample case)."""
        r = self.sample.report
        self.headers["partner"] = self._bearer(r.agency, "partner", r.agency, r.channel)
        self.transport.moment("intake", datetime.fromisoformat(r.body["reported_at"]) + timedelta(hours=1))
        answer = self.transport.request(
            "intake",
            "POST",
            "/v1/reports",
            {**self.headers["partner"], "Idempotency-Key": r.idempotency_key},
            dict(r.body),
        )
        self.report_answer = answer
        if answer.ok:
            self.case_id, self.report_id = answer.body["case_id"], answer.body["report_id"]
            self.case_number = answer.body.get("case_number")
        return answer

    def step(self, step: Step | Lapse) -> dict[str, Any]:
        """Carry out one step; return the command's answer (a Lapse: the case after it)."""
        if isinstance(step, Lapse):
            self.transport.lapse(step)
            return self.wait("sanctions", lambda case: _lapsed(case, step), f"state {step.state}")
        self.wait(step.service)
        headers = self._role(step.role)
        self.transport.moment(step.service, at(step.on))
        current = self.transport.request(step.service, "GET", f"/v1/cases/{self.case_id}", headers)
        answer = self.transport.request(
            step.service,
            "POST",
            f"/v1/cases/{self.case_id}/{step.action}",
            {**headers, "If-Match": current.etag or ""},
            dict(step.body),
        )
        if not answer.ok:
            raise Refused(
                f"{step.service} {step.action} ({step.on}): HTTP {answer.status} {json.dumps(answer.body)}"
            )
        return dict(answer.body)

    def case(self, service: str) -> dict[str, Any]:
        """The case as ``service`` shows it now (waiting until it has arrived there)."""
        return self.wait(service)

    def partner_status(self) -> dict[str, Any]:
        """The partner's view of its report at intake."""
        answer = self.transport.request(
            "intake", "GET", f"/v1/reports/{self.report_id}", self.headers["partner"]
        )
        return dict(answer.body)

    def wait(
        self, service: str, until: Callable[[dict[str, Any]], bool] = lambda _c: True, what: str = "the case"
    ) -> dict[str, Any]:
        """Poll ``service``'s case until ``until`` holds (it arrives over Kafka, lapses come
        from a scheduler); Refused after ``wait_s``."""
        headers = self._role("official" if service == "sanctions" else "supervisor")
        deadline = time.monotonic() + self.wait_s
        while True:
            answer = self.transport.request(service, "GET", f"/v1/cases/{self.case_id}", headers)
            if answer.ok and until(answer.body):
                return dict(answer.body)
            if time.monotonic() > deadline:
                seen = answer.body.get("state") if answer.ok else f"HTTP {answer.status}"
                raise Refused(f"{service} never showed {what} within {self.wait_s:.0f} s (last: {seen})")
            time.sleep(self.poll_s)

    def wait_partner_stage(self, stage: str) -> dict[str, Any]:
        """Poll the partner's view until it shows ``stage``."""
        deadline = time.monotonic() + self.wait_s
        while True:
            status = self.partner_status()
            if status.get("stage") == stage:
                return status
            if time.monotonic() > deadline:
                raise Refused(f"the partner never saw {stage} (last: {status.get('stage')})")
            time.sleep(self.poll_s)

    def _role(self, role: str) -> dict[str, str]:
        if role not in self.headers:
            letter = self.sample.letter
            identity, agency, offices = {
                # A supervisor reads the cases of their own agency's employees (shared.scope).
                "supervisor": (f"sup-{letter}", self.sample.report.body["subject"]["agency"], ()),
                "investigator": (investigator(letter), None, ()),
                # The deciding official holds the office the case's decision is signed in.
                "official": (
                    f"pybm-{letter}",
                    self.sample.report.body["subject"]["agency"],
                    (self.sample.office,),
                ),
            }[role]
            self.headers[role] = self._bearer(identity, role, agency, None, offices)
        return self.headers[role]

    def _bearer(
        self,
        identity: str,
        role: str,
        agency: str | None,
        channel: str | None,
        offices: tuple[str, ...] = (),
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens(identity, role, agency, channel, offices)}"}


def _lapsed(case: Mapping[str, Any], lapse: Lapse) -> bool:
    return case.get("state") == lapse.state and (lapse.has is None or case.get(lapse.has) is not None)


Observer = Callable[[str, CaseRun, dict[str, Any]], None]


def play(run: CaseRun, progress: Progress, observe: Observer | None = None) -> dict[str, Any]:
    """Play one sample case from its report to where the law leaves it; return the final
    states ``{"adjudication": …, "sanctions": …, "stage": …}``. ``observe(mark, run, answer)``
    is called at each marked step and at ``referred`` (the case has reached sanctions).
    Raises Refused at the first step a service refuses."""
    letter = run.sample.letter
    answer = run.report()
    if not answer.ok:
        raise Refused(f"intake: HTTP {answer.status} {json.dumps(answer.body)}")
    progress(f"{letter:<3}{run.case_number}  intake: {answer.body['status']} (report {answer.status})")
    for step in run.sample.steps:
        if getattr(step, "service", "sanctions") == "sanctions" and not run.referred:
            referred, run.referred = run.case("sanctions"), True
            progress(f"{letter:<3}  sanctions: referred, {_referral_line(referred)}")
            if observe:
                observe("referred", run, referred)
        result = run.step(step)
        progress(f"{letter:<3}  {_step_line(step, result)}")
        if observe and step.mark:
            observe(step.mark, run, result)
    return _end(run, progress)


def _end(run: CaseRun, progress: Progress) -> dict[str, Any]:
    letter = run.sample.letter
    final = run.wait("sanctions", lambda c: c["state"] == run.sample.end_state, run.sample.end_state)
    stage = run.wait_partner_stage(run.sample.partner_stage)["stage"]
    states = {"adjudication": run.case("adjudication")["state"], "sanctions": final["state"], "stage": stage}
    progress(
        f"{letter:<3}  end: adjudication {states['adjudication']}, sanctions {final['state']}, partner {stage}"
    )
    return states


def _step_line(step: Step | Lapse, result: Mapping[str, Any]) -> str:
    if isinstance(step, Lapse):
        return f"sanctions: the scheduler passed {step.on} -> {result.get('state')}"
    events = ", ".join(e.split(".", 1)[-1] for e in result.get("events", []))
    return f"{step.service}: {step.action} {step.on} -> {result.get('state')} ({events})"


def _referral_line(case: Mapping[str, Any]) -> str:
    referral = case.get("referral") or {}
    official = (referral.get("deciding_official") or {}).get("official")
    options = ", ".join(o["code"] for o in case.get("penalty_options", []))
    return f"rule set {case.get('rule_set')}, deciding official {official}, penalties [{options}]"


# --- the real services over HTTP ------------------------------------------------------------------


@dataclass(frozen=True)
class HttpTransport:
    """The three services at their base URLs, on the real clock (``netra demo load``)."""

    urls: Mapping[str, str]
    timeout: float = 30.0

    def request(
        self, service: str, method: str, path: str, headers: Mapping[str, str], body: Any = None
    ) -> Answer:
        """One HTTP request; a 4xx/5xx is an Answer too (its JSON is what to show)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.urls[service].rstrip("/") + path,
            data=data,
            method=method,
            headers={**headers, **({"Content-Type": "application/json"} if data is not None else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, _json(response.read()), response.headers.get("ETag"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _json(error.read()), error.headers.get("ETag"))

    def moment(self, service: str, instant: datetime) -> None:
        """Nothing: the services run on the real clock and accept legal dates in the past."""

    def lapse(self, lapse: Lapse) -> None:
        """Nothing: on the real clock every 2020–2025 deadline has lapsed, and the running
        scheduler records it within its interval; the driver waits for the state."""


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
