"""The security headers on every answer of every Netra app (docs/architecture.md §5).

Every answer but the ``/docs`` page is JSON (or the plain text of ``/metrics``): nothing in it
is meant to run, load, be framed or be guessed as another type, so the policy allows nothing.
The ``/docs`` page (shared.web.docs) sets its own, wider policy; a view that sets its own
``Content-Security-Policy`` or ``Cache-Control`` keeps it.

Answers carry personal data (reports, reporters, decisions), so none may be kept by a browser
or a proxy: ``Cache-Control: no-store`` unless the view chose otherwise (Swagger UI's static
files are revalidated by their ETag instead).
"""

from __future__ import annotations

from flask import Response

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Older browsers read this one; newer ones frame-ancestors in the CSP.
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """The after-request hook: the fixed headers always, the CSP and Cache-Control by default."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Content-Security-Policy", API_CSP)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
