"""Settings a function reads from its environment, named as the CDK stack names them.

Read on use, not at import, so one process (the local stack, tests) can run functions that were
deployed with different environments.
"""

from __future__ import annotations

import os


class MissingSetting(RuntimeError):
    pass


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise MissingSetting(f"environment variable {name} is not set for this function")
    return value


def table_name() -> str:
    return required("TABLE_NAME")


def stage() -> str:
    return os.environ.get("STAGE", "dev")


def code_version() -> str:
    return os.environ.get("CODE_VERSION", "unknown")
