"""The demo's dropship vendors, played by the vendor sandbox: each vendor node's PO endpoint is pointed
at the running sandbox, and the sandbox is told how to answer (through the gateway, with the demo's
node key): most POs shipped, some rejected, some left unanswered past the node's accept SLA, so
that the demo shows hand-backs and their re-sourcing."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from models.network import Node, NodeKind

# Each vendor's answers, taken in turn per purchase order.
DEMO_ANSWERS = ("ship", "reject", "ship", "silent", "ship", "ship")
ACCEPT_DELAY_S = 0.3
SHIP_DELAY_S = 1.5


def is_vendor(node: Node) -> bool:
    return node.kind is NodeKind.DROPSHIP and node.provider is not None


def at_sandbox(node: Node, sandbox_url: str | None) -> Node:
    """A vendor node whose PO endpoint is the running sandbox's vendor of the same id; others as they are."""
    if sandbox_url is None or not is_vendor(node) or node.provider is None:
        return node
    provider = node.provider.model_copy(update={"base_url": f"{sandbox_url.rstrip('/')}/dropship/{node.node_id}"})
    return node.model_copy(update={"provider": provider})


async def onboard_vendors(nodes: list[Node], *, sandbox_url: str, gateway_url: str, node_key: str,
                          secret_for: Callable[[str], str]) -> int:
    """Tell the sandbox who its vendors are and how they answer; the number onboarded."""
    vendors = [node for node in nodes if is_vendor(node) and node.provider is not None]
    async with httpx.AsyncClient(timeout=10) as http:
        for node in vendors:
            assert node.provider is not None
            setup = {"secret": secret_for(node.provider.credentials_ref), "events_url": gateway_url,
                     "node_key": node_key, "answers": list(DEMO_ANSWERS), "accept_delay_s": ACCEPT_DELAY_S,
                     "ship_delay_s": SHIP_DELAY_S}
            response = await http.put(f"{sandbox_url.rstrip('/')}/dropship/_sandbox/vendors/{node.node_id}",
                                      json=setup)
            response.raise_for_status()
    return len(vendors)
