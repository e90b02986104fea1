"""Screening rules in CEL (Common Expression Language), per tenant and business category.

A ruleset is versioned data (YAML or JSON, format in docs/risk.md). Each rule has an action
(``allow``, ``block`` or ``review``), a CEL condition over the signal vocabulary
(``signals.VOCABULARY``) and a reason template. Evaluation follows Stripe
Radar's precedence: any matching allow rule wins, then any block rule, then any review rule.

Everything that can be wrong with a rule is found by ``validate`` — before a ruleset is saved
or by ``ecomops risk check`` — never at screening time: syntax, attributes outside the
vocabulary (in the condition or the reason), unknown functions and type errors (every rule is
executed once against a sample of correctly typed attributes), and a non-boolean result.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.risk.domain.errors import RulesetInvalid
from functions.risk.domain.screening import Screening
from functions.risk.domain.signals import VOCABULARY

if TYPE_CHECKING:
    import cel
else:
    from functions.risk.domain.cel_engine import load_engine

    # The compiled engine alone, not the package's command line (cel_engine).
    cel = load_engine()

Action = Literal["allow", "block", "review"]
# A tenant keeps one ruleset per business category; "*" screens every category without its own.
ANY_CATEGORY = "*"
_CATEGORY = re.compile(r"^(\*|[a-z0-9][a-z0-9_-]{0,39})$")
_DEFAULT_SCORE: dict[Action, int] = {"allow": 0, "block": 100, "review": 60}
# CEL macros bind a loop variable (`x` in `list.exists(x, x > 1)`); CEL reports it as a
# variable, but it is not an attribute.
_MACRO_BINDING = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_SAMPLE: dict[str, Any] = {
    name: {"string": "", "int": 0, "bool": False}[kind] for name, (kind, _) in VOCABULARY.items()
}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    action: Action
    when: str = Field(min_length=1, description="CEL condition over the attribute vocabulary")
    reason: str = Field(min_length=1, description="text for the client team; {attribute} fills in")
    score: int | None = Field(default=None, ge=0, le=100)
    categories: tuple[str, ...] = Field(
        default=(), description="business categories it applies to; empty: all"
    )
    enabled: bool = True


class Ruleset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A file being drafted need not say whose or which version; saving fills both in.
    tenant: str = "draft"
    version: str = Field(default="draft", min_length=1)
    description: str = ""
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Match:
    rule_id: str
    action: Action
    reason: str
    score: int


@dataclass(frozen=True)
class Decision:
    decision: Action
    score: int
    reasons: tuple[str, ...]
    matched: tuple[Match, ...]
    ruleset_version: str
    errors: tuple[str, ...] = ()

    def to_screening(self, attributes: Mapping[str, Any]) -> Screening:
        """The shape the order lifecycle stores (``screening.Screening``)."""
        return Screening(
            decision=self.decision,
            score=self.score,
            reasons=self.reasons,
            signals=dict(attributes),
            ruleset_version=self.ruleset_version,
        )


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    program: cel.Program


@dataclass(frozen=True)
class CompiledRuleset:
    ruleset: Ruleset
    rules: tuple[_Compiled, ...]

    @property
    def version(self) -> str:
        return f"{self.ruleset.tenant}/{self.ruleset.version}"


def _rule_errors(rule: Rule) -> tuple[list[str], cel.Program | None]:
    name = f"rule {rule.id!r}"
    try:
        program = cel.compile(rule.when)
    except (ValueError, RuntimeError) as error:
        first = str(error).splitlines()[0]
        return [f"{name}: condition does not compile: {first}"], None
    errors = []
    bound = set(_MACRO_BINDING.findall(rule.when))
    for variable in program.variables():
        if variable not in VOCABULARY and variable not in bound:
            errors.append(f"{name}: unknown attribute {variable!r} in condition")
    fields = {f for _, f, _, _ in string.Formatter().parse(rule.reason) if f is not None}
    for placeholder in sorted(fields):
        if placeholder not in VOCABULARY:
            errors.append(f"{name}: unknown attribute {placeholder!r} in reason")
    if errors:
        return errors, None
    try:
        result = program.execute(_SAMPLE)
    except (TypeError, ValueError, RuntimeError) as error:
        return [f"{name}: condition fails on typed attributes: {error}"], None
    if not isinstance(result, bool):
        return [f"{name}: condition must be true or false, not {type(result).__name__}"], None
    return [], program


def compile_ruleset(ruleset: Ruleset) -> CompiledRuleset:
    """Compile every enabled rule, or raise ``RulesetInvalid`` listing every problem."""
    errors: list[str] = []
    compiled: list[_Compiled] = []
    seen: set[str] = set()
    for rule in ruleset.rules:
        if rule.id in seen:
            errors.append(f"rule {rule.id!r}: duplicate id")
        seen.add(rule.id)
        problems, program = _rule_errors(rule)
        errors.extend(problems)
        if program is not None and rule.enabled:
            compiled.append(_Compiled(rule, program))
    if errors:
        raise RulesetInvalid(errors)
    return CompiledRuleset(ruleset, tuple(compiled))


def validate(ruleset: Ruleset) -> list[str]:
    """The save-time check: an empty list means the ruleset may be stored and used."""
    try:
        compile_ruleset(ruleset)
    except RulesetInvalid as invalid:
        return invalid.errors
    return []


def parse_ruleset(data: Mapping[str, Any]) -> Ruleset:
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        messages = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            rules = data.get("rules")
            loc = problem["loc"]
            if len(loc) > 1 and loc[0] == "rules" and isinstance(loc[1], int):
                rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else {}
                label = rule.get("id") if isinstance(rule, dict) else None
                where = f"rule {label or '#' + str(loc[1])!r} field {'.'.join(map(str, loc[2:]))}"
            messages.append(f"{where}: {problem['msg']}")
        raise RulesetInvalid(messages) from error


def load_ruleset_text(text: str, suffix: str = ".yaml") -> Ruleset:
    if suffix in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise RulesetInvalid(["ruleset: expected a mapping with tenant, version and rules"])
    return parse_ruleset(data)


def load_ruleset(path: str | Path) -> CompiledRuleset:
    path = Path(path)
    return compile_ruleset(load_ruleset_text(path.read_text(), path.suffix.lower()))


def check_rules_file(path: str | Path) -> list[str]:
    """Entry point for ``ecomops risk check --rules FILE``: the errors, empty when valid."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        return [f"{path}: cannot read: {error.strerror}"]
    try:
        ruleset = load_ruleset_text(text, path.suffix.lower())
    except RulesetInvalid as invalid:
        return invalid.errors
    except ValueError as error:  # JSON and YAML syntax errors
        return [f"{path}: not a valid ruleset file: {error}"]
    return validate(ruleset)


