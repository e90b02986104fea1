"""The single DynamoDB table every bounded context keys by tenant.

Its keys and indexes are defined once, in ``shared/keys.py`` (with the map of every item), and
built from that definition here and in the tests' table.
GSIs answer the questions the design asks by something other than the primary key:
- ``ByCustomer`` (GSI1): a customer's orders, payments and history, newest first;
- ``ByStatus`` (GSI2): orders in a status by date (review queue, not-dispatched, open breaks);
- ``ByGatewayRef`` (GSI3): a gateway object (charge, payment intent, payout, dispute) to its order.
The stream (NEW_AND_OLD_IMAGES) is the outbox the processor reads.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from shared.keys import TABLE

TTL_ATTRIBUTE = TABLE.ttl_attribute


class DataStore(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, table_class: str = "STANDARD"
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TableKey",
            description="ecomops data at rest: the table, the alert topics, the dead letters",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # dynamodb.Table, not TableV2: TableV2 synthesizes AWS::DynamoDB::GlobalTable, which
        # the local stack (moto CloudFormation) cannot create.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=TABLE.partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=TABLE.sort_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            table_class=dynamodb.TableClass(table_class),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in TABLE.indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(
                    name=index.partition_key, type=dynamodb.AttributeType.STRING
                ),
                sort_key=dynamodb.Attribute(
                    name=index.sort_key, type=dynamodb.AttributeType.STRING
                ),
                projection_type=dynamodb.ProjectionType.INCLUDE
                if index.projected
                else dynamodb.ProjectionType.KEYS_ONLY,
                non_key_attributes=list(index.projected) or None,
            )
