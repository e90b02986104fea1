"""The chargeback desk's hourly tick: reminders of evidence deadlines (5, 2 and 1 days before,
while not submitted). Cases are opened by the webhook processor (functions/disputes through
its composition root), and operators act on them through the operator API."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from constructs import Construct

from infra import nag
from infra.constructs.alerting import Alerting
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, grant_send_email, hourly

CASES_PATH = "/ops/tenants/{tenant}/disputes"
CASE_PATH = f"{CASES_PATH}/{{dispute_id}}"
# The operator API's routes for the desk (functions/api/routes/disputes.py), added to its list.
DISPUTE_ROUTES: tuple[tuple[str, apigw.HttpMethod], ...] = (
    (CASES_PATH, apigw.HttpMethod.GET),
    (f"{CASES_PATH}/register.csv", apigw.HttpMethod.GET),
    (f"{CASES_PATH}/ratios", apigw.HttpMethod.GET),
    (CASE_PATH, apigw.HttpMethod.GET),
    (CASE_PATH, apigw.HttpMethod.PATCH),
    (f"{CASE_PATH}/draft", apigw.HttpMethod.POST),
    (f"{CASE_PATH}/submit", apigw.HttpMethod.POST),
    (f"{CASE_PATH}/accept", apigw.HttpMethod.POST),
)


class Disputes(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        toolkit: LambdaToolkit,
        data: DataStore,
        alerting: Alerting,
        ops_sender: str,
        api_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.tick = toolkit.function(
            self,
            "Tick",
            handler="functions.disputes.handlers.tick.handler",
            service="disputes",
            description="Reminds client teams of dispute evidence deadlines",
            environment={
                "TABLE_NAME": data.table.table_name,
                "CLIENT_ALERTS_TOPIC": alerting.client_alerts.topic_arn,
                "OPS_SENDER": ops_sender,
                "PUBLIC_API_URL": api_url,
            },
            timeout=Duration.minutes(5),
        )
        data.table.grant_read_write_data(self.tick)
        alerting.client_alerts.grant_publish(self.tick)
        grant_send_email(self.tick)
        # Every hour: a reminder goes out in the hour its threshold is crossed.
        self.hourly = hourly(
            self,
            self.tick,
            "Remind client teams of dispute evidence due in 5, 2 and 1 days",
            minute=20,
        )
        assert self.tick.role is not None
        nag.acknowledge_table_grant(self.tick.role)
        nag.acknowledge_kms_grant(self.tick.role, "the table and the topic")
