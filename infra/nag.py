"""cdk-nag acknowledgements that recur: each says exactly which wildcard it accepts and why."""

from __future__ import annotations

import re

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

# What CDK's grant_* methods write for KMS-encrypted resources: AWS's own key-usage actions.
_KMS_GRANT_ACTIONS = ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*")


def acknowledge_table_grant(role: IConstruct) -> None:
    """A grant on the table covers its indexes (``<table>/index/*``) and its KMS key."""
    NagSuppressions.add_resource_suppressions(
        role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="Table grants include the table's own indexes (<table>/index/*) and the "
                "KMS data-key actions for its customer-managed key; nothing outside the table.",
                applies_to=[
                    *_KMS_GRANT_ACTIONS,
                    {"regex": "/^Resource::<DataTable[0-9A-F]{8}\\.Arn>\\/index\\/\\*$/g"},
                ],
            )
        ],
        apply_to_children=True,
    )


def acknowledge_kms_grant(role: IConstruct, what: str) -> None:
    NagSuppressions.add_resource_suppressions(
        role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason=f"KMS data-key actions for the key of {what}, scoped to that key's ARN.",
                applies_to=list(_KMS_GRANT_ACTIONS),
            )
        ],
        apply_to_children=True,
    )


def acknowledge_function_basics(role: IConstruct, log_group_id: str) -> None:
    NagSuppressions.add_resource_suppressions(
        role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords accept only '*'; log streams "
                "are named '<this function's log group ARN>:*'.",
                applies_to=[
                    "Resource::*",
                    {"regex": f"/^Resource::<.*{log_group_id}[0-9A-F]{{8}}\\.Arn>:\\*$/g"},
                ],
            )
        ],
        apply_to_children=True,
    )


def acknowledge_tenant_secrets(role: IConstruct, prefix: str, parts: tuple[str, ...]) -> None:
    """Reading ``parts`` of every tenant's secrets: ``<prefix>*/<part>`` for each part."""
    escaped = re.escape(prefix).replace("/", "\\/")
    NagSuppressions.add_resource_suppressions(
        role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="Tenants are added without a deploy (by putting their parameters under "
                f"{prefix}<tenant>/), so the tenant is a wildcard; it stays inside the "
                f"part(s) this function uses ({', '.join(parts)}): {prefix}*/<part>, never "
                "the whole prefix, never another part.",
                applies_to=[
                    {
                        "regex": "/^Resource::arn:<AWS::Partition>:ssm:(<AWS::Region>|[a-z0-9-]+):"
                        f"(<AWS::AccountId>|[0-9]{{12}}):parameter{escaped}\\*\\/{part}$/g"
                    }
                    for part in parts
                ],
            )
        ],
        apply_to_children=True,
    )


def acknowledge_reports_prefix(role: IConstruct) -> None:
    """A function that writes under the reports bucket's ``reports/`` prefix only."""
    NagSuppressions.add_resource_suppressions(
        role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="The reports bucket grant is limited to its reports/ prefix, with the "
                "object-level actions CDK's grant names.",
                applies_to=[
                    {"regex": "/^Resource::<StorageReports.*\\.Arn>/reports/\\*$/g"},
                    "Action::s3:Abort*",
                ],
            )
        ],
        apply_to_children=True,
    )
