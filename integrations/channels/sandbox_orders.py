"""The Shopify sandbox's orders: the order resource its webhooks carry, its fulfillment orders and
fulfillments, its cancel, and the signed `orders/*` webhooks sent when they change.

An order is created by the `/_sandbox/orders` knob (as a customer checking out would), with one
fulfillment order at the order's location holding every line item. `fulfillmentCreate` takes units off
the fulfillment order lines and adds a fulfillment with its tracking; `orderCancel` (or the cancel knob)
cancels the order and its open fulfillment orders. Webhooks go to every subscription (`/_sandbox/webhooks`)
signed as Shopify signs them: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the
subscription's secret.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from integrations.sandbox_kit import WebhookDeliveries
from integrations.sandbox_store import SandboxStore

SHOP_DOMAIN = "omniroute-sandbox.myshopify.com"
WEBHOOK_API_VERSION = "2026-07"
_ORDERS, _SUBSCRIPTIONS, _IDS = "shopify.order", "shopify.webhook", "shopify.ids"


class OrderRefused(ValueError):
    """A change Shopify would refuse: `field` is the input path, `code` Shopify's error code."""

    def __init__(self, field: list[str], message: str, code: str = "INVALID") -> None:
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ShopifyOrders:
    """Orders, their fulfillment orders and fulfillments, and webhook subscriptions, behind one lock and
    kept in `store` (written before memory changes)."""

    def __init__(self, store: SandboxStore, deliveries: WebhookDeliveries) -> None:
        self._lock = threading.Lock()
        self._store = store
        self._deliveries = deliveries
        self._orders: dict[int, dict[str, Any]] = {int(key): value for key, value in store.load(_ORDERS)}
        self._subscriptions: dict[str, dict[str, str]] = dict(store.load(_SUBSCRIPTIONS))
        # Ids start somewhere random, so that orders of sandboxes that restart without a file don't collide.
        self._next_id: int = store.get(_IDS, "next") or 5_000_000_000 + secrets.randbelow(10**9) * 1000
        self._number: int = store.get(_IDS, "number") or 1000

    # -- the knobs ---------------------------------------------------------------------------------

    def subscribe(self, url: str, secret: str) -> dict[str, str]:
        """Send the order webhooks to `url` signed with `secret`; a URL subscribed before keeps its id and
        takes the new secret (so a demo that subscribes at every start does not get each webhook twice)."""
        with self._lock:
            same = next((s for s in self._subscriptions.values() if s["url"] == url), None)
            subscription = {"id": same["id"] if same else uuid.uuid4().hex[:12], "url": url, "secret": secret}
            self._store.put(_SUBSCRIPTIONS, subscription["id"], subscription)
            self._subscriptions[subscription["id"]] = subscription
        return {"id": subscription["id"], "url": url}

    def unsubscribe_all(self) -> None:
        with self._lock:
            self._store.clear(_SUBSCRIPTIONS)
            self._subscriptions.clear()

    def webhook_stats(self) -> dict[str, Any]:
        with self._lock:
            subscriptions = [{"id": s["id"], "url": s["url"]} for s in self._subscriptions.values()]
        return {"subscriptions": subscriptions, "delivered": self._deliveries.delivered,
                "failed": self._deliveries.failed}

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        """A new order from the knob's body (line items with sku, quantity, price; the rest defaulted),
        and its orders/create webhook. Raises OrderRefused naming a missing or bad field."""
        items = request.get("line_items")
        if not isinstance(items, list) or not items:
            raise OrderRefused(["line_items"], "at least one line item (sku, quantity, price) is required")
        with self._lock:
            ids = iter(range(self._next_id, self._next_id + 3 + 2 * len(items)))
            order_id, fo_id = next(ids), next(ids)
            self._number += 1
            lines = [_line_item(index, item, next(ids)) for index, item in enumerate(items)]
            record: dict[str, Any] = {"order": _order_resource(order_id, self._number, lines, request),
                      "fulfillment_orders": [{
                          "id": fo_id, "status": "OPEN", "assigned_location_id": request.get("location_id", 1),
                          "lines": [{"id": next(ids), "line_item_id": line["id"], "sku": line["sku"],
                                     "total_quantity": line["quantity"], "remaining_quantity": line["quantity"]}
                                    for line in lines]}],
                      "fulfillments": []}
            self._next_id = next(ids)
            with self._store.transaction():
                self._store.put(_ORDERS, str(order_id), record)
                self._store.put(_IDS, "next", self._next_id)
                self._store.put(_IDS, "number", self._number)
            self._orders[order_id] = record
            order: dict[str, Any] = copy.deepcopy(record["order"])
        self._send("orders/create", order)
        return order

    def get(self, order_id: int) -> dict[str, Any] | None:
        """The order resource with its fulfillments (REST's shape) and fulfillment orders."""
        with self._lock:
            record = self._orders.get(order_id)
            if record is None:
                return None
            return {**copy.deepcopy(record["order"]),
                    "fulfillments": [_rest_fulfillment(f) for f in record["fulfillments"]],
                    "fulfillment_orders": copy.deepcopy(record["fulfillment_orders"])}

    def record(self, order_id: int) -> dict[str, Any] | None:
        with self._lock:
            record = self._orders.get(order_id)
            return None if record is None else copy.deepcopy(record)

    def ids(self) -> list[int]:
        with self._lock:
            return sorted(self._orders)

    # -- what the Admin API changes ------------------------------------------------------------------

    def fulfill(self, fulfillment: dict[str, Any]) -> dict[str, Any]:
        """fulfillmentCreate's effect; the new fulfillment. Raises OrderRefused as Shopify's userErrors."""
        groups = fulfillment.get("lineItemsByFulfillmentOrder")
        if not isinstance(groups, list) or not groups:
            raise OrderRefused(["fulfillment", "lineItemsByFulfillmentOrder"],
                               "must list at least one fulfillment order")
        with self._lock:
            taken: list[tuple[dict[str, Any], int]] = []
            seen: set[int] = set()
            order_record: dict[str, Any] | None = None
            for index, group in enumerate(groups):
                where = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
                fo_id = _gid_number(group.get("fulfillmentOrderId"), "FulfillmentOrder")
                found = self._find_fulfillment_order(fo_id) if fo_id is not None else None
                if found is None:
                    raise OrderRefused([*where, "fulfillmentOrderId"], "Fulfillment order does not exist.")
                if fo_id in seen:
                    raise OrderRefused([*where, "fulfillmentOrderId"], "Fulfillment order ids must be unique.")
                seen.add(fo_id)  # type: ignore[arg-type]
                record, fo = found
                if order_record is not None and record is not order_record:
                    raise OrderRefused([*where, "fulfillmentOrderId"],
                                       "All fulfillment orders must belong to the same order.")
                order_record = record
                if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                    raise OrderRefused([*where, "fulfillmentOrderId"], "The fulfillment order is not in an open state.")
                wanted = group.get("fulfillmentOrderLineItems")
                if wanted is None:
                    taken += [(line, line["remaining_quantity"]) for line in fo["lines"] if line["remaining_quantity"]]
                    continue
                for n, item in enumerate(wanted):
                    line_id = _gid_number(item.get("id"), "FulfillmentOrderLineItem")
                    line = next((x for x in fo["lines"] if x["id"] == line_id), None)
                    if line is None:
                        raise OrderRefused([*where, "fulfillmentOrderLineItems", str(n), "id"],
                                           "Fulfillment order line item does not exist.")
                    quantity = item.get("quantity")
                    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= line[
                            "remaining_quantity"]:
                        raise OrderRefused([*where, "fulfillmentOrderLineItems", str(n), "quantity"],
                                           "Invalid fulfillment order line item quantity requested.")
                    taken.append((line, quantity))
            assert order_record is not None
            if not taken:
                raise OrderRefused(["fulfillment", "lineItemsByFulfillmentOrder"], "Nothing left to fulfill.")
            updated = copy.deepcopy(order_record)
            by_id = {line["id"]: line for fo in updated["fulfillment_orders"] for line in fo["lines"]}
            for line, quantity in taken:
                by_id[line["id"]]["remaining_quantity"] -= quantity
            for fo in updated["fulfillment_orders"]:
                if fo["status"] in ("OPEN", "IN_PROGRESS") and any(
                        line["remaining_quantity"] != line["total_quantity"] for line in fo["lines"]):
                    fo["status"] = "CLOSED" if all(line["remaining_quantity"] == 0 for line in fo["lines"]) \
                        else "IN_PROGRESS"
            tracking = fulfillment.get("trackingInfo") or {}
            order = updated["order"]
            new = {"id": self._next_id, "status": "SUCCESS", "created_at": _now(),
                   "name": f"{order['name']}.{len(updated['fulfillments']) + 1}",
                   "tracking": [{"company": tracking.get("company"), "number": tracking.get("number"),
                                 "url": tracking.get("url")}] if tracking.get("number") else [],
                   "notify_customer": bool(fulfillment.get("notifyCustomer")),
                   "line_items": [{"sku": line["sku"], "quantity": quantity, "line_item_id": line["line_item_id"]}
                                  for line, quantity in taken]}
            updated["fulfillments"].append(new)
            left = sum(line["remaining_quantity"] for fo in updated["fulfillment_orders"] for line in fo["lines"])
            order["fulfillment_status"] = "fulfilled" if left == 0 else "partial"
            order["updated_at"] = _now()
            self._next_id += 1
            self._save(order["id"], updated)
            return copy.deepcopy(new)

    def cancel(self, order_id: int, reason: str, *, staff_note: str | None = None,
               field: str = "orderId") -> dict[str, Any]:
        """Cancel the order (orderCancel, or the knob), and send orders/cancelled. Raises OrderRefused."""
        with self._lock:
            record = self._orders.get(order_id)
            if record is None:
                raise OrderRefused([field], "Order does not exist.", "NOT_FOUND")
            if record["order"]["cancelled_at"] is not None:
                raise OrderRefused([field], "Order has already been cancelled.", "INVALID")
            if record["fulfillments"]:
                raise OrderRefused([field], "Cannot cancel an order that has fulfillments.", "INVALID")
            updated = copy.deepcopy(record)
            order = updated["order"]
            order["cancelled_at"] = order["updated_at"] = _now()
            order["cancel_reason"] = reason.lower()
            order["financial_status"] = "voided" if order["financial_status"] == "authorized" else order[
                "financial_status"]
            if staff_note:
                order["note"] = staff_note
            for fo in updated["fulfillment_orders"]:
                if fo["status"] in ("OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"):
                    fo["status"] = "CANCELLED"
            self._save(order_id, updated)
            cancelled: dict[str, Any] = copy.deepcopy(order)
        self._send("orders/cancelled", cancelled)
        return cancelled

    def _find_fulfillment_order(self, fo_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for record in self._orders.values():
            for fo in record["fulfillment_orders"]:
                if fo["id"] == fo_id:
                    return record, fo
        return None

    def _save(self, order_id: int, record: dict[str, Any]) -> None:
        with self._store.transaction():
            self._store.put(_ORDERS, str(order_id), record)
            self._store.put(_IDS, "next", self._next_id)
        self._orders[order_id] = record

    def _send(self, topic: str, order: dict[str, Any]) -> None:
        body = json.dumps(order, separators=(",", ":")).encode()
        with self._lock:
            subscriptions = list(self._subscriptions.values())
        event_id = str(uuid.uuid4())
        for subscription in subscriptions:
            headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                       "X-Shopify-Hmac-Sha256": sign(body, subscription["secret"]),
                       "X-Shopify-Shop-Domain": SHOP_DOMAIN, "X-Shopify-API-Version": WEBHOOK_API_VERSION,
                       "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Event-Id": event_id,
                       "X-Shopify-Triggered-At": _now()}
            self._deliveries.send(subscription["url"], body, headers)


