"""The Shopify sandbox's Admin GraphQL endpoint: the operations Omniroute sends, under Shopify's
calculated-cost rate limit.

Not a general GraphQL server: a request is served by the root field its document names
(`order`, `fulfillmentCreate`, `orderCancel`, `inventorySetQuantities`), reading its variables, and
answered in the shape Shopify answers those operations with (a superset of the fields our client
selects). What Shopify checks is checked: variables' types, GIDs, quantities, states, with
`userErrors` naming the input path.

Cost: a mutation is requested at 10 points; a query at 1 plus the sum of its connections' `first:`
sizes. The requested cost is taken from the bucket before the call and the difference to the actual
cost (1 per object returned) is given back after it, as Shopify does. A request costing more than is
available is answered HTTP 200 with a THROTTLED error and `actualQueryCost: null`. Every answer
carries `extensions.cost` with the bucket's `throttleStatus`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from integrations.channels.sandbox_orders import OrderRefused, ShopifyOrders

MUTATION_COST = 10
MAX_QUANTITIES = 250
CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")
_FIRST = re.compile(r"\bfirst\s*:\s*(\d+)")
_OPERATIONS = ("fulfillmentCreate", "orderCancel", "inventorySetQuantities", "order")

Levels = Callable[[int, int, int], object]


class CostBucket:
    """Shopify's GraphQL limit: `maximum` points, restored at `restore_rate` per second."""

    def __init__(self, maximum: float, restore_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if maximum < 1 or restore_rate <= 0:
            raise ValueError("a cost bucket needs maximum >= 1 and restore_rate > 0")
        self.maximum, self.restore_rate = maximum, restore_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._available = float(maximum)
        self._at = clock()

    def _restore(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, requested: int) -> bool:
        with self._lock:
            self._restore()
            if requested > self._available:
                return False
            self._available -= requested
            return True

    def give_back(self, points: float) -> None:
        with self._lock:
            self._restore()
            self._available = min(self.maximum, self._available + max(points, 0))

    def status(self) -> dict[str, float]:
        with self._lock:
            self._restore()
            return {"maximumAvailable": float(self.maximum), "currentlyAvailable": float(int(self._available)),
                    "restoreRate": float(self.restore_rate)}


class GraphQLError(Exception):
    """A top-level GraphQL error (a bad document or variables), not a userError."""

    def __init__(self, message: str, code: str, path: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.path = message, code, path or []


def operation_of(query: str) -> str | None:
    """The root field the document asks for (the first of ours it names)."""
    body = query.split("{", 1)[1] if "{" in query else ""
    found = [(match.start(), name) for name in _OPERATIONS
             if (match := re.search(rf"\b{name}\s*[({{]", body)) is not None]
    return min(found)[1] if found else None


def requested_cost(query: str, operation: str) -> int:
    if query.lstrip().startswith("mutation"):
        return MUTATION_COST
    return 1 + sum(int(n) for n in _FIRST.findall(query))


class GraphQLEndpoint:
    """Serves one request: throttle, run, and the `extensions.cost` to answer with."""

    def __init__(self, orders: ShopifyOrders, bucket: CostBucket, set_level: Levels,
                 count: Callable[[str], None]) -> None:
        self._orders, self._bucket, self._set_level, self._count = orders, bucket, set_level, count
        self._idempotent: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def serve(self, body: object) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": [{"message": "Parameter 'query' is required.", "extensions": {"code": "BAD_REQUEST"}}]}
        query: str = body["query"]
        variables = body.get("variables") or {}
        operation = operation_of(query)
        if operation is None or not isinstance(variables, dict):
            return {"errors": [{"message": "This sandbox serves order, fulfillmentCreate, orderCancel and "
                                           "inventorySetQuantities only.",
                                "extensions": {"code": "UNSUPPORTED_OPERATION"}}]}
        requested = requested_cost(query, operation)
        if not self._bucket.take(requested):
            self._count("throttled")
            return {"errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                            "throttleStatus": self._bucket.status()}}}
        try:
            data, actual = self._run(operation, query, variables)
        except GraphQLError as err:
            self._bucket.give_back(requested - 1)
            self._count("rejected")
            return {"errors": [{"message": err.message, "path": err.path, "extensions": {"code": err.code}}],
                    "extensions": {"cost": self._cost(requested, 1)}}
        self._bucket.give_back(requested - actual)
        return {"data": data, "extensions": {"cost": self._cost(requested, actual)}}

    def _cost(self, requested: int, actual: int) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": self._bucket.status()}

    def _run(self, operation: str, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if operation == "order":
            return self._order(variables)
        if operation == "fulfillmentCreate":
            return self._fulfillment_create(variables), MUTATION_COST
        if operation == "orderCancel":
            return self._order_cancel(variables), MUTATION_COST
        return self._inventory_set(query, variables), MUTATION_COST

    def _order(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        order_id = _required_gid(variables, "id", "Order")
        record = self._orders.record(order_id)
        if record is None:
            return {"order": None}, 1
        order = record["order"]
        fulfillment_orders = [{
            "id": f"gid://shopify/FulfillmentOrder/{fo['id']}", "status": fo["status"],
            "lineItems": {"nodes": [{
                "id": f"gid://shopify/FulfillmentOrderLineItem/{line['id']}",
                "totalQuantity": line["total_quantity"], "remainingQuantity": line["remaining_quantity"],
                "lineItem": {"id": f"gid://shopify/LineItem/{line['line_item_id']}", "sku": line["sku"]}}
                for line in fo["lines"]]}}
            for fo in record["fulfillment_orders"]]
        fulfillments = [_fulfillment(f) for f in record["fulfillments"]]
        actual = 1 + len(fulfillment_orders) + sum(len(fo["lineItems"]["nodes"]) for fo in fulfillment_orders) \
            + len(fulfillments)
        data = {"order": {"id": f"gid://shopify/Order/{order['id']}", "name": order["name"],
                          "cancelledAt": order["cancelled_at"], "displayFulfillmentStatus":
                              (order["fulfillment_status"] or "unfulfilled").upper(),
                          "fulfillmentOrders": {"nodes": fulfillment_orders}, "fulfillments": fulfillments}}
        return data, actual

    def _fulfillment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        fulfillment = variables.get("fulfillment")
        if not isinstance(fulfillment, dict):
            raise GraphQLError("Variable $fulfillment of type FulfillmentInput! was provided invalid value",
                               "INVALID_VARIABLE", ["fulfillment"])
        try:
            created = self._orders.fulfill(fulfillment)
        except OrderRefused as refused:
            self._count("rejected")
            return {"fulfillmentCreate": {"fulfillment": None,
                                          "userErrors": [{"field": refused.field, "message": refused.message}]}}
        self._count("fulfillments_created")
        return {"fulfillmentCreate": {"fulfillment": _fulfillment(created), "userErrors": []}}

    def _order_cancel(self, variables: dict[str, Any]) -> dict[str, Any]:
        order_id = _required_gid(variables, "orderId", "Order")
        reason = variables.get("reason")
        if reason not in CANCEL_REASONS:
            raise GraphQLError(f"Variable $reason of type OrderCancelReason! was provided invalid value: "
                               f"expected one of {', '.join(CANCEL_REASONS)}", "INVALID_VARIABLE", ["reason"])
        if not isinstance(variables.get("restock"), bool):
            raise GraphQLError("Variable $restock of type Boolean! was provided invalid value", "INVALID_VARIABLE",
                               ["restock"])
        try:
            self._orders.cancel(order_id, reason, staff_note=variables.get("staffNote"))
        except OrderRefused as refused:
            self._count("rejected")
            return {"orderCancel": {"job": None, "orderCancelUserErrors": [
                {"field": refused.field, "message": refused.message, "code": refused.code}], "userErrors": []}}
        self._count("orders_cancelled")
        return {"orderCancel": {"job": {"id": f"gid://shopify/Job/{order_id}-cancel", "done": True},
                                "orderCancelUserErrors": [], "userErrors": []}}

    def _inventory_set(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        key = variables.get("key")
        if "@idempotent" in query and (not isinstance(key, str) or not key):
            raise GraphQLError("Variable $key of type String! was provided invalid value", "INVALID_VARIABLE", ["key"])
        if "@idempotent" not in query:
            raise GraphQLError("inventorySetQuantities requires the @idempotent directive from 2026-04",
                               "IDEMPOTENCY_KEY_REQUIRED", ["inventorySetQuantities"])
        assert isinstance(key, str)
        with self._lock:
            if key in self._idempotent:
                self._count("idempotent_replays")
                return self._idempotent[key]
        payload = self._set_quantities(variables.get("input"))
        with self._lock:
            self._idempotent[key] = payload
            if len(self._idempotent) > 10_000:
                self._idempotent.pop(next(iter(self._idempotent)))
        return payload

    def _set_quantities(self, raw: object) -> dict[str, Any]:
        def refused(field: list[str], message: str, code: str = "INVALID") -> dict[str, Any]:
            self._count("rejected")
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None,
                                               "userErrors": [{"field": field, "message": message, "code": code}]}}

        if not isinstance(raw, dict):
            raise GraphQLError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value",
                               "INVALID_VARIABLE", ["input"])
        if raw.get("name") not in ("available", "on_hand"):
            return refused(["input", "name"], "The quantity name must be 'available' or 'on_hand'.",
                           "INVALID_NAME")
        if not isinstance(raw.get("reason"), str) or not raw["reason"]:
            return refused(["input", "reason"], "A reason is required.", "INVALID_REASON")
        quantities = raw.get("quantities")
        if not isinstance(quantities, list) or not quantities:
            return refused(["input", "quantities"], "At least one quantity is required.")
        if len(quantities) > MAX_QUANTITIES:
            return refused(["input", "quantities"], f"At most {MAX_QUANTITIES} quantities can be set at once.",
                           "MAX_ONE_HUNDRED_FIFTY_QUANTITIES_EXCEEDED")
        parsed: list[tuple[int, int, int]] = []
        for index, row in enumerate(quantities):
            where = ["input", "quantities", str(index)]
            if not isinstance(row, dict):
                return refused(where, "must be an object")
            if "changeFromQuantity" not in row:
                return refused([*where, "changeFromQuantity"],
                               "changeFromQuantity is required (null to skip the compare).",
                               "CHANGE_FROM_QUANTITY_REQUIRED")
            item = _gid(row.get("inventoryItemId"), "InventoryItem")
            location = _gid(row.get("locationId"), "Location")
            quantity = row.get("quantity")
            if item is None:
                return refused([*where, "inventoryItemId"], "The specified inventory item could not be found.",
                               "INVALID_INVENTORY_ITEM")
            if location is None:
                return refused([*where, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                return refused([*where, "quantity"], "The quantity must be an integer.", "INVALID_QUANTITY")
            parsed.append((location, item, quantity))
        changes = []
        for location, item, quantity in parsed:
            self._set_level(location, item, quantity)
            changes.append({"name": raw["name"], "delta": quantity,
                            "item": {"id": f"gid://shopify/InventoryItem/{item}"},
                            "location": {"id": f"gid://shopify/Location/{location}"}})
        return {"inventorySetQuantities": {
            "inventoryAdjustmentGroup": {"reason": raw["reason"], "changes": changes}, "userErrors": []}}


def _fulfillment(fulfillment: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"gid://shopify/Fulfillment/{fulfillment['id']}", "name": fulfillment["name"],
            "status": fulfillment["status"], "createdAt": fulfillment["created_at"],
            "trackingInfo": fulfillment["tracking"]}


def _gid(value: object, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if isinstance(value, str) and value.startswith(prefix) and value[len(prefix):].isdigit():
        number = int(value[len(prefix):])
        return number if number > 0 else None
    return None


def _required_gid(variables: dict[str, Any], name: str, kind: str) -> int:
    number = _gid(variables.get(name), kind)
    if number is None:
        raise GraphQLError(f"Variable ${name} of type ID! was provided invalid value: expected a "
                           f"gid://shopify/{kind}/ id", "INVALID_VARIABLE", [name])
    return number
