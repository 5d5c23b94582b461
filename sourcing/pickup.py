"""Where a pickup order may be planned: a store that offers pickup (and curbside, for a curbside
order) and that no fired rule excludes. Pure."""

from __future__ import annotations

from models.address import Address
from models.network import Capability, Node, NodeKind
from models.rules import RuleOutcome


def may_pick_up_at(node: Node | None, outcome: RuleOutcome | None, *, curbside: bool) -> bool:
    """An active store offering pickup (and curbside when asked) that no fired rule excludes."""
    if node is None or node.kind is not NodeKind.STORE or not node.can(Capability.PICKUP):
        return False
    if curbside and not node.can(Capability.CURBSIDE):
        return False
    return outcome is None or outcome.allows(node)


def store_address(node: Node, customer_name: str) -> Address:
    """Where a pickup order without a ship-to is measured from and recorded at: the store."""
    return Address(name=customer_name, line1=node.line1 or node.name, city=node.city or node.name,
                   region=node.region or "", country=node.country, postal_code=node.postal_code,
                   latitude=node.latitude, longitude=node.longitude)
