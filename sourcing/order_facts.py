"""What order rules may look at in one order: its facts, flattened once so that evaluation is plain lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.order import PlaceOrder

__all__ = ["MISMATCH_ATTRIBUTE", "OrderFacts"]

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
        ship_to = order.ship_to
        if bill_to is not None:  # a pickup without a ship-to has nothing to mismatch
            mismatch = ship_to is not None and _address_key(bill_to) != _address_key(ship_to)
        else:
            mismatch = attrs.get(MISMATCH_ATTRIBUTE, "").strip().lower() in _TRUE_WORDS
        skus = frozenset(line.sku for line in order.lines)
        return cls(
            channel=order.channel,
            currency=order.currency,
            total=order.total.amount,
            ship_to_country=ship_to.country if ship_to else "",
            ship_to_region=ship_to.region.strip().upper() if ship_to else "",
            ship_to_postal_code=((ship_to.postal_code if ship_to else None) or "").strip().upper(),
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
