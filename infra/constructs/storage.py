"""S3 buckets: bank statements in, reports out, raw webhook payloads archived.

All block public access, refuse plain HTTP, encrypt at rest, version objects and log access to
one access-log bucket. Lifecycle rules keep cost in check without losing what audits need: the
financial prefixes (reconciliation reports and summaries, bank statement files) expire after the
deployment's ``financial_retention_days``, which the configuration refuses below the raw
archive's ``archive_expire_days`` (shared/retention.py says what the table keeps).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.config import StackConfig

# Where the financial objects live in their buckets (the reconciliation's report_key, the bank
# intake's drop prefix).
REPORTS_PREFIX = "reports"
STATEMENTS_PREFIX = "bank-statements"


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            self.access_logs,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "This is the access-log bucket; logging it into itself would loop.",
                }
            ],
        )
        self.bank_statements = self._bucket(
            "BankStatements",
            prefix=STATEMENTS_PREFIX,
            rules=[
                s3.LifecycleRule(
                    id="statements-to-ia",
                    prefix=f"{STATEMENTS_PREFIX}/",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(90),
                        )
                    ],
                    expiration=Duration.days(config.financial_retention_days),
                    noncurrent_version_expiration=Duration.days(90),
                )
            ],
        )
        self.reports = self._bucket(
            "Reports",
            prefix=REPORTS_PREFIX,
            rules=[
                s3.LifecycleRule(
                    id="keep-reports",
                    prefix=f"{REPORTS_PREFIX}/",
                    expiration=Duration.days(config.financial_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        self.archive = self._bucket(
            "RawArchive",
            prefix="raw-archive",
            rules=[
                s3.LifecycleRule(
                    id="archive-tiering",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(config.archive_ia_days),
                        )
                    ],
                    expiration=Duration.days(config.archive_expire_days),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )

    def _bucket(
        self, construct_id: str, *, prefix: str, rules: list[s3.LifecycleRule]
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{prefix}/",
            lifecycle_rules=[
                *rules,
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
