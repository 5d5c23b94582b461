"""Declarative order rules: data an operator writes (YAML or JSON), never code.

A `RuleSet` is an ordered list of rules. Each rule has one condition (`when`) over the order and
one or more actions (`then`). Every condition and every action is a mapping with exactly one key
that names it, so a file reads as `- channel_in: [marketplace]`, and a mistake is reported at its
path, e.g. `rules[2].when.all[1].order_total_over.amount`. Conditions compose with `all`, `any`
and `not`. Evaluation lives in `sourcing.rules`; the merged answer (`RuleOutcome`) lives here so
that workflows, which import only models, can carry it and record what fired.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from models.address import CountryCode
from models.fx import FxRates
from models.limits import MAX_COUNT, MAX_UNITS
from models.money import Currency, MinorUnits
from models.network import Node, NodeKind
from models.text import PlainText

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Words = Annotated[list[Word], Field(min_length=1)]
ServiceLevelName = Literal["standard", "two_day", "next_day"]
BackorderPolicy = Literal["backorder", "cancel"]
PickupFallback = Literal["another_store", "ship"]


def _attribute_text(value: Any) -> str:
    """Attribute values compare as text; YAML's `true` and `2` become "true" and "2"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    raise ValueError("an attribute value is text, a whole number, true or false")


AttributeValue = Annotated[str, BeforeValidator(_attribute_text), StringConstraints(max_length=200)]

# Fastest last: merging keeps the fastest level any fired rule asks for.
SERVICE_LEVEL_SPEED: dict[str, int] = {"standard": 0, "two_day": 1, "next_day": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Keyed(_Strict):
    """A condition or action: one key, which is also its only field (or that field's alias)."""

    KEY: ClassVar[str]


def _key_of(value: Any) -> str | None:
    """The tag of a one-key mapping (or of a built model); None sends pydantic's shape error."""
    if isinstance(value, _Keyed):
        return type(value).KEY
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


# ---- conditions -------------------------------------------------------------------------------


class AllOf(_Keyed):
    KEY = "all"
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Keyed):
    KEY = "any"
    any: list[Condition] = Field(min_length=1)


class Not(_Keyed):
    KEY = "not"
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    not_: Condition = Field(alias="not")


class Always(_Keyed):
    """Fires on every order: for rules that always apply, e.g. a network-wide backorder policy."""

    KEY = "always"
    always: Literal[True]


class Amount(_Strict):
    """A money threshold: integer minor units (cents) and an ISO 4217 currency."""

    amount: MinorUnits
    currency: Currency


class OrderTotalOver(_Keyed):
    """The order total is strictly above the amount. A total in another currency is converted with the rule
    set's `fx_rates`; without a rate the condition cannot be decided, and evaluation holds the order."""

    KEY = "order_total_over"
    order_total_over: Amount


class ChannelIn(_Keyed):
    KEY = "channel_in"
    channel_in: Words


class ShipToCountryIn(_Keyed):
    KEY = "ship_to_country_in"
    ship_to_country_in: Annotated[list[CountryCode], Field(min_length=1)]


class ShipToRegionIn(_Keyed):
    """State or province code of the ship-to address (case-insensitive)."""

    KEY = "ship_to_region_in"
    ship_to_region_in: Words


class ShipToPostalPrefixIn(_Keyed):
    KEY = "ship_to_postal_prefix_in"
    ship_to_postal_prefix_in: Words


class ShippingMethodIn(_Keyed):
    """The channel's shipping method name (case-insensitive), e.g. "Express"."""

    KEY = "shipping_method_in"
    shipping_method_in: Words


class SkuIn(_Keyed):
    """Any line is one of these SKUs."""

    KEY = "sku_in"
    sku_in: Words


class SkuTagIn(_Keyed):
    """Any line's SKU carries one of these tags (tags come from the catalogue, e.g. hazmat)."""

    KEY = "sku_tag_in"
    sku_tag_in: Words


class LineCountOver(_Keyed):
    KEY = "line_count_over"
    line_count_over: int = Field(ge=0, le=MAX_COUNT)


class UnitsOver(_Keyed):
    """Total units over all lines is strictly above the number."""

    KEY = "units_over"
    units_over: int = Field(ge=0, le=MAX_UNITS)


class AttributeEquals(_Keyed):
    """Every named order attribute (a flag the channel sends, e.g. fraud_risk) has the given value.

    Values compare as text ignoring case, so YAML's `gift: true` matches the attribute "True".
    """

    KEY = "attribute_equals"
    attribute_equals: dict[Word, AttributeValue] = Field(min_length=1)


