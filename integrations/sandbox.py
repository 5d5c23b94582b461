"""All provider sandboxes in one HTTP server: EasyPost at `/easypost/v2`, SendGrid at `/sendgrid`,
Shopify at `/shopify`, ShipBob at `/shipbob`, Stripe at `/stripe`, Shippo at `/shippo`,
a webhook WMS at `/wms`, dropship vendors at `/dropship/{vendor}`, Twilio's Messages API at `/twilio`.

`SandboxServer` runs it in a background thread (tests, the embedded dev stack);
`serve` runs it in the foreground (the `omniroute sandbox` command). Their state lives in memory and,
given a `SandboxStore` on a file, survives a restart on the same file (faults and rate windows do not).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import uvicorn
from fastapi import FastAPI

from integrations.carriers.sandbox import create_easypost_sandbox
from integrations.carriers.sandbox_trackers import TrackingPlan, WebhookIn
from integrations.carriers.shippo_sandbox import create_shippo_sandbox
from integrations.channels.sandbox import create_shopify_sandbox
from integrations.dropship.sandbox import create_dropship_sandbox
from integrations.notify.sandbox import create_sendgrid_sandbox
from integrations.notify.twilio_sandbox import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, create_twilio_sandbox
from integrations.payments.sandbox import DEV_STRIPE_KEY, create_stripe_sandbox
from integrations.sandbox_store import SandboxStore
from integrations.threepl.sandbox import DEV_WEBHOOK_SECRET, create_shipbob_sandbox
from integrations.wms.sandbox import create_wms_sandbox
from models.sandbox_credentials import DEV_SHIPBOB_KEY, DEV_SHOPIFY_TOKEN

EASYPOST_PREFIX = "/easypost/v2"
SENDGRID_PREFIX = "/sendgrid"
SHIPBOB_PREFIX = "/shipbob"
SHOPIFY_PREFIX = "/shopify"
WMS_PREFIX = "/wms"
DROPSHIP_PREFIX = "/dropship"
STRIPE_PREFIX = "/stripe"
TWILIO_PREFIX = "/twilio"


def create_sandbox_app(*, easypost_key: str, sendgrid_key: str, shopify_token: str = DEV_SHOPIFY_TOKEN,
                       shipbob_key: str = DEV_SHIPBOB_KEY, store: SandboxStore | None = None,
                       shipbob_webhook_secret: str = DEV_WEBHOOK_SECRET,
                       shipbob_webhook_url: str | None = None,
                       shipbob_ship_after_seconds: float | None = None,
                       easypost_tracking: TrackingPlan | None = None,
                       easypost_webhooks: list[WebhookIn] | None = None,
                       stripe_key: str = DEV_STRIPE_KEY, twilio_account_sid: str = DEV_TWILIO_ACCOUNT_SID,
                       twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN) -> FastAPI:
    """The combined sandbox app, with `GET /healthz`. Every sandbox keeps its state in `store` too
    (the caller opens and closes it); without one they live in memory only. ShipBob signs its webhooks
    with `shipbob_webhook_secret` and sends every topic to `shipbob_webhook_url` when given; it ships
    each order `shipbob_ship_after_seconds` after it is created when given. EasyPost's trackers move
    by `easypost_tracking` and post their events to `easypost_webhooks`."""
    app = FastAPI(title="Omniroute provider sandboxes", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount(EASYPOST_PREFIX, create_easypost_sandbox(easypost_key, store, tracking=easypost_tracking,
                                                       webhooks=easypost_webhooks))
    app.mount(SENDGRID_PREFIX, create_sendgrid_sandbox(sendgrid_key, store))
    app.mount(SHIPBOB_PREFIX, create_shipbob_sandbox(shipbob_key, store=store, webhook_secret=shipbob_webhook_secret,
                                                     webhook_url=shipbob_webhook_url,
                                                     ship_after_seconds=shipbob_ship_after_seconds))
    app.mount(SHOPIFY_PREFIX, create_shopify_sandbox(shopify_token, store=store))
    app.mount(WMS_PREFIX, create_wms_sandbox(store))
    app.mount(DROPSHIP_PREFIX, create_dropship_sandbox(store))
    app.mount(STRIPE_PREFIX, create_stripe_sandbox(stripe_key, store))
    app.mount("/shippo", create_shippo_sandbox(store=store))  # DEV_SHIPPO_KEY, DEV_SHIPPO_WEBHOOK_SECRET
    app.mount(TWILIO_PREFIX, create_twilio_sandbox(twilio_account_sid, twilio_auth_token, store))
    return app


class SandboxServer:
    """Serves an ASGI app with uvicorn on a background thread, on 127.0.0.1.

    `port=0` binds a free port (read it from `.port` after `start()`). `lifespan="on"` runs the app's
    lifespan (an app that builds its own clients there, e.g. the gateway). `start()` returns once the
    server accepts connections and raises RuntimeError if it does not within `startup_timeout`.
    `stop()` shuts it down and joins the thread; both are safe to call twice.
    """

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0,
                 startup_timeout: float = 10.0, lifespan: Literal["on", "off"] = "off") -> None:
        self._app = app
        self._lifespan = lifespan
        self._host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox server is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def easypost_url(self) -> str:
        return self.url + EASYPOST_PREFIX

    @property
    def sendgrid_url(self) -> str:
        return self.url + SENDGRID_PREFIX

    @property
    def twilio_url(self) -> str:
        return self.url + TWILIO_PREFIX

    @property
    def shipbob_url(self) -> str:
        return self.url + SHIPBOB_PREFIX

    @property
    def shopify_url(self) -> str:
        return self.url + SHOPIFY_PREFIX

    @property
    def wms_url(self) -> str:
        return self.url + WMS_PREFIX

    @property
    def dropship_url(self) -> str:
        return self.url + DROPSHIP_PREFIX

    def start(self) -> Self:
        if self._thread is not None:
            return self
        # Binding here, not in uvicorn, makes the port known before the thread starts.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", lifespan=self._lifespan, access_log=False)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                         name=f"sandbox-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"sandbox server did not start on {self._host}:{self._port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(host: str, port: int, *, easypost_key: str, sendgrid_key: str,
          shipbob_key: str = DEV_SHIPBOB_KEY, shopify_token: str = DEV_SHOPIFY_TOKEN,
          state_path: Path | None = None, shipbob_webhook_secret: str = DEV_WEBHOOK_SECRET,
          shipbob_webhook_url: str | None = None, shipbob_ship_after_seconds: float | None = None,
          easypost_tracking: TrackingPlan | None = None, easypost_webhooks: list[WebhookIn] | None = None) -> None:
    """Serve the sandboxes in the foreground until SIGINT/SIGTERM (uvicorn handles both), keeping their
    state in the SQLite file `state_path` (created if missing) or, without one, in memory only."""
    with SandboxStore(state_path) as store:
        app = create_sandbox_app(easypost_key=easypost_key, sendgrid_key=sendgrid_key, shipbob_key=shipbob_key,
                                 shopify_token=shopify_token, store=store,
                                 shipbob_webhook_secret=shipbob_webhook_secret, shipbob_webhook_url=shipbob_webhook_url,
                                 shipbob_ship_after_seconds=shipbob_ship_after_seconds,
                                 easypost_tracking=easypost_tracking, easypost_webhooks=easypost_webhooks)
        uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")
