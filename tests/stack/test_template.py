"""The synthesized template: security properties and least-privilege IAM, asserted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from moto.events.utils import EventMessageType

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def assertions(template: dict[str, Any]) -> Template:
    return Template.from_json(template)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_table_is_encrypted_recoverable_and_streams_both_images(assertions: Template) -> None:
    assertions.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": Match.any_value(),
            },
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        },
    )


def test_table_has_the_indexes_the_design_queries_by(template: dict[str, Any]) -> None:
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    names = {gsi["IndexName"] for gsi in table["Properties"]["GlobalSecondaryIndexes"]}
    assert names == {"ByCustomer", "ByStatus", "ByGatewayRef"}


def test_the_table_is_of_the_class_for_records_kept_for_years(template: dict[str, Any]) -> None:
    """Standard-IA by default (financial records stay for years: storage outweighs requests
    within months, docs/cost.md); on demand, with continuous backups, whatever the class."""
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_kms_keys_rotate(template: dict[str, Any]) -> None:
    keys = resources(template, "AWS::KMS::Key")
    assert keys
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())


def test_one_key_encrypts_the_table_the_alert_topics_and_the_dead_letters(
    template: dict[str, Any],
) -> None:
    """A customer-managed key is $1 a month: the deployment has one, and every resource that
    takes a key takes it."""
    (key,) = resources(template, "AWS::KMS::Key")
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    topics = resources(template, "AWS::SNS::Topic").values()
    queues = resources(template, "AWS::SQS::Queue").values()
    assert {json.dumps(t["Properties"]["KmsMasterKeyId"]) for t in topics} == {
        json.dumps({"Fn::GetAtt": [key, "Arn"]})
    }
    encrypted = [q for q in queues if "KmsMasterKeyId" in q["Properties"]]
    assert encrypted
    assert {json.dumps(q["Properties"]["KmsMasterKeyId"]) for q in encrypted} == {
        json.dumps({"Fn::GetAtt": [key, "Arn"]})
    }


def test_every_bucket_blocks_public_access_encrypts_and_logs(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 4  # statements, reports, archive, access logs
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        assert props["LifecycleConfiguration"]["Rules"], lid
        if "AccessLogs" not in lid:
            assert "LoggingConfiguration" in props, lid
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}, lid


def test_reports_and_bank_files_are_kept_as_long_as_the_raw_webhooks(
    assertions: Template, template: dict[str, Any]
) -> None:
    def rules(bucket_id: str) -> list[dict[str, Any]]:
        (bucket,) = (
            b
            for lid, b in resources(template, "AWS::S3::Bucket").items()
            if lid.startswith(f"Storage{bucket_id}")
        )
        return list(bucket["Properties"]["LifecycleConfiguration"]["Rules"])

    (raw,) = (r for r in rules("RawArchive") if "ExpirationInDays" in r)
    assert raw["ExpirationInDays"] == 2555  # seven years: the raw-event period
    for bucket_id, prefix in (("Reports", "reports/"), ("BankStatements", "bank-statements/")):
        expiring = [r for r in rules(bucket_id) if "ExpirationInDays" in r]
        # Only the financial prefix expires, never sooner than the raw webhooks.
        assert [(r["Prefix"], r["ExpirationInDays"]) for r in expiring] == [(prefix, 2555)]
    assertions.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Id": "keep-reports",
                                "Prefix": "reports/",
                                "ExpirationInDays": 2555,
                                "Status": "Enabled",
                            }
                        )
                    ]
                )
            }
        },
    )


def test_every_bucket_refuses_plain_http(template: dict[str, Any]) -> None:
    buckets = set(resources(template, "AWS::S3::Bucket"))
    tls_only = set()
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only.add(policy["Properties"]["Bucket"]["Ref"])
    assert tls_only == buckets


def test_topics_and_queue_are_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    for topic in resources(template, "AWS::SNS::Topic").values():
        assert "KmsMasterKeyId" in topic["Properties"]
    (queue,) = resources(template, "AWS::SQS::Queue").values()
    assert "KmsMasterKeyId" in queue["Properties"]
    statements = [
        s
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)


def test_dead_letter_queue_depth_alarms_to_ops(assertions: Template) -> None:
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "Threshold": 1,
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlertingOpsAlerts")}],
        },
    )


def test_functions_called_per_order_leave_out_lambdas_lines_for_each_call(
    template: dict[str, Any],
) -> None:
    """The front door, the processor and the workflows' steps log JSON with Lambda's own lines
    at WARN (no START and REPORT for each of the ~30 calls an order; a failed call still
    logged), and take every line their Powertools logger writes; the others keep the reports."""
    per_order = {
        "functions.webhooks.handlers.ingress.handler",
        "functions.webhooks.handlers.processor.handler",
        "functions.orders.handlers.lifecycle.handler",
        "functions.orders.handlers.refunds.handler",
    }
    seen = set()
    for lid, fn in resources(template, "AWS::Lambda::Function").items():
        props = fn["Properties"]
        handler = props.get("Handler", "")
        if not handler.startswith("functions."):
            continue
        logging = props["LoggingConfig"]
        if handler in per_order:
            seen.add(handler)
            assert logging == {
                "LogFormat": "JSON",
                "SystemLogLevel": "WARN",
                "ApplicationLogLevel": props["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"],
                "LogGroup": logging["LogGroup"],
            }, lid
        else:
            assert "SystemLogLevel" not in logging and "LogFormat" not in logging, lid
    assert seen == per_order


def test_functions_are_arm64_traced_with_retention_and_no_docker_bundling(
    template: dict[str, Any],
) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    ours = {
        lid: f
        for lid, f in functions.items()
        if f["Properties"].get("Handler", "").startswith("functions.")
    }
    assert ours
    for lid, fn in ours.items():
        props = fn["Properties"]
        assert props["Architectures"] == ["arm64"], lid
        assert props["Runtime"].startswith("python3."), lid
        # Traced except where every webhook would be a trace of its own (docs/cost.md).
        per_webhook = props["Handler"] in (
            "functions.webhooks.handlers.ingress.handler",
            "functions.webhooks.handlers.processor.handler",
        )
        assert props["TracingConfig"] == {"Mode": "PassThrough" if per_webhook else "Active"}, lid
        assert props["Layers"], lid
        assert "LoggingConfig" in props, lid
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] and env["POWERTOOLS_METRICS_NAMESPACE"], lid
        # Cold start: no entry-point scan for pydantic plugins (none is installed).
        assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__", lid
    retention = {
        g["Properties"].get("RetentionInDays")
        for g in resources(template, "AWS::Logs::LogGroup").values()
    }
    assert None not in retention


def _policies_of_role(template: dict[str, Any], role_lid: str) -> list[dict[str, Any]]:
    return [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_lid} in p["Properties"]["Roles"]
    ]


def _function_role(template: dict[str, Any], handler: str) -> str:
    for fn in resources(template, "AWS::Lambda::Function").values():
        if fn["Properties"].get("Handler") == handler:
            return str(fn["Properties"]["Role"]["Fn::GetAtt"][0])
    raise AssertionError(f"no function with handler {handler}")


def _referenced(document: Any) -> set[str]:
    """Logical ids a policy document points at through Ref/GetAtt."""
    found: set[str] = set()
    if isinstance(document, dict):
        if "Ref" in document:
            found.add(document["Ref"])
        if "Fn::GetAtt" in document:
            found.add(document["Fn::GetAtt"][0])
        for value in document.values():
            found |= _referenced(value)
    elif isinstance(document, list):
        for value in document:
            found |= _referenced(value)
    return found


def _own_log_group(template: dict[str, Any], role_lid: str) -> str:
    prefix = role_lid.split("Role", maxsplit=1)[0]
    (group,) = [
        lid for lid in resources(template, "AWS::Logs::LogGroup") if lid.startswith(prefix + "Logs")
    ]
    return group


def test_health_function_may_touch_only_its_own_log_group(template: dict[str, Any]) -> None:
    role = _function_role(template, "functions.api.handlers.health.handler")
    referenced = set()
    for policy in _policies_of_role(template, role):
        referenced |= _referenced(policy["Properties"]["PolicyDocument"])
    assert referenced == {_own_log_group(template, role)}


def test_selfcheck_function_may_write_the_table_and_nothing_else(template: dict[str, Any]) -> None:
    role = _function_role(template, "functions.api.handlers.selfcheck.handler")
    referenced = set()
    actions = set()
    for policy in _policies_of_role(template, role):
        document = policy["Properties"]["PolicyDocument"]
        referenced |= _referenced(document)
        for statement in document["Statement"]:
            acts = statement["Action"]
            actions |= set(acts if isinstance(acts, list) else [acts])
    table = next(iter(resources(template, "AWS::DynamoDB::Table")))
    key = next(k for k in resources(template, "AWS::KMS::Key") if k.startswith("DataTableKey"))
    assert referenced == {table, key, _own_log_group(template, role)}
    assert not {
        a
        for a in actions
        if a.startswith("dynamodb:")
        and a.split(":")[1].startswith(("Get", "Query", "Scan", "Delete"))
    } - {"dynamodb:DeleteItem"}, "write grant must not include reads"


def test_every_policy_resource_is_named_or_acknowledged(synthesis) -> None:  # type: ignore[no-untyped-def]
    # Wildcards in policies exist only where cdk-nag findings were acknowledged with a reason.
    assert synthesis.errors == ()


def test_bank_files_reach_the_intake_only_from_their_prefix(template: dict[str, Any]) -> None:
    (notifications,) = resources(template, "Custom::S3BucketNotifications").values()
    config = notifications["Properties"]["NotificationConfiguration"]
    (target,) = config["LambdaFunctionConfigurations"]
    assert target["Events"] == ["s3:ObjectCreated:*"]
    assert target["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "bank-statements/"}
    ]
    bucket = notifications["Properties"]["BucketName"]["Ref"]
    assert bucket.startswith("StorageBankStatements")
    intake = target["LambdaFunctionArn"]["Fn::GetAtt"][0]
    assert template["Resources"][intake]["Properties"]["Handler"] == (
        "functions.reconcile.handlers.bank_intake.handler"
    )


def test_the_intake_reads_bank_statements_and_writes_nothing_else_in_s3(
    template: dict[str, Any],
) -> None:
    role = _function_role(template, "functions.reconcile.handlers.bank_intake.handler")
    referenced: set[str] = set()
    s3_actions: set[str] = set()
    for policy in _policies_of_role(template, role):
        document = policy["Properties"]["PolicyDocument"]
        referenced |= _referenced(document)
        for statement in document["Statement"]:
            acts = statement["Action"]
            s3_actions |= {a for a in (acts if isinstance(acts, list) else [acts]) if "s3:" in a}
    buckets = referenced & set(resources(template, "AWS::S3::Bucket"))
    assert len(buckets) == 1
    assert next(iter(buckets)).startswith("StorageBankStatements")
    assert not {a for a in s3_actions if a.startswith(("s3:Put", "s3:Delete"))}


def test_reconciliation_runs_hourly_with_room_for_a_million_orders(
    template: dict[str, Any],
) -> None:
    role = _function_role(template, "functions.reconcile.handlers.daily.handler")
    (daily,) = [
        fn
        for fn in resources(template, "AWS::Lambda::Function").values()
        if fn["Properties"].get("Handler") == "functions.reconcile.handlers.daily.handler"
    ]
    props = daily["Properties"]
    assert props["Timeout"] == 900
    assert props["MemorySize"] >= 3008
    env = props["Environment"]["Variables"]
    assert {"TABLE_NAME", "REPORTS_BUCKET", "REFUND_STATE_MACHINE", "CLIENT_ALERTS_TOPIC"} <= set(
        env
    )
    function = next(
        lid
        for lid, fn in resources(template, "AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler") == "functions.reconcile.handlers.daily.handler"
    )
    # No schedule invokes it: the hourly tick's state machine does, once per tenant due
    # (tests/stack/test_reconcile_fanout_stack.py).
    rules = [
        r
        for r in resources(template, "AWS::Events::Rule").values()
        if function in _referenced(r["Properties"].get("Targets", []))
    ]
    assert rules == []
    actions: set[str] = set()
    for policy in _policies_of_role(template, role):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            acts = statement["Action"]
            actions |= set(acts if isinstance(acts, list) else [acts])
    assert "states:StartExecution" in actions
    assert {"ses:SendEmail", "sns:Publish"} <= actions
    assert not {a for a in actions if a.startswith("s3:") and a.startswith("s3:Delete")}


def _status_change(machine_arn: str, status: str) -> EventMessageType:
    """Step Functions' event for an execution that ended, as EventBridge delivers it."""
    execution = machine_arn.replace(":stateMachine:", ":execution:") + ":T#t1#o-1"
    return {
        "version": "0",
        "id": "315c1398-40ff-a850-213b-158f73e60175",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-12-05T19:42:21Z",
        "region": "us-east-1",
        "resources": [execution],
        "detail": {
            "executionArn": execution,
            "stateMachineArn": machine_arn,
            "name": "T#t1#o-1",
            "status": status,
            "startDate": 1551225014968,
            "stopDate": 1551225017576,
            "input": "{}",
            "output": None,
        },
    }


