"""What an operator reads when a command cannot do its work: one line saying what is wrong and
how to fix it, never a traceback for their mistake (``ecomops --debug …`` shows it).

``EcomOpsGroup`` is the top-level group's class: it lets click's own errors through and turns
every other exception into a ``click.ClickException`` through ``explain``.
"""

from __future__ import annotations

from typing import Any

import click

# The longest message an error prints: a hostile file can put 100,000 characters in a field.
MESSAGE_WIDTH = 300
POINT_AT_A_DEPLOYMENT = (
    "point the CLI at a local stack with --local http://127.0.0.1:8787 (or ECOMOPS_LOCAL), "
    "or at an AWS account with AWS_PROFILE and AWS_REGION (stack name: ECOMOPS_STACK, "
    "default EcomOps)"
)


def one_line(text: str) -> str:
    """``text`` on one line of at most ``MESSAGE_WIDTH`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MESSAGE_WIDTH else flat[: MESSAGE_WIDTH - 1] + "…"


class OperatorError(click.ClickException):
    """The command cannot run as asked or configured (the operator can fix it): exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class InternalError(click.ClickException):
    """A bug of ours, not the operator's mistake: still one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


_AWS_REFUSALS = {
    "ExpiredToken": "the AWS session has expired: log in again (aws sso login / new keys)",
    "ExpiredTokenException": "the AWS session has expired: log in again (aws sso login / new keys)",
    "InvalidClientTokenId": "AWS does not know these access keys: check AWS_PROFILE",
    "UnrecognizedClientException": "AWS does not know these access keys: check AWS_PROFILE",
    "SignatureDoesNotMatch": "AWS refused the secret key: check AWS_PROFILE",
}


def _validation(error: Any) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'input'}: {problem['msg']}"
        for problem in error.errors()
    ]
    return f"invalid {error.title}: " + "; ".join(problems)


def _botocore(error: Exception) -> click.ClickException | None:
    from botocore import exceptions as aws

    if isinstance(error, aws.NoRegionError):
        return OperatorError(f"no AWS region is configured: {POINT_AT_A_DEPLOYMENT}")
    if isinstance(error, aws.NoCredentialsError | aws.PartialCredentialsError):
        return OperatorError(f"no AWS credentials were found: {POINT_AT_A_DEPLOYMENT}")
    if isinstance(error, aws.ProfileNotFound):
        return OperatorError(f"{error} (see ~/.aws/config, or unset AWS_PROFILE)")
    if isinstance(error, aws.TokenRetrievalError | aws.SSOError):
        return OperatorError(f"the AWS login has lapsed: run `aws sso login` ({error})")
    if isinstance(error, aws.EndpointConnectionError):
        return OperatorError(
            f"cannot reach {error.kwargs.get('endpoint_url', 'AWS')}: is the local stack "
            "still running (`ecomops local up`) and the network up?"
        )
    if isinstance(error, aws.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in _AWS_REFUSALS:
            return OperatorError(_AWS_REFUSALS[code])
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return OperatorError(f"AWS refused: {message} (use a role allowed to operate EcomOps)")
        return OperatorError(f"AWS answered {code}: {message}")
    return None


def explain(error: Exception) -> click.ClickException:
    """The one line an operator reads for ``error``."""
    import json

    import yaml
    from pydantic import ValidationError

    from functions.tenants.domain import TenantRefused
    from shared.secrets_layout import InvalidSecrets
    from shared.tenant_secrets import UnknownTenant

    if isinstance(error, ValidationError):
        return OperatorError(_validation(error))
    if isinstance(error, TenantRefused | InvalidSecrets):
        return OperatorError(str(error))
    if isinstance(error, UnknownTenant):
        return OperatorError(f"{error} (the tenants there: `ecomops tenants list`)")
    if isinstance(error, FileNotFoundError | IsADirectoryError | PermissionError):
        return OperatorError(f"{error.filename}: {error.strerror}")
    if isinstance(error, json.JSONDecodeError | yaml.YAMLError):
        return OperatorError(f"not valid JSON/YAML: {error}")
    if isinstance(error, ConnectionError | TimeoutError):
        return OperatorError(f"{error}: is the local stack still running (`ecomops local up`)?")
    explained = _botocore(error)
    if explained is not None:
        return explained
    return InternalError(
        f"internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)"
    )


class EcomOpsGroup(click.Group):
    """The top-level group: one line for any error, the traceback only with ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise explain(error) from error
