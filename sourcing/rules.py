"""Order rules at work: which rules an order fires, their merged outcome, and its effect on sourcing.

Pure and deterministic: an order's facts and a `RuleSet` in, a `RuleOutcome` out; an outcome and a
`SourcingProblem` in, a narrowed problem out. Loading rule files is `omniroute.files.rule_files`' job.

Rules are evaluated in file order and every enabled rule whose condition holds fires (there is no
"first match stops"). Their actions merge as follows:

- hold: every reason is kept, in rule order; any hold holds the order.
- exclude_nodes: a node any fired rule excludes is not a candidate.
- prefer_nodes: bonuses add up over every preference that selects a node.
- ship_complete: any rule asking for it wins.
- max_shipments: the smallest asked.
- service_level: the fastest asked (next_day > two_day > standard), so no rule can slow an order
  another rule sped up, and the answer does not depend on rule order.
- backorder_policy: the first fired rule (in file order) that sets one; later ones are recorded as
  fired but do not change it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.network import Node
from models.order import PlaceOrder
from models.rules import (
    SERVICE_LEVEL_SPEED,
    Action,
    AllOf,
    Always,
    AnyOf,
    AttributeEquals,
    BackorderPolicy,
    BillingShippingMismatch,
    ChannelIn,
    Condition,
    ExcludeNodes,
    FiredRule,
    Hold,
    LineCountOver,
    MaxShipments,
    NodeSelector,
    Not,
    OrderTotalOver,
    Preference,
    PreferNodes,
    RuleOutcome,
    RuleSet,
    ServiceLevelName,
    SetBackorderPolicy,
    SetServiceLevel,
    ShipComplete,
    ShippingMethodIn,
    ShipToCountryIn,
    ShipToPostalPrefixIn,
    ShipToRegionIn,
    SkuIn,
    SkuTagIn,
    UnitsOver,
)
from sourcing.problem import SourcingProblem

__all__ = ["FiredRule", "OrderFacts", "RuleOutcome", "apply_to_problem", "describe", "evaluate", "matches"]

MISMATCH_ATTRIBUTE = "billing_shipping_mismatch"
_TRUE_WORDS = frozenset({"true", "yes", "1"})


class OrderFacts(BaseModel):
    """What rules may look at in one order, flattened once so that evaluation is plain lookups."""

    model_config = ConfigDict(frozen=True)

    channel: str
    currency: str
    total: int = Field(description="order total in minor units")
    ship_to_country: str
    ship_to_region: str
    ship_to_postal_code: str
    shipping_method: str
    skus: frozenset[str]
    sku_tags: frozenset[str] = Field(description="every tag of every SKU on the order")
    line_count: int
    units: int
    attributes: dict[str, str] = Field(default_factory=dict)
    billing_mismatch: bool = False

    @classmethod
    def of(
        cls,
        order: PlaceOrder,
        sku_tags: Mapping[str, Sequence[str]],
        *,
        attributes: Mapping[str, str] | None = None,
        shipping_method: str | None = None,
        bill_to: Address | None = None,
    ) -> OrderFacts:
        """Facts of `order`, with the catalogue's tags per SKU and what the channel sent besides the order.

        `shipping_method` is the channel's method name ("Express"), by default the order's own; without
        one the order's service level stands in. `attributes` and `bill_to` default to the order's. The
        billing mismatch compares `bill_to` with the ship-to address when there is one, else reads the
        channel's `billing_shipping_mismatch` attribute ("true"/"yes"/"1").
        """
        attrs = dict(order.attributes if attributes is None else attributes)
        shipping_method = order.shipping_method if shipping_method is None else shipping_method
        bill_to = order.bill_to if bill_to is None else bill_to
        if bill_to is not None:
            mismatch = _address_key(bill_to) != _address_key(order.ship_to)
        else:
            mismatch = attrs.get(MISMATCH_ATTRIBUTE, "").strip().lower() in _TRUE_WORDS
        skus = frozenset(line.sku for line in order.lines)
        return cls(
            channel=order.channel,
            currency=order.currency,
            total=order.total.amount,
            ship_to_country=order.ship_to.country,
            ship_to_region=order.ship_to.region.strip().upper(),
            ship_to_postal_code=(order.ship_to.postal_code or "").strip().upper(),
            shipping_method=shipping_method if shipping_method is not None else order.service_level.value,
            skus=skus,
            sku_tags=frozenset(tag for sku in skus for tag in sku_tags.get(sku, ())),
            line_count=len(order.lines),
            units=sum(line.quantity for line in order.lines),
            attributes=attrs,
            billing_mismatch=mismatch,
        )


def _address_key(address: Address) -> tuple[str, str, str]:
    postal = (address.postal_code or "").replace(" ", "").upper()[:5]
    return address.country, postal, " ".join(address.line1.casefold().split())


def matches(condition: Condition, facts: OrderFacts) -> bool:
    """Whether `condition` holds for the order described by `facts`."""
    match condition:
        case AllOf():
            return all(matches(part, facts) for part in condition.all)
        case AnyOf():
            return any(matches(part, facts) for part in condition.any)
        case Not():
            return not matches(condition.not_, facts)
        case Always():
            return True
        case OrderTotalOver():
            limit = condition.order_total_over
            return facts.currency == limit.currency and facts.total > limit.amount
        case ChannelIn():
            return facts.channel in condition.channel_in
        case ShipToCountryIn():
            return facts.ship_to_country in condition.ship_to_country_in
        case ShipToRegionIn():
            return facts.ship_to_region in {region.upper() for region in condition.ship_to_region_in}
        case ShipToPostalPrefixIn():
            return any(facts.ship_to_postal_code.startswith(p.upper()) for p in condition.ship_to_postal_prefix_in)
        case ShippingMethodIn():
            return facts.shipping_method.casefold() in {m.casefold() for m in condition.shipping_method_in}
        case SkuIn():
            return not facts.skus.isdisjoint(condition.sku_in)
        case SkuTagIn():
            return not facts.sku_tags.isdisjoint(condition.sku_tag_in)
        case LineCountOver():
            return facts.line_count > condition.line_count_over
        case UnitsOver():
            return facts.units > condition.units_over
        case AttributeEquals():
            return all(
                facts.attributes.get(name, "").casefold() == value.casefold()
                for name, value in condition.attribute_equals.items()
            )
        case BillingShippingMismatch():
            return facts.billing_mismatch == condition.billing_shipping_mismatch
        case _:
            assert_never(condition)


def describe(action: Action) -> str:
    """One action in an operator's words."""
    match action:
        case Hold():
            return f"hold: {action.hold}"
        case ExcludeNodes():
            return f"exclude nodes: {action.exclude_nodes.describe()}"
        case PreferNodes():
            preference = action.prefer_nodes
            return f"prefer nodes: {preference.describe()} ({preference.bonus_cents} cents off per shipment)"
        case ShipComplete():
            return "ship complete"
        case MaxShipments():
            n = action.max_shipments
            return f"at most {n} shipment{'s' if n != 1 else ''}"
        case SetServiceLevel():
            return f"service level {action.service_level}"
        case SetBackorderPolicy():
            return f"backorder policy: {action.backorder_policy}"
        case _:
            assert_never(action)


