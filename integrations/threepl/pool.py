"""One ShipBob client per account: the default one from settings, and one per node provider setting
(another base URL, a token named by reference, a channel), made when first asked for and closed together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from integrations.threepl.shipbob import ShipBobClient
from models.network import ProviderSettings


class ShipBobClientPool:
    """`pool(provider)`: the client for a node's provider settings; None gives the default client.
    `secret(name)` resolves a `credentials_ref` (the worker passes `Settings.partner_secret`)."""

    def __init__(self, default: ShipBobClient, base_url: str, secret: Callable[[str], str]) -> None:
        self._default = default
        self._base_url = base_url
        self._secret = secret
        self._lock = threading.Lock()
        self._clients: dict[ProviderSettings, ShipBobClient] = {}

    def __call__(self, provider: ProviderSettings | None) -> ShipBobClient:
        if provider is None:
            return self._default
        with self._lock:
            client = self._clients.get(provider)
            if client is None:
                client = ShipBobClient(provider.base_url or self._base_url, self._secret(provider.credentials_ref),
                                       channel_id=provider.account)
                self._clients[provider] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
