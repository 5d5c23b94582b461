"""Order rules: each predicate and combinator on hand-made orders, merging, the effect on a sourcing
problem, validation errors by field path, and the demo rule file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from models.address import Address
from models.costs import ServiceLevel
from models.network import Node, NodeKind
from models.order import Customer, OrderLineIn, PlaceOrder
from models.rules import Condition, NodeSelector, RuleOutcome, RuleSet
from models.shipment import ShipmentLine
from omniroute.files.rule_files import RuleFileError, RuleFormat, dump_rules, load_rules, parse_rules
from sourcing.problem import Assignment, PricedCandidate, SourcingProblem, objective_of
from sourcing.rules import OrderFacts, apply_to_problem, evaluate, matches
from tests.fixtures.sourcing import VENDOR_PROVIDER

DEMO_RULES = Path(__file__).resolve().parents[2] / "omniroute" / "demo" / "data" / "rules.yaml"
CHICAGO = Address(name="Ana", line1="1 Main St", city="Chicago", region="IL", postal_code="60601")
TAGS = {"LIGHTER": ["hazmat", "small"], "MUG": ["fragile"]}

DC = Node(node_id="dc-1", name="DC", kind=NodeKind.DC, region="IL", postal_code="60436")
STORE = Node(node_id="store-1", name="Store", kind=NodeKind.STORE, region="NY", postal_code="11201")
THREE_PL = Node(node_id="3pl-1", name="3PL", kind=NodeKind.THREE_PL, region="TN", postal_code="38118")
VENDOR = Node(node_id="vendor-1", name="Vendor", kind=NodeKind.DROPSHIP, region="CA", postal_code="91761",
              provider=VENDOR_PROVIDER)
NODES = {node.node_id: node for node in (DC, STORE, THREE_PL, VENDOR)}

_condition = TypeAdapter(Condition)


def _order(*lines: tuple[str, int, int], channel: str = "web", ship_to: Address = CHICAGO, currency: str = "USD",
           service_level: ServiceLevel = ServiceLevel.STANDARD) -> PlaceOrder:
    lines = lines or (("MUG", 1, 1000),)
    return PlaceOrder(channel=channel, channel_order_id="R-1", currency=currency,
                      customer=Customer(email="ana@example.com", name="Ana"), ship_to=ship_to,
                      lines=[OrderLineIn(sku=sku, quantity=q, unit_price=p) for sku, q, p in lines],
                      service_level=service_level)


def _facts(order: PlaceOrder | None = None, **extra: Any) -> OrderFacts:
    return OrderFacts.of(order or _order(), TAGS, **extra)


def _holds(condition: dict[str, Any], facts: OrderFacts) -> bool:
    return matches(_condition.validate_python(condition), facts)


def _rule(rule_id: str, when: dict[str, Any], *then: dict[str, Any], enabled: bool = True) -> dict[str, Any]:
    return {"id": rule_id, "description": f"rule {rule_id}", "enabled": enabled, "when": when, "then": list(then)}


def _rule_set(*rules: dict[str, Any]) -> RuleSet:
    return RuleSet.model_validate({"version": 1, "rules": list(rules)})


# ---- predicates -------------------------------------------------------------------------------


def test_order_total_over_is_strict_and_cannot_tell_another_currency_without_a_rate() -> None:
    facts = _facts(_order(("MUG", 2, 50_000)))  # 1,000.00 USD exactly
    assert not _holds({"order_total_over": {"amount": 100_000, "currency": "USD"}}, facts)
    assert _holds({"order_total_over": {"amount": 99_999, "currency": "USD"}}, facts)
    assert matches(_condition.validate_python({"order_total_over": {"amount": 1, "currency": "EUR"}}), facts) is None


def test_channel_in_matches_the_order_channel() -> None:
    facts = _facts(_order(channel="marketplace"))
    assert _holds({"channel_in": ["web", "marketplace"]}, facts)
    assert not _holds({"channel_in": ["web"]}, facts)


def test_ship_to_country_region_and_postal_prefix() -> None:
    toronto = Address(name="Bo", line1="1 King St W", city="Toronto", region="ON", country="CA", postal_code="M5H 1A1")
    assert _holds({"ship_to_country_in": ["CA"]}, _facts(_order(ship_to=toronto)))
    assert not _holds({"ship_to_country_in": ["CA"]}, _facts())
    assert _holds({"ship_to_region_in": ["il", "WI"]}, _facts())
    assert not _holds({"ship_to_region_in": ["NY"]}, _facts())
    assert _holds({"ship_to_postal_prefix_in": ["100", "606"]}, _facts())
    assert not _holds({"ship_to_postal_prefix_in": ["6061"]}, _facts())
    assert _holds({"ship_to_postal_prefix_in": ["m5h"]}, _facts(_order(ship_to=toronto)))


def test_shipping_method_is_the_channel_name_ignoring_case_else_the_order_service_level() -> None:
    assert _holds({"shipping_method_in": ["express"]}, _facts(shipping_method="Express"))
    assert not _holds({"shipping_method_in": ["Two Day"]}, _facts(shipping_method="Express"))
    next_day = _order(service_level=ServiceLevel.NEXT_DAY)
    assert _holds({"shipping_method_in": ["Next_Day"]}, _facts(next_day))
    named = next_day.model_copy(update={"shipping_method": "Overnight Express"})
    assert _holds({"shipping_method_in": ["overnight express"]}, _facts(named))


def test_sku_and_sku_tag_match_any_line() -> None:
    facts = _facts(_order(("MUG", 1, 1000), ("LIGHTER", 1, 500)))
    assert _holds({"sku_in": ["LIGHTER"]}, facts)
    assert not _holds({"sku_in": ["TENT"]}, facts)
    assert _holds({"sku_tag_in": ["hazmat"]}, facts)
    assert not _holds({"sku_tag_in": ["hazmat"]}, _facts(_order(("MUG", 1, 1000), ("TENT", 1, 500))))


def test_line_count_and_units_over_are_strict() -> None:
    facts = _facts(_order(("MUG", 2, 1000), ("LIGHTER", 1, 500)))  # 2 lines, 3 units
    assert _holds({"line_count_over": 1}, facts) and not _holds({"line_count_over": 2}, facts)
    assert _holds({"units_over": 2}, facts) and not _holds({"units_over": 3}, facts)


def test_attribute_equals_needs_every_pair_and_compares_as_text_ignoring_case() -> None:
    facts = _facts(attributes={"fraud_risk": "HIGH", "gift": "true"})
    assert _holds({"attribute_equals": {"fraud_risk": "high"}}, facts)
    assert _holds({"attribute_equals": {"gift": True, "fraud_risk": "high"}}, facts)
    assert not _holds({"attribute_equals": {"gift": True, "fraud_risk": "low"}}, facts)
    assert not _holds({"attribute_equals": {"vip": "yes"}}, facts)


def test_billing_mismatch_from_a_billing_address_or_else_the_channel_flag() -> None:
    same_place = CHICAGO.model_copy(update={"name": "Ana Billing", "line1": "1  MAIN st"})
    elsewhere = Address(name="Ana", line1="9 Elm St", city="Boston", region="MA", postal_code="02108")
    assert not _holds({"billing_shipping_mismatch": True}, _facts(bill_to=same_place))
    assert _holds({"billing_shipping_mismatch": False}, _facts(bill_to=same_place))
    assert _holds({"billing_shipping_mismatch": True}, _facts(bill_to=elsewhere))
    assert _holds({"billing_shipping_mismatch": True}, _facts(attributes={"billing_shipping_mismatch": "yes"}))
    assert not _holds({"billing_shipping_mismatch": True}, _facts())


# ---- combinators ------------------------------------------------------------------------------

WEB = {"channel_in": ["web"]}
POS = {"channel_in": ["pos"]}


@pytest.mark.parametrize(("condition", "expected"), [
    ({"all": [WEB, {"ship_to_region_in": ["IL"]}]}, True),
    ({"all": [WEB, POS]}, False),
    ({"any": [POS, WEB]}, True),
    ({"any": [POS, {"channel_in": ["marketplace"]}]}, False),
    ({"not": POS}, True),
    ({"not": WEB}, False),
    ({"not": {"not": WEB}}, True),
    ({"any": [{"all": [WEB, {"not": {"sku_in": ["MUG"]}}]}, {"always": True}]}, True),
    ({"all": [{"any": [POS, WEB]}, {"not": {"units_over": 0}}]}, False),
])
def test_combinators_compose(condition: dict[str, Any], expected: bool) -> None:
    assert _holds(condition, _facts()) is expected


# ---- evaluation and merging -------------------------------------------------------------------


def test_every_enabled_rule_that_holds_fires_in_file_order_and_is_recorded() -> None:
    rules = _rule_set(
        _rule("big", {"units_over": 0}, {"hold": "check it"}, {"max_shipments": 1}),
        _rule("off", {"always": True}, {"hold": "never"}, enabled=False),
        _rule("pos-only", POS, {"hold": "pos"}),
        _rule("web", WEB, {"exclude_nodes": {"kinds": ["store"], "regions": ["ny"]}},
              {"prefer_nodes": {"node_ids": ["dc-1"], "bonus_cents": 250}}, {"ship_complete": True}),
    )
    outcome = evaluate(rules, _facts())
    assert outcome.holds == ["check it"] and outcome.held
    assert [f.rule_id for f in outcome.fired] == ["big", "web"]
    assert outcome.fired[0].actions == ["hold: check it", "at most 1 shipment"]
    assert outcome.fired[1].actions == ["exclude nodes: kind store and region ny",
                                        "prefer nodes: id dc-1 (250 cents off per shipment)", "ship complete"]
    assert str(outcome.fired[0]) == "rule big (rule big): hold: check it; at most 1 shipment"
    assert outcome.ship_complete and outcome.max_shipments == 1


def test_smallest_shipment_cap_fastest_service_level_and_first_backorder_policy_win() -> None:
    first = _rule("a", WEB, {"max_shipments": 3}, {"service_level": "two_day"}, {"backorder_policy": "cancel"})
    second = _rule("b", WEB, {"max_shipments": 2}, {"service_level": "next_day"}, {"backorder_policy": "backorder"})
    third = _rule("c", WEB, {"service_level": "standard"})
    forward = evaluate(_rule_set(first, second, third), _facts())
    backward = evaluate(_rule_set(third, second, first), _facts())
    assert (forward.max_shipments, forward.service_level, forward.backorder_policy) == (2, "next_day", "cancel")
    assert (backward.max_shipments, backward.service_level, backward.backorder_policy) == (2, "next_day", "backorder")


def test_exclusions_select_on_every_criterion_given_and_preferences_add_up() -> None:
    outcome = evaluate(_rule_set(
        _rule("no-ny-stores", WEB, {"exclude_nodes": {"kinds": ["store"], "regions": ["NY"]}}),
        _rule("no-cold-chain", WEB, {"exclude_nodes": {"tags": ["cold-chain"]}}),
        _rule("dcs", WEB, {"prefer_nodes": {"kinds": ["dc"], "bonus_cents": 100}}),
        _rule("il", WEB, {"prefer_nodes": {"regions": ["il"], "bonus_cents": 40}}),
    ), _facts())
    assert not outcome.allows(STORE)
    assert outcome.allows(STORE.model_copy(update={"region": "NJ"}))
    assert outcome.allows(THREE_PL) and not outcome.allows(THREE_PL, frozenset({"cold-chain"}))
    assert outcome.preference_bonus(DC) == 140.0
    assert outcome.preference_bonus(VENDOR) == 0.0


def test_a_selector_matches_ids_kinds_regions_and_tags_together() -> None:
    selector = NodeSelector(node_ids=["dc-1", "store-1"], kinds=[NodeKind.DC], tags=["bulky"])
    assert selector.matches(DC, frozenset({"bulky"}))
    assert not selector.matches(DC)
    assert not selector.matches(STORE, frozenset({"bulky"}))


# ---- the outcome applied to a sourcing problem ------------------------------------------------


def _problem(**extra: Any) -> SourcingProblem:
    return SourcingProblem(
        order_id="web-R-1",
        lines=[ShipmentLine(line_no=1, sku="MUG", quantity=1)],
        candidates=[PricedCandidate(node_id=node_id, service="ground", distance_km=100.0, shipment_cost=cost,
                                    unit_cost={"MUG": 10.0}, atp={"MUG": 5})
                    for node_id, cost in (("dc-1", 900.0), ("store-1", 700.0), ("3pl-1", 300.0), ("vendor-1", 800.0))],
        **extra,
    )


def test_apply_removes_excluded_nodes_takes_the_bonus_off_and_tightens_the_limits() -> None:
    outcome = evaluate(_rule_set(
        _rule("no-stores", WEB, {"exclude_nodes": {"kinds": ["store"]}}, {"max_shipments": 2}),
        _rule("dc", WEB, {"prefer_nodes": {"node_ids": ["dc-1"], "bonus_cents": 500}}),
        _rule("dc-too", WEB, {"prefer_nodes": {"kinds": ["dc"], "bonus_cents": 600}}),
        _rule("bulky", WEB, {"prefer_nodes": {"tags": ["bulky"], "bonus_cents": 50}}, {"ship_complete": True}),
    ), _facts())
    problem = _problem(max_shipments=3)
    applied = apply_to_problem(outcome, problem, NODES, {"vendor-1": ["bulky"]})
    costs = {c.node_id: c.shipment_cost for c in applied.candidates}
    assert costs == {"dc-1": 0.0, "3pl-1": 300.0, "vendor-1": 750.0}
    assert applied.ship_complete and applied.max_shipments == 2
    assert [c.node_id for c in problem.candidates] == ["dc-1", "store-1", "3pl-1", "vendor-1"]
    assert problem.max_shipments == 3 and not problem.ship_complete
    one_from_vendor = [Assignment(line_no=1, sku="MUG", node_id="vendor-1", quantity=1)]
    assert objective_of(problem, one_from_vendor, {}) - objective_of(applied, one_from_vendor, {}) == 50.0


def test_apply_never_loosens_what_the_problem_already_asks() -> None:
    outcome = evaluate(_rule_set(_rule("cap", WEB, {"max_shipments": 4})), _facts())
    applied = apply_to_problem(outcome, _problem(max_shipments=1, ship_complete=True), NODES)
    assert applied.max_shipments == 1 and applied.ship_complete


def test_apply_refuses_a_candidate_outside_the_network_given() -> None:
    with pytest.raises(ValueError, match="'store-1' is not in the network"):
        apply_to_problem(RuleOutcome(), _problem(), {"dc-1": DC})


# ---- validation errors name the field path ----------------------------------------------------


def _errors(text: str, *, format: RuleFormat = "yaml") -> list[str]:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(text, format=format, source="rules.yaml")
    assert str(caught.value).startswith("rules.yaml: ")
    return [str(problem) for problem in caught.value.problems]


GOOD_RULE = """
  - id: ok
    description: fine
    when: {always: true}
    then: [{hold: look}]
