"""Gunicorn's configuration for every Netra web app: ``gunicorn -c python:shared.web.gunicorn_conf``.

Two things the Flask app cannot do for itself, because gunicorn answers before the app sees
the request:
  - a request line, header or header count over the limits below, or a request gunicorn cannot
    parse, is answered by gunicorn itself, by default as an HTML page. Every Netra answer is
    JSON (``{"code", "status", "message"}``, as shared.web answers), so gunicorn's error writer
    is replaced with one that writes that body, with the security headers every answer has
    (shared.web.headers); the status (400, 414, 431, 501) is gunicorn's.
  - the access log names the path only: a query string may carry personal data or a filter
    value the brief keeps out of logs.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

from shared.web.headers import API_CSP, SECURITY_HEADERS

# A Netra URL is short (a path with a UUID and a few filters); 8 KiB is gunicorn's maximum.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# Graceful stop: a request in flight gets this long to finish its transaction.
graceful_timeout = 20


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Gunicorn's own error answer as the JSON error body every Netra answer has."""
    body = json.dumps(
        {"code": status_int, "status": reason, "message": mesg[:200] or reason.lower()}, ensure_ascii=True
    ).encode("ascii")
    headers = {
        "Connection": "close",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        **SECURITY_HEADERS,
        "Content-Security-Policy": API_CSP,
        "Cache-Control": "no-store",
    }
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"HTTP/1.1 {status_int} {reason}\r\n{lines}\r\n".encode("latin-1")
    util.write_nonblock(sock, head + body)


# Gunicorn has no setting for its error pages; its workers call util.write_error at the time of
# the error, so replacing it here (loaded in the master before workers fork) covers them all.
util.write_error = write_json_error
