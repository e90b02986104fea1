"""One request from headers and body to answer: authentication, faults, parameters, idempotency,
the route, ``expand[]``, the error envelope. The HTTP server and ``request()`` both use it."""

from __future__ import annotations

import base64
import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local.sandboxes.stripe_sandbox.account import Ctx
from local.sandboxes.stripe_sandbox.errors import JSON, StripeAPIError, invalid
from local.sandboxes.stripe_sandbox.faults import Fault, Faults, fault_error
from local.sandboxes.stripe_sandbox.forms import encode_form, parse_form
from local.sandboxes.stripe_sandbox.idempotency import Idempotency

Handler = Callable[..., JSON]

MAX_BODY_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


def multipart_params(content_type: str, body: bytes) -> JSON:
    """A multipart form's fields: text as strings, a file part as its name and bytes."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise invalid("Invalid multipart body.")
    params: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            params[name] = {"filename": filename, "content": content}
        else:
            params[name] = content.decode("utf-8", "replace")
    return params


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> JSON:
        value: JSON = json.loads(self.body)
        return value


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it: what tests assert retries and replays against."""

    method: str
    path: str
    status: int
    request_id: str
    idempotency_key: str | None
    replayed: bool
    injected: bool


class Dispatch(Faults, Idempotency):
    """The dispatch every request goes through, and the log of requests tests assert on."""

    _api_keys: frozenset[str] | None
    _requests: deque[RequestRecord]
    _routes: list[tuple[str, re.Pattern[str], Handler]]

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        api_key: str = "sk_test_sandbox",
    ) -> SandboxResponse:
        """The same dispatch the HTTP server runs, without a socket (scenario builders use it)."""
        encoded = urlencode(encode_form(params or {}))
        headers = {"Authorization": f"Bearer {api_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if method.upper() == "GET":
            target = f"{path}?{encoded}" if encoded else path
            return self.handle("GET", target, headers, b"")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.handle(method, path, headers, encoded.encode())

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxResponse:
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        idempotency_key = lowered.get("idempotency-key") if method == "POST" else None
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        with self._lock:
            request_id = self._id("req", 14)
            base_headers = {
                "Content-Type": "application/json",
                "Request-Id": request_id,
                "Stripe-Version": lowered.get("stripe-version") or self.api_version,
                "Cache-Control": "no-cache, no-store",
            }
            if idempotency_key:
                base_headers["Idempotency-Key"] = idempotency_key
            fault: Fault | None = None
            replayed = False
            saved_answer = False
            api_key = fingerprint = ""
            try:
                api_key = self._authenticate(lowered)
                fault = self._take_fault(method, path)
                if fault is not None and not fault.take_effect:
                    raise fault_error(fault.status)
                params = self._params(method, split.query, body, lowered)
                fingerprint = self._fingerprint(method, path, params)
                if idempotency_key:
                    saved = self._idempotent(api_key, idempotency_key, fingerprint)
                    if saved is not None:
                        replayed = True
                        headers_out = {
                            **base_headers,
                            **saved.headers,
                            "Request-Id": request_id,
                            "Idempotent-Replayed": "true",
                            "Original-Request": saved.request_id,
                        }
                        self._record(
                            method,
                            path,
                            saved.status,
                            request_id,
                            idempotency_key,
                            replayed=True,
                            injected=False,
                        )
                        return SandboxResponse(saved.status, headers_out, saved.body)
                ctx = Ctx(request_id, idempotency_key)
                payload = self._route(ctx, method, path, dict(params))
                status, out_body, extra = 200, json.dumps(payload, indent=2).encode(), {}
                saved_answer = True
            except StripeAPIError as error:
                status = error.status
                out_body = json.dumps(error.body(), indent=2).encode()
                extra = error.headers
                # A decline ran the payment: Stripe saves it under the key like a success.
                saved_answer = status == 402
            response_headers = {**base_headers, **extra}
            if idempotency_key and saved_answer and not replayed:
                self._save(
                    api_key, idempotency_key, fingerprint, status, out_body, extra, request_id
                )
            if fault is not None and fault.take_effect:
                lost = fault_error(fault.status)
                status, out_body = lost.status, json.dumps(lost.body(), indent=2).encode()
                response_headers = {**base_headers, **lost.headers}
            self._record(
                method,
                path,
                status,
                request_id,
                idempotency_key,
                replayed=False,
                injected=fault is not None,
            )
            return SandboxResponse(status, response_headers, out_body)

    def _record(
        self,
        method: str,
        path: str,
        status: int,
        request_id: str,
        key: str | None,
        *,
        replayed: bool,
        injected: bool,
    ) -> None:
        self._requests.append(
            RequestRecord(method, path, status, request_id, key, replayed, injected)
        )

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        header = headers.get("authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeAPIError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_"
                "KEY').",
            )
        known = self._api_keys
        if not key.startswith(("sk_test_", "rk_test_")) or (known is not None and key not in known):
            raise StripeAPIError(
                401,
                "invalid_request_error",
                f"Invalid API Key provided: {key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}",
                code="api_key_invalid" if key.startswith("sk_live_") else None,
            )
        return key

    def _params(self, method: str, query: str, body: bytes, headers: Mapping[str, str]) -> JSON:
        content_type = headers.get("content-type", "application/x-www-form-urlencoded")
        if method == "POST" and content_type.startswith("multipart/form-data"):
            # File uploads (files.stripe.com): a larger body, parts by name.
            if len(body) > MAX_UPLOAD_BYTES:
                raise invalid("Request body too large.", status=413)
            return multipart_params(content_type, body)
        if len(body) > MAX_BODY_BYTES:
            raise invalid("Request body too large.", status=413)
        pairs = parse_qsl(query, keep_blank_values=True)
        if method == "POST" and body:
            if "json" in content_type:
                raise invalid(
                    "Invalid request: the v1 API takes form-encoded parameters, not JSON."
                )
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return parse_form(pairs)

    def _route(self, ctx: Ctx, method: str, path: str, params: JSON) -> JSON:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                expand = params.pop("expand", None)
                result = handler(ctx, params, *match.groups())
                rendered = self._render(result)
                for path_ in self._expand_paths(expand):
                    self._expand(rendered, path_.split("."))
                return rendered
        raise invalid(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
            "we can help at https://support.stripe.com/.",
            status=404,
        )

    @staticmethod
    def _expand_paths(expand: Any) -> list[str]:
        if expand is None:
            return []
        if isinstance(expand, str):
            return [expand]
        if isinstance(expand, list) and all(isinstance(e, str) for e in expand):
            return list(expand)
        raise invalid("Invalid array", param="expand")

    def _expand(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and node.get("object") == "list":
            for item in node["data"]:
                self._expand(item, rest)
            return
        value = node.get(head)
        if isinstance(value, str) and value in self._objects:
            node[head] = value = self._render(self._objects[value])
        self._expand(value, rest)
