"""Which deployment a command talks to: a running local stack, or the stack in AWS."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass

import click

STACK_NAME = "EcomOps"


@dataclass(frozen=True)
class Target:
    outputs: dict[str, str]
    tenant_secret_prefix: str
    stripe_api_base: str | None = None

    @property
    def table(self) -> str:
        return self.outputs["TableName"]


def resolve(local_url: str | None) -> Target:
    """With ``--local URL``: the local stack serving there (its moto endpoint becomes this
    process's AWS). Without: the ``EcomOps`` CloudFormation stack of the current credentials."""
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
            raise click.ClickException(f"no local stack at {local_url}: {error}") from error
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
            status["outputs"], status["tenant_secret_prefix"], status.get("stripe_api_base")
        )
    stacks = aws.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    stage = next((t["Value"] for t in stacks[0].get("Tags", []) if t["Key"] == "stage"), "dev")
    return Target(outputs, f"ecomops/{stage}/tenants/")


# Every command that reads or changes a deployment takes it.
LOCAL_OPTION = click.option(
    "--local",
    "local_url",
    default=None,
    envvar="ECOMOPS_LOCAL",
    metavar="URL",
    help="A running local stack (e.g. http://127.0.0.1:8787); default: the AWS stack.",
)
