"""The deployed stack on one machine: the synthesized template deployed into moto.

``LocalStack.start()`` starts moto as a threaded server on loopback, installs the in-process
Lambda dispatcher, uploads the CDK assets to the bootstrap bucket, creates the stack through
moto's CloudFormation and then wires, from the same template, what moto leaves unwired (see
docs/local-stack.md): HTTP API routes, state machines' executor, schedules, Step Functions'
status events to the rules that match them, stream event source mappings and S3 notifications.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import template as tpl
from local.lambda_shim import Dispatcher, FunctionError, FunctionSpec, install

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_NAME = "EcomOps"
BOOTSTRAP_QUALIFIER = "hnb659fds"
ASSET_CACHE = Path(__file__).resolve().parent.parent / "build" / "local-assets"

# The process talks to moto, never to AWS: fixed fake credentials, and the endpoint set per start.
_BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "MOTO_ACCOUNT_ID": ACCOUNT,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Deployment:
    """What the local stack deployed: physical ids and outputs by logical id."""

    template: dict[str, Any]
    physical: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def of_type(self, kind: str) -> dict[str, str]:
        return {
            lid: self.physical[lid]
            for lid, t in self.types.items()
            if t == kind and lid in self.physical
        }


class LocalStack:
    def __init__(
        self,
        cdk_out: Path,
        *,
        port: int = 0,
        log_level: str = "WARNING",
        tenants: Path | None = None,
        stripe_api_base: str | None = None,
        mail_dir: Path | None = None,
        seconds_per_day: int = 1,
    ) -> None:
        self.cdk_out = cdk_out
        self.tenants_file = tenants
        self.stripe_api_base = stripe_api_base
        self.mail_dir = mail_dir or (ASSET_CACHE.parent / "local-mail")
        self.seconds_per_day = seconds_per_day
        self.port = port or free_port()
        self.moto_port = free_port()
        self.log_level = log_level
        self.dispatcher = Dispatcher()
        self.deployment: Deployment | None = None
        self._server: Any = None
        self._uninstall: Any = None
        self._unlisten: Any = None
        # The template's rules with a pattern, each with its matcher (references resolved).
        self._event_rules: list[tuple[Any, tpl.EventRule]] = []
        self._http: Any = None
        self._streams: Any = None
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalStack:
        from local import tenants

        tenants.read(self.tenants_file)  # a bad tenants file is refused before anything starts
        self._configure_process()
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        default_user_config["lambda"] = {"use_docker": False}
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        from local.moto_fidelity import (
            serialize_dynamodb_writes,
            task_failures_keep_their_cause,
            tokens_ignore_starting_executions,
            transactions_copy_what_they_write,
            waits_hear_their_stop,
        )
        from local.moto_index import index_queries

        serialize_dynamodb_writes()
        transactions_copy_what_they_write()
        index_queries()
        tokens_ignore_starting_executions()
        waits_hear_their_stop()
        task_failures_keep_their_cause()
        self._uninstall = install(self.dispatcher)
        self._server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.moto_port, verbose=False
        )
        self._server.start()
        self.deployment = self._deploy()
        self.install_tenants(self.tenants_file)
        self._wire()
        return self

    def install_tenants(self, path: Path | None = None) -> list[str]:
        """Load tenants (default: the demo tenant): settings into the table, secrets split into
        each tenant's three SecureString parameters in Parameter Store."""
        from local import tenants

        assert self.deployment is not None
        loaded = tenants.read(path)
        tenants.install(
            loaded,
            table_name=self.deployment.outputs["TableName"],
            secret_prefix=self.tenant_secret_prefix,
            ssm_client=self.client("ssm"),
        )
        return [t.settings.id for t in loaded.tenants]

    @property
    def tenant_secret_prefix(self) -> str:
        """The parameters' prefix the functions are given (``TENANT_SECRET_PREFIX`` in their
        environment, from the template), so tenants are installed where the functions read."""
        from shared.tenant_secrets import DEFAULT_PREFIX

        assert self.deployment is not None
        for res in self.deployment.template["Resources"].values():
            env = (res.get("Properties", {}).get("Environment") or {}).get("Variables") or {}
            if "TENANT_SECRET_PREFIX" in env:
                return str(env["TENANT_SECRET_PREFIX"])
        return DEFAULT_PREFIX

    def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        if self._http is not None:
            self._http.stop()
        if self._streams is not None:
            self._streams.stop()
        # Before the server goes: the handler running may still be using it.
        self.dispatcher.close()
        if self._server is not None:
            self._server.stop()
        if self._uninstall is not None:
            self._uninstall()
        from shared import aws

        aws.reset()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _configure_process(self) -> None:
        # moto names each resource type it cannot create and werkzeug each request; the runtime
        # reports what matters itself.
        for name in ("moto", "werkzeug"):
            logging.getLogger(name).setLevel(logging.ERROR)
        # The ASL interpreter logs every failed execution as an error with its whole state;
        # executions' outcomes are read through the API instead.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
        os.environ.update(_BASE_ENV)
        # Loggers take their level when a handler module is first imported.
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", self.log_level)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        # The Step Functions executor calls Lambda through the server on this port.
        os.environ["MOTO_PORT"] = str(self.moto_port)
        os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
        self.dispatcher.overrides.update(
            {
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": self.log_level,
                "AWS_ENDPOINT_URL": self.endpoint,
            }
        )
        if self.stripe_api_base:
            self.dispatcher.overrides["STRIPE_API_BASE"] = self.stripe_api_base
        # Locally a lifecycle "day" lasts seconds, e-mails are files and links point here.
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.dispatcher.overrides.update(
            {
                "LIFECYCLE_SECONDS_PER_DAY": str(self.seconds_per_day),
                "MAIL_DIR": str(self.mail_dir),
                "PUBLIC_API_URL": self.base_url,
            }
        )
        from shared import aws

        aws.reset()

    def client(self, service: str) -> Any:
        """A boto3 client for moto, one per service (creating one costs tens of milliseconds;
        boto3 clients are thread-safe)."""
        with self._lock:
            found = self._clients.get(service)
            if found is None:
                import boto3

                found = boto3.client(  # type: ignore[call-overload]
                    service, endpoint_url=self.endpoint, region_name=REGION
                )
                self._clients[service] = found
            return found

    # -- deploy --------------------------------------------------------------------------------

    def _deploy(self) -> Deployment:
        template_path = self.cdk_out / f"{STACK_NAME}.template.json"
        template = json.loads(template_path.read_text())
        self._bootstrap()
        self._upload_assets()
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(_for_moto(template)),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(
                f"local deploy ended in {stack['StackStatus']}: "
                f"{stack.get('StackStatusReason', '')}"
            )
        deployment = Deployment(template=template)
        deployment.types = {lid: res["Type"] for lid, res in template["Resources"].items()}
        for resource in cfn.describe_stack_resources(StackName=STACK_NAME)["StackResources"]:
            if resource.get("PhysicalResourceId"):
                deployment.physical[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        # What moto has no model for (docs/local-stack.md lists them): wired here or absent.
        deployment.skipped = {
            lid: kind for lid, kind in deployment.types.items() if lid not in deployment.physical
        }
        deployment.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self._copy_state_machines(template)
        return deployment

    def _bootstrap(self) -> None:
        self.client("ssm").put_parameter(
            Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
            Value="30",
            Type="String",
            Overwrite=True,
        )
        self.client("s3").create_bucket(Bucket=self.assets_bucket)

    @property
    def assets_bucket(self) -> str:
        return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{ACCOUNT}-{REGION}"

    def _upload_assets(self) -> None:
        manifest = json.loads((self.cdk_out / f"{STACK_NAME}.assets.json").read_text())
        s3 = self.client("s3")
        for asset_hash, asset in manifest.get("files", {}).items():
            source = asset["source"]
            path = self.cdk_out / source["path"]
            for destination in asset["destinations"].values():
                key = destination["objectKey"]
                if source.get("packaging") == "zip":
                    s3.upload_file(str(_zip_cached(path, asset_hash)), self.assets_bucket, key)
                else:
                    s3.upload_file(str(path), self.assets_bucket, key)

    def _copy_state_machines(self, template: dict[str, Any]) -> None:
        # CloudFormation creates state machines in moto's plain backend; executions are served by
        # its ASL interpreter backend. Copy each one across (same name, so the same ARN), with the
        # template's logging and tracing, which moto's CloudFormation drops.
        from moto.stepfunctions.models import stepfunctions_backends
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        source = stepfunctions_backends[ACCOUNT][REGION]
        target = stepfunctions_parser_backends[ACCOUNT][REGION]
        by_name = {}
        for _lid, res in template["Resources"].items():
            if res["Type"] == "AWS::StepFunctions::StateMachine":
                by_name[res["Properties"].get("StateMachineName")] = res["Properties"]
        for machine in source.state_machines:
            if target._revision_by_name(machine.name) is not None:
                continue
            target.create_state_machine(
                name=machine.name,
                definition=machine.definition,
                roleArn=machine.roleArn,
                sm_type=by_name.get(machine.name, {}).get("StateMachineType", "STANDARD"),
                tracingConfiguration={"enabled": True},
            )

    # -- wiring what moto's CloudFormation leaves out ---------------------------------------------

    def _wire(self) -> None:
        from local.http_api import HttpFrontDoor
        from local.moto_fidelity import executions_report_their_end
        from local.streams import StreamPoller

        assert self.deployment is not None
        self._wire_bucket_notifications()
        self._event_rules = _matchers(self.deployment)
        self._unlisten = executions_report_their_end(self._execution_ended)
        self._streams = StreamPoller(self)
        self._streams.start()
        self._http = HttpFrontDoor(self)
        self._http.start()

    def _wire_bucket_notifications(self) -> None:
        assert self.deployment is not None
        from moto.s3 import notifications

        s3 = self.client("s3")
        configs: dict[str, list[dict[str, Any]]] = {}
        for item in tpl.bucket_notifications(self.deployment.template):
            rules = [
                {"Name": n, "Value": v}
                for n, v in (("prefix", item.prefix), ("suffix", item.suffix))
                if v
            ]
            config: dict[str, Any] = {
                "LambdaFunctionArn": self.function_arn(item.function_logical_id),
                "Events": list(item.events),
            }
            if rules:
                config["Filter"] = {"Key": {"FilterRules": rules}}
            configs.setdefault(self.deployment.physical[item.bucket_logical_id], []).append(config)
        for bucket, lambda_configs in configs.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"LambdaFunctionConfigurations": lambda_configs},
            )

        def deliver(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            # S3 invokes asynchronously: the writer's PutObject must not wait or fail with it.
            function = fn_arn.split(":")[6]
            threading.Thread(
                target=self.invoke_quietly,
                args=(function, event_body),
                name=f"s3-notify-{function}",
                daemon=True,
            ).start()

        notifications._invoke_awslambda = deliver

    # -- invoking --------------------------------------------------------------------------------

    def function_arn(self, logical_id: str) -> str:
        assert self.deployment is not None
        name = self.deployment.physical[logical_id]
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"

    def function_spec(self, name: str) -> FunctionSpec:
        from moto.awslambda.utils import get_backend

        from local.lambda_shim import spec_of

        return spec_of(get_backend(ACCOUNT, REGION).get_function(name, None))

    def invoke(self, function_name: str, event: Any) -> Any:
        """Invoke synchronously in-process (raises ``FunctionError`` like Lambda's Unhandled)."""
        return self.dispatcher.invoke(self.function_spec(function_name), event)

    def invoke_quietly(self, function_name: str, event: Any) -> None:
        try:
            self.invoke(function_name, event)
        except FunctionError as failure:
            print(f"async invoke of {function_name} failed: {failure}", flush=True)

    def fire(self, rule: str, at: datetime | None = None) -> list[str]:
        """Fire a schedule rule (logical id or physical name) as EventBridge would, at ``at``
        (the event's time; now when not given)."""
        assert self.deployment is not None
        for schedule in tpl.schedules(self.deployment.template):
            names = {
                schedule.rule_logical_id,
                self.deployment.physical.get(schedule.rule_logical_id),
            }
            if rule in names:
                break
        else:
            known = [s.rule_logical_id for s in tpl.schedules(self.deployment.template)]
            raise KeyError(f"no schedule rule {rule!r}; the template has {known}")
        event = _eventbridge_event(
            "aws.events",
            "Scheduled Event",
            at or datetime.now(UTC),
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}",
            {},
        )
        return [
            self._deliver(
                kind,
                logical_id,
                tpl.render_target_input(target_input, event),
                f"schedule-{event['id']}",
            )
            for kind, logical_id, target_input in schedule.targets
        ]

    def _execution_ended(
        self,
        execution_arn: str,
        machine_arn: str,
        name: str,
        status: str,
        started: datetime,
        stopped: datetime,
    ) -> None:
        """Step Functions' status event for an execution that ended, to the rules whose pattern
        it matches (EventBridge's matching, moto's), as EventBridge would deliver it."""
        event = _eventbridge_event(
            "aws.states",
            "Step Functions Execution Status Change",
            stopped,
            execution_arn,
            {
                "executionArn": execution_arn,
                "stateMachineArn": machine_arn,
                "name": name,
                "status": status,
                "startDate": int(started.timestamp() * 1000),
                "stopDate": int(stopped.timestamp() * 1000),
                "input": None,
                "output": None,
            },
        )
        for matcher, rule in self._event_rules:
            if not matcher.matches_event(event):
                continue
            for kind, logical_id, target_input in rule.targets:
                payload = tpl.render_target_input(target_input, event)
                self._deliver(kind, logical_id, payload, f"rule-{event['id']}")

    def _deliver(self, kind: str, logical_id: str, payload: Any, execution_name: str) -> str:
        """Hand a rule's target what EventBridge would: a function invoked, an execution
        started, a message published."""
        assert self.deployment is not None
        target = self.deployment.physical[logical_id]
        if kind == "lambda":
            self.invoke(target, payload)
            return f"lambda:{target}"
        if kind == "sns":
            # EventBridge delivers the input as its JSON text: a string keeps its quotes.
            self.client("sns").publish(TopicArn=target, Message=json.dumps(payload))
            return f"sns:{target}"
        execution = self.client("stepfunctions").start_execution(
            stateMachineArn=target, name=execution_name, input=json.dumps(payload)
        )
        return str(execution["executionArn"])

    @property
    def streams(self) -> Any:
        return self._streams

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until the stream pollers have nothing left to deliver."""
        if self._streams is not None:
            self._streams.wait_idle(timeout_s)


def _eventbridge_event(
    source: str, detail_type: str, at: datetime, resource: str, detail: dict[str, Any]
) -> dict[str, Any]:
    """An event as EventBridge hands it to a rule's targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "region": REGION,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [resource],
        "detail": detail,
    }