def test_operations_hear_of_each_execution_that_ended_badly(template: dict[str, Any]) -> None:
    """The README's promise: operations hear of every execution that failed, timed out or was
    aborted, of every workflow (the lifecycle, refunds, the self-check, and any added later),
    one message per execution naming it. The lifecycle's aborts are left out: stopping it is
    how an order is cancelled. Each rule's pattern is run on Step Functions' events by
    EventBridge's matching (moto's), not read as text."""
    from moto.events.models import EventPattern

    machines = resources(template, "AWS::StepFunctions::StateMachine")
    assert len(machines) >= 3
    (ops_topic,) = [
        lid for lid in resources(template, "AWS::SNS::Topic") if lid.startswith("AlertingOpsAlerts")
    ]
    told: dict[str, set[str]] = {lid: set() for lid in machines}
    for rule in resources(template, "AWS::Events::Rule").values():
        props = rule["Properties"]
        pattern = props.get("EventPattern")
        if not pattern or pattern.get("source") != ["aws.states"]:
            continue
        ((machine,),) = [[arn["Ref"] for arn in pattern["detail"]["stateMachineArn"]]]
        arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}"
        pattern["detail"]["stateMachineArn"] = [arn]
        matcher = EventPattern(json.dumps(pattern), pattern)
        for status in ("FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED", "RUNNING"):
            if matcher.matches_event(_status_change(arn, status)):
                told[machine].add(status)
        other = arn.replace(machine, "SomeOtherMachine")
        assert not matcher.matches_event(_status_change(other, "FAILED"))
        (target,) = props["Targets"]
        assert target["Arn"] == {"Ref": ops_topic}
        transformer = target["InputTransformer"]
        paths = transformer["InputPathsMap"]
        assert set(paths.values()) == {"$.detail.status", "$.detail.name", "$.detail.executionArn"}
        assert all(f"<{name}>" in transformer["InputTemplate"] for name in paths)
        assert "get-execution-history" in transformer["InputTemplate"]
    lifecycle = next(lid for lid in machines if lid.startswith("OrdersLifecycle"))
    assert told == {
        lid: {"FAILED", "TIMED_OUT"} | (set() if lid == lifecycle else {"ABORTED"})
        for lid in machines
    }
    assert not [
        a
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/States"
    ]