def _reason(rule: Rule, attributes: Mapping[str, Any]) -> str:
    try:
        return rule.reason.format_map(attributes)
    except (KeyError, ValueError, IndexError):
        return rule.reason


def evaluate(ruleset: CompiledRuleset, attributes: Mapping[str, Any]) -> Decision:
    """Decide on one order's attributes (``signals.compute``'s output)."""
    category = attributes.get("category", "")
    context = cel.Context(dict(attributes))
    matched: dict[Action, list[Match]] = {"allow": [], "block": [], "review": []}
    errors: list[str] = []
    for compiled in ruleset.rules:
        rule = compiled.rule
        if rule.categories and category not in rule.categories:
            continue
        try:
            hit = compiled.program.execute(context)
        except (TypeError, ValueError, RuntimeError) as error:
            # Validation makes this unreachable for vocabulary-typed attributes; if it happens
            # anyway the rule is skipped and the order held, not screened on partial rules.
            errors.append(f"rule {rule.id!r}: {error}")
            continue
        if hit is True:
            score = rule.score if rule.score is not None else _DEFAULT_SCORE[rule.action]
            matched[rule.action].append(
                Match(rule.id, rule.action, _reason(rule, attributes), score)
            )
    version = ruleset.version
    order: tuple[Action, ...] = ("allow", "block", "review")
    for action in order:
        hits = matched[action]
        if hits:
            # Allow overrides everything, so its score is the lowest of its rules'.
            pick = min if action == "allow" else max
            return Decision(
                decision=action,
                score=pick(m.score for m in hits),
                reasons=tuple(m.reason for m in hits),
                matched=tuple(hits),
                ruleset_version=version,
                errors=tuple(errors),
            )
    if errors:
        return Decision(
            "review", 50, ("a rule could not be evaluated",), (), version, tuple(errors)
        )
    return Decision("allow", 0, (), (), version)