class BillingShippingMismatch(_Keyed):
    """True matches orders whose billing address differs from the ship-to; false, those where it does not."""

    KEY = "billing_shipping_mismatch"
    billing_shipping_mismatch: bool


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Always, Tag("always")]
    | Annotated[OrderTotalOver, Tag("order_total_over")]
    | Annotated[ChannelIn, Tag("channel_in")]
    | Annotated[ShipToCountryIn, Tag("ship_to_country_in")]
    | Annotated[ShipToRegionIn, Tag("ship_to_region_in")]
    | Annotated[ShipToPostalPrefixIn, Tag("ship_to_postal_prefix_in")]
    | Annotated[ShippingMethodIn, Tag("shipping_method_in")]
    | Annotated[SkuIn, Tag("sku_in")]
    | Annotated[SkuTagIn, Tag("sku_tag_in")]
    | Annotated[LineCountOver, Tag("line_count_over")]
    | Annotated[UnitsOver, Tag("units_over")]
    | Annotated[AttributeEquals, Tag("attribute_equals")]
    | Annotated[BillingShippingMismatch, Tag("billing_shipping_mismatch")],
    Discriminator(
        _key_of,
        custom_error_type="unknown_condition",
        custom_error_message="a condition is a mapping with exactly one key: all, any, not, always, order_total_over, "
        "channel_in, ship_to_country_in, ship_to_region_in, ship_to_postal_prefix_in, shipping_method_in, sku_in, "
        "sku_tag_in, line_count_over, units_over, attribute_equals or billing_shipping_mismatch",
    ),
]


# ---- actions ----------------------------------------------------------------------------------


class NodeSelector(_Strict):
    """Nodes by id, kind, region (the node's state) or tag. Every criterion given must hold; within
    one criterion any listed value does. At least one criterion, so that no selector means "all nodes"
    by accident."""

    node_ids: list[Word] = Field(default_factory=list)
    kinds: list[NodeKind] = Field(default_factory=list)
    regions: list[Word] = Field(default_factory=list)
    tags: list[Word] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_criterion(self) -> Self:
        if not (self.node_ids or self.kinds or self.regions or self.tags):
            raise ValueError("a node selector needs at least one of node_ids, kinds, regions, tags")
        return self

    def matches(self, node: Node, tags: frozenset[str] = frozenset()) -> bool:
        """Whether `node` (carrying the network's `tags` for it) is selected."""
        if self.node_ids and node.node_id not in self.node_ids:
            return False
        if self.kinds and node.kind not in self.kinds:
            return False
        if self.regions and (node.region or "").upper() not in {r.upper() for r in self.regions}:
            return False
        return not (self.tags and tags.isdisjoint(self.tags))

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (("id", self.node_ids), ("kind", self.kinds), ("region", self.regions),
                                  ("tag", self.tags))
            if values
        ]
        return " and ".join(parts)


class Preference(NodeSelector):
    """Selected nodes look cheaper by `bonus_cents` per shipment, so sourcing leans to them."""

    bonus_cents: int = Field(gt=0, le=10_000_000)


class Hold(_Keyed):
    """Stop the order at intake until an operator releases or cancels it."""

    KEY = "hold"
    hold: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ExcludeNodes(_Keyed):
    KEY = "exclude_nodes"
    exclude_nodes: NodeSelector


class PreferNodes(_Keyed):
    KEY = "prefer_nodes"
    prefer_nodes: Preference


class ShipComplete(_Keyed):
    """All lines leave together from one node, or the order waits."""

    KEY = "ship_complete"
    ship_complete: Literal[True]


class MaxShipments(_Keyed):
    KEY = "max_shipments"
    max_shipments: int = Field(ge=1, le=MAX_COUNT)


class SetServiceLevel(_Keyed):
    KEY = "service_level"
    service_level: ServiceLevelName


class SetBackorderPolicy(_Keyed):
    """What happens to units nobody can ship now: wait for stock (backorder) or cancel them."""

    KEY = "backorder_policy"
    backorder_policy: BackorderPolicy


class SetPickupFallback(_Keyed):
    """Where a pickup order's lines go when its store hands them back: only another pickup store
    (another_store, the default), or, when no other pickup store can fill them and the order has a
    ship_to, shipped to the customer (ship)."""

    KEY = "pickup_fallback"
    pickup_fallback: PickupFallback


