"""Managing a tenant's vendors: each change is a new version with who and when; bad input is
refused with every reason and nothing is written."""

from __future__ import annotations

from typing import Any

from functions.payouts.domain.postings import Refused
from functions.payouts.domain.vendors import (
    Vendor,
    VendorStatus,
    VendorVersion,
    changed_fields,
    check_vendor,
)
from functions.payouts.ports import Ports


class VendorNotFound(LookupError):
    pass


def save_vendor(ports: Ports, tenant: str, raw: dict[str, Any], who: str) -> VendorVersion:
    """Saves ``raw`` as the vendor's next version (the first one when it is new)."""
    problems = [] if who.strip() else ["who: a change to a vendor names who makes it"]
    try:
        vendor = check_vendor(raw)
    except Refused as refused:
        raise Refused([*refused.reasons, *problems]) from None
    if problems:
        raise Refused(problems)
    return _save(ports, tenant, vendor, who)


def _save(ports: Ports, tenant: str, vendor: Vendor, who: str) -> VendorVersion:
    latest = ports.vendors.latest(tenant, vendor.vendor_id)
    before = latest.vendor if latest else None
    if before == vendor and latest is not None:
        return latest  # nothing changed: no new version
    version = VendorVersion(
        vendor=vendor,
        version=(latest.version + 1) if latest else 1,
        saved_by=who.strip(),
        saved_at=ports.clock.now(),
        changed=changed_fields(before, vendor),
    )
    ports.vendors.put(tenant, version)  # conditional: VersionConflict if someone was faster
    return version


def set_status(
    ports: Ports, tenant: str, vendor_id: str, status: VendorStatus, reason: str | None, who: str
) -> VendorVersion:
    """Puts a vendor on hold (a reason is required) or makes it active again."""
    latest = ports.vendors.latest(tenant, vendor_id)
    if latest is None:
        raise VendorNotFound(f"no vendor {vendor_id!r} for {tenant}")
    raw = latest.vendor.model_dump(mode="json")
    raw.update(status=str(status), hold_reason=reason if status is VendorStatus.ON_HOLD else None)
    return save_vendor(ports, tenant, raw, who)


def vendor(ports: Ports, tenant: str, vendor_id: str) -> VendorVersion:
    latest = ports.vendors.latest(tenant, vendor_id)
    if latest is None:
        raise VendorNotFound(f"no vendor {vendor_id!r} for {tenant}")
    return latest
