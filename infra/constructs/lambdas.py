"""How every function in the stack is built: arm64, one code asset, one dependency layer.

Each function gets its own role and log group, so its IAM policy names only what that function
is granted by the construct that owns it, never a shared role's union.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag, packaging
from infra.config import StackConfig

RUNTIME = lambda_.Runtime.PYTHON_3_14
METRICS_NAMESPACE = "EcomOps"


class LambdaToolkit(Construct):
    """Owns the shared code asset and dependency layer; makes functions from them."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        python = packaging.runtime_python()
        if python is None:
            Annotations.of(self).add_warning_v2(
                "ecomops:no-runtime-bytecode",
                f"No Python {packaging.LAMBDA_PYTHON} on this machine (PATH or "
                f"{packaging.BUILD_PYTHON_ENV}): the code and layer assets carry no bytecode, "
                "so every cold start compiles the modules it imports from source. Synthesize "
                "for a deployment where that Python is installed (docs/architecture.md, Cold "
                "starts).",
            )
        code_dir = packaging.build_code_asset(python)
        layer_dir = packaging.build_dependency_layer(python)
        self.code = lambda_.Code.from_asset(str(code_dir))
        self.code_version = packaging.tree_digest(code_dir)
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="ecomops runtime dependencies (Powertools, pydantic, stripe)",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        description: str,
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 512,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
        traced: bool = True,
        call_reports: bool = True,
    ) -> lambda_.Function:
        """``traced=False`` for functions called per webhook (or per stream batch): with active
        tracing each call is a trace of its own, billed per trace, for calls whose JSON log
        line already names the tenant, the event and the request (docs/cost.md).

        ``call_reports=False`` for functions called several times an order: Lambda's own lines
        for each call (its start, and the report of its duration and memory) are left out; a
        call that fails, times out or runs out of memory is still logged, at WARN. Their
        duration, errors and throttles remain as metrics."""
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=_retention(self._config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {handler}",
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # No pydantic plugin is installed: without this, the first validator built (at import)
            # reads every installed distribution's entry points looking for one.
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            "STAGE": self._config.stage,
            "CODE_VERSION": self.code_version,
            **(environment or {}),
        }
        fn = lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self.code,
            layers=[self.layer],
            role=role,
            log_group=log_group,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(30),
            tracing=lambda_.Tracing.ACTIVE if traced else lambda_.Tracing.PASS_THROUGH,
            description=description,
            environment=env,
            reserved_concurrent_executions=reserved_concurrency,
            **({} if call_reports else _without_call_reports(env["POWERTOOLS_LOG_LEVEL"])),
        )
        # Only this function's own log group, not logs:* on every group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:*"],
            )
        )
        nag.acknowledge_function_basics(role, f"{construct_id}Logs")
        return fn


def _without_call_reports(application_level: str) -> dict[str, Any]:
    # Lambda filters its own lines by level only for a function that logs JSON; it filters the
    # application's lines too, at the level its Powertools logger is given, so none is dropped.
    return {
        "logging_format": lambda_.LoggingFormat.JSON,
        "system_log_level_v2": lambda_.SystemLogLevel.WARN,
        "application_log_level_v2": lambda_.ApplicationLogLevel(application_level),
    }


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention(days: int) -> logs.RetentionDays:
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(
            f"logRetentionDays={days} is not one CloudWatch Logs offers: {sorted(_RETENTION)}"
        ) from None


def grant_send_email(function: lambda_.Function) -> None:
    """Customer and team e-mail through SES, from any verified identity of the account: each
    tenant has its own sender domain, added without a deploy."""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resources=[
                f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/*",
                f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:configuration-set/*",
            ],
        )
    )
    assert function.role is not None
    NagSuppressions.add_resource_suppressions(
        function.role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="Tenants' sender identities are verified in SES per tenant and added "
                "without a deploy; the grant covers this account's identities, nothing else.",
                applies_to=[
                    "Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",
                    "Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:"
                    "configuration-set/*",
                ],
            )
        ],
        apply_to_children=True,
    )


def hourly(
    scope: Construct,
    function: lambda_.IFunction | sfn.StateMachine,
    description: str,
    minute: int,
) -> Any:
    """An hourly EventBridge schedule for a function (or a workflow) that decides per tenant
    whether its local hour has come (one schedule serves every time zone; tenants are added
    without a deploy). A workflow is started with the schedule's instant as ``{"time"}``."""
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets

    target: events.IRuleTarget
    if isinstance(function, sfn.StateMachine):
        target = targets.SfnStateMachine(
            function,
            input=events.RuleTargetInput.from_object({"time": events.EventField.time}),
            retry_attempts=2,
        )
    else:
        target = targets.LambdaFunction(function, retry_attempts=2)
    return events.Rule(
        scope,
        "Hourly",
        description=description,
        schedule=events.Schedule.cron(minute=str(minute)),
        targets=[target],
    )
