"""The demo's webhook WMS: one DC hands its shipments to the WMS sandbox (integrations/wms) by signed
webhook; the sandbox verifies them, works each shipment through the gateway with the demo's node key
(accepted, picked, packed, shipped, and delivered unless a carrier's tracker delivers it) and
answers cancel requests (yes until it has shipped).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from models.network import HandOff, HandOffKind, Node, NodeKind
from omniroute.demo.api import GatewayError

WEBHOOK_DC = "dc-dallas-tx"
WORK_STEPS = ("accepted", "picked", "packed", "shipped", "delivered")


@dataclass(frozen=True)
class WebhookWms:
    """The WMS sandbox at `wms_url` (the sandbox server's `/wms`) plays `node_id`'s WMS, verifying with
    `secret` (the worker signs with the same: Settings.partner_secret(secret_ref)) and posting events
    to `gateway_url`."""

    wms_url: str
    gateway_url: str
    secret_ref: str
    secret: str
    node_id: str = WEBHOOK_DC
    step_delay_s: float = 0.1
    deliver: bool = True  # False: a carrier's tracker delivers what it ships (the WMS stops at shipped)

    def hand_off_of(self, node: Node) -> Node:
        """The node as the demo loads it: the webhook DC with its hand-off, the others unchanged."""
        if node.node_id != self.node_id or node.kind is not NodeKind.DC:
            return node
        hand_off = HandOff(kind=HandOffKind.WEBHOOK, url=f"{self.wms_url}/nodes/{self.node_id}/webhooks",
                           secret_ref=self.secret_ref)
        return node.model_copy(update={"hand_off": hand_off})

    async def configure(self, *, node_token: str) -> None:
        """Tell the sandbox the node's secret and key; GatewayError (or a transport error) if it refuses."""
        steps = WORK_STEPS if self.deliver else WORK_STEPS[:-1]
        body = {"secret": self.secret, "cancel": "auto",
                "work": {"gateway_url": self.gateway_url, "api_key": node_token, "steps": list(steps),
                         "step_delay_s": self.step_delay_s}}
        path = f"/_sandbox/nodes/{self.node_id}"
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.put(self.wms_url + path, json=body)
        if response.is_error:
            raise GatewayError("PUT", "/wms" + path, response.status_code, response.text)
