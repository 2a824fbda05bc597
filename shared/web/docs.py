"""Swagger UI at ``/docs``, served whole by the app itself: no CDN, so it works on an intranet.

Swagger UI's files come from the pinned ``swagger-ui-bundle`` package and are served from
``/docs/swagger-ui/``. The page is ours rather than flask-smorest's template, whose start-up
script is inline and would need ``script-src 'unsafe-inline'``: here every script is a file
from 'self', the spec's URL is a data attribute the start-up file reads, and the page's CSP
allows exactly what Swagger UI needs from 'self' (its stylesheet draws icons as ``data:``
SVGs, and it fetches ``/openapi.json`` and, for "Try it out", the API itself).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import NotFound

ASSETS = Path(str(swagger_ui_path))
# What the page loads, and nothing else of the package (its index.html has inline scripts).
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-16x16.png", "favicon-32x32.png"})
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# validatorUrl: null, or Swagger UI sends the whole spec to validator.swagger.io for a badge.
START = """\
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, domNode: root, validatorUrl: null });
})();
"""
PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" type="image/png" sizes="32x32" href="{favicon}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{start}"></script>
</body>
</html>
"""


def register(app: Flask, title: str, spec_endpoint: str) -> None:
    """Add ``/docs`` and its files to ``app``; ``spec_endpoint`` serves the OpenAPI document."""
    blp = Blueprint("swagger_ui", __name__)

    @blp.get("/docs")
    def page() -> Response:
        html = PAGE.format(
            title=escape(title),
            favicon=escape(url_for(".asset", name="favicon-32x32.png")),
            css=escape(url_for(".asset", name="swagger-ui.css")),
            spec=escape(url_for(spec_endpoint)),
            bundle=escape(url_for(".asset", name="swagger-ui-bundle.js")),
            start=escape(url_for(".start")),
        )
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    @blp.get("/docs/swagger-ui/start.js")
    def start() -> Response:
        return Response(START, mimetype="text/javascript")

    @blp.get("/docs/swagger-ui/<name>")
    def asset(name: str) -> Response:
        if name not in SERVED:
            raise NotFound()
        return send_from_directory(ASSETS, name)

    app.register_blueprint(blp)