def evaluate(rule_set: RuleSet, facts: OrderFacts) -> RuleOutcome:
    """Fire every enabled rule whose condition holds, in order, and merge their actions."""
    holds: list[str] = []
    excluded: list[NodeSelector] = []
    preferred: list[Preference] = []
    ship_complete = False
    max_shipments: int | None = None
    service_level: ServiceLevelName | None = None
    backorder_policy: BackorderPolicy | None = None
    fired: list[FiredRule] = []
    for rule in rule_set.rules:
        if not rule.enabled or not matches(rule.when, facts):
            continue
        for action in rule.then:
            match action:
                case Hold():
                    holds.append(action.hold)
                case ExcludeNodes():
                    excluded.append(action.exclude_nodes)
                case PreferNodes():
                    preferred.append(action.prefer_nodes)
                case ShipComplete():
                    ship_complete = True
                case MaxShipments():
                    max_shipments = _smallest(max_shipments, action.max_shipments)
                case SetServiceLevel():
                    service_level = _faster(service_level, action.service_level)
                case SetBackorderPolicy():
                    backorder_policy = backorder_policy or action.backorder_policy
                case _:
                    assert_never(action)
        fired.append(FiredRule(rule_id=rule.id, description=rule.description,
                               actions=[describe(action) for action in rule.then]))
    return RuleOutcome(holds=holds, excluded=excluded, preferred=preferred, ship_complete=ship_complete,
                       max_shipments=max_shipments, service_level=service_level,
                       backorder_policy=backorder_policy, fired=fired)


def _smallest(current: int | None, asked: int | None) -> int | None:
    if current is None:
        return asked
    return current if asked is None else min(current, asked)


def _faster(current: ServiceLevelName | None, asked: ServiceLevelName) -> ServiceLevelName:
    if current is None or SERVICE_LEVEL_SPEED[asked] > SERVICE_LEVEL_SPEED[current]:
        return asked
    return current


def apply_to_problem(
    outcome: RuleOutcome,
    problem: SourcingProblem,
    nodes: Mapping[str, Node],
    node_tags: Mapping[str, Sequence[str]] | None = None,
) -> SourcingProblem:
    """A copy of `problem` with the outcome's sourcing effects; `problem` itself is left as it was.

    Excluded candidates go; a preferred candidate's shipment cost drops by its bonus (never below
    0); ship_complete and max_shipments tighten (never loosen) what the problem already asks.
    `nodes` must hold every candidate's node; `node_tags` gives the network's tags per node id.
    """
    tags_by_node = node_tags or {}
    candidates = []
    for candidate in problem.candidates:
        node = nodes.get(candidate.node_id)
        if node is None:
            raise ValueError(f"candidate node {candidate.node_id!r} is not in the network given to the rules")
        tags = frozenset(tags_by_node.get(candidate.node_id, ()))
        if not outcome.allows(node, tags):
            continue
        bonus = outcome.preference_bonus(node, tags)
        if bonus:
            candidate = candidate.model_copy(update={"shipment_cost": max(0.0, candidate.shipment_cost - bonus)})
        candidates.append(candidate)
    return problem.model_copy(update={
        "lines": list(problem.lines),
        "candidates": candidates,
        "ship_complete": problem.ship_complete or outcome.ship_complete,
        "max_shipments": _smallest(problem.max_shipments, outcome.max_shipments),
    })
