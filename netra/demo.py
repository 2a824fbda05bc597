"""Demo data: the five sample cases of docs/law.md §7, played through the real APIs.

``netra demo load`` (and ``make run DEMO=1``) calls :func:`load_demo`, which plays the script
of netra/samples.py with netra/sample_run.py: each partner's report at intake, then every
step at adjudication and sanctions over HTTP, exactly as partners, investigators and
officials would, so the demo exercises validation, the rules and the events, not a back door.
It prints a line per step. :func:`send_reports` only posts the reports.

The cases are 2024 (and 2020) events replayed on the real clock: the APIs refuse only dates
in the future, so the steps keep their legal dates, and the running deadline schedulers record
every 2020–2025 deadline as lapsed at once (a penalty taking effect, an appeal window closing)
or as missed where nothing met it in time: that is what the log honestly shows. A step a
service refuses stops that case (the refusal is printed) and the demo goes on with the next.
Idempotency keys are fixed per report, so loading the demo twice answers the first responses
again (200) instead of opening duplicate cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from netra.sample_run import CaseRun, HttpTransport, Progress, Refused, TokenMaker, play
from netra.samples import REPORTS, SAMPLE_CASES, DemoReport
from shared.auth import TokenRegistry

__all__ = ["REPORTS", "DemoReport", "load_demo", "send_reports", "summary_line", "token_maker"]

DEFAULT_URL = "http://127.0.0.1:8001"
DEFAULT_URLS = {
    "intake": DEFAULT_URL,
    "adjudication": "http://127.0.0.1:8002",
    "sanctions": "http://127.0.0.1:8003",
}
# On the real clock a lapse waits for the running scheduler (every 30 s): a margin over that.
LAPSE_WAIT_S = 75.0


def token_maker(tokens: TokenRegistry | TokenMaker) -> TokenMaker:
    """A function (identity, role, agency, channel, offices) → new token, from a registry or
    such a function."""
    if isinstance(tokens, TokenRegistry):
        registry = tokens
        return lambda identity, role, agency, channel, offices: registry.create(
            identity, role, agency=agency, channel=channel, offices=offices
        )
    return tokens


def send_reports(
    base_url: str, tokens: TokenRegistry | TokenMaker, *, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """POST every sample report to intake at ``base_url``; nothing more.

    One entry per report, in order: ``{"case": "A", "http_status": 201, "response": {...}}``
    (an error answer too: the caller decides what a 4xx means). One partner token per agency.
    """
    transport = HttpTransport({"intake": base_url}, timeout)
    make = token_maker(tokens)
    results = []
    for sample in SAMPLE_CASES:
        answer = CaseRun(sample, transport, make).report()
        results.append({"case": sample.letter, "http_status": answer.status, "response": answer.body})
    return results


def load_demo(
    base_url: str,
    tokens: TokenRegistry | TokenMaker,
    *,
    urls: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """Play every sample case from its report to where the law leaves it; return one entry
    per case: ``{"case", "http_status", "response"}`` of its report, ``end`` (the states at
    adjudication and sanctions and the partner's stage) or ``stopped`` (why not).

    ``base_url`` is intake; ``urls`` names the other two (default: ports 8002 and 8003).
    ``progress`` gets a line per step (default: printed).
    """
    transport = HttpTransport({**DEFAULT_URLS, **(urls or {}), "intake": base_url}, timeout)
    say = progress or (lambda line: print(line, flush=True))
    make = token_maker(tokens)
    missing = [name for name in ("adjudication", "sanctions") if not _ready(transport, name)]
    if missing:
        # An intake on its own (a test server, a partial system): the reports are all it can take.
        say(
            f"{' and '.join(missing)} not reachable ({', '.join(transport.urls[m] for m in missing)}): reports only"
        )
        return send_reports(base_url, tokens, timeout=timeout)
    return [_play_one(CaseRun(sample, transport, make, wait_s=LAPSE_WAIT_S), say) for sample in SAMPLE_CASES]


def _ready(transport: HttpTransport, service: str) -> bool:
    try:
        return transport.request(service, "GET", "/readyz", {}).ok
    except OSError:
        return False


def _play_one(run: CaseRun, say: Progress) -> dict[str, Any]:
    end: dict[str, Any] | None = None
    stopped = None
    try:
        end = play(run, say)
    except Refused as refusal:
        stopped = str(refusal)
        say(f"{run.sample.letter:<3}  stopped: {stopped}")
    answer = run.report_answer
    return {
        "case": run.sample.letter,
        "http_status": answer.status if answer else 0,
        "response": answer.body if answer else None,
        "end": end,
        "stopped": stopped,
    }


def summary_line(result: Mapping[str, Any]) -> str:
    """One human line for a played (or only reported) case: number, status, where it ended."""
    answer = result["response"]
    if not 200 <= result["http_status"] < 300:
        return f"{result['case']:<3} HTTP {result['http_status']}: {json.dumps(answer)}"
    line = f"{result['case']:<3} {answer.get('case_number') or '-':<16} {answer['status']:<13} late={answer['late']}"
    # The report id is what a privacy officer asks the reporter's identity by.
    line += f" report={answer['report_id']}"
    if answer.get("missing"):
        line += f" missing={','.join(answer['missing'])}"
    if answer.get("forwarded_to"):
        line += f" forwarded_to={answer['forwarded_to']}"
    if result.get("end"):
        end = result["end"]
        line += (
            f" -> adjudication {end['adjudication']}, sanctions {end['sanctions']}, partner {end['stage']}"
        )
    elif result.get("stopped"):
        line += " -> stopped (see above)"
    return line
