"""The payouts' Stripe Connect adapter against the Stripe sandbox on loopback: transfers with
their key, group and source charge, found again by key; reversals; a lost answer retried under
the same key moves money once; Stripe's refusals (the connected account's balance too low, an
unknown account) become ``TransferRefused`` with Stripe's code."""

# The fixtures come from the other sandbox tests by import; their parameters name them again.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
import stripe

from functions.payouts.adapters.stripe_transfers import StripeTransfers
from functions.payouts.domain.connect import (
    ReversalOrder,
    TransferOrder,
    TransferRefused,
    transfer_group,
    transfer_key,
)
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.gateway import GatewayRetryable
from tests.component.test_sandbox_stripe import client, pay, sandbox  # noqa: F401


class Secrets:
    def get(self, tenant: str) -> dict[str, Any]:
        return {"stripe": {"api_key": f"sk_test_{tenant}"}}


@pytest.fixture
def adapter(sandbox: StripeSandbox, client: stripe.StripeClient) -> StripeTransfers:
    # ``client`` shortens the library's retry delays for these tests too.
    return StripeTransfers(Secrets(), api_base=sandbox.base_url)


def _order(account: str, amount: int, source: str | None, vendor: str = "v-c") -> TransferOrder:
    key = transfer_key("acme", "2026-10-22", vendor, "EUR")
    return TransferOrder(
        key=key,
        account_id=account,
        amount=amount,
        currency="USD",
        group=transfer_group("2026-10-22"),
        source_transaction=source,
        metadata={"cycle": "2026-10-22", "vendor": vendor, "key": key},
    )


def _vendor_paid_by_a_charge(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> tuple[str, str, TransferOrder]:
    account = sandbox.connect_account()
    charge = str(pay(client, 5_000).latest_charge)
    return account, charge, _order(account, 4_500, charge)


def test_a_transfer_is_made_once_per_key_and_found_again_by_it(
    sandbox: StripeSandbox, client: stripe.StripeClient, adapter: StripeTransfers
) -> None:
    account, charge, order = _vendor_paid_by_a_charge(sandbox, client)
    transfer_id = adapter.transfer("acme", order)
    assert adapter.transfer("acme", order) == transfer_id
    (made,) = sandbox.transfers()
    assert (made["id"], made["amount"], made["currency"]) == (transfer_id, 4_500, "usd")
    assert made["transfer_group"] == "payout-cycle-2026-10-22"
    assert made["source_transaction"] == charge and made["destination"] == account
    assert made["metadata"]["key"] == order.key
    assert adapter.find("acme", order) == transfer_id
    assert adapter.find("acme", _order(account, 4_500, charge, vendor="v-d")) is None


def test_a_lost_answer_is_retried_under_the_same_key_and_moves_money_once(
    sandbox: StripeSandbox, client: stripe.StripeClient, adapter: StripeTransfers
) -> None:
    account, _, order = _vendor_paid_by_a_charge(sandbox, client)
    # Stripe made it, every answer was lost, the library's retries too: retry later.
    sandbox.fail_next("/v1/transfers", status=500, take_effect=True)
    sandbox.fail_next("/v1/transfers", status=503, times=3)
    with pytest.raises(GatewayRetryable):
        adapter.transfer("acme", order)
    transfer_id = adapter.transfer("acme", order)
    assert [t["id"] for t in sandbox.transfers()] == [transfer_id]
    posts = [r for r in sandbox.requests() if (r.method, r.path) == ("POST", "/v1/transfers")]
    assert [r.status for r in posts] == [500, 503, 503, 503, 200] and posts[-1].replayed
    assert sandbox.connected_balance(account, "usd") == 4_500


def test_a_reversal_then_one_the_connected_balance_cannot_cover(
    sandbox: StripeSandbox, client: stripe.StripeClient, adapter: StripeTransfers
) -> None:
    account, _, order = _vendor_paid_by_a_charge(sandbox, client)
    transfer_id = adapter.transfer("acme", order)
    first = ReversalOrder(
        key="k-r1", transfer_id=transfer_id, amount=1_800, metadata={"event": "r1"}
    )
    reversal_id = adapter.reverse("acme", first)
    assert adapter.reverse("acme", first) == reversal_id
    assert sandbox.get(transfer_id)["amount_reversed"] == 1_800
    sandbox.set_connected_balance(account, "usd", 100)
    with pytest.raises(TransferRefused) as refused:
        adapter.reverse("acme", ReversalOrder(key="k-r2", transfer_id=transfer_id, amount=900))
    assert refused.value.code == "balance_insufficient"
    assert sandbox.get(transfer_id)["amount_reversed"] == 1_800


def test_an_unknown_connected_account_is_refused_with_stripes_code(
    client: stripe.StripeClient, adapter: StripeTransfers
) -> None:
    charge = str(pay(client, 5_000).latest_charge)
    with pytest.raises(TransferRefused) as refused:
        adapter.transfer("acme", _order("acct_nobody", 4_500, charge))
    assert refused.value.code == "resource_missing"
