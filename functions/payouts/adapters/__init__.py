"""The payouts ports on AWS: the only modules of the context that talk to DynamoDB or S3."""
