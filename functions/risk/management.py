"""Managing a tenant's screening: rules per business category and block/allow lists.

Everything is validated before it is stored — a ruleset that does not compile, names an unknown
attribute or does not type-check is refused with the reasons; a list entry that is not an
e-mail, domain, IP/CIDR, BIN or country code is refused — so screening never meets a bad rule.
Every change is a new immutable version carrying who and when (``shared.risk_store``), which
makes the audit trail (who, when, before, after) a read of the versions.

Which ruleset screens an order: the tenant's ruleset for the order's business category, else
the tenant's ``*`` ruleset, else the built-in default (``rules.DEFAULT_RULESET_YAML``).
Which lists: the managed lists once an operator has changed them, else those in the tenant's
settings file (the first change starts from those).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.risk.errors import RulesetInvalid
from functions.risk.rules import (
    CompiledRuleset,
    compile_ruleset,
    default_ruleset,
    parse_ruleset,
)
from functions.risk.signals import ListSet, SignalConfig
from shared.risk_store import StoredVersion, VersionConflict
from shared.tenants import TenantSettings

ANY_CATEGORY = "*"
ListName = Literal["block", "allow"]
ListKind = Literal["emails", "email_domains", "ips", "card_fingerprints", "bins", "countries"]
_CATEGORY = re.compile(r"^(\*|[a-z0-9][a-z0-9_-]{0,39})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_BIN = re.compile(r"^\d{6,8}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FINGERPRINT = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


class RiskStorePort(Protocol):
    def latest_rules(self, tenant: str, category: str) -> StoredVersion | None: ...
    def rules_versions(self, tenant: str, category: str) -> list[StoredVersion]: ...
    def put_rules(
        self, tenant: str, category: str, version: int, body: dict[str, Any], who: str
    ) -> StoredVersion: ...
    def latest_lists(self, tenant: str) -> StoredVersion | None: ...
    def put_lists(
        self, tenant: str, version: int, body: dict[str, Any], who: str, change: dict[str, Any]
    ) -> StoredVersion: ...
    def history(self, tenant: str) -> list[StoredVersion]: ...


class ListChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["add", "remove"]
    list: ListName
    kind: ListKind
    values: tuple[str, ...] = Field(min_length=1)


class Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    block: ListSet = ListSet()
    allow: ListSet = ListSet()


@dataclass(frozen=True)
class AuditEntry:
    subject: str
    version: int
    who: str
    when: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    change: dict[str, Any]


def normalise_entry(kind: ListKind, value: str) -> str:
    """The canonical form of a list entry, or ValueError saying what is wrong with it."""
    text = value.strip()
    if kind == "emails":
        if not _EMAIL.fullmatch(text):
            raise ValueError(f"{value!r} is not an e-mail address")
        return text.lower()
    if kind == "email_domains":
        if not _DOMAIN.fullmatch(text.lower()):
            raise ValueError(f"{value!r} is not a domain name")
        return text.lower()
    if kind == "ips":
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from error
    if kind == "bins":
        if not _BIN.fullmatch(text):
            raise ValueError(f"{value!r} is not a card BIN (6 to 8 digits)")
        return text
    if kind == "countries":
        if not _COUNTRY.fullmatch(text.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166 two-letter country code")
        return text.upper()
    if not _FINGERPRINT.fullmatch(text):
        raise ValueError(f"{value!r} is not a card fingerprint")
    return text


def check_category(category: str) -> str:
    if not _CATEGORY.fullmatch(category):
        raise ValueError(
            f"business category {category!r}: lower-case letters, digits, '-' or '_', or '*'"
        )
    return category


def apply_changes(lists: Lists, changes: Sequence[ListChange]) -> Lists:
    """The lists after ``changes``; every entry is validated first, so it is all or nothing."""
    errors: list[str] = []
    normalised: list[tuple[ListChange, list[str]]] = []
    for change in changes:
        values = []
        for value in change.values:
            try:
                values.append(normalise_entry(change.kind, value))
            except ValueError as error:
                errors.append(f"{change.list}.{change.kind}: {error}")
        normalised.append((change, values))
    if errors:
        raise ValueError("; ".join(errors))
    data = lists.model_dump()
    for change, values in normalised:
        current: list[str] = list(data[change.list][change.kind])
        if change.action == "add":
            current += [v for v in values if v not in current]
        else:
            missing = [v for v in values if v not in current]
            if missing:
                raise ValueError(
                    f"{change.list}.{change.kind}: not on the list: {', '.join(missing)}"
                )
            current = [v for v in current if v not in values]
        data[change.list][change.kind] = current
    return Lists.model_validate(data)


def _version_label(category: str, version: int) -> str:
    return f"v{version}" if category == ANY_CATEGORY else f"{category}-v{version}"


class RiskAdmin:
    def __init__(self, store: RiskStorePort) -> None:
        self.store = store
        self._compiled: dict[tuple[str, str, int], CompiledRuleset] = {}

    # -- rules -----------------------------------------------------------------------------

    def save_rules(
        self,
        tenant: str,
        category: str,
        data: Mapping[str, Any],
        who: str,
        expected_version: int | None = None,
    ) -> StoredVersion:
        """Validate and store a ruleset as the next version; RulesetInvalid says why not."""
        check_category(category)
        current = self.store.latest_rules(tenant, category)
        latest = current.version if current else 0
        if expected_version is not None and expected_version != latest:
            raise VersionConflict(
                f"rules for {tenant}/{category} are at version {latest}, not {expected_version}"
            )
        body = dict(data)
        if body.get("tenant", tenant) != tenant:
            raise RulesetInvalid([f"the ruleset names tenant {body['tenant']!r}, not {tenant!r}"])
        body["tenant"] = tenant
        body["version"] = _version_label(category, latest + 1)
        ruleset = parse_ruleset(body)  # raises RulesetInvalid with every reason
        compile_ruleset(ruleset)
        return self.store.put_rules(
            tenant, category, latest + 1, ruleset.model_dump(mode="json"), who
        )

    def rules(self, tenant: str, category: str) -> StoredVersion | None:
        return self.store.latest_rules(tenant, check_category(category))

    def ruleset_for(self, tenant: str, category: str) -> CompiledRuleset:
        """What screens an order of ``category`` now (compiled once per stored version)."""
        for candidate in (category, ANY_CATEGORY):
            if not _CATEGORY.fullmatch(candidate):
                continue
            stored = self.store.latest_rules(tenant, candidate)
            if stored is None:
                continue
            key = (tenant, candidate, stored.version)
            if key not in self._compiled:
                self._compiled[key] = compile_ruleset(parse_ruleset(stored.body))
            return self._compiled[key]
        return default_ruleset()

    # -- lists -----------------------------------------------------------------------------

    def lists(self, tenant: TenantSettings) -> tuple[int, Lists]:
        stored = self.store.latest_lists(tenant.id)
        if stored is not None:
            return stored.version, Lists.model_validate(stored.body)
        risk = tenant.risk
        return 0, Lists(
            block=ListSet.model_validate(risk.get("block") or {}),
            allow=ListSet.model_validate(risk.get("allow") or {}),
        )

    def change_lists(
        self,
        tenant: TenantSettings,
        changes: Sequence[ListChange],
        who: str,
        expected_version: int | None = None,
    ) -> StoredVersion:
        version, lists = self.lists(tenant)
        if expected_version is not None and expected_version != version:
            raise VersionConflict(
                f"lists of {tenant.id} are at version {version}, not {expected_version}"
            )
        after = apply_changes(lists, changes)
        return self.store.put_lists(
            tenant.id,
            version + 1,
            after.model_dump(mode="json"),
            who,
            {"changes": [c.model_dump(mode="json") for c in changes]},
        )

    def signal_config(self, tenant: TenantSettings) -> SignalConfig:
        _, lists = self.lists(tenant)
        config = SignalConfig.from_tenant(tenant.timezone, tenant.business_category, tenant.risk)
        return config.model_copy(update={"block": lists.block, "allow": lists.allow})

    # -- audit -----------------------------------------------------------------------------

    def audit(self, tenant: str) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        previous: dict[str, dict[str, Any]] = {}
        for version in self.store.history(tenant):
            entries.append(
                AuditEntry(
                    subject=version.subject,
                    version=version.version,
                    who=version.saved_by,
                    when=version.saved_at,
                    before=previous.get(version.subject),
                    after=version.body,
                    change=version.change,
                )
            )
            previous[version.subject] = version.body
        return entries


def parse_list_changes(data: Any) -> list[ListChange]:
    """Request bodies of the operator API: one change or a list of them."""
    items = data if isinstance(data, list) else [data]
    try:
        return [ListChange.model_validate(item) for item in items]
    except ValidationError as error:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        ) from error
