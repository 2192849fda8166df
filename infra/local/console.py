"""`make run`'s console at ``/``: the static files of ``infra/local/console/`` (plain HTML, CSS and
JavaScript modules, no build step). Local only, like the ``/_local/`` routes and never in
template.yaml: in AWS, TokenHub's own console is the client of the API.

Only ``GET /`` and ``GET /console/<file>`` of a file that is there are the console's; every other
request goes on to the API, so a path the console does not know is the API's 404 problem. Files
are read on each request, so an edit shows on the next reload without restarting the server."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from infra.local.gateway import LocalRequest, Reply

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
ASSET_PREFIX = "/console/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The console's own files and its own API, nothing else: no inline script or style (elements are
# built through the DOM, never from HTML strings), no other origin, no plugins, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class LocalConsole:
    def __init__(self, directory: Path = CONSOLE_DIR) -> None:
        # Served by exact path from this list only: no path from a request ever reaches the disk.
        self._files = {ASSET_PREFIX + path.name: path for path in directory.iterdir() if path.suffix in CONTENT_TYPES}
        self._files["/"] = directory / "index.html"

    def serves(self, request: LocalRequest) -> bool:
        return request.method == "GET" and request.path in self._files

    def handle(self, request: LocalRequest) -> Reply:
        path = self._files[request.path]
        headers = {
            "Content-Type": CONTENT_TYPES[path.suffix],
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        }
        return Reply(int(HTTPStatus.OK), headers, path.read_bytes())
