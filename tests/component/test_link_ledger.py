"""The DynamoDB link ledger on moto: a nonce is spent once, and TTL cleans it up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import aws
from shared.signed_links import DynamoLinkLedger, LinkAlreadyUsed, redeem, sign_link

TABLE = "ecomops-links-test"
NOW = 1_800_000_000


@pytest.fixture
def ddb() -> Iterator[Any]:
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    aws.reset()
    try:
        with mock_aws():
            client = boto3.client("dynamodb")
            client.create_table(
                TableName=TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "PK", "AttributeType": "S"},
                    {"AttributeName": "SK", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
            )
            yield client
    finally:
        aws.reset()
        os.environ.clear()
        os.environ.update(saved)


def test_first_consume_wins_and_sets_ttl(ddb: Any) -> None:
    ledger = DynamoLinkLedger(TABLE)
    assert ledger.consume("acme", "nonce-0001", NOW + 3600) is True
    assert ledger.consume("acme", "nonce-0001", NOW + 3600) is False

    item = ddb.get_item(TableName=TABLE, Key=DynamoLinkLedger.key("acme", "nonce-0001"))["Item"]
    assert item["PK"] == {"S": "T#acme#LINK#nonce-0001"}
    assert item["SK"] == {"S": "LINK"}
    assert item["expires_at"] == {"N": str(NOW + 3600)}


def test_nonces_are_per_tenant(ddb: Any) -> None:
    ledger = DynamoLinkLedger(TABLE)
    assert ledger.consume("acme", "nonce-0001", NOW + 60) is True
    assert ledger.consume("globex", "nonce-0001", NOW + 60) is True


def test_redeem_against_dynamodb(ddb: Any) -> None:
    keys = {"k1": "secret"}
    value = sign_link(
        key="secret",
        kid="k1",
        tenant="acme",
        order_id="o1",
        decision="approve",
        expires_at=NOW + 60,
    )
    args: dict[str, Any] = {
        "keys": keys,
        "tenant": "acme",
        "order_id": "o1",
        "decision": "approve",
        "now": NOW,
        "ledger": DynamoLinkLedger(TABLE),
    }
    assert redeem(value, **args).order_id == "o1"
    with pytest.raises(LinkAlreadyUsed):
        redeem(value, **args)


def test_other_errors_are_not_mistaken_for_replays(ddb: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        DynamoLinkLedger("no-such-table").consume("acme", "nonce-0001", NOW + 60)
