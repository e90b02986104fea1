"""Tenants' secrets in SSM Parameter Store (moto): split by use, read by part, cached both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local import tenants as local_tenants
from shared.tenant_secrets import (
    API,
    LINKS,
    WEBHOOKS,
    InvalidSecrets,
    TenantSecrets,
    UnknownTenant,
    put_tenant_secrets,
    split,
)
from tests.component.conftest import PREFIX, TABLE, TENANT_SECRETS

DOCUMENT: dict[str, Any] = {**TENANT_SECRETS, "links": {"signing_keys": ["links_new", "links_old"]}}


class CountingSSM:
    """An SSM client that records every GetParameters call's names."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[list[str]] = []

    def get_parameters(self, **kwargs: Any) -> Any:
        self.calls.append(list(kwargs["Names"]))
        return self.client.get_parameters(**kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm(aws_env: dict[str, Any]) -> CountingSSM:
    put_tenant_secrets(aws_env["ssm"], "acme", DOCUMENT, PREFIX)
    return CountingSSM(aws_env["ssm"])


def reader(ssm: CountingSSM, parts: tuple[str, ...], **kwargs: Any) -> TenantSecrets:
    return TenantSecrets(parts, prefix=PREFIX, client=ssm, **kwargs)


def test_each_tenant_has_three_secure_string_parameters(ssm: CountingSSM) -> None:
    found = ssm.client.describe_parameters(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [f"{PREFIX}acme"]}]
    )["Parameters"]
    assert {p["Name"]: p["Type"] for p in found} == {
        f"{PREFIX}acme/webhooks": "SecureString",
        f"{PREFIX}acme/links": "SecureString",
        f"{PREFIX}acme/api": "SecureString",
    }
    assert {p["Tier"] for p in found} == {"Standard"}
    api = ssm.client.get_parameter(Name=f"{PREFIX}acme/api", WithDecryption=True)
    assert json.loads(api["Parameter"]["Value"]) == {"stripe": {"api_key": "sk_test_x"}}


def test_a_webhooks_reader_gets_the_webhook_secrets_and_never_the_api_key(
    ssm: CountingSSM,
) -> None:
    document = reader(ssm, WEBHOOKS).get("acme")
    assert document["stripe"] == {"webhook_secrets": ["whsec_new", "whsec_old"]}
    assert document["shippo"] == TENANT_SECRETS["shippo"]
    assert "api_key" not in json.dumps(document)
    assert "links" not in document
    assert ssm.calls == [[f"{PREFIX}acme/webhooks"]], "it must not even ask for another part"


def test_a_links_reader_gets_the_signing_keys_only(ssm: CountingSSM) -> None:
    assert reader(ssm, LINKS).get("acme") == {"links": {"signing_keys": ["links_new", "links_old"]}}
    assert ssm.calls == [[f"{PREFIX}acme/links"]]


def test_an_api_reader_gets_the_api_key_only(ssm: CountingSSM) -> None:
    assert reader(ssm, API).get("acme") == {"stripe": {"api_key": "sk_test_x"}}


def test_all_parts_merge_back_into_the_tenants_file_document_in_one_call(
    ssm: CountingSSM,
) -> None:
    assert reader(ssm, ("webhooks", "links", "api")).get("acme") == DOCUMENT
    assert len(ssm.calls) == 1


def test_the_lifecycle_reads_api_key_and_link_keys(ssm: CountingSSM) -> None:
    document = reader(ssm, ("api", "links")).get("acme")
    assert document == {
        "stripe": {"api_key": "sk_test_x"},
        "links": {"signing_keys": ["links_new", "links_old"]},
    }


def test_a_known_tenant_is_read_once_per_cache_period(ssm: CountingSSM) -> None:
    clock = Clock()
    secrets = reader(ssm, WEBHOOKS, monotonic=clock)
    for _ in range(20):
        secrets.get("acme")
    assert len(ssm.calls) == 1
    clock.now += secrets.cache_seconds + 1
    secrets.get("acme")
    assert len(ssm.calls) == 2