def test_the_one_key_lets_eventbridge_and_cloudwatch_publish_to_the_ops_topic(
    template: dict[str, Any],
) -> None:
    (key,) = resources(template, "AWS::KMS::Key").values()
    granted: set[str] = set()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        services = (statement.get("Principal") or {}).get("Service", [])
        if "kms:GenerateDataKey*" in statement["Action"]:
            granted |= {services} if isinstance(services, str) else set(services)
    assert granted == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


def test_notices_come_from_the_operations_sender_and_point_at_the_operator_api(
    template: dict[str, Any],
) -> None:
    from shared.notices import DEFAULT_OPS_SENDER

    handlers = {
        "functions.orders.handlers.lifecycle.handler",
        "functions.orders.handlers.refunds.handler",
        "functions.reconcile.handlers.daily.handler",
        "functions.webhooks.handlers.processor.handler",
    }
    found = {}
    for fn in resources(template, "AWS::Lambda::Function").values():
        props = fn["Properties"]
        if props.get("Handler") in handlers:
            found[props["Handler"]] = props["Environment"]["Variables"]
    assert set(found) == handlers
    for env in found.values():
        assert env["OPS_SENDER"] == DEFAULT_OPS_SENDER
        assert "PUBLIC_API_URL" in env


def test_the_processor_may_keep_a_lifecycle_wait_alive(template: dict[str, Any]) -> None:
    """The delivery wait lasts while parcels move because the processor sends its token
    heartbeats (infra/constructs/orders.py): without the grant each would be refused and the
    wait would open claims for parcels still on their way."""
    heartbeats = _statements_allowing(
        template, "functions.webhooks.handlers.processor.handler", {"states:SendTaskHeartbeat"}
    )
    assert any(_lifecycle(template) in _referenced(s["Resource"]) for s in heartbeats)


