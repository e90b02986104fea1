"""Managing a tenant's screening: rules per business category and block/allow lists.

Everything is validated before it is stored — a ruleset that does not compile, names an unknown
attribute or does not type-check is refused with the reasons (``domain/rules.py``); a list
entry that is not an e-mail, domain, IP/CIDR, BIN or country code is refused
(``domain/lists.py``) — so screening never meets a bad rule. Every change is a new immutable
version carrying who and when (the ``RiskStorePort``), which makes the audit trail (who, when,
before, after) a read of the versions.

Which ruleset screens an order: the tenant's ruleset for the order's business category, else
the tenant's ``*`` ruleset, else the built-in default (``rules.DEFAULT_RULESET``).
Which lists: the managed lists once an operator has changed them, else those in the tenant's
settings file (the first change starts from those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.risk.domain.errors import RulesetInvalid, VersionConflict
from functions.risk.domain.lists import ListChange, Lists, apply_changes
from functions.risk.domain.rules import (
    ANY_CATEGORY,
    CompiledRuleset,
    check_category,
    compile_ruleset,
    default_ruleset,
    is_category,
    parse_ruleset,
    version_label,
)
from functions.risk.domain.signals import SignalConfig
from functions.risk.domain.versions import StoredVersion

if TYPE_CHECKING:
    from functions.risk.ports import RiskStorePort
    from shared.tenants import TenantSettings


@dataclass(frozen=True)
class AuditEntry:
    subject: str
    version: int
    who: str
    when: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    change: dict[str, Any]


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
        body["version"] = version_label(category, latest + 1)
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
            if not is_category(candidate):
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
        return 0, Lists(block=tenant.risk.block, allow=tenant.risk.allow)

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
