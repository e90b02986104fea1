"""What moto's CloudFormation does not create from our template, and who covers it.

docs/local-stack.md explains each; a test fails when the template grows a resource type that is
neither wired by the runtime nor knowingly left out, so this list stays short and true.
"""

from __future__ import annotations

# Wired by the local runtime from the same template.
WIRED_BY_RUNTIME = {
    "AWS::ApiGatewayV2::Api": "local/http_api.py serves the routes on the local port",
    "AWS::ApiGatewayV2::Route": "local/http_api.py matches them, most specific first",
    "AWS::ApiGatewayV2::Integration": "local/http_api.py invokes the integration's function",
    "AWS::ApiGatewayV2::Stage": "local/http_api.py serves the $default stage",
    "AWS::ApiGatewayV2::Authorizer": (
        "local/http_api.py requires the bearer JWT and passes its claims (signature not verified)"
    ),
    "Custom::S3BucketNotifications": (
        "left out of moto's deploy (it would need Docker); local/stack.py configures the "
        "bucket's notifications and delivers them asynchronously"
    ),
    "AWS::Lambda::Permission": "invocations are in-process; nothing to permit",
}

# Not emulated: security or operations features with no behaviour to reproduce on one machine.
NOT_EMULATED = {
    "AWS::S3::BucketPolicy": "TLS-only and log-delivery policies; asserted in stack tests",
    "AWS::SNS::TopicPolicy": "TLS-only policy; asserted in stack tests",
    "AWS::SQS::QueuePolicy": "TLS-only policy; asserted in stack tests",
    "AWS::SNS::Subscription": "e-mail subscriptions; local e-mail is written to files instead",
    "AWS::CloudWatch::Alarm": (
        "alarms (the DLQ's depth, the archiver's errors); the DLQ depth is checked by "
        "`ecomops events stats`"
    ),
    "AWS::Lambda::LayerVersion": "dependencies come from the virtual environment",
    "AWS::StepFunctions::Activity": "no activities are used",
}
