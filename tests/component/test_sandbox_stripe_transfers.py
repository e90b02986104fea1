"""The Stripe sandbox's Connect transfers and reversals, driven by the official client: Stripe's
shapes, its errors (``balance_insufficient`` on both sides, an unknown destination, an
oversized reversal) and idempotency keys honoured like every other POST."""

# The fixtures come from the other sandbox tests by import; their parameters name them again.
# ruff: noqa: F811

from __future__ import annotations

import pytest
import stripe
from stripe.params import TransferCreateParams

from local.sandboxes.stripe_sandbox import DAY, StripeSandbox

# The sandbox on loopback and the official client on it, as the other sandbox tests use them.
from tests.component.test_sandbox_stripe import client, pay, sandbox  # noqa: F401


def charge(client: stripe.StripeClient, amount: int) -> str:
    return str(pay(client, amount).latest_charge)


def test_a_transfer_from_a_charge_pays_the_connected_account_once_per_key(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    account = sandbox.connect_account("acct_1Vendor")
    source = charge(client, 5000)
    params: TransferCreateParams = {
        "amount": 2700,
        "currency": "usd",
        "destination": account,
        "transfer_group": "cycle-2026-12-05",
        "source_transaction": source,
        "metadata": {"cycle": "2026-12-05"},
    }
    first = client.v1.transfers.create(params=params, options={"idempotency_key": "k1"})
    again = client.v1.transfers.create(params=params, options={"idempotency_key": "k1"})
    assert again.id == first.id
    assert first.object == "transfer" and first.id.startswith("tr_")
    assert (first.amount, first.amount_reversed, first.reversed) == (2700, 0, False)
    assert (first.destination, first.source_transaction) == (account, source)
    assert first.transfer_group == "cycle-2026-12-05"
    assert first.reversals["total_count"] == 0
    assert first.reversals.url == f"/v1/transfers/{first.id}/reversals"
    assert len(sandbox.transfers()) == 1
    assert sandbox.connected_balance(account, "usd") == 2700
    txn = client.v1.balance_transactions.retrieve(str(first.balance_transaction))
    assert (txn.type, txn.reporting_category, txn.amount) == ("transfer", "transfer", -2700)
    listed = client.v1.transfers.list(params={"transfer_group": "cycle-2026-12-05"})
    assert [t.id for t in listed.data] == [first.id]
    assert client.v1.transfers.list(params={"transfer_group": "other"}).data == []
    assert client.v1.transfers.retrieve(first.id).amount == 2700
    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create(
            params={**params, "amount": 2600},
            options={"idempotency_key": "k1"},
        )


def test_without_a_source_the_platforms_available_balance_must_cover_it(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    account = sandbox.connect_account()
    charge(client, 5000)  # pending for two days
    params: TransferCreateParams = {
        "amount": 1000,
        "currency": "usd",
        "destination": account,
    }
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params=params)
    assert refused.value.code == "balance_insufficient"
    assert refused.value.http_status == 400
    assert refused.value.param == "amount"
    sandbox.advance(3 * DAY)
    assert client.v1.transfers.create(params=params).amount == 1000


def test_a_source_in_another_currency_or_too_small_and_an_unknown_destination_are_refused(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    account = sandbox.connect_account()
    source = charge(client, 1000)
    cases: list[tuple[TransferCreateParams, str | None, str]] = [
        (
            {
                "amount": 500,
                "currency": "eur",
                "destination": account,
                "source_transaction": source,
            },
            None,
            "currency",
        ),
        (
            {
                "amount": 1001,
                "currency": "usd",
                "destination": account,
                "source_transaction": source,
            },
            None,
            "amount",
        ),
        (
            {"amount": 5, "currency": "usd", "destination": "acct_nobody"},
            "resource_missing",
            "destination",
        ),
    ]
    for params, code, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.transfers.create(params=params)
        assert (refused.value.code, refused.value.param) == (code, param)
    assert sandbox.transfers() == []


def test_a_reversal_takes_money_back_while_the_connected_balance_covers_it(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    account = sandbox.connect_account()
    source = charge(client, 5000)
    transfer = client.v1.transfers.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "destination": account,
            "source_transaction": source,
        }
    )
    reversal = client.v1.transfers.reversals.create(
        transfer.id,
        params={"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "rv1"},
    )
    replay = client.v1.transfers.reversals.create(
        transfer.id,
        params={"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "rv1"},
    )
    assert replay.id == reversal.id and reversal.id.startswith("trr_")
    assert reversal.object == "transfer_reversal"
    assert (reversal.amount, reversal.currency, reversal.transfer) == (1000, "usd", transfer.id)
    assert reversal.source_refund is None and reversal.destination_payment_refund
    txn = client.v1.balance_transactions.retrieve(str(reversal.balance_transaction))
    assert (txn.type, txn.reporting_category, txn.amount) == (
        "transfer_refund",
        "transfer_reversal",
        1000,
    )
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1000, False)
    assert [r.id for r in after.reversals.data] == [reversal.id]
    listed = client.v1.transfers.reversals.list(transfer.id)
    assert [r.id for r in listed.data] == [reversal.id]
    assert sandbox.connected_balance(account, "usd") == 2000

    # The vendor paid its balance out: the next reversal finds too little there.
    sandbox.set_connected_balance(account, "usd", 300)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.reversals.create(
            transfer.id, params={"amount": 500}, options={"idempotency_key": "rv2"}
        )
    error = refused.value
    assert (error.http_status, error.code, error.param) == (400, "balance_insufficient", "amount")
    assert error.error is not None and error.error.type == "invalid_request_error"
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 1000
    # Refused answers are not saved under the key: once the balance covers it, it goes through.
    sandbox.set_connected_balance(account, "usd", 500)
    done = client.v1.transfers.reversals.create(
        transfer.id, params={"amount": 500}, options={"idempotency_key": "rv2"}
    )
    assert done.amount == 500
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 1501})
    assert too_much.value.code == "amount_too_large"
    events = [e["type"] for e in sandbox.events()]
    assert events.count("transfer.created") == 1 and events.count("transfer.reversed") == 2
