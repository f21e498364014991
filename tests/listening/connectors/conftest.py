"""A small local HTTP server that plays recorded platform payloads to the real client libraries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WIRE_DELAY = "X-Wire-Delay"  # a response header the wire itself acts on and never sends


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Route:
    method: str
    path: str
    when: dict[str, str]
    responses: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0


class Wire:
    """Routes ``(method, path, query subset)`` to queued responses; the last response repeats."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Recorded] = []
        self.url = ""

    def add(
        self,
        method: str,
        path: str,
        *,
        fixture: str | None = None,
        body: bytes | str | dict | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        when: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
        delay: float = 0.0,
    ) -> None:
        if fixture is not None:
            payload = fixture_bytes(fixture)
        elif isinstance(body, dict):
            payload = json.dumps(body).encode()
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        for route in self.routes:
            if route.method == method and route.path == path and route.when == (when or {}):
                route.responses.append((status, all_headers, payload))
                return
        self.routes.append(Route(method, path, when or {}, [(status, all_headers, payload)], delay))

    def answer(self, recorded: Recorded) -> tuple[int, dict[str, str], bytes]:
        candidates = [r for r in self.routes if r.method == recorded.method and r.path == recorded.path]
        candidates.sort(key=lambda r: -len(r.when))
        for route in candidates:
            if all(recorded.query.get(k) == v for k, v in route.when.items()):
                if route.delay:
                    time.sleep(route.delay)  # a platform that does not answer in time
                status, headers, payload = route.responses.pop(0) if len(route.responses) > 1 else route.responses[0]
                headers = dict(headers)
                if delay := float(headers.pop(WIRE_DELAY, 0) or 0):
                    time.sleep(delay)  # this one answer comes too late (``Wire.prepend``)
                return status, headers, payload
        return 404, {"Content-Type": "application/json"}, b'{"error": "no route in the test server"}'

    def prepend(
        self,
        method: str,
        path: str,
        responses: list[tuple[int, dict[str, str], bytes]],
        *,
        when: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next requests of an existing route with ``responses`` first (a fault), then as before.

        ``delay``: each of these answers comes that many seconds late.
        """
        route = next(r for r in self.routes if r.method == method and r.path == path and r.when == (when or {}))
        extra = {WIRE_DELAY: str(delay)} if delay else {}
        route.responses[:0] = [(status, {**headers, **extra}, body) for status, headers, body in responses]

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def wire(settings) -> Iterator[Wire]:
    """The recorded platform on 127.0.0.1, a private address: only its port is allowed, as
    PRIVATE_NETWORK_ALLOWLIST would list a deployment's own gateway."""
    state = Wire()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            state.requests.append(recorded)
            status, headers, payload = state.answer(recorded)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PRIVATE_NETWORK_ALLOWLIST = [f"127.0.0.1:{server.server_address[1]}"]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
