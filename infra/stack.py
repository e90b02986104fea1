"""The one stack: a construct per bounded context, wired together here and nowhere else."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import StackConfig
from infra.constructs.alerting import Alerting
from infra.constructs.api import HttpApi
from infra.constructs.data import DataStore
from infra.constructs.disputes import Disputes
from infra.constructs.ingestion import Ingestion
from infra.constructs.lambdas import LambdaToolkit, grant_send_email
from infra.constructs.operator_api import OperatorApi
from infra.constructs.orders import OrderLifecycle
from infra.constructs.payout_links import PayoutLinks
from infra.constructs.payouts import PayoutCycles
from infra.constructs.platform import Platform
from infra.constructs.reconciliation import Reconciliation
from infra.constructs.refunds import RefundWorkflow
from infra.constructs.reports import Reports
from infra.constructs.storage import Storage
from infra.constructs.tenant_secrets import API_AND_LINKS, grant_tenant_secrets


class EcomOpsStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.data = DataStore(self, "Data", table_class=config.table_class)
        self.storage = Storage(self, "Storage", config=config)
        self.alerting = Alerting(self, "Alerting", config=config, key=self.data.key)
        self.api = HttpApi(self, "Http", config=config)
        self.toolkit = LambdaToolkit(self, "Lambda", config=config)
        self.platform = Platform(
            self, "Platform", toolkit=self.toolkit, api=self.api, data=self.data
        )

        self.ingestion = Ingestion(
            self,
            "Ingestion",
            config=config,
            toolkit=self.toolkit,
            api=self.api,
            data=self.data,
            storage=self.storage,
            alerting=self.alerting,
        )

        self.lifecycle = OrderLifecycle(
            self,
            "OrdersLifecycle",
            config=config,
            toolkit=self.toolkit,
            data=self.data,
            client_alerts=self.alerting.client_alerts,
            api_url=self.api.url,
        )
        self.refunds = RefundWorkflow(
            self,
            "OrdersRefunds",
            config=config,
            toolkit=self.toolkit,
            data=self.data,
            client_alerts=self.alerting.client_alerts,
        )
        self.operator_api = OperatorApi(
            self,
            "OperatorApi",
            config=config,
            toolkit=self.toolkit,
            api=self.api,
            data=self.data,
            lifecycle_state_machine=self.lifecycle.state_machine,
            refund_state_machine=self.refunds.state_machine,
            issuer=config.operator_jwt_issuer,
            audience=list(config.operator_jwt_audience),
        )
        for sender in (self.lifecycle.steps, self.refunds.steps, self.operator_api.operator):
            grant_send_email(sender)
        self.reconciliation = Reconciliation(
            self,
            "Reconciliation",
            toolkit=self.toolkit,
            data=self.data,
            storage=self.storage,
            alerting=self.alerting,
            refund_state_machine=self.refunds.state_machine,
        )
        self.reports = Reports(
            self,
            "Reports",
            toolkit=self.toolkit,
            data=self.data,
            storage=self.storage,
            ops_sender=config.ops_sender,
        )
        self.payouts = PayoutCycles(
            self,
            "Payouts",
            toolkit=self.toolkit,
            data=self.data,
            storage=self.storage,
            alerting=self.alerting,
        )
        self.payouts.cycles.add_environment("OPS_SENDER", config.ops_sender)
        self.payouts.cycles.add_environment("PUBLIC_API_URL", self.api.url)
        # The cycle signs the finance e-mail's links (their own public function answers them)
        # and, in Stripe Connect mode, pays connected accounts with the tenant's API key.
        self.payouts.cycles.add_environment("TENANT_SECRET_PREFIX", config.tenant_secret_prefix)
        grant_tenant_secrets(self.payouts.cycles, config, API_AND_LINKS)
        self.payout_links = PayoutLinks(
            self, "PayoutLinks", config=config, toolkit=self.toolkit, api=self.api, data=self.data
        )
        # Notices (shared.alerts) come from the operations sender and point at the operator API;
        # the processor sends those the gateway causes after the fact (a refund failed later).
        processor = self.ingestion.processor
        recon = (self.reconciliation.daily, self.reconciliation.tick)
        for notifier in (self.lifecycle.steps, self.refunds.steps, *recon, processor):
            notifier.add_environment("OPS_SENDER", config.ops_sender)
        for notifier in (self.refunds.steps, *recon, processor):
            notifier.add_environment("PUBLIC_API_URL", self.api.url)
        grant_send_email(processor)
        self.disputes = Disputes(
            self,
            "Disputes",
            toolkit=self.toolkit,
            data=self.data,
            alerting=self.alerting,
            ops_sender=config.ops_sender,
            api_url=self.api.url,
        )
        self.ingestion.start_lifecycles(self.lifecycle.state_machine, config)
        self.ingestion.start_refunds(self.refunds.state_machine)
        self.ingestion.alert_client_teams(self.alerting.client_alerts)
        self.lifecycle.start_refunds(self.refunds.state_machine)

        # Every state machine, today's and any added later: failures reach operations. The
        # lifecycle is stopped to cancel an order: those stops are the order's news, not theirs.
        for machine in self.node.find_all():
            if isinstance(machine, sfn.StateMachine):
                self.alerting.tell_of_executions(
                    machine, aborts=machine is not self.lifecycle.state_machine
                )

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "BankStatementsBucket", value=self.storage.bank_statements.bucket_name)
        CfnOutput(self, "ReportsBucket", value=self.storage.reports.bucket_name)
        CfnOutput(self, "ArchiveBucket", value=self.storage.archive.bucket_name)
        CfnOutput(self, "DeadLetterQueue", value=self.alerting.dead_letters.queue_url)
        CfnOutput(
            self, "LifecycleStateMachine", value=self.lifecycle.state_machine.state_machine_arn
        )
        CfnOutput(self, "RefundStateMachine", value=self.refunds.state_machine.state_machine_arn)
        CfnOutput(self, "ReconcileFunction", value=self.reconciliation.daily.function_name)
        CfnOutput(self, "ReportsFunction", value=self.reports.summaries.function_name)
        CfnOutput(self, "PayoutCyclesFunction", value=self.payouts.cycles.function_name)
