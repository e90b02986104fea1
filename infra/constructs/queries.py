"""The queries' operator routes (``functions/api/routes/queries.py``): added to the operator
API's HTTP API beside its own, behind the same JWT authorizer and Lambda integration."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigw

QUERIES_PATH = "/ops/tenants/{tenant}/queries"
QUERY_ROUTES: tuple[tuple[str, apigw.HttpMethod], ...] = (
    (f"{QUERIES_PATH}/orders", apigw.HttpMethod.GET),
    (f"{QUERIES_PATH}/orders/{{order_id}}/{{question}}", apigw.HttpMethod.GET),
    (f"{QUERIES_PATH}/payouts/{{payout_id}}", apigw.HttpMethod.GET),
    (f"{QUERIES_PATH}/paid", apigw.HttpMethod.GET),
    (f"{QUERIES_PATH}/cases", apigw.HttpMethod.GET),
    (f"{QUERIES_PATH}/cases", apigw.HttpMethod.POST),
    (f"{QUERIES_PATH}/cases/{{case_id}}/close", apigw.HttpMethod.POST),
)
