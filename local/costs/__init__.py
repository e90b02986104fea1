"""The cost meter: what a business day on the local stack would be billed by AWS.

``sizes`` sizes DynamoDB items and capacity units as DynamoDB bills them, ``meter`` counts what
the local stack does (requests, capacity, invocations, log bytes), ``bill`` prices a day's usage
from ``prices.json`` and projects the month-12 bill. ``bench/cost.py`` runs the day.
"""
