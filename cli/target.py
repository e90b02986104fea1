"""Which deployment a command talks to: a running local stack, or the stack in AWS."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass

import click

STACK_NAME = "EcomOps"
# Another deployment of the same app (a stage in the same account) is another stack name.
STACK_ENV = "ECOMOPS_STACK"


@dataclass(frozen=True)
class Target:
    outputs: dict[str, str]
    tenant_secret_prefix: str
    stripe_api_base: str | None = None
    # The local stack's URL (None: the stack in AWS).
    local_url: str | None = None

    @property
    def table(self) -> str:
        return self.outputs["TableName"]

    @property
    def api_url(self) -> str:
        """Where senders post webhooks: the local stack's URL, or the deployed API's."""
        return self.local_url or self.outputs["ApiUrl"]


def resolve(local_url: str | None) -> Target:
    """With ``--local URL``: the local stack serving there (its moto endpoint becomes this
    process's AWS). Without: the ``EcomOps`` (or ``$ECOMOPS_STACK``) CloudFormation stack of
    the current credentials."""
    from botocore.exceptions import ClientError

    from cli.errors import POINT_AT_A_DEPLOYMENT, OperatorError
    from shared import aws

    if local_url:
        if not local_url.startswith(("http://127.0.0.1", "http://localhost")):
            raise click.BadParameter("the local stack is served on loopback", param_hint="--local")
        try:
            with urllib.request.urlopen(  # noqa: S310 - loopback only, checked above
                f"{local_url.rstrip('/')}/_local/status",
                timeout=10,
            ) as answer:
                status = json.loads(answer.read())
        except OSError as error:
            reason = getattr(error, "reason", None) or error
            raise OperatorError(
                f"no local stack at {local_url} ({reason}): start one with `ecomops local up`"
            ) from error
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": status["moto_endpoint"],
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        if status.get("stripe_api_base"):
            os.environ["STRIPE_API_BASE"] = status["stripe_api_base"]
        if status.get("mail_dir"):
            os.environ["MAIL_DIR"] = status["mail_dir"]
        aws.reset()
        return Target(
            status["outputs"],
            status["tenant_secret_prefix"],
            status.get("stripe_api_base"),
            local_url.rstrip("/"),
        )
    if os.environ.get("AWS_REGION") and not os.environ.get("AWS_DEFAULT_REGION"):
        # botocore reads only AWS_DEFAULT_REGION; the other SDKs and AWS's docs say AWS_REGION.
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"]
        aws.reset()
    name = os.environ.get(STACK_ENV) or STACK_NAME
    cloudformation = aws.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" not in error.response.get("Error", {}).get("Message", ""):
            raise
        raise OperatorError(
            f"no stack {name} in {cloudformation.meta.region_name} for these credentials: "
            f"deploy it, or {POINT_AT_A_DEPLOYMENT}"
        ) from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    stage = next((t["Value"] for t in stacks[0].get("Tags", []) if t["Key"] == "stage"), "dev")
    # As infra/config.py names them: the functions read the parameters under this prefix.
    return Target(outputs, f"/ecomops/{stage}/tenants/")


# Every command that reads or changes a deployment takes it.
LOCAL_OPTION = click.option(
    "--local",
    "local_url",
    default=None,
    envvar="ECOMOPS_LOCAL",
    metavar="URL",
    help=(
        "A running local stack (e.g. http://127.0.0.1:8787; env ECOMOPS_LOCAL); default: the "
        "EcomOps stack (env ECOMOPS_STACK) of AWS_PROFILE in AWS_REGION."
    ),
)