# The starting rules of a tenant with none stored, as data: screening such a tenant compiles
# them without a YAML parser (importing PyYAML and parsing was ~110 M instructions, an eighth
# of a first screening's own work). A rules file of this shape, in YAML or JSON, loads with
# ``load_ruleset``.
DEFAULT_RULESET: dict[str, Any] = {
    "tenant": "default",
    "version": "1",
    "description": "Starting rules for a new client shop; tune per tenant with a backtest.",
    "rules": [
        {
            "id": "allow-trusted",
            "action": "allow",
            "when": (
                "email_allowed || card_allowed"
                " || (customer_orders >= 5 && customer_chargebacks == 0)"
            ),
            "reason": "trusted customer or allow-listed",
        },
        {
            "id": "block-lists",
            "action": "block",
            "when": "email_blocked || ip_blocked || card_blocked || country_blocked",
            "reason": "on the tenant's block list",
        },
        {
            "id": "block-card-testing",
            "action": "block",
            "when": "card_orders_1h >= 5 || (ip_orders_1h >= 10 && amount < 1000)",
            "reason": (
                "card testing: card used {card_orders_1h} times, IP {ip_orders_1h} times this hour"
            ),
        },
        {
            "id": "block-amount",
            "action": "block",
            "when": "amount_over_block",
            "reason": "amount {amount} over the block threshold {amount_block_threshold}",
        },
        {
            "id": "block-prior-chargeback",
            "action": "block",
            "when": "customer_chargebacks > 0 || customer_fraud_decisions > 0",
            "reason": "customer has {customer_chargebacks} earlier chargebacks",
        },
        {
            "id": "review-geo-mismatch",
            "action": "review",
            "when": "ip_billing_mismatch && billing_shipping_mismatch",
            "reason": (
                "IP in {ip_country}, billing in {billing_country}, shipping to {shipping_country}"
            ),
            "score": 75,
        },
        {
            "id": "review-disposable-email",
            "action": "review",
            "when": "email_disposable && customer_first_order",
            "reason": "first order from a disposable e-mail domain ({email_domain})",
            "score": 70,
        },
        {
            "id": "review-amount",
            "action": "review",
            "when": "amount_over_review",
            "reason": "amount {amount} over the review threshold {amount_review_threshold}",
        },
        {
            "id": "review-velocity",
            "action": "review",
            "when": "email_orders_1d >= 5 || shipping_orders_1d >= 8",
            "reason": "{email_orders_1d} orders from this e-mail today",
        },
    ],
}


def is_category(category: str) -> bool:
    return bool(_CATEGORY.fullmatch(category))


def check_category(category: str) -> str:
    if not is_category(category):
        raise ValueError(
            f"business category {category!r}: lower-case letters, digits, '-' or '_', or '*'"
        )
    return category


def version_label(category: str, version: int) -> str:
    """How a stored version reads on every screening (``<tenant>/<label>``)."""
    return f"v{version}" if category == ANY_CATEGORY else f"{category}-v{version}"


@cache
def default_ruleset() -> CompiledRuleset:
    return compile_ruleset(parse_ruleset(DEFAULT_RULESET))