def _matchers(deployment: Deployment) -> list[tuple[Any, tpl.EventRule]]:
    """Each rule with a pattern and its matcher (EventBridge's matching, moto's), made once: the
    rules do not change after the deployment, and every execution that ends is matched."""
    from moto.events.models import EventPattern

    found = []
    for rule in tpl.event_rules(deployment.template):
        pattern = tpl.resolved(rule.pattern, deployment.physical)
        found.append((EventPattern(json.dumps(pattern), pattern), rule))
    return found


# Resources moto's CloudFormation cannot create: it runs a custom resource's function in
# Docker and waits for its answer. The runtime wires what they would configure (_wire).
WIRED_BY_THE_RUNTIME = frozenset({"Custom::S3BucketNotifications"})


def _for_moto(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    left_out = {lid for lid, res in resources.items() if res["Type"] in WIRED_BY_THE_RUNTIME}
    if not left_out:
        return template
    kept: dict[str, Any] = {}
    for lid, res in resources.items():
        if lid in left_out:
            continue
        depends = res.get("DependsOn")
        if depends is None:
            kept[lid] = res
            continue
        listed = [depends] if isinstance(depends, str) else list(depends)
        kept[lid] = {**res, "DependsOn": [d for d in listed if d not in left_out]}
    return {**template, "Resources": kept}


def _zip_cached(directory: Path, asset_hash: str) -> Path:
    ASSET_CACHE.mkdir(parents=True, exist_ok=True)
    target = ASSET_CACHE / f"{asset_hash}.zip"
    if target.exists():
        return target
    # Another process (an xdist worker) may zip the same asset at the same time.
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    partial.rename(target)
    return target
