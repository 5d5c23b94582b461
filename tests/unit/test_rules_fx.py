"""Money thresholds in every currency: FX rates as data in the rule set, exact conversion on each
currency's minor units, and an order the rules cannot compare held rather than waved through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models.address import Address
from models.currencies import minor_unit_exponent
from models.order import Customer, OrderLineIn, PlaceOrder
from models.rules import RuleOutcome, RuleSet
from omniroute.files.rule_files import RuleFileError, load_rules, parse_rules
from sourcing.rules import OrderFacts, evaluate, matches

DEMO_RULES = Path(__file__).resolve().parents[2] / "omniroute" / "demo" / "data" / "rules.yaml"
CHICAGO = Address(name="Ana", line1="1 Main St", city="Chicago", region="IL", postal_code="60601")
OVER_1000_USD = {"order_total_over": {"amount": 100_000, "currency": "USD"}}


def _facts(total: int, currency: str, channel: str = "web") -> OrderFacts:
    order = PlaceOrder(channel=channel, channel_order_id="R-1", currency=currency,
                       customer=Customer(email="ana@example.com", name="Ana"), ship_to=CHICAGO,
                       lines=[OrderLineIn(sku="MUG", quantity=1, unit_price=total)])
    return OrderFacts.of(order, {})


def _rules(when: dict[str, Any], fx_rates: dict[str, dict[str, str]] | None = None) -> RuleSet:
    return RuleSet.model_validate({
        "version": 1, "fx_rates": fx_rates or {},
        "rules": [{"id": "big", "description": "big orders", "when": when, "then": [{"hold": "big order"}]}],
    })


def _outcome(total: int, currency: str, eur_rate: str) -> RuleOutcome:
    return evaluate(_rules(OVER_1000_USD, {"USD": {"EUR": eur_rate}}), _facts(total, currency))


def _errors(text: str) -> list[str]:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(text)
    return [str(problem) for problem in caught.value.problems]


def test_a_500_000_eur_order_is_held_by_the_demo_rule_over_1000_usd_and_says_at_what_rate() -> None:
    outcome = evaluate(load_rules(DEMO_RULES), _facts(50_000_000, "EUR"))
    assert outcome.holds == ["order total over 1,000 USD"]
    assert str(outcome.fired[0]) == (
        "rule hold-high-value (Orders over 1,000 USD wait for a review): hold: order total over 1,000 USD because "
        "order total 500,000.00 EUR is 540,000.00 USD at 1.08 USD per EUR, threshold 1,000.00 USD")


def test_a_900_usd_order_is_not_held_and_a_1000_01_usd_order_is_without_any_conversion() -> None:
    demo = load_rules(DEMO_RULES)
    assert not evaluate(demo, _facts(90_000, "USD")).held
    held = evaluate(demo, _facts(100_001, "USD"))
    assert held.holds == ["order total over 1,000 USD"]
    assert held.fired[0].because == []


def test_900_eur_is_under_1000_usd_at_1_08_and_over_it_at_1_20() -> None:
    assert not _outcome(90_000, "EUR", "1.08").held  # 972.00 USD
    assert _outcome(90_000, "EUR", "1.20").holds == ["big order"]  # 1,080.00 USD


def test_the_threshold_is_strict_and_exact_below_a_cent() -> None:
    assert not _outcome(80_000, "EUR", "1.25").held  # exactly 1,000.00 USD is not over it
    assert _outcome(80_001, "EUR", "1.25").held  # 1,000.0125 USD
    assert not _outcome(92_592, "EUR", "1.08").held  # 999.9936 USD
    held = _outcome(92_593, "EUR", "1.08")  # 1,000.0044 USD: over, though it shows as 1,000.00
    assert held.held and "925.93 EUR is 1,000.00 USD at 1.08 USD per EUR" in held.fired[0].because[0]


def test_an_order_in_a_currency_without_a_rate_is_held_naming_the_currency() -> None:
    outcome = evaluate(load_rules(DEMO_RULES), _facts(1_000, "CHF"))
    assert outcome.holds == [
        "rule hold-high-value cannot be decided: the order is in CHF and there is no CHF rate to compare it with "
        "1,000.00 USD (fx_rates.USD.CHF)"]
    assert outcome.fired[0].actions == [f"hold: {outcome.holds[0]}"]
    assert outcome.max_shipments == 2  # the rules that could be decided still apply


def test_a_threshold_the_answer_does_not_depend_on_never_holds_an_order_it_cannot_compare() -> None:
    facts = _facts(1_000, "CHF", channel="web")
    assert matches(_rules({"all": [{"channel_in": ["pos"]}, OVER_1000_USD]}).rules[0].when, facts) is False
    assert matches(_rules({"any": [{"channel_in": ["web"]}, OVER_1000_USD]}).rules[0].when, facts) is True
    assert matches(_rules({"not": OVER_1000_USD}).rules[0].when, facts) is None
    assert not evaluate(_rules({"all": [{"channel_in": ["pos"]}, OVER_1000_USD]}), facts).held


def test_jpy_amounts_are_whole_yen_when_converted_either_way() -> None:
    to_usd = {"USD": {"JPY": "0.0067"}}
    held = evaluate(_rules(OVER_1000_USD, to_usd), _facts(150_000, "JPY"))  # 1,005.00 USD
    assert held.fired[0].because == [
        "order total 150,000 JPY is 1,005.00 USD at 0.0067 USD per JPY, threshold 1,000.00 USD"]
    assert not evaluate(_rules(OVER_1000_USD, to_usd), _facts(149_000, "JPY")).held  # 998.30 USD
    over_150_000_yen = {"order_total_over": {"amount": 150_000, "currency": "JPY"}}
    assert not evaluate(_rules(over_150_000_yen, {"JPY": {"USD": "150"}}), _facts(100_000, "USD")).held
    assert evaluate(_rules(over_150_000_yen, {"JPY": {"USD": "150"}}), _facts(100_001, "USD")).held


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_unit_exponent(code) for code in ("JPY", "USD", "EUR", "KWD", "HUF", "CLF")] == [0, 2, 2, 3, 2, 4]


def test_the_rules_refuse_bad_rates_and_unknown_currencies_naming_the_field() -> None:
    text = """
version: 1
fx_rates:
  USD: {EUR: "0", GBP: "-1.27", CAD: lots, EUX: "1.1"}
rules:
  - id: big
    description: big
    when: {order_total_over: {amount: 100000, currency: USX}}
    then: [{hold: big}]
"""
    assert _errors(text) == [
        "fx_rates.USD.EUR: Input should be greater than 0",
        "fx_rates.USD.GBP: Input should be greater than 0",
        "fx_rates.USD.CAD: Input should be a valid decimal",
        "fx_rates.USD.EUX: 'EUX' is not an ISO 4217 currency code",
        "rules[0].when.order_total_over.currency: 'USX' is not an ISO 4217 currency code",
    ]


def test_a_rate_from_a_currency_to_itself_is_refused() -> None:
    assert _errors("version: 1\nfx_rates: {USD: {USD: '1'}}\n") == [
        "fx_rates: a rate from USD to USD is always 1; leave USD out of fx_rates.USD"]
