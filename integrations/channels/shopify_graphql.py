"""Shopify Admin GraphQL client: an order's fulfillment orders and fulfillments, `fulfillmentCreate`
with tracking, `orderCancel`, and `inventorySetQuantities`, under Shopify's cost-based rate limit.

Wire format: `POST {shop}/admin/api/{version}/graphql.json` with `{"query", "variables"}` and
`X-Shopify-Access-Token: TOKEN`. Every answer carries `extensions.cost` {requestedQueryCost,
actualQueryCost, throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}}. Throttling is an
HTTP **200** whose top-level `errors` carry `extensions.code: THROTTLED`; other top-level `errors` are
query problems (refused for good); business refusals come back in the payload's `userErrors`
(`{field: [path], message, code}`), raised as PermanentProviderError naming the field.

The throttle is honoured twice: before a call, the client waits until the points Shopify last
reported (restored at `restoreRate` per second since) cover the call's expected cost (what Shopify last
requested for the same query, else an estimate); after a
THROTTLED answer it waits (requested − available) / restoreRate and sends again. Waits longer than
the policy's `max_wait`, or more throttled answers than it allows, raise RateLimitedError with the
wait, so that the caller's (Temporal's) retry owns the long ones.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations.channels.shopify import ACCESS_TOKEN_HEADER, DEFAULT_API_VERSION, PROVIDER, parse_error
from integrations.http import (
    PermanentProviderError,
    ProviderClient,
    RateLimitedError,
    RetryPolicy,
    json_object,
    send,
)

# inventorySetQuantities takes at most 250 quantities per mutation.
MAX_QUANTITIES_PER_MUTATION = 250
# What a call is expected to cost before Shopify has said (a mutation is 10 points); after the first
# answer, the client expects what Shopify last requested for the same query.
MUTATION_COST = 10
ORDER_QUERY_COST = 100
M = TypeVar("M", bound=BaseModel)
GRAPHQL_RETRY = RetryPolicy(max_retries=4, max_wait=10.0, default_wait=0.5)


def gid(kind: str, numeric_id: int | str) -> str:
    """Shopify's global id, e.g. gid("Order", 450789469) → gid://shopify/Order/450789469."""
    return f"gid://shopify/{kind}/{numeric_id}"


def numeric_id(global_id: str) -> int:
    """The number at the end of a global id (gid://shopify/Fulfillment/255858046 → 255858046)."""
    tail = global_id.rsplit("/", 1)[-1].split("?", 1)[0]
    if not tail.isdigit():
        raise ValueError(f"{global_id!r} is not a Shopify global id")
    return int(tail)


class ThrottleStatus(BaseModel):
    """The shop's cost bucket as the last answer reported it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    maximum_available: float = Field(alias="maximumAvailable")
    currently_available: float = Field(alias="currentlyAvailable")
    restore_rate: float = Field(alias="restoreRate", gt=0)


class FulfillmentOrderLine(BaseModel):
    """One line of a fulfillment order: how much of the order's line item is still to fulfil."""

    model_config = ConfigDict(frozen=True)

    id: str
    line_item_id: str
    sku: str | None
    total_quantity: int
    remaining_quantity: int


class FulfillmentOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: str = Field(description="OPEN, IN_PROGRESS, SCHEDULED, ON_HOLD, INCOMPLETE, CANCELLED, CLOSED")
    lines: list[FulfillmentOrderLine]


class TrackingInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    company: str | None = None
    number: str | None = None
    url: str | None = None


class Fulfillment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: str
    tracking: list[TrackingInfo] = Field(default_factory=list)


class ShopifyOrderState(BaseModel):
    """What the write-back reads of an order before it writes: cancelled or not, its fulfillment
    orders and the fulfillments it already has."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    cancelled_at: str | None
    fulfillment_orders: list[FulfillmentOrder]
    fulfillments: list[Fulfillment]

    def fulfillment_with_tracking(self, number: str) -> Fulfillment | None:
        return next((f for f in self.fulfillments if any(t.number == number for t in f.tracking)), None)


class InventoryQuantity(BaseModel):
    model_config = ConfigDict(frozen=True)

    inventory_item_id: int
    location_id: int
    quantity: int = Field(ge=0)


class CancelJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    done: bool


ORDER_QUERY = """
query OrderForWriteBack($id: ID!) {
  order(id: $id) {
    id name cancelledAt
    fulfillmentOrders(first: 5) {
      nodes { id status lineItems(first: 50) { nodes { id totalQuantity remainingQuantity lineItem { id sku } } } }
    }
    fulfillments(first: 20) { id status trackingInfo(first: 5) { company number url } }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 5) { company number url } }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput,
                     $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

