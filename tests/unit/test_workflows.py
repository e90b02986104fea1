"""Execution names: readable, within Step Functions' rules, and injective (security review,
defect 3: ``X.1``, ``X_1`` and ``X/1`` shared one lifecycle; long ids shared one refund)."""

from __future__ import annotations

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.workflows import NAME_LIMIT, execution_name

NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_punctuation_no_longer_folds_orders_together() -> None:
    names = {execution_name("acme", order) for order in ("X.1", "X_1", "X/1", "X 1", "X-1")}
    assert len(names) == 5
    assert all(NAME.match(n) for n in names)


def test_long_tenants_and_uuid_orders_keep_every_refund_apart() -> None:
    tenant = "a-very-long-client-shop-tenant-name-x"
    order = str(uuid.UUID(int=7))
    names = {execution_name(tenant, order, "refund", f"r-{i}") for i in range(50)}
    assert len(names) == 50
    assert all(len(n) <= NAME_LIMIT and NAME.match(n) for n in names)


def test_the_name_stays_readable() -> None:
    assert execution_name("acme", "o-1").startswith("acme--o-1-")


def test_part_boundaries_count() -> None:
    # ("a--b", "c") and ("a", "b--c") read the same; their identities differ.
    assert execution_name("a--b", "c") != execution_name("a", "b--c")


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60)),
        min_size=2,
        max_size=30,
        unique=True,
    )
)
def test_different_identities_never_share_a_name(identities: list[tuple[str, str]]) -> None:
    names = [execution_name(*identity) for identity in identities]
    assert len(set(names)) == len(names)
    assert all(NAME.match(name) for name in names)
