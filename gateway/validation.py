"""Checks on requests that need reference data (the ZIP code table) rather than the request alone."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.errors import field_error
from models.network import Capability, NodeKind
from models.order import Pickup
from sourcing.geo import lookup_postal_code
from store.ports import NetworkReader


def require_known_postal_code(country: str, postal_code: str | None, loc: Sequence[str | int]) -> None:
    """Raise a 422 naming `loc` if a US postal code does not exist; other countries are not checked."""
    if country != "US" or postal_code is None or lookup_postal_code(postal_code) is not None:
        return
    raise field_error(loc, f"unknown US postal code {postal_code!r}", kind="postal_code", value=postal_code)


def require_pickup_store(network: NetworkReader, pickup: Pickup) -> None:
    """Raise a 422 naming `pickup.node_id` unless it is a store that offers pickup, or `pickup.curbside`
    when a curbside order names a store without curbside."""
    node = network.get_node(pickup.node_id)
    if node is None or node.kind is not NodeKind.STORE or not node.can(Capability.PICKUP):
        raise field_error(("body", "pickup", "node_id"), f"{pickup.node_id!r} is not an active store that offers "
                          "pickup", kind="pickup_store", value=pickup.node_id)
    if pickup.curbside and not node.can(Capability.CURBSIDE):
        raise field_error(("body", "pickup", "curbside"), f"store {pickup.node_id} does not offer curbside pickup",
                          kind="curbside", value=True)
