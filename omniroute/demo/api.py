"""The few gateway calls the demo, the simulated warehouse and the benchmark make, over HTTP.

Each call goes with the key of the role that would make it in a real deployment: the network and
the documents with the admin key, orders and returns with a channel key, shipment and receipt events
with a node key, hold releases with an operator key (`use_key`; a role without its own key uses the
admin key). Responses are read leniently into small snapshots holding only what the callers look at, so that
fields the gateway adds later do not break the demo.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from models.catalog import SkuAttributes
from models.handoff import NodeShipmentPage
from models.keys import KeyCreate, KeyCreated, Role
from models.network import Node
from models.order import OrderAccepted, OrderStatus, PlaceOrder
from models.returns import ReturnStatus, StartReturn
from models.shipment import ShipmentState

_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# How the order's events record a carrier's exception on a shipment: "<shipment id> exception (<kind>)".
_EXCEPTION_EVENT = re.compile(r"^(\S+) exception \(\w+\)$")
_MAX_RATE_LIMITED = 30


class GatewayError(RuntimeError):
    """The system answered with an error status, after retries for transient ones. `status` is the
    HTTP status, or its equivalent when an adapter reaches the system another way (404 unknown,
    409 refused, 503 unavailable)."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {body[:300]}")
        self.status = status


@dataclass(frozen=True)
class ShipmentSnapshot:
    shipment_id: str
    node_id: str
    state: ShipmentState
    lines: tuple[tuple[str, int], ...]
    label_cost: int | None
    currency: str | None
    pickup: bool = False  # the customer collects it at the store (BOPIS, curbside)
    labelled: bool = False  # its label was bought through the carrier integration: a carrier tracker follows it
    exception: str | None = None  # the carrier's open exception (failed_attempt, ...)


@dataclass(frozen=True)
class OrderSnapshot:
    order_id: str
    status: OrderStatus
    shipments: tuple[ShipmentSnapshot, ...]
    quantity_cancelled: int
    backordered: tuple[tuple[str, int], ...] = ()  # (sku, units waiting for stock)
    holds: tuple[str, ...] = ()
    filled_from_backorder: int = 0  # units that waited for stock and have since been planned
    carrier_exceptions: tuple[str, ...] = ()  # shipments a carrier reported an exception for (the order's events)

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderSnapshot:
        shipments = []
        for item in data.get("shipments") or []:
            cost = item.get("label_cost") or {}
            shipments.append(ShipmentSnapshot(
                shipment_id=item["shipment_id"],
                node_id=item.get("node_id", ""),
                state=ShipmentState(item["state"]),
                lines=tuple((line["sku"], int(line["quantity"])) for line in item.get("lines") or []),
                label_cost=cost.get("amount"),
                currency=cost.get("currency"),
                pickup=bool(item.get("pickup")),
                labelled=bool(item.get("label_url")),
                exception=item.get("exception"),
            ))
        cancelled = filled = 0
        waiting: dict[str, int] = {}
        for line in data.get("lines") or []:
            if line.get("status") == "cancelled" and not line.get("quantity_cancelled"):
                cancelled += int(line.get("quantity", 0))
            else:
                cancelled += int(line.get("quantity_cancelled") or 0)
            filled += int(line.get("quantity_filled_from_backorder") or 0)
            if units := int(line.get("quantity_backordered") or 0):
                waiting[line["sku"]] = waiting.get(line["sku"], 0) + units
        return cls(order_id=data["order_id"], status=OrderStatus(data["status"]), shipments=tuple(shipments),
                   quantity_cancelled=cancelled, backordered=tuple(sorted(waiting.items())),
                   holds=tuple(str(hold) for hold in data.get("holds") or []), filled_from_backorder=filled,
                   carrier_exceptions=tuple(sorted({match.group(1) for event in data.get("events") or []
                                                    if (match := _EXCEPTION_EVENT.match(str(event)))})))


@dataclass(frozen=True)
class ReturnSnapshot:
    rma: str
    status: ReturnStatus

    @property
    def is_final(self) -> bool:
        return self.status.is_final


