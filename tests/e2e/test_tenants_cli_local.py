"""Onboarding a client shop with `ecomops tenants` against the local stack (14): the shop's
webhooks verify with the secret `add` printed, every change is a version with who and when."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from shared import signing
from tests.e2e.helpers import post, shop_order

pytestmark = pytest.mark.local

TENANT = "e2e-onboard"


def signed_order(base_url: str, secret: str, order_id: str) -> int:
    body = json.dumps(shop_order(order_id, f"{order_id}-placed")).encode()
    headers = {"content-type": "application/json", **signing.sign_shop(body, secret)}
    status, answer = post(base_url, f"/webhooks/{TENANT}/shop", body, headers)
    assert status in (200, 401), answer
    return status


def test_a_shop_is_onboarded_changed_and_its_secret_rotated_through_the_cli(
    local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "alice")
    runner = CliRunner()
    url = ["--local", local_stack.base_url]

    def run(*args: str, code: int = 0) -> str:
        answer = runner.invoke(main, [*args, *url])
        assert answer.exit_code == code, answer.output
        return answer.output

    document = tmp_path / "shop.yaml"
    document.write_text(
        f"settings:\n  id: {TENANT}\n  name: Onboarded\n  currency: USD\n"
        f"  customer_sender: Onboarded <orders@{TENANT}.example>\n"
    )
    added = run("tenants", "add", str(document))
    assert f"{local_stack.base_url}/webhooks/{TENANT}/shop" in added
    assert f"{local_stack.base_url}/webhooks/{TENANT}/stripe" in added
    assert "still to set: stripe.webhook_secrets, stripe.api_key" in added
    assert f"sender orders@{TENANT}.example is not a verified SES identity" in added
    found = re.search(r"shop\.webhook_secrets: (\S+) \(made now\)", added)
    assert found, added
    first = found.group(1)
    assert signed_order(local_stack.base_url, first, "onb-1") == 200
    assert signed_order(local_stack.base_url, "not-the-secret", "onb-2") == 401

    refused = runner.invoke(
        main, ["tenants", "update", "--tenant", TENANT, "--set", "risk.block.ipz=[1.2.3.4]", *url]
    )
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert len(refused.output.strip().splitlines()) == 1 and "risk.block.ipz" in refused.output

    assert "settings version 2 by alice@local" in run(
        "tenants", "update", "--tenant", TENANT, "--set", "return_window_days=30"
    )
    history = run("tenants", "show", "--tenant", TENANT, "--history").splitlines()
    assert re.match(r"settings v1 .* alice@local: added", history[0]), history
    assert re.match(r"secrets  #1 .* alice@local: added", history[1]), history
    assert re.match(r"settings v2 .* alice@local: changed return_window_days", history[2])

    rotated = run("tenants", "secrets", "rotate", "--tenant", TENANT, "shop.webhook_secrets")
    assert "is still accepted until the next rotation" in rotated
    new = re.search(r"new shop\.webhook_secrets: (\S+)", rotated)
    assert new and new.group(1) != first
    stored = local_stack.client("ssm").get_parameter(
        Name=f"{local_stack.tenant_secret_prefix}{TENANT}/webhooks", WithDecryption=True
    )["Parameter"]["Value"]
    assert json.loads(stored)["shop"]["webhook_secrets"] == [new.group(1), first]
    assert signed_order(local_stack.base_url, first, "onb-3") == 200  # the old one still works

    run("tenants", "secrets", "set", "--tenant", TENANT, "stripe.api_key", "--value", "sk_test_x")
    shown = run("tenants", "show", "--tenant", TENANT)
    assert "version 2 by alice@local" in shown and "still to set: stripe.webhook_secrets" in shown
    assert first not in shown  # secrets are shown by their ends unless --reveal

    listed = run("tenants", "list")
    assert re.search(rf"^{TENANT}\s+v2\s", listed, re.M)
    assert re.search(r"^demo\s+v0\s", listed, re.M)  # installed from the tenants file

    unknown = runner.invoke(main, ["tenants", "show", "--tenant", "nobody", *url])
    assert unknown.exit_code == 2 and "no tenant 'nobody'" in unknown.output
