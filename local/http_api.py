"""The HTTP API on a local port: the template's routes, as API Gateway (payload v2.0) calls them.

Requests become API Gateway v2 events and go through the Lambda Invoke API of moto (so through
the same dispatcher Step Functions uses). ``/_local/*`` holds the runtime's own admin routes.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from local import template as tpl
from local.lambda_shim import FunctionError
from shared.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from local.stack import LocalStack

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


def api_gateway_event(
    route: tpl.Route,
    params: dict[str, str],
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    stage: str = "$default",
) -> dict[str, Any]:
    received = SYSTEM_CLOCK.now()
    content_type = headers.get("content-type", "")
    is_text = any(content_type.startswith(t) for t in _TEXT_TYPES) or not body
    if is_text:
        # A body that says it is text but is not UTF-8 reaches the function base64-encoded
        # (the event's body is a JSON string), as API Gateway hands over any binary payload.
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": stage,
            "time": received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(received.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if headers.get("cookie"):
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if query:
        # API Gateway joins repeated keys with commas.
        parsed: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parsed[key] = f"{parsed[key]},{value}" if key in parsed else value
        event["queryStringParameters"] = parsed
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


class HttpFrontDoor:
    def __init__(self, stack: LocalStack) -> None:
        assert stack.deployment is not None
        self.stack = stack
        self.routes = tpl.routes(stack.deployment.template)
        self.server = ThreadingHTTPServer(("127.0.0.1", stack.port), self._handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="http-front-door", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        if parts.path.startswith("/_local/"):
            return self._admin(method, parts.path, body)
        for route in self.routes:
            params = route.match(method, parts.path)
            if params is None:
                continue
            if route.authorization == "AWS_IAM" and "authorization" not in headers:
                return _json(403, {"message": "Forbidden: this route needs SigV4 (AWS_IAM)"})
            claims = jwt_claims(headers) if route.authorization == "JWT" else None
            if route.authorization == "JWT" and claims is None:
                return _json(401, {"message": "Unauthorized"})
            event = api_gateway_event(
                route, params, method, parts.path, parts.query, headers, body, source_ip
            )
            if claims is not None:
                event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
            return self._call(route, event)
        return _json(404, {"message": "Not Found"})

    def _call(self, route: tpl.Route, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        assert self.stack.deployment is not None
        name = self.stack.deployment.physical[route.function_logical_id]
        # Straight to the dispatcher, as API Gateway calls Lambda's service directly; the event
        # goes through JSON both ways so the handler sees exactly what it would on AWS.
        try:
            result = self.stack.invoke(name, json.loads(json.dumps(event)))
        except FunctionError as failure:
            print(
                f"{route.route_key} → {name} failed: {failure.payload.get('errorType')}: "
                f"{failure.payload.get('errorMessage')}",
                flush=True,
            )
            return _json(500, {"message": "Internal Server Error"})
        return to_http_response(json.loads(json.dumps(result)))

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.stack.deployment is not None
        if method == "GET" and path == "/_local/status":
            return _json(
                200,
                {
                    "outputs": self.stack.deployment.outputs,
                    "routes": [r.route_key for r in self.routes],
                    "schedules": [
                        s.rule_logical_id for s in tpl.schedules(self.stack.deployment.template)
                    ],
                    "invocations": len(self.stack.dispatcher.invocations),
                    "moto_endpoint": self.stack.endpoint,
                    "tenant_secret_prefix": self.stack.tenant_secret_prefix,
                    "stripe_api_base": self.stack.stripe_api_base,
                    # Where the stack's e-mails are files: a command that e-mails writes there.
                    "mail_dir": str(self.stack.mail_dir),
                },
            )
        if method == "POST" and path.startswith("/_local/fire/"):
            try:
                started = self.stack.fire(path.removeprefix("/_local/fire/"))
            except KeyError as missing:
                return _json(404, {"message": str(missing)})
            return _json(200, {"started": started})
        return _json(404, {"message": "Not Found"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        door = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    status, headers, body = _json(413, {"message": "Request Entity Too Large"})
                else:
                    raw = self.rfile.read(length) if length else b""
                    request_headers = {k.lower(): v for k, v in self.headers.items()}
                    try:
                        status, headers, body = door.handle(
                            self.command, self.path, request_headers, raw, self.client_address[0]
                        )
                    except Exception as exc:  # the front door answers, whatever broke behind it
                        print(f"local HTTP error: {exc!r}", flush=True)
                        status, headers, body = _json(502, {"message": "Bad Gateway"})
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The caller stopped waiting (a sender's timeout on a busy machine): it
                    # retries as a real one would; what was stored stays stored.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def jwt_claims(headers: dict[str, str]) -> dict[str, str] | None:
    """The claims of the request's ``Authorization: Bearer <jwt>``, as a JWT authorizer passes
    them on (every value a string, arrays as ``"[a b]"``); None without a decodable token.

    The signature, issuer, audience and expiry are NOT verified: locally there is no identity
    provider to fetch keys from (docs/local-stack.md lists this gap).
    """
    scheme, _, token = headers.get("authorization", "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    return {str(k): _claim_text(v) for k, v in payload.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return json.dumps(value)


def to_http_response(payload: Any) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's reading of a v2 Lambda result (a bare object is a 200 JSON body)."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return _json(200, payload)
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    raw = payload.get("body") or ""
    body = base64.b64decode(raw) if payload.get("isBase64Encoded") else str(raw).encode()
    return int(payload["statusCode"]), headers, body


def _json(status: int, document: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps(document).encode()