class GatewayApi:
    """An HTTP client for the gateway's `/v1` API. Retries transport errors and 429/502/503/504 a few
    times with backoff; any other error status raises GatewayError."""

    def __init__(self, base_url: str, *, admin_token: str | None = None, timeout: float = 15.0,
                 attempts: int = 6) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
        )
        self._attempts = attempts
        self._tokens: dict[Role, str] = {} if admin_token is None else {Role.ADMIN: admin_token}

    def use_key(self, role: Role, token: str) -> None:
        """Make the calls of `role` with `token` from now on."""
        self._tokens[role] = token

    async def create_key(self, request: KeyCreate) -> KeyCreated:
        """A new key, made with the admin key (its token is in the answer only)."""
        return KeyCreated.model_validate(
            await self._call("POST", "/v1/keys", request.model_dump(mode="json"), role=Role.ADMIN))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def revoke_key(self, key_id: str) -> None:
        """Revoke a key (one unknown to this stack's DB is no error)."""
        try:
            await self._call("DELETE", f"/v1/keys/{_seg(key_id)}", role=Role.ADMIN)
        except GatewayError as err:
            if err.status not in (404, 422):
                raise

    async def put_node(self, node: Node) -> None:
        await self._call("PUT", f"/v1/nodes/{_seg(node.node_id)}", node.model_dump(mode="json"))

    async def put_stock(self, node_id: str, sku: str, on_hand: int) -> None:
        await self._call("PUT", f"/v1/inventory/{_seg(node_id)}/{_seg(sku)}", {"on_hand": on_hand})

    async def receive_stock(self, node_id: str, sku: str, units: int, *, source: str, key: str) -> None:
        """A receipt of `units` at `node_id`, as a WMS posts one: a delta, idempotent by `key`."""
        item = {"node_id": node_id, "sku": sku, "delta": units, "kind": "receipt", "source": source,
                "reason": "purchase order received", "key": key}
        await self._call("POST", "/v1/inventory:batch", {"items": [item]}, role=Role.NODE)

    async def put_sourcing_document(self, name: str, yaml_text: str) -> None:
        """PUT /v1/sourcing/{name} (cost-model or rules) with a YAML body."""
        await self._call("PUT", f"/v1/sourcing/{name}", content=yaml_text.encode(),
                         headers={"Content-Type": "application/yaml"})

    async def put_skus(self, items: list[SkuAttributes]) -> None:
        await self._call("PUT", "/v1/catalog/skus", {"items": [i.model_dump(mode="json") for i in items]})

    async def release_hold(self, order_id: str, released_by: str, reason: str) -> None:
        await self._call("POST", f"/v1/orders/{_seg(order_id)}/release",
                         {"released_by": released_by, "reason": reason}, role=Role.OPERATOR)

    async def place_order(self, order: PlaceOrder) -> OrderAccepted:
        return OrderAccepted.model_validate(
            await self._call("POST", "/v1/orders", order.model_dump(mode="json"), role=Role.CHANNEL))

    async def order(self, order_id: str) -> OrderSnapshot:
        return OrderSnapshot.from_json(await self._call("GET", f"/v1/orders/{_seg(order_id)}", role=Role.CHANNEL))

    async def cancel_order(self, order_id: str) -> None:
        await self._call("POST", f"/v1/orders/{_seg(order_id)}/cancel", {}, role=Role.CHANNEL)

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str,
                             data: dict[str, Any] | None = None) -> None:
        """A node's event; `data` carries what its type needs (a reject's reason, a short pick's lines,
        a curbside spot, a pickup code)."""
        body = {**(data or {}), "type": event_type, "event_id": event_id}
        await self._call("POST", f"/v1/shipments/{_seg(shipment_id)}/events", body, role=Role.NODE)

    async def node_shipments(self, node_id: str, *, state: str | None = None, cancel_requested: bool | None = None,
                             cursor: str | None = None, limit: int = 100) -> NodeShipmentPage:
        """One page of a pull node's shipments (`GET /v1/nodes/{node_id}/shipments`), with the node key."""
        params = {k: v for k, v in (("state", state), ("cursor", cursor), ("limit", str(limit)),
                                    ("cancel_requested", None if cancel_requested is None
                                     else str(cancel_requested).lower())) if v is not None}
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return NodeShipmentPage.model_validate(
            await self._call("GET", f"/v1/nodes/{_seg(node_id)}/shipments?{query}", role=Role.NODE))

    async def ack_shipment(self, node_id: str, shipment_id: str) -> None:
        """The pull node's WMS takes the shipment (idempotent)."""
        await self._call("POST", f"/v1/nodes/{_seg(node_id)}/shipments/{_seg(shipment_id)}/ack", role=Role.NODE)

    async def start_return(self, request: StartReturn) -> None:
        await self._call("POST", "/v1/returns", request.model_dump(mode="json"), role=Role.CHANNEL)

    async def return_event(self, rma: str, event_type: str = "received") -> None:
        body = {"type": event_type, "event_id": f"{rma}:{event_type}"}
        await self._call("POST", f"/v1/returns/{_seg(rma)}/events", body, role=Role.NODE)

    async def return_status(self, rma: str) -> ReturnSnapshot:
        data = await self._call("GET", f"/v1/returns/{_seg(rma)}", role=Role.CHANNEL)
        return ReturnSnapshot(rma=data["rma"], status=ReturnStatus(data["status"]))

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *,
        content: bytes | None = None, headers: dict[str, str] | None = None, role: Role = Role.ADMIN,
    ) -> Any:
        delay = 0.2
        limited = 0
        token = self._tokens.get(role, self._tokens.get(Role.ADMIN))
        sent = dict(headers or {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        attempt = 0
        while True:
            attempt += 1
            try:
                if content is not None:
                    response = await self._http.request(method, path, content=content, headers=sent)
                else:
                    response = await self._http.request(method, path, json=body, headers=sent)
            except httpx.TransportError:
                if attempt >= self._attempts:
                    raise
            else:
                if response.status_code == 429 and limited < _MAX_RATE_LIMITED:
                    # Over the key's rate: wait as told, without spending an attempt.
                    limited += 1
                    attempt -= 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                if response.status_code not in _RETRY_STATUSES or attempt >= self._attempts:
                    if response.is_error:
                        raise GatewayError(method, path, response.status_code, response.text)
                    return response.json() if response.content else None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


def _seg(value: str) -> str:
    """One URL path segment (SKUs may contain '/')."""
    return quote(value, safe="")