Action = Annotated[
    Annotated[Hold, Tag("hold")]
    | Annotated[ExcludeNodes, Tag("exclude_nodes")]
    | Annotated[PreferNodes, Tag("prefer_nodes")]
    | Annotated[ShipComplete, Tag("ship_complete")]
    | Annotated[MaxShipments, Tag("max_shipments")]
    | Annotated[SetServiceLevel, Tag("service_level")]
    | Annotated[SetBackorderPolicy, Tag("backorder_policy")]
    | Annotated[SetPickupFallback, Tag("pickup_fallback")],
    Discriminator(
        _key_of,
        custom_error_type="unknown_action",
        custom_error_message="an action is a mapping with exactly one key: hold, exclude_nodes, prefer_nodes, "
        "ship_complete, max_shipments, service_level, backorder_policy or pickup_fallback",
    ),
]

CONDITION_KEYS = frozenset(
    cls.KEY for cls in (AllOf, AnyOf, Not, Always, OrderTotalOver, ChannelIn, ShipToCountryIn, ShipToRegionIn,
                        ShipToPostalPrefixIn, ShippingMethodIn, SkuIn, SkuTagIn, LineCountOver, UnitsOver,
                        AttributeEquals, BillingShippingMismatch)
)
ACTION_KEYS = frozenset(
    cls.KEY for cls in (Hold, ExcludeNodes, PreferNodes, ShipComplete, MaxShipments, SetServiceLevel,
                        SetBackorderPolicy, SetPickupFallback)
)


# ---- rules ------------------------------------------------------------------------------------


class Rule(_Strict):
    id: RuleId
    description: PlainText = Field(min_length=1, max_length=500)
    enabled: bool = True
    when: Condition
    then: list[Action] = Field(min_length=1)


class RuleSet(_Strict):
    """Rules in the order they are evaluated (the order decides ties such as the backorder policy)."""

    version: Literal[1]
    fx_rates: FxRates = Field(
        default_factory=dict,
        description="per threshold currency, what one unit of each other currency is worth in it: "
        "{USD: {EUR: '1.08'}} reads one EUR is 1.08 USD",
    )
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("fx_rates", mode="after")
    @classmethod
    def _no_rate_to_itself(cls, fx_rates: FxRates) -> FxRates:
        for into, rates in fx_rates.items():
            if into in rates:
                raise ValueError(f"a rate from {into} to {into} is always 1; leave {into} out of fx_rates.{into}")
        return fx_rates

    @field_validator("rules", mode="after")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                raise ValueError(f"rule id {rule.id!r} is used by rules[{first[rule.id]}] and rules[{index}]")
            first[rule.id] = index
        return rules


# ---- what evaluation answers ------------------------------------------------------------------


class FiredRule(_Strict):
    """A rule whose condition held, and what it asked for, in words an operator reads."""

    rule_id: str
    description: str
    actions: list[str]
    because: list[str] = Field(default_factory=list, description="what the condition compared, e.g. a conversion")

    def __str__(self) -> str:
        reasons = f" because {'; '.join(self.because)}" if self.because else ""
        return f"rule {self.rule_id} ({self.description}): {'; '.join(self.actions)}{reasons}"


class RuleOutcome(_Strict):
    """The merged effect of every rule that fired on one order."""

    holds: list[str] = Field(default_factory=list, description="hold reasons, in rule order")
    excluded: list[NodeSelector] = Field(default_factory=list)
    preferred: list[Preference] = Field(default_factory=list)
    ship_complete: bool = False
    max_shipments: int | None = Field(default=None, ge=1, description="the smallest any rule asked for")
    service_level: ServiceLevelName | None = Field(default=None, description="the fastest any rule asked for")
    backorder_policy: BackorderPolicy | None = Field(default=None, description="the first rule's that set one")
    pickup_fallback: PickupFallback | None = Field(default=None, description=(
        "the first rule's that set one; None: another_store"))
    fired: list[FiredRule] = Field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.holds)

    def allows(self, node: Node, tags: frozenset[str] = frozenset()) -> bool:
        """False when any fired rule excludes `node` (with the network's `tags` for it)."""
        return not any(selector.matches(node, tags) for selector in self.excluded)

    def preference_bonus(self, node: Node, tags: frozenset[str] = frozenset()) -> float:
        """Cents per shipment taken off `node`'s cost: the sum of every preference that selects it."""
        return float(sum(p.bonus_cents for p in self.preferred if p.matches(node, tags)))
