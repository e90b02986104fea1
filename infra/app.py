"""CDK entry point (``cdk.json``'s app). ``python -m infra.app`` synthesizes into ``cdk.out``."""

from __future__ import annotations

import json
import os

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from infra.config import StackConfig
from infra.packaging import ROOT
from infra.stack import EcomOpsStack

STACK_NAME = "EcomOps"


def project_context() -> dict[str, object]:
    """``cdk.json``'s context, which the CDK CLI passes in but a plain ``python -m`` does not."""
    if "CDK_CONTEXT_JSON" in os.environ:
        return {}
    loaded: dict[str, object] = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return loaded


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> App:
    app = App(outdir=outdir, context={**project_context(), **(context or {})})
    config = StackConfig.from_context(app.node.try_get_context)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    # Stack-level tags: CloudFormation propagates them to every resource at deploy time.
    EcomOpsStack(
        app,
        STACK_NAME,
        config=config,
        env=env,
        description="Ecom OPS back office",
        tags={"project": "ecomops", "stage": config.stage},
    )
    # Every synth runs the AwsSolutions pack; findings surface as error annotations.
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


def main() -> None:
    build_app(outdir=os.environ.get("CDK_OUTDIR")).synth()


if __name__ == "__main__":
    main()
