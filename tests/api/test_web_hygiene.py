"""Security headers on every answer of the four apps, and ``/docs`` served whole by the app:
no CDN, no inline script, every file it loads answered by the app itself (issue 12 item 8)."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from shared.web.docs import DOCS_CSP
from shared.web.headers import API_CSP
from tests.api.apps import Service

APPS = ["intake", "adjudication", "sanctions", "audit"]
FIXED = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def assert_security_headers(response, csp: str = API_CSP) -> None:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, name
    assert response.headers.get("Content-Security-Policy") == csp
    assert "frame-ancestors 'none'" in csp


class Tags(HTMLParser):
    """The ``src``/``href`` of every script and link tag, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in found
        for attr in ("src", "href"):
            if found.get(attr):
                self.urls.append(str(found[attr]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def docs_tags(client: FlaskClient) -> Tags:
    tags = Tags()
    tags.feed(client.get("/docs").get_data(as_text=True))
    return tags


@pytest.mark.parametrize("name", APPS)
@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/metrics", 200), ("/openapi.json", 200), ("/no/such/thing", 404)],
)
def test_every_answer_carries_the_security_headers(
    services: dict[str, Service], name: str, path: str, status: int
) -> None:
    response = services[name].app.test_client().get(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", APPS)
def test_authenticated_answers_and_refusals_are_not_stored(services: dict[str, Service], name: str) -> None:
    service = services[name]
    spec = service.app.test_client().get("/openapi.json").get_json()
    # The app's first GET that needs a token, its path parameters a case nobody filed.
    template = next(p for p, ops in spec["paths"].items() if ops.get("get", {}).get("security"))
    path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
    client = service.app.test_client()
    for response in (client.get(path), client.get(path, headers=service.reader)):
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get(path).status_code == 401


def test_an_internal_error_carries_the_security_headers(client: FlaskClient) -> None:
    response = client.get("/probe/boom")
    assert response.status_code == 500
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", APPS)
def test_docs_page_has_its_own_csp_and_nothing_inline_or_external(
    services: dict[str, Service], name: str
) -> None:
    client = services[name].app.test_client()
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_security_headers(response, DOCS_CSP)
    assert "unsafe-inline" not in DOCS_CSP and "unsafe-eval" not in DOCS_CSP
    html = response.get_data(as_text=True)
    assert "//" not in html, "an absolute or scheme-relative URL"
    tags = docs_tags(client)
    assert tags.inline == []
    assert len(tags.urls) == 4 and all(u.startswith("/docs/") for u in tags.urls), tags.urls
    assert 'data-spec-url="/openapi.json"' in html


@pytest.mark.parametrize("name", APPS)
def test_docs_assets_are_served_by_the_app_itself(services: dict[str, Service], name: str) -> None:
    client = services[name].app.test_client()
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in docs_tags(client).urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == types[Path(url).suffix], url
        assert response.content_length and response.content_length > 100
        assert_security_headers(response)
    start = client.get("/docs/swagger-ui/start.js").get_data(as_text=True)
    assert "validatorUrl: null" in start


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui/index.html",
        "/docs/swagger-ui/swagger-initializer.js",
        "/docs/swagger-ui/..%2F__init__.py",
        "/docs/swagger-ui/../../swagger_ui_bundle/__init__.py",
    ],
)
def test_only_the_files_the_page_loads_are_served(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert_security_headers(response)


@pytest.fixture
def served(services: dict[str, Service]) -> Iterator[str]:
    """The auditor app on a real socket on 127.0.0.1, for a browser."""
    server = make_server("127.0.0.1", 0, services["audit"].app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_swagger_ui_renders_in_a_real_browser_without_a_csp_violation(served: str, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless chromium here (Debian: apt-get install chromium)")
    argv = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=20000",
        "--dump-dom",
        f"{served}/docs",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    # Swagger UI fetched /openapi.json and drew the operations: every script ran under the CSP.
    assert 'data-path="/healthz"' in done.stdout, done.stdout[-2000:]
    # Chromium logs each blocked load or script as a console line naming the policy.
    violations = [line for line in done.stderr.splitlines() if "Content Security Policy" in line]
    assert violations == []