def test_an_unknown_tenant_costs_one_call_per_cache_period(ssm: CountingSSM) -> None:
    clock = Clock()
    secrets = reader(ssm, WEBHOOKS, monotonic=clock)
    for _ in range(50):
        with pytest.raises(UnknownTenant, match="unknown tenant 'nobody'"):
            secrets.get("nobody")
    assert ssm.calls == [[f"{PREFIX}nobody/webhooks"]]
    clock.now += secrets.cache_seconds - 1
    with pytest.raises(UnknownTenant):
        secrets.get("nobody")
    assert len(ssm.calls) == 1
    clock.now += 2
    with pytest.raises(UnknownTenant):
        secrets.get("nobody")
    assert len(ssm.calls) == 2


def test_remembered_misses_are_bounded_and_the_oldest_go_first(ssm: CountingSSM) -> None:
    secrets = reader(ssm, WEBHOOKS, max_misses=3)
    for tenant in ("miss-1", "miss-2", "miss-3", "miss-4"):
        with pytest.raises(UnknownTenant):
            secrets.get(tenant)
    assert len(secrets._misses) == 3
    for tenant in ("miss-2", "miss-3", "miss-4"):  # still remembered: no call
        with pytest.raises(UnknownTenant):
            secrets.get(tenant)
    assert len(ssm.calls) == 4
    with pytest.raises(UnknownTenant):  # evicted: asked again
        secrets.get("miss-1")
    assert len(ssm.calls) == 5
    assert len(secrets._misses) == 3


def test_a_tenant_added_after_a_miss_is_found_once_forgotten(
    ssm: CountingSSM, aws_env: dict[str, Any]
) -> None:
    secrets = reader(ssm, WEBHOOKS)
    with pytest.raises(UnknownTenant):
        secrets.get("globex")
    put_tenant_secrets(aws_env["ssm"], "globex", {"shop": {"webhook_secrets": ["g"]}}, PREFIX)
    with pytest.raises(UnknownTenant):
        secrets.get("globex")  # the miss is remembered for the cache period
    secrets.forget("globex")
    assert secrets.get("globex") == {"shop": {"webhook_secrets": ["g"]}}


@pytest.mark.parametrize(
    "tenant",
    ["acme\n", "acme\r\n", "\nacme", "ACME", "ac", "-acme", "acme-", "acme/api", "../acme", ""],
)
def test_ill_formed_tenant_ids_are_refused_without_asking_ssm(
    ssm: CountingSSM, tenant: str
) -> None:
    with pytest.raises(UnknownTenant, match="is not a tenant id"):
        reader(ssm, WEBHOOKS).get(tenant)
    assert ssm.calls == []


def test_a_rotated_secret_is_seen_after_the_cache_expires_or_is_forgotten(
    ssm: CountingSSM, aws_env: dict[str, Any]
) -> None:
    clock = Clock()
    secrets = reader(ssm, WEBHOOKS, monotonic=clock)
    assert secrets.get("acme")["stripe"]["webhook_secrets"] == ["whsec_new", "whsec_old"]
    rotated = {
        **DOCUMENT,
        "stripe": {**DOCUMENT["stripe"], "webhook_secrets": ["whsec_3", "whsec_new"]},
    }
    put_tenant_secrets(aws_env["ssm"], "acme", rotated, PREFIX)
    assert secrets.get("acme")["stripe"]["webhook_secrets"] == ["whsec_new", "whsec_old"]
    clock.now += secrets.cache_seconds + 1
    assert secrets.get("acme")["stripe"]["webhook_secrets"] == ["whsec_3", "whsec_new"]

    rotated["stripe"] = {**rotated["stripe"], "webhook_secrets": ["whsec_4", "whsec_3"]}
    put_tenant_secrets(aws_env["ssm"], "acme", rotated, PREFIX)
    secrets.forget("acme")
    assert secrets.get("acme")["stripe"]["webhook_secrets"] == ["whsec_4", "whsec_3"]
    # Each rotation is a new version of the parameter: the history keeps the earlier ones.
    history = aws_env["ssm"].get_parameter_history(
        Name=f"{PREFIX}acme/webhooks", WithDecryption=True
    )["Parameters"]
    newest = [json.loads(p["Value"])["stripe"]["webhook_secrets"][0] for p in history]
    assert newest[-3:] == ["whsec_new", "whsec_3", "whsec_4"]


