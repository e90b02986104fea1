"""Vendor payouts: the hourly cycles function, and the operator routes
(``functions/api/routes/payouts.py``) added to the operator API's HTTP API beside its own,
behind the same JWT authorizer and Lambda integration."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from constructs import Construct

from infra import nag
from infra.constructs.alerting import Alerting
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, grant_send_email, hourly
from infra.constructs.storage import Storage

PAYOUTS_PATH = "/ops/tenants/{tenant}/payouts"
VENDOR_PATH = f"{PAYOUTS_PATH}/vendors/{{vendor_id}}"
PAYOUT_ROUTES: tuple[tuple[str, apigw.HttpMethod], ...] = (
    (f"{PAYOUTS_PATH}/vendors", apigw.HttpMethod.GET),
    (VENDOR_PATH, apigw.HttpMethod.GET),
    (VENDOR_PATH, apigw.HttpMethod.PUT),
    (f"{VENDOR_PATH}/balances", apigw.HttpMethod.GET),
    (f"{VENDOR_PATH}/entries", apigw.HttpMethod.GET),
    (f"{VENDOR_PATH}/adjustments", apigw.HttpMethod.POST),
    (f"{PAYOUTS_PATH}/cycles", apigw.HttpMethod.GET),
    (f"{PAYOUTS_PATH}/cycles", apigw.HttpMethod.POST),
    (f"{PAYOUTS_PATH}/cycles/{{cycle_id}}", apigw.HttpMethod.GET),
    (f"{PAYOUTS_PATH}/cycles/{{cycle_id}}/confirm", apigw.HttpMethod.POST),
)


class PayoutCycles(Construct):
    """The hourly payout cycles: each marketplace tenant's cycle runs once its cut-off (in its
    own time zone) has passed, or resumes when a run was interrupted; the reports and the
    instruction to finance go to the reports bucket (``reports/``) and by e-mail."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        toolkit: LambdaToolkit,
        data: DataStore,
        storage: Storage,
        alerting: Alerting,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cycles = toolkit.function(
            self,
            "Cycles",
            handler="functions.payouts.handlers.cycles.handler",
            service="payouts",
            description="Runs each marketplace tenant's vendor payout cycle at its cut-off",
            environment={
                "TABLE_NAME": data.table.table_name,
                "REPORTS_BUCKET": storage.reports.bucket_name,
                "CLIENT_ALERTS_TOPIC": alerting.client_alerts.topic_arn,
            },
            # A month of a million-line marketplace holds ~1.2 GB of entries (bench/payouts.py).
            memory_mb=4096,
            timeout=Duration.minutes(15),
        )
        data.table.grant_read_write_data(self.cycles)
        storage.reports.grant_put(self.cycles, "reports/*")
        alerting.client_alerts.grant_publish(self.cycles)
        grant_send_email(self.cycles)
        self.hourly = hourly(
            self,
            self.cycles,
            "Run the payout cycles whose cut-off has passed",
            minute=20,
        )
        role = self.cycles.role
        assert role is not None
        nag.acknowledge_table_grant(role)
        nag.acknowledge_kms_grant(role, "the table, the reports bucket and the topic")
        nag.acknowledge_reports_prefix(role)
