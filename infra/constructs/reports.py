"""Business summaries: an hourly tick that tallies each tenant's yesterday at its local
``reports.run_hour`` and publishes the periods that ended (HTML, CSV and JSON in the reports
bucket, the HTML mailed to the tenant's recipients). docs/reports.md."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from constructs import Construct

from infra import nag
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, grant_send_email, hourly
from infra.constructs.storage import Storage

# The reports' operator routes (``functions/api/routes/reports.py``): added to the operator
# API's HTTP API beside its own, behind the same JWT authorizer and Lambda integration.
REPORTS_PATH = "/ops/tenants/{tenant}/reports"
REPORT_ROUTES: tuple[tuple[str, apigw.HttpMethod], ...] = (
    (f"{REPORTS_PATH}/summary", apigw.HttpMethod.GET),
    (f"{REPORTS_PATH}/customers/{{email}}", apigw.HttpMethod.GET),
    (f"{REPORTS_PATH}/{{name}}", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/orders/{order_id}/history-email", apigw.HttpMethod.POST),
)


class Reports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        toolkit: LambdaToolkit,
        data: DataStore,
        storage: Storage,
        ops_sender: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.summaries = toolkit.function(
            self,
            "Summaries",
            handler="functions.reports.handlers.tick.handler",
            service="reports",
            description="Tallies each tenant's day and publishes its business summaries",
            environment={
                "TABLE_NAME": data.table.table_name,
                "REPORTS_BUCKET": storage.reports.bucket_name,
                "OPS_SENDER": ops_sender,
            },
            # A day of a million-order-a-year tenant is ~8,000 changed orders read and
            # tallied in seconds (bench/reports.py); memory buys CPU.
            memory_mb=1024,
            timeout=Duration.minutes(15),
        )
        data.table.grant_read_write_data(self.summaries)
        storage.reports.grant_put(self.summaries, "reports/*")
        grant_send_email(self.summaries)
        # Every hour, after reconciliation's tick (minute 5): each tenant at its own hour.
        self.hourly = hourly(
            self,
            self.summaries,
            "Tally yesterday and publish summaries for tenants whose hour it is",
            minute=20,
        )
        role = self.summaries.role
        assert role is not None
        nag.acknowledge_table_grant(role)
        nag.acknowledge_kms_grant(role, "the table and the reports bucket")
        nag.acknowledge_reports_prefix(role)
