"""The operator API registers the routes of the contexts added since (disputes, queries,
reports, payouts) on the first request under their segment, not at its cold start: a fresh
interpreter imports it without their modules, and a path loads only its own group, once."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import functions.api.handlers.operator as operator

groups = [f"functions.api.routes.{g}" for g in ("disputes", "queries", "reports", "payouts")]
def loaded():
    return sorted(g.rsplit(".", 1)[1] for g in groups if g in sys.modules)

def routes():
    return len(operator.app._static_routes) + len(operator.app._dynamic_routes)

seen = {"import": (loaded(), routes())}
operator._register_routes_for("/ops/tenants/acme/orders/o-1")
seen["order"] = (loaded(), routes())
operator._register_routes_for("/ops/tenants/acme/payouts/vendors/v-1/balances")
seen["payouts"] = (loaded(), routes())
operator._register_routes_for("/ops/tenants/acme/payouts/cycles")
seen["payouts again"] = (loaded(), routes())
print(json.dumps(seen))
"""


def test_route_groups_load_on_the_first_request_under_their_segment() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])

    assert seen["import"][0] == [] and seen["order"] == seen["import"]
    assert seen["payouts"][0] == ["payouts"]
    assert seen["payouts"][1] > seen["import"][1]
    assert seen["payouts again"] == seen["payouts"]  # registered once
