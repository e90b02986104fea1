"""A carrier account's API on loopback, the part the product calls: return labels.

``POST /v2/shipments`` takes an EasyPost shipment (``{"shipment": {...}}``, HTTP Basic with the
API key as user) and buys it in the same call, as EasyPost does when ``carrier`` and
``service`` are given: the answer is the ``Shipment`` with its ``tracking_code``,
``selected_rate`` and ``postage_label`` (``label_url`` serving a PDF from this sandbox).
``is_return: true`` marks a return shipment (the label goes from the customer to the shop).

Later the parcel moves: ``scans(shipment_id, …)`` plans its journey from the customer back to
the shop (``carriers.plan_journey``) and returns the tracking webhooks the aggregator would
send about it, signed like every other carrier webhook (``carriers.journey_deliveries``).
"""

from __future__ import annotations

import base64
import json
import random
import threading
from dataclasses import replace
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.sandboxes.carriers import (
    CarrierSecrets,
    Journey,
    Outcome,
    Place,
    Provider,
    journey_deliveries,
    plan_journey,
    tracking_code,
)
from local.sandboxes.delivery import Delivery

# The smallest document PDF readers open: what a label download returns here.
LABEL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 288 432]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
SHOP = Place("Columbus", "OH", "US", "43215")


class CarrierSandbox:
    """``with CarrierSandbox(seed=1) as carrier:`` serves ``carrier.base_url`` until exit."""

    def __init__(
        self, *, seed: int | None = None, api_keys: frozenset[str] | None = None, port: int = 0
    ) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - ids for a sandbox, not secrets
        self._api_keys = api_keys
        self._port = port
        self._lock = threading.Lock()
        self.shipments: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    # -- serving -----------------------------------------------------------------------------

    def __enter__(self) -> CarrierSandbox:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                shipment_id = self.path.removeprefix("/labels/").removesuffix(".pdf")
                if self.path.startswith("/labels/") and shipment_id in sandbox.shipments:
                    self._answer(HTTPStatus.OK, LABEL_PDF, "application/pdf")
                    return
                self._answer(HTTPStatus.NOT_FOUND, _error("NOT_FOUND", "no such resource"))

            def do_POST(self) -> None:
                if self.path != "/v2/shipments":
                    self._answer(HTTPStatus.NOT_FOUND, _error("NOT_FOUND", "no such resource"))
                    return
                key = _basic_user(self.headers.get("Authorization", ""))
                if not key or (sandbox._api_keys is not None and key not in sandbox._api_keys):
                    self._answer(
                        HTTPStatus.UNAUTHORIZED,
                        _error("APIKEY.INVALID", "the API key is missing or not valid"),
                    )
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    document = json.loads(self.rfile.read(length) or b"{}")
                    shipment = document["shipment"]
                except (ValueError, KeyError, TypeError):
                    self._answer(
                        HTTPStatus.UNPROCESSABLE_ENTITY,
                        _error("SHIPMENT.INVALID_PARAMS", "a shipment object is required"),
                    )
                    return
                created = sandbox.create_shipment(shipment)
                self._answer(HTTPStatus.CREATED, json.dumps(created).encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the account ---------------------------------------------------------------------------

    def create_shipment(self, shipment: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            shipment_id = f"shp_{self._rng.getrandbits(128):032x}"
            carrier = str(shipment.get("carrier") or "USPS")
            created = {
                "object": "Shipment",
                "id": shipment_id,
                "mode": "test",
                "is_return": bool(shipment.get("is_return")),
                "reference": shipment.get("reference"),
                "from_address": shipment.get("from_address"),
                "to_address": shipment.get("to_address"),
                "tracking_code": tracking_code(self._rng, "usps"),
                "selected_rate": {
                    "object": "Rate",
                    "carrier": carrier,
                    "service": shipment.get("service") or "Priority",
                },
                "postage_label": {
                    "object": "PostageLabel",
                    "label_file_type": "application/pdf",
                    "label_url": f"{self.base_url}/labels/{shipment_id}.pdf",
                },
                "status": "unknown",
            }
            self.shipments[shipment_id] = created
            return created

    def returns(self) -> list[dict[str, Any]]:
        return [s for s in self.shipments.values() if s["is_return"]]

    def journey(
        self, shipment_id: str, *, order_id: str, sent_at: datetime, hops: int = 1
    ) -> Journey:
        """The shipment's parcel from the customer back to the shop, delivered there."""
        shipment = self.shipments[shipment_id]
        planned = plan_journey(
            self._rng,
            order_id=order_id,
            provider=Provider.EASYPOST,
            shipped_at=sent_at,
            destination=SHOP,
            outcome=Outcome.DELIVERED,
            courier="usps",
            hops=hops,
        )
        return replace(planned, tracking_code=shipment["tracking_code"], shipment_id=shipment["id"])

    def scans(
        self,
        journey: Journey,
        *,
        base_url: str,
        tenant: str,
        secrets: CarrierSecrets,
    ) -> list[Delivery]:
        """The tracking webhooks about the return parcel, one per checkpoint, signed."""
        return journey_deliveries(
            journey, rng=self._rng, base_url=base_url, tenant=tenant, secrets=secrets
        )


def _basic_user(header: str) -> str:
    if not header.startswith("Basic "):
        return ""
    try:
        return base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[0]
    except ValueError:
        return ""


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "errors": []}}).encode()