def _gid_number(value: object, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if isinstance(value, str) and value.startswith(prefix) and value[len(prefix):].isdigit():
        return int(value[len(prefix):])
    return None


def _line_item(index: int, item: object, line_id: int) -> dict[str, Any]:
    where = ["line_items", str(index)]
    if not isinstance(item, dict):
        raise OrderRefused(where, "must be an object with sku, quantity and price")
    sku, quantity, price = item.get("sku"), item.get("quantity", 1), item.get("price", "10.00")
    if not isinstance(sku, str) or not sku:
        raise OrderRefused([*where, "sku"], "is required")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise OrderRefused([*where, "quantity"], "must be a positive integer")
    try:
        amount = Decimal(str(price))
    except ArithmeticError:
        raise OrderRefused([*where, "price"], "must be a decimal amount") from None
    if not amount.is_finite() or amount < 0:
        raise OrderRefused([*where, "price"], "must be a decimal amount")
    title = str(item.get("title") or sku.title())
    return {"id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
            "variant_id": line_id + 7, "product_id": line_id + 13, "sku": sku, "title": title, "name": title,
            "quantity": quantity, "current_quantity": quantity, "fulfillable_quantity": quantity,
            "price": _money(amount), "requires_shipping": True, "taxable": True, "fulfillment_status": None,
            "tax_lines": []}


def _order_resource(order_id: int, number: int, lines: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The order as Shopify's orders/* webhooks carry it (the REST resource, no wrapper)."""
    subtotal = sum((Decimal(line["price"]) * line["quantity"] for line in lines), Decimal(0))
    shipping_lines = request.get("shipping_lines") or [
        {"id": order_id + 1, "title": "Standard", "code": "standard", "price": "5.00", "source": "shopify"}]
    shipping = sum((Decimal(str(s.get("price", "0"))) for s in shipping_lines), Decimal(0))
    tax_rate = Decimal("0.06")
    tax = (subtotal * tax_rate).quantize(Decimal("0.01"))
    tax_lines = request.get("tax_lines") or [{"title": "State Tax", "price": _money(tax), "rate": float(tax_rate)}]
    total_tax = sum((Decimal(str(t.get("price", "0"))) for t in tax_lines), Decimal(0))
    email = request.get("email") or f"buyer-{order_id}@example.com"
    customer = request.get("customer") or {"id": order_id + 2, "email": email, "first_name": "Ada",
                                           "last_name": "Buyer"}
    address = request.get("shipping_address") or {
        "first_name": "Ada", "last_name": "Buyer", "name": "Ada Buyer", "address1": "1 Main St", "address2": None,
        "city": "Chicago", "province": "Illinois", "province_code": "IL", "zip": "60601", "country": "United States",
        "country_code": "US", "phone": None}
    now = _now()
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{number}",
        "order_number": number, "email": email, "contact_email": email, "created_at": now, "updated_at": now,
        "processed_at": now, "cancelled_at": None, "cancel_reason": None, "closed_at": None,
        "financial_status": request.get("financial_status", "paid"), "fulfillment_status": None,
        "currency": request.get("currency", "USD"), "presentment_currency": request.get("currency", "USD"),
        "subtotal_price": _money(subtotal), "total_line_items_price": _money(subtotal),
        "total_shipping_price_set": {"shop_money": {"amount": _money(shipping),
                                                    "currency_code": request.get("currency", "USD")}},
        "total_tax": _money(total_tax), "taxes_included": False,
        "total_price": _money(subtotal + shipping + total_tax), "total_discounts": "0.00",
        "line_items": lines, "shipping_lines": shipping_lines, "tax_lines": tax_lines,
        "customer": customer, "shipping_address": address, "billing_address": address,
        "test": True, "source_name": "web", "note": None, "tags": "",
    }


def _rest_fulfillment(fulfillment: dict[str, Any]) -> dict[str, Any]:
    tracking = fulfillment["tracking"]
    first = tracking[0] if tracking else {}
    return {"id": fulfillment["id"], "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment['id']}",
            "name": fulfillment["name"], "status": fulfillment["status"].lower(),
            "created_at": fulfillment["created_at"],
            "tracking_company": first.get("company"), "tracking_number": first.get("number"),
            "tracking_numbers": [t["number"] for t in tracking], "tracking_url": first.get("url"),
            "tracking_urls": [t["url"] for t in tracking if t.get("url")],
            "notify_customer": fulfillment["notify_customer"], "line_items": fulfillment["line_items"]}
