"""The HTTP gateway: channel intake, ATP, returns, warehouse and carrier events, ops.

`create_app` builds nothing at import time. Whatever is not injected (the Store, the channel SDK) is
built in the lifespan from Settings and released at shutdown. The Temporal connection is lazy, so the
gateway starts, and serves the network and ATP, while Temporal is still coming up; order and return
calls answer 503 until it is reachable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway import codec_session
from gateway.auth import AUTH_RESPONSES, KeyGuard
from gateway.body_limit import BodySizeLimit
from gateway.errors import TOO_LARGE, install_error_handlers
from gateway.routes import (
    audit,
    availability,
    channels,
    codec,
    health,
    inventory,
    keys,
    node_shipments,
    nodes,
    orders,
    returns,
    shipments,
    sourcing,
    sourcing_versions,
    subscriptions,
    timeline,
    webhooks_easypost,
    webhooks_sendgrid,
    webhooks_shipbob,
    webhooks_shopify,
)
from omniroute.client import OmnirouteClient
from omniroute.config.codec import codec_for, omniroute_data_converter
from omniroute.config.settings import Settings
from omniroute.config.telemetry import configure_tracing
from omniroute.config.temporal_tls import temporal_tls
from store import Store


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, client: OmnirouteClient | None = None
) -> FastAPI:
    """The gateway app. Injected parts are used as given and left open at shutdown (their owner closes
    them); parts the app builds itself it also disposes of. Request bodies over
    `settings.max_request_bytes` are refused with 413 before any route reads them. Every route but
    /healthz and the docs needs an API key (gateway/auth.py). The SDK's payloads are encrypted with the
    codec of `settings`, which /codec also serves to the Temporal UI, for operator and admin keys."""
    config = settings or Settings()
    payload_codec = codec_for(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracing = configure_tracing(config, "omniroute-gateway")
        owned_store = None
        if store is None:
            owned_store = Store.connect(config.app_database_url)
            app.state.store = owned_store
        try:
            _require_an_admin_key(config, app.state.store)
        except Exception:
            if owned_store is not None:
                owned_store.dispose()
            raise
        if client is None:
            app.state.client = await OmnirouteClient.connect(
                config.temporal_address,
                namespace=config.temporal_namespace,
                task_queue=config.task_queue,
                lazy=True,
                data_converter=omniroute_data_converter(payload_codec),
                tls=temporal_tls(config),
            )
        try:
            yield
        finally:
            if owned_store is not None:
                owned_store.dispose()
            if tracing is not None:
                tracing.shutdown()
            # A Temporal client has no close: dropping it lets its connection go.
            app.state.store, app.state.client = store, client

    app = FastAPI(
        title="Omniroute gateway",
        summary="Distributed order management: intake, ATP, shipments and returns on Temporal.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # Injected parts are usable without running the lifespan (tests drive the app directly).
    app.state.store = store
    app.state.client = client
    app.state.key_guard = KeyGuard.from_settings(config)
    app.state.codec = payload_codec
    app.state.settings = config  # partner secrets by reference (the ShipBob webhook's)
    app.state.easypost_webhook_secret = webhooks_easypost.webhook_secret(config)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_request_bytes)
    app.add_middleware(codec.CodecCors, origins=codec.ui_origins(config))
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(webhooks_shipbob.router, responses=TOO_LARGE)  # signed by ShipBob, not by API key
    # Signed by the sender, not by an API key (gateway/signatures.py).
    app.include_router(webhooks_easypost.router, responses=TOO_LARGE)
    app.include_router(webhooks_shopify.router, responses=TOO_LARGE)
    app.include_router(webhooks_sendgrid.router, responses=TOO_LARGE)
    routers = (
        keys.router,
        nodes.router,
        node_shipments.router,
        inventory.router,
        availability.router,
        channels.router,
        orders.router,
        shipments.router,
        returns.router,
        sourcing.router,
        codec.router,
        codec_session.router,
        sourcing_versions.router,
        timeline.router,
        audit.router,
        subscriptions.router,
    )
    for router in routers:
        app.include_router(router, responses=AUTH_RESPONSES | TOO_LARGE)
    return app


def _require_an_admin_key(config: Settings, store: Store) -> None:
    """Outside development and test, someone must be able to administer the gateway: a bootstrap
    admin key is set, or the DB holds an active admin key."""
    if config.environment in ("development", "test") or config.bootstrap_admin_key is not None:
        return
    if not store.has_active_admin_key():
        raise RuntimeError(
            f"the gateway will not start with no admin key (OMNIROUTE_ENVIRONMENT={config.environment}): set "
            "OMNIROUTE_BOOTSTRAP_ADMIN_KEY, or create one with `omniroute keys create --role admin`")
