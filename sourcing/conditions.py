"""Whether a rule's condition holds for an order: yes, no, or "cannot tell".

A money threshold compared with a total in another currency converts the total with the rule set's
FX rates. Without a rate the comparison cannot be made, and the answer is "cannot tell" (None)
rather than "no": an order must never slip past a threshold because of the currency it came in.
Combinators follow three-valued logic, so an unknown comparison matters only when the answer depends
on it: `all` is false as soon as one part is false, `any` true as soon as one part is true, and
`not` of "cannot tell" is still "cannot tell".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from models.fx import FxRates
from models.rules import (
    AllOf,
    Always,
    AnyOf,
    AttributeEquals,
    BillingShippingMismatch,
    ChannelIn,
    Condition,
    LineCountOver,
    Not,
    OrderTotalOver,
    ShippingMethodIn,
    ShipToCountryIn,
    ShipToPostalPrefixIn,
    ShipToRegionIn,
    SkuIn,
    SkuTagIn,
    UnitsOver,
)
from sourcing.fx import convert, format_minor_units
from sourcing.order_facts import OrderFacts

__all__ = ["Verdict", "judge", "matches"]


@dataclass(frozen=True)
class Verdict:
    """A condition's answer (None: cannot tell), the conversions it made and, when None, why."""

    answer: bool | None
    conversions: tuple[str, ...] = ()
    unknowns: tuple[str, ...] = ()


def matches(condition: Condition, facts: OrderFacts, fx_rates: FxRates | None = None) -> bool | None:
    """Whether `condition` holds for the order described by `facts`; None when it cannot be told."""
    return judge(condition, facts, fx_rates or {}).answer


def judge(condition: Condition, facts: OrderFacts, fx_rates: FxRates) -> Verdict:
    """`condition`'s verdict on the order described by `facts`, converting money with `fx_rates`."""
    match condition:
        case AllOf():
            return _combine([judge(part, facts, fx_rates) for part in condition.all], decisive=False)
        case AnyOf():
            return _combine([judge(part, facts, fx_rates) for part in condition.any], decisive=True)
        case Not():
            inner = judge(condition.not_, facts, fx_rates)
            answer = None if inner.answer is None else not inner.answer
            return Verdict(answer, inner.conversions, inner.unknowns)
        case OrderTotalOver():
            return _total_over(condition, facts, fx_rates)
        case _:
            return Verdict(_plain_fact(condition, facts))


def _combine(parts: Sequence[Verdict], *, decisive: bool) -> Verdict:
    """`all` (one False decides) when `decisive` is False, `any` (one True decides) when True."""
    conversions = tuple(note for part in parts for note in part.conversions)
    answers = [part.answer for part in parts]
    if decisive in answers:
        return Verdict(decisive, conversions)
    if None in answers:
        return Verdict(None, conversions, tuple(note for part in parts for note in part.unknowns))
    return Verdict(not decisive, conversions)


def _total_over(condition: OrderTotalOver, facts: OrderFacts, fx_rates: FxRates) -> Verdict:
    limit = condition.order_total_over
    if facts.currency == limit.currency:
        return Verdict(facts.total > limit.amount)
    conversion = convert(facts.total, facts.currency, limit.currency, fx_rates)
    if conversion is None:
        return Verdict(None, unknowns=(
            f"the order is in {facts.currency} and there is no {facts.currency} rate to compare it with "
            f"{format_minor_units(limit.amount, limit.currency)} (fx_rates.{limit.currency}.{facts.currency})",
        ))
    return Verdict(conversion.converted > limit.amount, conversions=(
        f"order total {conversion}, threshold {format_minor_units(limit.amount, limit.currency)}",
    ))


def _plain_fact(condition: Condition, facts: OrderFacts) -> bool:
    match condition:
        case AllOf() | AnyOf() | Not() | OrderTotalOver():
            raise AssertionError("judge handles combinators and money thresholds")
        case Always():
            return True
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
