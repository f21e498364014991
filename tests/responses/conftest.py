"""Reply delivery runs the real client libraries against the recorded-payload server of the connector
tests; outgoing webhooks and Slack/Teams posts go to a local receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from tests.listening.connectors.conftest import wire  # noqa: F401 - re-exported fixture


@dataclass
class Received:
    path: str
    headers: CaseInsensitiveDict  # as a web framework gives them
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST and answers from ``answers`` in turn, the last one repeating:
    ``(status, body)`` or ``(status, body, headers)``."""

    url: str = ""
    answers: list[tuple] = field(default_factory=lambda: [(200, "ok")])
    received: list[Received] = field(default_factory=list)

    def answer(self) -> tuple[int, bytes, dict[str, str]]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        status, body, headers = (*answer, {})[:3]
        return status, body.encode() if isinstance(body, str) else body, headers


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1, a private address: its ``host:port`` is added to
    PRIVATE_NETWORK_ALLOWLIST, as a deployment lists a receiver on its own network."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.received.append(Received(self.path, CaseInsensitiveDict(self.headers.items()), body))
            status, payload, headers = state.answer()
            self.send_response(status)
            for name, value in {"Content-Type": "text/plain", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    state.url = f"http://127.0.0.1:{port}"
    settings.PRIVATE_NETWORK_ALLOWLIST = [*settings.PRIVATE_NETWORK_ALLOWLIST, f"127.0.0.1:{port}"]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
