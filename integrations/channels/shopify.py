"""Shopify Admin REST client: set a location's available quantity of one inventory item.

No longer used by the inventory sync, which sets quantities with GraphQL `inventorySetQuantities`
(integrations/channels/shopify_graphql.py); kept for reference, and for its shared pieces (the token
header, the API version, the REST error parser).

Wire format (Admin REST): `POST {shop}/admin/api/{version}/inventory_levels/set.json` with
`{"location_id", "inventory_item_id", "available"}` answering `{"inventory_level": {...}}`;
`X-Shopify-Access-Token: TOKEN`; errors as `{"errors": "text" | ["text"] | {"field": ["text"]}}`;
a leaky bucket (40 calls, 2 per second drained) answers 429 with a fractional `Retry-After`.
Setting a level is absolute, so sending the same level twice is harmless: retries need no key.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations.http import ErrorDetail, PermanentProviderError, ProviderClient, RetryPolicy, json_object, send

PROVIDER = "shopify"
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
DEFAULT_API_VERSION = "2026-07"
# A full bucket drains one call per 0.5 s, so throttled answers ask for short waits: wait a few.
SHOPIFY_RETRY = RetryPolicy(max_retries=5, max_wait=5.0, default_wait=0.5)


class ShopifyInventoryLevel(BaseModel):
    """A location's stock of one inventory item, as Shopify answered it."""

    model_config = ConfigDict(frozen=True)

    location_id: int
    inventory_item_id: int
    available: int | None = Field(description="None when the item is not tracked at the location")
    updated_at: str | None = None


class ShopifyClient(ProviderClient):
    """Sync Shopify Admin REST client. Every method raises an `integrations.http.ProviderError` subclass:
    `PermanentProviderError` for refusals (401 bad token, 404 unknown location or item, 422 naming the
    field), `RateLimitedError` when the bucket stayed full past the in-process retries (its
    `retry_after` says when to come back), `TransientProviderError` for outages.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = SHOPIFY_RETRY,
    ) -> None:
        super().__init__(base_url, {ACCESS_TOKEN_HEADER: token, "Accept": "application/json"},
                         timeout=timeout, transport=transport, retry=retry)
        self._prefix = f"/admin/api/{api_version}"

    def set_inventory_level(self, location_id: int, inventory_item_id: int, available: int) -> ShopifyInventoryLevel:
        """Make `available` the item's available quantity at the location (absolute, so idempotent)."""
        body = {"location_id": location_id, "inventory_item_id": inventory_item_id, "available": available}
        data = self._call("POST", "/inventory_levels/set.json", json=body)
        return parse_inventory_level(data.get("inventory_level"))




    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> dict[str, Any]:
        request = self._http.build_request(method, self._prefix + path, json=json)
        response = send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)
        return json_object(PROVIDER, response)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """`{"errors": "text" | ["text", ...] | {"field": ["text", ...]}}` → ErrorDetail (first field named)."""
    errors = response.json().get("errors")
    if isinstance(errors, dict) and errors:
        field, messages = next(iter(errors.items()))
        text = ", ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        return ErrorDetail(message=f"{field} {text}", field=str(field))
    if isinstance(errors, list) and errors:
        return ErrorDetail(message="; ".join(str(item) for item in errors))
    if isinstance(errors, str) and errors:
        return ErrorDetail(message=errors)
    return ErrorDetail(message=response.reason_phrase or f"HTTP {response.status_code}")


def parse_inventory_level(data: object) -> ShopifyInventoryLevel:
    if not isinstance(data, dict):
        raise PermanentProviderError(PROVIDER, "response has no inventory_level object")
    try:
        return ShopifyInventoryLevel.model_validate(data)
    except ValueError as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable inventory_level: {exc}") from exc