"""


def test_a_negative_amount_deep_in_a_condition_is_named_by_its_path() -> None:
    text = "version: 1\nrules:\n" + GOOD_RULE + GOOD_RULE.replace("ok", "ok2") + """
  - id: big
    description: big
    when:
      all:
        - channel_in: [web]
        - order_total_over: {amount: -1, currency: USD}
    then: [{hold: big}]
"""
    assert _errors(text) == ["rules[2].when.all[1].order_total_over.amount: Input should be greater than or equal to 0"]


def test_unknown_keys_are_named_where_they_stand() -> None:
    text = """
version: 1
rules:
  - id: a
    description: a
    colour: red
    when: {any: [{channel_in: [web]}, {chanel_in: [pos]}]}
    then: [{hold: x}, {exclude_nodes: {kinds: [store], zone: 3}}]
"""
    condition, selector, rule = _errors(text)
    assert condition.startswith("rules[0].when.any[1]: a condition is a mapping with exactly one key: all, any, not")
    assert condition.endswith("(got keys chanel_in)")
    assert selector == "rules[0].then[1].exclude_nodes.zone: Extra inputs are not permitted"
    assert rule == "rules[0].colour: Extra inputs are not permitted"


def test_a_bad_service_level_a_zero_cap_and_an_empty_selector_are_refused() -> None:
    text = """
