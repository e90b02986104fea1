"""The CLI against an AWS account (moto's server, in its own process as an operator runs it):
a stack that is not deployed is one line (13); onboarding a tenant on the deployed stack (14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local.stack import free_port
from tests.cli_runs import ecomops
from tests.component.conftest import create_table


@pytest.fixture(scope="module")
def account() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_stack_that_is_not_deployed(account: str, tmp_path: Path) -> None:
    run = ecomops(
        "orders",
        "show",
        "--tenant",
        "demo",
        "X",
        home=tmp_path,
        AWS_ENDPOINT_URL=account,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="eu-central-1",
        ECOMOPS_STACK="EcomOpsStaging",
    )
    assert "Traceback" not in run.stderr and len(run.lines) == 1, run.lines
    assert "no stack EcomOpsStaging in eu-central-1" in run.lines[0]
    assert "--local" in run.lines[0] and run.code == 2


def test_onboarding_on_aws_records_the_caller_and_puts_the_secrets_where_functions_read(
    account: str, tmp_path: Path
) -> None:
    env = {
        "AWS_ENDPOINT_URL": account,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
    }
    aws: dict[str, Any] = {"endpoint_url": account, "region_name": "eu-west-1", **_keys()}
    create_table(boto3.client("dynamodb", **aws), "ecomops-prod")
    template = {
        "Resources": {"Alerts": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "TableName": {"Value": "ecomops-prod"},
            "ApiUrl": {"Value": "https://api.prod.example/"},
        },
    }
    boto3.client("cloudformation", **aws).create_stack(
        StackName="EcomOps",
        TemplateBody=json.dumps(template),
        Tags=[{"Key": "stage", "Value": "prod"}],
    )
    shop = tmp_path / "shop.json"
    shop.write_text(
        json.dumps(
            {
                "settings": {
                    "id": "acme",
                    "name": "Acme",
                    "currency": "EUR",
                    "customer_sender": "Acme <orders@acme.example>",
                }
            }
        )
    )
    refused = ecomops("tenants", "add", str(shop), home=tmp_path, **env)
    assert refused.code == 2 and len(refused.lines) == 1, refused.lines
    assert "not verified in SES: orders@acme.example" in refused.lines[0]

    boto3.client("ses", **aws).verify_domain_identity(Domain="acme.example")
    added = ecomops("tenants", "add", str(shop), home=tmp_path, **env)
    assert added.code == 0, added.stderr
    assert "https://api.prod.example/webhooks/acme/stripe" in added.stdout
    caller = boto3.client("sts", **aws).get_caller_identity()["Arn"]
    assert f"settings version 1 by {caller}" in added.stdout
    # Where the deployed functions read them (infra/config.py: /ecomops/<stage>/tenants/).
    stored = boto3.client("ssm", **aws).get_parameter(
        Name="/ecomops/prod/tenants/acme/webhooks", WithDecryption=True
    )["Parameter"]["Value"]
    assert json.loads(stored)["shop"]["webhook_secrets"]
    history = ecomops("tenants", "show", "--tenant", "acme", "--history", home=tmp_path, **env)
    assert f"{caller}: added" in history.stdout


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