INVENTORY_SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta } }
    userErrors { field message code }
  }
}
"""


class ShopifyGraphQLClient(ProviderClient):
    """Sync Shopify Admin GraphQL client. Every method raises an `integrations.http.ProviderError`
    subclass: PermanentProviderError for refusals (401, a query error, `userErrors` naming the field),
    RateLimitedError when the cost bucket stays short past the policy (its `retry_after` says when),
    TransientProviderError for outages. Safe to share between threads: the throttle state is locked.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = GRAPHQL_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(base_url, {ACCESS_TOKEN_HEADER: token, "Accept": "application/json"},
                         timeout=timeout, transport=transport, retry=retry)
        self._path = f"/admin/api/{api_version}/graphql.json"
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._throttle: ThrottleStatus | None = None
        self._throttle_at = 0.0
        self._requested: dict[str, float] = {}  # query → the cost Shopify last requested for it
        self.waited = 0.0  # seconds slept for the throttle, for operators and tests

    # -- calls ---------------------------------------------------------------------------------

    def order_state(self, order_id: int) -> ShopifyOrderState | None:
        """The order's cancel state, fulfillment orders and fulfillments; None if the shop has no such order."""
        data = self.execute(ORDER_QUERY, {"id": gid("Order", order_id)}, cost=ORDER_QUERY_COST)
        return parse_order_state(data.get("order"))

    def create_fulfillment(self, lines_by_fulfillment_order: dict[str, dict[str, int]], tracking: TrackingInfo,
                           *, notify_customer: bool = False) -> Fulfillment:
        """fulfillmentCreate of these fulfillment order lines ({fulfillment order id: {line id: quantity}})
        with one tracking number."""
        fulfillment = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id,
                 "fulfillmentOrderLineItems": [{"id": line_id, "quantity": qty} for line_id, qty in lines.items()]}
                for fo_id, lines in lines_by_fulfillment_order.items()],
            "trackingInfo": tracking.model_dump(),
            "notifyCustomer": notify_customer,
        }
        data = self.execute(FULFILLMENT_CREATE, {"fulfillment": fulfillment}, cost=MUTATION_COST)
        payload = _payload(data, "fulfillmentCreate")
        _raise_user_errors(payload.get("userErrors"), prefix="fulfillment")
        return _model(Fulfillment, _fulfillment_fields(payload.get("fulfillment")), "fulfillmentCreate.fulfillment")

    def cancel_order(self, order_id: int, *, reason: str = "OTHER", staff_note: str | None = None,
                     refund: bool = False, restock: bool = False, notify_customer: bool = False) -> CancelJob:
        """orderCancel of the whole order; Shopify cancels in a job whose id (and whether done) is answered."""
        variables = {"orderId": gid("Order", order_id), "reason": reason,
                     "refundMethod": {"originalPaymentMethodsRefund": refund}, "restock": restock,
                     "notifyCustomer": notify_customer, "staffNote": staff_note}
        data = self.execute(ORDER_CANCEL, variables, cost=MUTATION_COST)
        payload = _payload(data, "orderCancel")
        _raise_user_errors(payload.get("orderCancelUserErrors"))
        return _model(CancelJob, payload.get("job"), "orderCancel.job")

    def set_inventory_quantities(self, quantities: Sequence[InventoryQuantity], *, idempotency_key: str,
                                 reason: str = "correction") -> int:
        """Set each item's `available` quantity at its location (absolute, no compare-and-swap), in
        mutations of at most MAX_QUANTITIES_PER_MUTATION; the number set. Mutation n carries the
        idempotency key `{idempotency_key}-{n}` and a digest of its content: the caller makes the key
        once per push (not per attempt), so a retry of a mutation that was applied does nothing twice,
        while the same levels pushed again later are a new push."""
        for start in range(0, len(quantities), MAX_QUANTITIES_PER_MUTATION):
            batch = quantities[start:start + MAX_QUANTITIES_PER_MUTATION]
            rows = [{"inventoryItemId": gid("InventoryItem", q.inventory_item_id),
                     "locationId": gid("Location", q.location_id), "quantity": q.quantity,
                     "changeFromQuantity": None} for q in batch]
            variables = {"input": {"name": "available", "reason": reason, "quantities": rows},
                         "key": _idempotency_key(idempotency_key, start // MAX_QUANTITIES_PER_MUTATION, rows)}
            data = self.execute(INVENTORY_SET_QUANTITIES, variables, cost=MUTATION_COST)
            _raise_user_errors(_payload(data, "inventorySetQuantities").get("userErrors"), prefix="input")
        return len(quantities)

    # -- the transport and the throttle ----------------------------------------------------------

    def execute(self, query: str, variables: dict[str, Any], *, cost: int) -> dict[str, Any]:
        """The `data` of one GraphQL call expected to cost `cost` points, after waiting for the points."""
        throttled_answers = 0
        while True:
            with self._lock:
                expected = self._requested.get(query, cost)
            self._wait_for(expected)
            request = self._http.build_request("POST", self._path, json={"query": query, "variables": variables})
            response = send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry,
                            sleep=self._sleep)
            body = json_object(PROVIDER, response)
            cost_info = (body.get("extensions") or {}).get("cost") or {}
            self._remember(cost_info.get("throttleStatus"))
            if isinstance(cost_info.get("requestedQueryCost"), int | float):
                with self._lock:
                    self._requested[query] = float(cost_info["requestedQueryCost"])
            errors = body.get("errors")
            if not errors:
                data = body.get("data")
                if not isinstance(data, dict):
                    raise PermanentProviderError(PROVIDER, "GraphQL answer has no data object")
                return data
            if not _throttled(errors):
                raise _query_error(errors)
            wait = self._wait_after_throttled(cost_info, expected)
            throttled_answers += 1
            if throttled_answers > self._retry.max_retries or wait > self._retry.max_wait:
                raise RateLimitedError(PROVIDER, "Throttled: the shop's query cost bucket is empty",
                                       status=200, code="THROTTLED", retry_after=wait)
            self._slept(wait)

    @property
    def throttle(self) -> ThrottleStatus | None:
        with self._lock:
            return self._throttle

    def _available_now(self) -> tuple[float, ThrottleStatus] | None:
        with self._lock:
            status, at = self._throttle, self._throttle_at
        if status is None:
            return None
        restored = status.currently_available + (self._clock() - at) * status.restore_rate
        return min(status.maximum_available, restored), status

    def _wait_for(self, cost: float) -> None:
        known = self._available_now()
        if known is None:
            return
        available, status = known
        if available >= cost:
            return
        wait = (min(cost, status.maximum_available) - available) / status.restore_rate
        if wait > self._retry.max_wait:
            raise RateLimitedError(PROVIDER, f"the query needs {cost} points, {available:.0f} are available",
                                   status=None, code="THROTTLED", retry_after=wait)
        self._slept(wait)

    def _wait_after_throttled(self, cost_info: dict[str, Any], cost: float) -> float:
        requested = cost_info.get("requestedQueryCost") or cost
        known = self._available_now()
        if known is None:
            return self._retry.default_wait
        available, status = known
        return max(0.0, (min(float(requested), status.maximum_available) - available) / status.restore_rate)

    def _remember(self, raw: object) -> None:
        if not isinstance(raw, dict):
            return
        try:
            status = ThrottleStatus.model_validate(raw)
        except ValueError:
            return
        with self._lock:
            self._throttle, self._throttle_at = status, self._clock()

    def _slept(self, seconds: float) -> None:
        self.waited += seconds
        self._sleep(seconds)


def lines_for_fulfillment(order: ShopifyOrderState, wanted: dict[str, int]) -> dict[str, dict[str, int]]:
    """Which fulfillment order lines fulfil `wanted` (SKU → units): {fulfillment order id: {line id:
    quantity}}, taking open fulfillment orders' remaining quantities in order. Raises
    PermanentProviderError naming the SKU when the order has too little of it left to fulfil."""
    chosen: dict[str, dict[str, int]] = {}
    for sku, units in sorted(wanted.items()):
        left = units
        for fulfillment_order in order.fulfillment_orders:
            if fulfillment_order.status not in ("OPEN", "IN_PROGRESS"):
                continue
            for line in fulfillment_order.lines:
                if left == 0:
                    break
                if line.sku != sku or line.remaining_quantity <= 0:
                    continue
                take = min(left, line.remaining_quantity)
                chosen.setdefault(fulfillment_order.id, {})[line.id] = take
                left -= take
        if left:
            raise PermanentProviderError(
                PROVIDER, f"Shopify order {order.name} has {units - left} of the {units} units of SKU {sku} "
                f"left to fulfil", field=f"line_items.sku={sku}", code="NOT_ENOUGH_TO_FULFIL")
    return chosen


def parse_order_state(raw: object) -> ShopifyOrderState | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise PermanentProviderError(PROVIDER, "order is not an object")
    fulfillment_orders = []
    for fo in (raw.get("fulfillmentOrders") or {}).get("nodes") or []:
        lines = [{"id": n["id"], "line_item_id": (n.get("lineItem") or {}).get("id", ""),
                  "sku": (n.get("lineItem") or {}).get("sku"), "total_quantity": n.get("totalQuantity", 0),
                  "remaining_quantity": n.get("remainingQuantity", 0)}
                 for n in (fo.get("lineItems") or {}).get("nodes") or []]
        fulfillment_orders.append({"id": fo.get("id"), "status": fo.get("status"), "lines": lines})
    fields = {"id": raw.get("id"), "name": raw.get("name") or "", "cancelled_at": raw.get("cancelledAt"),
              "fulfillment_orders": fulfillment_orders,
              "fulfillments": [_fulfillment_fields(f) for f in raw.get("fulfillments") or []]}
    return _model(ShopifyOrderState, fields, "order")


def _fulfillment_fields(raw: object) -> object:
    if not isinstance(raw, dict):
        return raw
    return {"id": raw.get("id"), "status": raw.get("status"), "tracking": raw.get("trackingInfo") or []}


def _model(model: type[M], raw: object, where: str) -> M:
    if not isinstance(raw, dict):
        raise PermanentProviderError(PROVIDER, f"GraphQL answer has no {where} object")
    try:
        return model.model_validate(raw)
    except ValueError as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable {where}: {exc}") from exc


def _payload(data: dict[str, Any], mutation: str) -> dict[str, Any]:
    payload = data.get(mutation)
    if not isinstance(payload, dict):
        raise PermanentProviderError(PROVIDER, f"GraphQL answer has no {mutation} payload")
    return payload


def _raise_user_errors(errors: object, *, prefix: str | None = None) -> None:
    """The first of a payload's userErrors as a PermanentProviderError naming its field (dotted path)."""
    if not isinstance(errors, list) or not errors:
        return
    first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    path = [str(part) for part in first.get("field") or []]
    if prefix and path and path[0] != prefix:
        path = [prefix, *path]
    field = ".".join(path) or None
    message = str(first.get("message") or "refused")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    raise PermanentProviderError(PROVIDER, message, status=200, code=first.get("code"), field=field)


def _throttled(errors: object) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def _query_error(errors: object) -> PermanentProviderError:
    if not isinstance(errors, list) or not errors:
        return PermanentProviderError(PROVIDER, f"GraphQL errors: {str(errors)[:200]}", status=200)
    first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    path = first.get("path") or []
    code = (first.get("extensions") or {}).get("code")
    return PermanentProviderError(PROVIDER, str(first.get("message") or "GraphQL error"), status=200,
                                  code=str(code) if code else None,
                                  field=".".join(str(p) for p in path) or None)


def _idempotency_key(prefix: str, batch: int, rows: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(json.dumps([prefix, batch, rows], sort_keys=True).encode()).hexdigest()
    return f"omniroute-{digest[:48]}"
