"""Onboarding and changing client shops (tenants): settings versions, secrets, SES senders."""
