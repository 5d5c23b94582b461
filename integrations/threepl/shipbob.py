"""ShipBob client: read a 3PL's inventory levels page by page, and create, read and cancel its
orders (integrations/threepl/shipbob_orders.py has their wire shapes), honouring its rate limit.

Wire format (dated API versions): `https://api.shipbob.com/{version}/...`, `Authorization: Bearer TOKEN`.
`GET /{version}/inventory-level?PageSize=N` answers `{first, prev, next, last, items: [...]}` where the
cursor links are URLs (or null); the client follows `next` until it is null. Throttling is a 429 with
`x-retry-after: <seconds>`. Writes carry `shipbob_channel_id`: the channel given, else the first of
`GET /{version}/channel`. Errors: 400/422 `{"<field>": ["msg", ...]}`, 404 ProblemDetails
`{type, title, status, detail, instance}`, 401/403 with any body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    PermanentProviderError,
    ProviderClient,
    RetryPolicy,
    json_object,
    send,
)
from integrations.threepl.shipbob_orders import NewShipBobOrder, ShipBobCancelAnswer, ShipBobOrder

PROVIDER = "shipbob"
DEFAULT_API_VERSION = "2026-07"
RETRY_AFTER_HEADER = "x-retry-after"
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 100
CHANNEL_HEADER = "shipbob_channel_id"


class ShipBobInventoryLevel(BaseModel):
    """One inventory item's totals across ShipBob's fulfillment centers (unknown fields are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    inventory_id: int
    name: str | None = None
    sku: str | None = None
    total_on_hand_quantity: int = 0
    total_fulfillable_quantity: int = 0
    total_committed_quantity: int = 0
    total_sellable_quantity: int = 0
    total_awaiting_quantity: int = 0


class ShipBobInventoryPage(BaseModel):
    """One page of levels; `next` is the URL of the following page, None on the last page."""

    model_config = ConfigDict(frozen=True)

    items: list[ShipBobInventoryLevel] = Field(default_factory=list)
    next: str | None = None


class ShipBobClient(ProviderClient):
    """Sync ShipBob client (inventory reads; orders). Raises `integrations.http.ProviderError` subclasses:
    `PermanentProviderError` for refusals (401/403 bad token, 404, 400/422 naming the field, a `next`
    link pointing at another host), `RateLimitedError` for a 429 whose `x-retry-after` wait is longer
    than the retry policy sleeps in-process (or after its retries), `TransientProviderError` otherwise.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        version: str = DEFAULT_API_VERSION,
        channel_id: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {token}", "Accept": "application/json"},
                         timeout=timeout, transport=transport, retry=retry)
        self._version = version.strip("/")
        self._channel_id = channel_id

    @property
    def version(self) -> str:
        return self._version

    def inventory_levels(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[ShipBobInventoryLevel]:
        """Every inventory level, following the `next` cursor until it is null."""
        for page in self.inventory_pages(page_size=page_size):
            yield from page.items

    def inventory_pages(self, *, page_size: int = DEFAULT_PAGE_SIZE,
                        start: str | None = None) -> Iterator[ShipBobInventoryPage]:
        """Page after page, from the first or from `start` (a `next` URL an earlier pass stopped at)."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        url: str | None = start
        params: dict[str, Any] | None = None
        if url is None:
            url, params = f"/{self._version}/inventory-level", {"PageSize": page_size}
        while url is not None:
            page = self.inventory_page(url, params=params)
            yield page
            url, params = page.next, None

    def inventory_page(self, url: str, *, params: dict[str, Any] | None = None) -> ShipBobInventoryPage:
        """One page at `url` (a path under the base URL, or a cursor URL on the same host)."""
        data = self._get(self._resolve(url), params=params)
        try:
            return ShipBobInventoryPage.model_validate({"items": data.get("items") or [], "next": data.get("next")})
        except ValidationError as exc:
            raise PermanentProviderError(PROVIDER, f"unreadable inventory page: {exc}") from exc

    # -- orders ------------------------------------------------------------------------------------

    def create_order(self, order: NewShipBobOrder) -> tuple[ShipBobOrder, bool]:
        """Create the order, or find the one an earlier attempt created under the same `reference_id`
        (ShipBob answers a duplicate with 422 naming it): (the order, whether this call created it)."""
        try:
            data = self._send("POST", f"/{self._version}/order", json=order.model_dump(mode="json", exclude_none=True),
                              write=True)
        except PermanentProviderError as err:
            if err.status != 422 or err.field != "reference_id":
                raise
            existing = self.find_order(order.reference_id)
            if existing is None:
                raise
            return existing, False
        return _order(data), True

    def find_order(self, reference_id: str) -> ShipBobOrder | None:
        """The order created under our `reference_id`, if there is one."""
        response = self._request("GET", f"/{self._version}/order", params={"ReferenceIds": reference_id})
        try:
            orders = response.json()
        except ValueError as exc:
            raise PermanentProviderError(PROVIDER, "order list is not JSON", status=response.status_code) from exc
        if not isinstance(orders, list):
            raise PermanentProviderError(PROVIDER, "order list is not a JSON array", status=response.status_code)
        found = [_order(item) for item in orders if isinstance(item, dict)]
        return next((o for o in found if o.reference_id == reference_id), None)

    def get_order(self, order_id: int) -> ShipBobOrder:
        return _order(self._send("GET", f"/{self._version}/order/{order_id}"))

    def cancel_order(self, order_id: int) -> ShipBobCancelAnswer:
        """Ask ShipBob to cancel the order; the answer says whether it did (a shipped order stays)."""
        data = self._send("POST", f"/{self._version}/order/{order_id}:cancel", write=True)
        try:
            return ShipBobCancelAnswer.model_validate(data)
        except ValidationError as exc:
            raise PermanentProviderError(PROVIDER, f"unreadable cancel answer: {exc}") from exc

    def channel_id(self) -> str:
        """The channel our writes are made in: the one configured, else ShipBob's first for our token."""
        if self._channel_id is None:
            items = self._send("GET", f"/{self._version}/channel").get("items") or []
            if not items or not isinstance(items[0], dict) or "id" not in items[0]:
                raise PermanentProviderError(PROVIDER, "the token has no channel to write orders in",
                                             field=CHANNEL_HEADER)
            self._channel_id = str(items[0]["id"])
        return self._channel_id

    def _send(self, method: str, path: str, *, json: dict[str, Any] | None = None,
              write: bool = False) -> dict[str, Any]:
        return json_object(PROVIDER, self._request(method, path, json=json, write=write))

    def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                 params: dict[str, Any] | None = None, write: bool = False) -> httpx.Response:
        headers = {CHANNEL_HEADER: self.channel_id()} if write else None
        request = self._http.build_request(method, path, json=json, params=params, headers=headers)
        return send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry,
                    retry_after_header=RETRY_AFTER_HEADER)

    def _resolve(self, url: str) -> httpx.URL:
        """A cursor link as a full URL. An absolute one must stay on the base URL's host (it gets our
        token); a relative one is taken under the base URL unless it already starts with its path."""
        base = self._http.base_url
        target = httpx.URL(url)
        if target.is_absolute_url:
            if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
                raise PermanentProviderError(PROVIDER, f"cursor link leaves {base.host}: {url}", field="next")
            return target
        origin = f"{base.scheme}://{base.netloc.decode('ascii')}"
        base_path = base.path.rstrip("/")
        path = url if url.startswith("/") else f"/{url}"
        if base_path and (path == base_path or path.startswith(f"{base_path}/")):
            return httpx.URL(origin + path)
        return httpx.URL(origin + base_path + path)

    def _get(self, url: httpx.URL, *, params: dict[str, Any] | None) -> dict[str, Any]:
        request = self._http.build_request("GET", url, params=params)
        response = send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry,
                        retry_after_header=RETRY_AFTER_HEADER)
        return json_object(PROVIDER, response)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """ShipBob's error bodies → ErrorDetail.

    400/422: `{"<field>": ["msg", ...]}` (the first field is named); 404 and others: ProblemDetails
    `{type, title, status, detail, instance}`; 429: `{"statusCode", "message"}`; 401/403: any body.
    """
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    if not response.content.strip():
        return ErrorDetail(message=fallback)
    body = response.json()
    if not isinstance(body, dict):
        return ErrorDetail(message=str(body)[:200] or fallback)
    if "title" in body or "detail" in body:
        message = ": ".join(str(body[key]) for key in ("title", "detail") if body.get(key))
        return ErrorDetail(message=message or fallback, code=_text(body.get("type")))
    if "message" in body:
        return ErrorDetail(message=str(body["message"]))
    for field, messages in body.items():
        if isinstance(messages, list) and messages:
            return ErrorDetail(message=f"{field}: {'; '.join(str(m) for m in messages)}", field=str(field))
        if isinstance(messages, str):
            return ErrorDetail(message=f"{field}: {messages}", field=str(field))
    return ErrorDetail(message=fallback)


def _order(data: object) -> ShipBobOrder:
    try:
        return ShipBobOrder.model_validate(data)
    except ValidationError as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable order: {exc}") from exc


def _text(value: object) -> str | None:
    return str(value) if value else None
