"""moto-backed AWS for component tests: the table as the stack defines it, buckets, and the
tenant ``acme``'s secrets in its three SSM parameters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_fidelity import serialize_dynamodb_writes
from shared import aws, keys
from shared.tenant_secrets import put_tenant_secrets

TABLE = "ecomops-test"
ARCHIVE = "ecomops-archive-test"
PREFIX = "/ecomops/test/tenants/"

TENANT_SECRETS = {
    "stripe": {"webhook_secrets": ["whsec_new", "whsec_old"], "api_key": "sk_test_x"},
    "easypost": {"webhook_secrets": ["ep_new", "ep_old"]},
    "aftership": {"webhook_secrets": ["as_new", "as_old"]},
    "shippo": {"tokens": ["tok_new", "tok_old"], "webhook_secrets": ["sh_new", "sh_old"]},
    "shop": {"webhook_secrets": ["shop_new", "shop_old"]},
    "shopify": {"webhook_secrets": ["sfy_new", "sfy_old"]},
}


def create_table(client: Any, name: str = TABLE) -> None:
    """The table as the stack defines it (``shared.keys.TABLE``)."""
    key_names = (
        keys.TABLE.partition_key,
        keys.TABLE.sort_key,
        *(n for i in keys.TABLE.indexes for n in (i.partition_key, i.sort_key)),
    )
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in key_names],
        KeySchema=[
            {"AttributeName": keys.TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": keys.TABLE.sort_key, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index.name,
                "Projection": (
                    {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projected)}
                    if index.projected
                    else {"ProjectionType": "KEYS_ONLY"}
                ),
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
            }
            for index in keys.TABLE.indexes
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


@pytest.fixture
def aws_env() -> Iterator[dict[str, Any]]:
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": TABLE,
            "ARCHIVE_BUCKET": ARCHIVE,
            "TENANT_SECRET_PREFIX": PREFIX,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    aws.reset()
    serialize_dynamodb_writes()  # as DynamoDB: a conditional write is one atomic step
    with mock_aws():
        ddb = boto3.client("dynamodb")
        create_table(ddb)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=ARCHIVE)
        ssm = boto3.client("ssm")
        # As ``ecomops local up`` installs a tenants file: split into webhooks, links and api.
        put_tenant_secrets(ssm, "acme", TENANT_SECRETS, PREFIX)
        yield {"ddb": ddb, "s3": s3, "ssm": ssm}
    aws.reset()
    os.environ.clear()
    os.environ.update(saved)
