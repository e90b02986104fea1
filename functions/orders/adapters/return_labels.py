"""Return labels from the tenant's carrier account: an EasyPost shipment with
``is_return: true``, bought in the same call (``carrier`` and ``service`` given).

``CARRIER_API_BASE`` points it at the local carrier sandbox (``local/sandboxes/carrier_api.py``);
otherwise it is EasyPost. The tenant's EasyPost API key is ``easypost.api_key`` in the ``api``
part of its secrets. The return id is the shipment's ``reference``. A label is bought once per
return: the use case issues it only for a return it has just opened (a new id each time)."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from typing import Any

from functions.orders.errors import ReturnRefused
from shared.tenant_secrets import TenantSecrets

EASYPOST = "https://api.easypost.com"
TIMEOUT_S = 15
# The carrier and service of return labels (the account's default return service).
CARRIER, SERVICE = "USPS", "Priority"


class EasyPostReturnLabels:
    def __init__(self, secrets: TenantSecrets, base_url: str | None = None) -> None:
        self.secrets = secrets
        self.base_url = (base_url or os.environ.get("CARRIER_API_BASE") or EASYPOST).rstrip("/")

    def _key(self, tenant: str) -> str:
        try:
            key = self.secrets.get(tenant).get("easypost", {}).get("api_key")
        except LookupError:  # no secrets at all for the tenant
            key = None
        if not key:
            raise ReturnRefused("the tenant has no carrier account for return labels")
        return str(key)

    def _call(self, key: str, method: str, path: str, body: Any = None) -> Any:
        token = base64.b64encode(f"{key}:".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the carrier's https API or loopback sandbox
            f"{self.base_url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            detail = refused.read()[:300].decode(errors="replace")
            raise ReturnRefused(
                f"the carrier refused the return label ({refused.code}): {detail}"
            ) from None
        except OSError as down:
            raise ReturnRefused(f"the carrier could not be reached for a label: {down}") from None

    def issue(
        self, tenant: str, order_id: str, return_id: str, from_address: dict[str, Any] | None
    ) -> dict[str, Any]:
        key = self._key(tenant)
        shipment = self._call(
            key,
            "POST",
            "/v2/shipments",
            {
                "shipment": {
                    "is_return": True,
                    "reference": return_id,
                    "from_address": _easypost_address(from_address),
                    "to_address": {"company": tenant},
                    "parcel": {"weight": 16},
                    "carrier": CARRIER,
                    "service": SERVICE,
                    "options": {"print_custom_1": f"order {order_id}"},
                }
            },
        )
        label = shipment.get("postage_label") or {}
        if not shipment.get("tracking_code") or not label.get("label_url"):
            raise ReturnRefused("the carrier issued no tracking code or label for the return")
        return {
            "tracking_code": shipment["tracking_code"],
            "label_url": label["label_url"],
            "carrier": (shipment.get("selected_rate") or {}).get("carrier", CARRIER),
            "shipment_id": shipment["id"],
        }


def _easypost_address(address: dict[str, Any] | None) -> dict[str, Any]:
    address = address or {}
    return {
        "name": address.get("name"),
        "street1": address.get("line1"),
        "street2": address.get("line2"),
        "city": address.get("city"),
        "state": address.get("state"),
        "zip": address.get("postal_code"),
        "country": address.get("country"),
    }
