"""A loopback webhook receiver for Apprise's json:// URLs: what it got, and whether it accepts."""

from __future__ import annotations

import http.server
import json
import threading
from contextlib import contextmanager
from collections.abc import Iterator


class Receiver:
    def __init__(self, status: int = 200):
        self.status = status
        self.messages: list[dict] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.messages.append(json.loads(body))
                receiver.paths.append(self.path)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def url(self, path: str = "hooks/esh") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    found = Receiver(status)
    # shutdown() waits for the serving loop to look again: every 20 ms, not the default half second
    thread = threading.Thread(target=found.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        thread.join()