def _lifecycle(template: dict[str, Any]) -> str:
    return _state_machine(template, "OrdersLifecycleStateMachine")


def _state_machine(template: dict[str, Any], prefix: str) -> str:
    (machine,) = [
        lid
        for lid in resources(template, "AWS::StepFunctions::StateMachine")
        if lid.startswith(prefix)
    ]
    return machine


def _statements_allowing(
    template: dict[str, Any], handler: str, actions: set[str]
) -> list[dict[str, Any]]:
    """The statements of a function's role's policies that allow all of ``actions``."""
    role = _function_role(template, handler)
    return [
        statement
        for policy in _policies_of_role(template, role)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if actions <= set(statement["Action"])
    ]


def test_the_lifecycle_steps_may_answer_their_own_tokens(template: dict[str, Any]) -> None:
    """The screening's state is answered by its own step (block, review, manual capture at
    once), and a wait whose fact is in already by the step that parks it: without the grant
    Step Functions refuses those answers."""
    answers = _statements_allowing(
        template,
        "functions.orders.handlers.lifecycle.handler",
        {"states:SendTaskSuccess", "states:SendTaskFailure"},
    )
    assert answers and all(_referenced(s["Resource"]) == {_lifecycle(template)} for s in answers)


def test_the_refund_steps_may_answer_their_own_wait(template: dict[str, Any]) -> None:
    """A refund the gateway confirmed before its wait parked is answered by the step that
    parks it: without the grant Step Functions refuses the answer and the refund waits out
    its confirmation time for nothing."""
    answers = _statements_allowing(
        template,
        "functions.orders.handlers.refunds.handler",
        {"states:SendTaskSuccess", "states:SendTaskFailure"},
    )
    refunds = _state_machine(template, "OrdersRefunds")
    assert answers and all(_referenced(s["Resource"]) == {refunds} for s in answers)
