"""What every Standard workflow of the stack shares: logging, tracing, its steps' grants."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag
from infra.config import StackConfig
from infra.constructs.data import DataStore
from infra.constructs.tenant_secrets import grant_tenant_secrets

Step = Callable[..., tasks.LambdaInvoke]


def step_factory(scope: Construct, steps: lambda_.IFunction, base: Mapping[str, object]) -> Step:
    """Tasks that call the workflow's steps function with ``base`` (its ids) plus a payload,
    keeping only what ``result_path`` names of the result, retried on Lambda service errors."""

    def step(
        name: str, payload: dict[str, object], result_path: str | None = None
    ) -> tasks.LambdaInvoke:
        return tasks.LambdaInvoke(
            scope,
            name,
            lambda_function=steps,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object({**base, **payload}),
            result_path=result_path or sfn.JsonPath.DISCARD,
            retry_on_service_exceptions=True,
        )

    return step


def grant_steps(
    steps: lambda_.Function,
    *,
    data: DataStore,
    client_alerts: sns.ITopic,
    config: StackConfig,
    secret_parts: tuple[str, ...],
) -> None:
    """The table, the client alerts topic and the ``secret_parts`` of tenants' secrets."""
    data.table.grant_read_write_data(steps)
    client_alerts.grant_publish(steps)
    grant_tenant_secrets(steps, config, secret_parts)


def standard_state_machine(
    scope: Construct, definition: sfn.IChainable, *, timeout: Duration, steps_id: str
) -> sfn.StateMachine:
    """A Standard state machine logging its errors (without execution data: it holds
    customers' details) and traced with X-Ray. Not every event: Step Functions keeps each
    execution's whole history itself, free to read while it runs and 90 days after; a log
    line for each of an order's ~40 events would be paid for again, and what one searches
    across executions is what went wrong."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=sfn.StateMachineType.STANDARD,
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False
        ),
    )
    NagSuppressions.add_resource_suppressions(
        machine,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="Step Functions log delivery and X-Ray need '*'; the Lambda grant "
                "covers the steps function's versions (<arn>:*), nothing else.",
                applies_to=["Resource::*", {"regex": f"/^Resource::<{steps_id}.*\\.Arn>:\\*$/g"}],
            ),
            NagPackSuppression(
                id="AwsSolutions-SF1",
                reason="Errors only: Step Functions keeps every execution's whole history "
                "(GetExecutionHistory, while it runs and 90 days after), and the order's "
                "timeline is its audit; every event again in CloudWatch Logs is paid twice.",
            ),
        ],
        apply_to_children=True,
    )
    return machine


def acknowledge_steps_grants(steps: lambda_.Function) -> None:
    """A workflow's steps read and write the table and alert client teams (reading tenants'
    secrets is acknowledged where granted, by ``grant_tenant_secrets``)."""
    assert steps.role is not None
    nag.acknowledge_table_grant(steps.role)
    nag.acknowledge_kms_grant(steps.role, "the client alerts topic")


def answer_own_tokens(
    scope: Construct, steps: lambda_.Function, state_machine: sfn.StateMachine
) -> None:
    """A workflow's steps answer the token of the state that invoked them when what it waits
    for is in already (a paid order, a returned parcel, a refund the gateway confirmed before
    the wait parked) and, in the lifecycle, the screening's at once. A policy of its own, not
    the role's default one: the function waits for its default policy, and the state machine
    names the function, so a grant there would make a cycle."""
    assert steps.role is not None
    iam.Policy(
        scope,
        "StepsAnswerTheirTokens",
        roles=[steps.role],
        statements=[
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                resources=[state_machine.state_machine_arn],
            )
        ],
    )
