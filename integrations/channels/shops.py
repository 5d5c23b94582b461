"""One Shopify GraphQL client per shop: channels that share a shop (and token) share its client, and so
its view of the shop's cost bucket."""

from __future__ import annotations

import threading

from integrations.channels.shopify_graphql import ShopifyGraphQLClient


class ShopifyShops:
    """Clients by (shop URL, token), made on first use and closed together."""

    def __init__(self, default: ShopifyGraphQLClient | None = None,
                 default_shop: tuple[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], ShopifyGraphQLClient] = {}
        self._owned: list[ShopifyGraphQLClient] = []
        if default is not None and default_shop is not None:
            self._clients[default_shop] = default  # the deployment's own client, closed by its owner

    def client(self, url: str, token: str) -> ShopifyGraphQLClient:
        with self._lock:
            found = self._clients.get((url, token))
            if found is None:
                found = ShopifyGraphQLClient(url, token)
                self._clients[(url, token)] = found
                self._owned.append(found)
            return found

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
            self._clients.clear()
        for client in owned:
            client.close()
