"""The HTTP front door on loopback: each request goes to the sandbox's dispatch as it came."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.sandboxes.stripe_sandbox.dispatch import MAX_BODY_BYTES, Dispatch


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Dispatch


class SandboxRequestHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    # An idle keep-alive connection from a client must not pin a thread for long.
    timeout = 10
    server_version = "stripe-sandbox"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.send_error(413 if length > 0 else 400)
            return
        body = self.rfile.read(length) if length else b""
        response = self.server.sandbox.handle(method, self.path, dict(self.headers.items()), body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        return
