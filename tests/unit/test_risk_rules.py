from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.risk.domain.errors import RulesetInvalid
from functions.risk.domain.rules import (
    DEFAULT_RULESET,
    Rule,
    Ruleset,
    check_rules_file,
    compile_ruleset,
    default_ruleset,
    evaluate,
    load_ruleset_text,
    parse_ruleset,
    validate,
)
from functions.risk.domain.signals import VOCABULARY


def attrs(**values: Any) -> dict[str, Any]:
    base = {n: {"string": "", "int": 0, "bool": False}[k] for n, (k, _) in VOCABULARY.items()}
    base.update(values)
    return base


def ruleset(*rules: Rule) -> Ruleset:
    return Ruleset(tenant="demo", version="7", rules=rules)


def rule(rule_id: str, action: str, when: str, **kw: Any) -> Rule:
    return Rule.model_validate(
        {"id": rule_id, "action": action, "when": when, "reason": rule_id, **kw}
    )


def test_syntax_error_refused_with_rule_name() -> None:
    errors = validate(ruleset(rule("big", "block", "amount > ")))
    assert len(errors) == 1
    assert "rule 'big'" in errors[0] and "does not compile" in errors[0]


def test_unknown_attribute_refused_naming_rule_and_attribute() -> None:
    errors = validate(ruleset(rule("typo", "review", "amout > 100 && email_disposable")))
    assert errors == ["rule 'typo': unknown attribute 'amout' in condition"]
    errors = validate(ruleset(rule("r", "review", "amount > 1", reason="too much: {amountt}")))
    assert errors == ["rule 'r': unknown attribute 'amountt' in reason"]


def test_type_errors_unknown_functions_and_non_boolean_refused() -> None:
    errors = validate(
        ruleset(
            rule("types", "review", "email_domain > 5"),
            rule("func", "review", "sise(email_domain) > 1"),
            rule("nonbool", "review", "amount + 1"),
        )
    )
    assert [e.split(":")[0] for e in errors] == ["rule 'types'", "rule 'func'", "rule 'nonbool'"]
    assert "true or false" in errors[2]


def test_macro_variables_are_not_attributes() -> None:
    assert (
        validate(ruleset(rule("m", "block", '["a.com", "b.com"].exists(d, d == email_domain)')))
        == []
    )


def test_compile_raises_with_all_errors() -> None:
    with pytest.raises(RulesetInvalid) as caught:
        compile_ruleset(ruleset(rule("a", "block", "nope"), rule("a", "block", "amount >")))
    assert len(caught.value.errors) == 3  # unknown attribute, duplicate id, syntax


def test_precedence_allow_then_block_then_review() -> None:
    rs = compile_ruleset(
        ruleset(
            rule("rev", "review", "amount > 100", score=70),
            rule("blk", "block", "email_disposable"),
            rule("ok", "allow", "email_allowed"),
        )
    )
    everything = evaluate(rs, attrs(amount=500, email_disposable=True, email_allowed=True))
    assert everything.decision == "allow" and everything.reasons == ("ok",)
    blocked = evaluate(rs, attrs(amount=500, email_disposable=True))
    assert blocked.decision == "block" and blocked.score == 100
    reviewed = evaluate(rs, attrs(amount=500))
    assert (reviewed.decision, reviewed.score, reviewed.reasons) == ("review", 70, ("rev",))
    clean = evaluate(rs, attrs(amount=5))
    assert clean.decision == "allow" and clean.score == 0
    assert clean.ruleset_version == "demo/7"


def test_categories_and_reason_templates() -> None:
    rs = compile_ruleset(
        ruleset(
            rule(
                "tv",
                "review",
                "amount > 100",
                categories=["electronics"],
                reason="{amount} in {category}",
            )
        )
    )
    assert evaluate(rs, attrs(amount=500, category="apparel")).decision == "allow"
    hit = evaluate(rs, attrs(amount=500, category="electronics"))
    assert hit.reasons == ("500 in electronics",)
    screening = hit.to_screening(attrs(amount=500))
    assert screening.decision == "review" and screening.ruleset_version == "demo/7"


def test_check_rules_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "tenant: demo\nversion: '2'\nrules:\n"
        "  - {id: a, action: block, when: 'card_orders_1h >= 5', reason: testing}\n"
    )
    assert check_rules_file(good) == []
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"tenant": "demo", "version": "3", "rules": ['
        '{"id": "x", "action": "hold", "when": "true", "reason": "r"},'
        '{"id": "y", "action": "block", "when": "ip_contry == \\"RU\\"", "reason": "r"}]}'
    )
    errors = check_rules_file(bad)
    assert any("rule 'x' field action" in e for e in errors)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert check_rules_file(broken)[0].startswith(f"{broken}: not a valid ruleset file")
    assert "cannot read" in check_rules_file(tmp_path / "missing.yaml")[0]
    typo = tmp_path / "typo.json"
    typo.write_text(
        '{"tenant": "demo", "version": "3", "rules": '
        '[{"id": "y", "action": "block", "when": "ip_contry == \\"RU\\"", "reason": "r"}]}'
    )
    assert check_rules_file(typo) == ["rule 'y': unknown attribute 'ip_contry' in condition"]


def test_default_ruleset_is_valid() -> None:
    assert default_ruleset().rules


def test_the_default_ruleset_compiles_without_a_yaml_parser() -> None:
    # A fresh interpreter: this test process has loaded PyYAML already.
    code = (
        "import sys; from functions.risk.domain.rules import default_ruleset; "
        "assert len(default_ruleset().rules) == 9; assert 'yaml' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_the_default_ruleset_as_a_yaml_file_is_the_same_ruleset(tmp_path: Path) -> None:
    text = yaml.safe_dump(DEFAULT_RULESET, sort_keys=False)
    assert load_ruleset_text(text) == parse_ruleset(DEFAULT_RULESET)
    assert load_ruleset_text(text).rules == default_ruleset().ruleset.rules
