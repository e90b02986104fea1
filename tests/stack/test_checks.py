"""cdk-nag and cfn-lint, on every synth."""

from __future__ import annotations

import csv

import pytest

pytestmark = pytest.mark.stack


def test_synth_writes_the_template_without_docker_or_credentials(synthesis) -> None:  # type: ignore[no-untyped-def]
    assert synthesis.template_path.exists()
    assert synthesis.template["Resources"]


def test_cdk_nag_reports_no_unacknowledged_finding(synthesis) -> None:  # type: ignore[no-untyped-def]
    errors = [f"{f.path}: {f.message[:160]}" for f in synthesis.errors]
    assert errors == []


def test_every_acknowledged_finding_has_a_specific_reason(synthesis) -> None:  # type: ignore[no-untyped-def]
    report = synthesis.outdir / "AwsSolutions-EcomOps-NagReport.csv"
    if not report.exists():  # cdk-nag names the report after the stack path
        (report,) = synthesis.outdir.glob("AwsSolutions*NagReport.csv")
    rows = list(csv.DictReader(report.open()))
    assert rows, "cdk-nag produced no report: the AwsSolutions pack did not run"
    suppressed = [r for r in rows if r["Compliance"] == "Suppressed"]
    assert suppressed
    for row in suppressed:
        assert len(row["Exception Reason"]) >= 30, row
    assert all(r["Compliance"] != "Non-Compliant" for r in rows)


def test_cfn_lint_finds_no_error(synthesis) -> None:  # type: ignore[no-untyped-def]
    from cfnlint.api import lint_file

    matches = lint_file(synthesis.template_path)
    errors = [
        f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.severity.lower() == "error"
    ]
    assert errors == []


def test_synthesis_warns_when_the_assets_carry_no_bytecode(synthesis) -> None:  # type: ignore[no-untyped-def]
    # Without the runtime's Python the build cannot write bytecode Lambda would load, and every
    # cold start compiles what it imports: whoever synthesizes a deployment must be told.
    from infra.packaging import runtime_python

    warned = [
        f.path
        for f in synthesis.findings
        if f.level == "warning" and "carry no bytecode" in f.message
    ]
    assert warned == ([] if runtime_python() else ["/EcomOps/Lambda"])