version: 1
rules:
  - id: a
    description: a
    when: {not: {always: true}}
    then: [{service_level: same_day}, {max_shipments: 0}, {prefer_nodes: {bonus_cents: 5}}, {}]
"""
    assert _errors(text) == [
        "rules[0].then[0].service_level: Input should be 'standard', 'two_day' or 'next_day'",
        "rules[0].then[1].max_shipments: Input should be greater than or equal to 1",
        "rules[0].then[2].prefer_nodes: a node selector needs at least one of node_ids, kinds, regions, tags",
        "rules[0].then[3]: an action is a mapping with exactly one key: hold, exclude_nodes, prefer_nodes, "
        "ship_complete, max_shipments, service_level, backorder_policy or pickup_fallback (got an empty mapping)",
    ]


def test_the_first_pickup_fallback_wins_and_an_unknown_one_is_refused_naming_it() -> None:
    ship = _rule("ship", WEB, {"pickup_fallback": "ship"})
    stores = _rule("stores", WEB, {"pickup_fallback": "another_store"})
    assert evaluate(_rule_set(ship, stores), _facts()).pickup_fallback == "ship"
    assert evaluate(_rule_set(stores, ship), _facts()).pickup_fallback == "another_store"
    outcome = evaluate(_rule_set(ship), _facts())
    assert outcome.fired[0].actions == ["a pickup no store can fill ships to the customer"]
    assert evaluate(_rule_set(), _facts()).pickup_fallback is None
    text = "version: 1\nrules:\n  - {id: a, description: a, when: {always: true}, then: [{pickup_fallback: dc}]}\n"
    assert _errors(text) == ["rules[0].then[0].pickup_fallback: Input should be 'another_store' or 'ship'"]


def test_a_rule_id_used_twice_is_refused() -> None:
    text = "version: 1\nrules:\n" + GOOD_RULE + GOOD_RULE.replace("ok", "other") + GOOD_RULE
    assert _errors(text) == ["rules: rule id 'ok' is used by rules[0] and rules[2]"]


def test_syntax_errors_duplicate_keys_and_empty_documents_are_reported_by_position() -> None:
    assert _errors("version: 1\nrules:\n  - id: a\n    id: b\n") == ["line 4, column 5: found key 'id' twice"]
    assert _errors("version: 1\nrules: [\n")[0].startswith("line 3, column 1: ")
    assert _errors("") == ["(top level): empty document; expected version and rules"]
    assert _errors('{"version": 1,\n "rules": [}', format="json")[0].startswith("line 2, column 12: ")
    assert _errors('{"version": 1, "version": 1}', format="json") == ["JSON: found key 'version' twice in one object"]
    assert _errors('{"version": 2, "rules": []}', format="json") == ["version: Input should be 1"]


def test_yaml_tags_cannot_build_objects_or_run_code() -> None:
    errors = _errors('version: 1\nrules: !!python/object/apply:os.getcwd []\n')
    assert errors[0].startswith("line 2, column 8: could not determine a constructor")


def test_load_rules_names_the_file_and_refuses_an_unknown_extension(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text("version: 1\nrules:\n  - id: a\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(bad)
    assert str(caught.value) == (f"{bad}: 3 problems in the rules\n  rules[0].description: Field required\n"
                                 "  rules[0].when: Field required\n  rules[0].then: Field required")
    with pytest.raises(RuleFileError, match="end in .yaml, .yml or .json"):
        load_rules(tmp_path / "rules.txt")


# ---- the demo rule file -----------------------------------------------------------------------


def test_the_demo_rules_round_trip_through_yaml_and_json(tmp_path: Path) -> None:
    demo = load_rules(DEMO_RULES)
    assert parse_rules(dump_rules(demo)) == demo
    as_json = tmp_path / "rules.json"
    as_json.write_text(dump_rules(demo, format="json"), encoding="utf-8")
    assert load_rules(as_json) == demo


def test_the_demo_rules_on_a_risky_marketplace_gift() -> None:
    order = _order(("LIGHTER", 1, 30_000), channel="marketplace")
    outcome = evaluate(load_rules(DEMO_RULES), _facts(order, shipping_method="Express", attributes={
        "gift": "true", "fraud_risk": "high", "billing_shipping_mismatch": "true"}))
    assert [f.rule_id for f in outcome.fired] == [
        "hold-fraud-risk", "hold-billing-mismatch", "marketplace-not-from-stores", "hazmat-from-dcs-only",
        "express-is-next-day", "gifts-ship-complete", "backorder-by-default"]
    assert outcome.holds == ["channel fraud screen rates the order high risk",
                             "billing and shipping addresses differ on an order over 250 USD"]
    assert [node for node in NODES.values() if outcome.allows(node)] == [DC]
    assert (outcome.service_level, outcome.backorder_policy, outcome.ship_complete) == ("next_day", "cancel", True)
    assert outcome.max_shipments is None


def test_the_demo_rules_hold_a_web_order_over_a_thousand_dollars_and_cap_its_shipments() -> None:
    outcome = evaluate(load_rules(DEMO_RULES), _facts(_order(("MUG", 3, 40_000))))
    assert outcome.holds == ["order total over 1,000 USD"]
    assert outcome.max_shipments == 2 and outcome.backorder_policy == "backorder"
    assert outcome.service_level is None and all(outcome.allows(node) for node in NODES.values())


# ---- properties -------------------------------------------------------------------------------

_LEAVES = st.sampled_from([
    {"always": True}, WEB, POS, {"units_over": 1}, {"line_count_over": 0}, {"sku_tag_in": ["hazmat"]},
    {"order_total_over": {"amount": 5000, "currency": "USD"}}, {"ship_to_region_in": ["IL"]},
    {"attribute_equals": {"gift": True}}, {"billing_shipping_mismatch": False},
])
_CONDITIONS = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
    st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
    inner.map(lambda part: {"not": part}),
), max_leaves=6)
_ACTIONS = st.lists(st.sampled_from([
    {"hold": "look"}, {"exclude_nodes": {"kinds": ["store", "dc"]}}, {"ship_complete": True},
    {"prefer_nodes": {"regions": ["IL"], "bonus_cents": 999}}, {"max_shipments": 1},
    {"service_level": "next_day"}, {"backorder_policy": "cancel"},
]), min_size=1, max_size=3)
_ORDERS = st.builds(
    lambda channel, units, price, gift: (
        _order(("MUG", units, price), ("LIGHTER", 1, price), channel=channel), {"gift": "true" if gift else "no"}),
    st.sampled_from(["web", "pos", "marketplace"]), st.integers(1, 5), st.integers(0, 10_000), st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(whens=st.lists(st.tuples(_CONDITIONS, _ACTIONS), max_size=5), order=_ORDERS)
def test_a_rule_set_with_no_enabled_rules_changes_nothing(
    whens: list[tuple[dict[str, Any], list[dict[str, Any]]]], order: tuple[PlaceOrder, dict[str, str]],
) -> None:
    rules = _rule_set(*(_rule(f"r{i}", when, *then, enabled=False) for i, (when, then) in enumerate(whens)))
    outcome = evaluate(rules, _facts(order[0], attributes=order[1]))
    assert outcome == RuleOutcome()
    problem = _problem()
    assert apply_to_problem(outcome, problem, NODES) == problem


@settings(max_examples=60, deadline=None)
@given(whens=st.lists(st.tuples(_CONDITIONS, _ACTIONS), max_size=5), order=_ORDERS)
def test_rules_only_remove_candidates_and_never_raise_a_cost(
    whens: list[tuple[dict[str, Any], list[dict[str, Any]]]], order: tuple[PlaceOrder, dict[str, str]],
) -> None:
    rules = _rule_set(*(_rule(f"r{i}", when, *then) for i, (when, then) in enumerate(whens)))
    outcome = evaluate(rules, _facts(order[0], attributes=order[1]))
    problem = _problem()
    before = {c.node_id: c.shipment_cost for c in problem.candidates}
    after = {c.node_id: c.shipment_cost for c in apply_to_problem(outcome, problem, NODES).candidates}
    assert set(after) <= set(before) and all(0 <= after[n] <= before[n] for n in after)
    assert len(outcome.fired) <= len(whens)