def test_a_reader_of_a_part_the_tenant_lacks_finds_no_tenant(
    ssm: CountingSSM, aws_env: dict[str, Any]
) -> None:
    aws_env["ssm"].delete_parameter(Name=f"{PREFIX}acme/api")
    with pytest.raises(UnknownTenant):
        reader(ssm, API).get("acme")
    assert reader(ssm, ("api", "links")).get("acme") == {
        "links": {"signing_keys": ["links_new", "links_old"]}
    }


def test_the_prefix_comes_from_the_environment_when_not_given(ssm: CountingSSM) -> None:
    secrets = TenantSecrets(WEBHOOKS, client=ssm)
    assert secrets.prefix == PREFIX  # aws_env sets TENANT_SECRET_PREFIX
    assert secrets.get("acme")["shop"] == {"webhook_secrets": ["shop_new", "shop_old"]}


@pytest.mark.parametrize("parts", [(), ("secrets",), ("webhooks", "everything")])
def test_parts_are_named_from_the_three(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="parts must be some of"):
        TenantSecrets(parts)


def test_parts_are_not_a_string() -> None:
    with pytest.raises(TypeError):
        TenantSecrets("api")


# -- the tenants file's document, split ----------------------------------------------------------


def test_split_puts_each_value_in_its_part() -> None:
    parts = split(DOCUMENT)
    assert parts["api"] == {"stripe": {"api_key": "sk_test_x"}}
    assert parts["links"] == {"links": {"signing_keys": ["links_new", "links_old"]}}
    assert parts["webhooks"]["stripe"] == {"webhook_secrets": ["whsec_new", "whsec_old"]}
    assert set(parts["webhooks"]) == {
        "stripe",
        "easypost",
        "aftership",
        "shippo",
        "shop",
        "shopify",
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"paypal": {"webhook_secrets": ["x"]}}, "unknown key 'paypal'"),
        ({"stripe": {"api_keys": "sk_x"}}, "unknown key stripe.'api_keys'"),
        ({"links": {"keys": ["x"]}}, "unknown key links.'keys'"),
        ({"stripe": ["whsec"]}, "'stripe' in tenant secrets must be an object"),
        ({"stripe": {"api_key": ["sk_x"]}}, "stripe.api_key .* non-empty string"),
        ({"shop": {"webhook_secrets": "s"}}, "shop.webhook_secrets .* list of non-empty strings"),
        ({"shop": {"webhook_secrets": [""]}}, "list of non-empty strings"),
        ({"shop": {"webhook_secrets": ["x" * 5000]}}, "'webhooks' part .* at most 4096"),
    ],
)
def test_split_refuses_what_does_not_fit_the_layout_by_name(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSecrets, match=message):
        split(document)


def test_a_tenants_file_with_an_unknown_secrets_key_is_refused_naming_it(tmp_path: Path) -> None:
    document = json.loads(local_tenants.DEFAULT_FILE.read_text())
    document["tenants"][0]["secrets"]["stripe_api_key"] = "sk_test_x"
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unknown key 'stripe_api_key'"):
        local_tenants.read(path)


def test_local_install_splits_the_demo_tenant_into_its_parameters(
    aws_env: dict[str, Any],
) -> None:
    loaded = local_tenants.read()
    local_tenants.install(loaded, table_name=TABLE, secret_prefix=PREFIX, ssm_client=aws_env["ssm"])
    (demo,) = loaded.tenants
    secrets = TenantSecrets(("webhooks", "links", "api"), prefix=PREFIX)
    assert secrets.get("demo") == demo.secrets
    assert TenantSecrets(WEBHOOKS, prefix=PREFIX).get("demo")["stripe"] == {
        "webhook_secrets": ["whsec_demo_local_only"]
    }
    # Installing again writes new versions; a value dropped from the file leaves its part.
    without_api = {k: v for k, v in demo.secrets.items() if k != "stripe"}
    without_api["easypost"] = {"webhook_secrets": demo.secrets["easypost"]["webhook_secrets"]}
    put_tenant_secrets(aws_env["ssm"], "demo", without_api, PREFIX)
    assert TenantSecrets(API, prefix=PREFIX).get("demo") == {}
