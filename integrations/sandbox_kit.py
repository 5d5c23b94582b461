"""Pieces every provider sandbox shares: credential checks, fault injection and webhook deliveries.

A sandbox is a FastAPI app that speaks one provider's wire format from memory (kept in a file too
when it is given one, see integrations.sandbox_store). Its own inspection and control endpoints live
under `/_sandbox/`, which no provider uses; faults apply to the provider paths only, so a test can
always inspect a sandbox that is failing on purpose.
"""

from __future__ import annotations

import base64
import binascii
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

SANDBOX_PREFIX = "/_sandbox/"
log = logging.getLogger(__name__)


class WebhookDeliveries:
    """A sandbox's webhooks out, in the order they were queued: one background thread posts them while
    there is something to send and ends when the queue is empty. A delivery that fails (an HTTP error or
    a status that is not 2xx) is tried `attempts` times in all, waiting `backoff_s`, then twice that, ...
    between tries. Deliveries still queued do not outlive the process. `delivered` and `failed` count
    the outcomes."""

    def __init__(self, name: str, *, attempts: int = 3, backoff_s: float = 0.5, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._name, self._attempts, self._backoff_s = name, attempts, backoff_s
        self._timeout, self._transport = timeout, transport
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes, dict[str, str]]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.delivered = 0
        self.failed = 0

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """Queue one delivery of exactly `body` to `url` with `headers` (the signature made over `body`)."""
        with self._lock:
            self._queue.put((url, body, headers))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._drain, name=f"{self._name}-webhooks", daemon=True)
                self._worker.start()

    def _drain(self) -> None:
        while True:
            try:
                url, body, headers = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            delivered = any(self._post(url, body, headers, attempt) for attempt in range(self._attempts))
            with self._lock:
                if delivered:
                    self.delivered += 1
                else:
                    self.failed += 1

    def _post(self, url: str, body: bytes, headers: dict[str, str], attempt: int) -> bool:
        if attempt:
            time.sleep(self._backoff_s * 2 ** (attempt - 1))
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as http:
                return http.post(url, content=body, headers=headers).is_success
        except httpx.HTTPError as exc:
            log.info("%s sandbox webhook to %s failed: %r", self._name, url, exc)
            return False


def presented_api_key(authorization: str | None) -> str | None:
    """The API key in `Authorization: Bearer KEY` or HTTP Basic `KEY:` (username, empty password)."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


class FaultPlan(BaseModel):
    """Fail the next `count` provider requests with `status`, sending Retry-After when given; with
    `path_suffix`, only the requests whose path ends with it (e.g. `/buy`), letting the others through."""

    status: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=0, le=1000)
    retry_after: float | None = Field(default=None, ge=0)
    path_suffix: str | None = Field(default=None, min_length=1)


class FaultInjector:
    """A thread-safe countdown of planned failures, consumed one per provider request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan: FaultPlan | None = None
        self._remaining = 0

    def arm(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan, self._remaining = plan, plan.count

    def clear(self) -> None:
        with self._lock:
            self._plan, self._remaining = None, 0

    @property
    def remaining(self) -> int:
        with self._lock:
            return self._remaining

    def take(self, path: str) -> FaultPlan | None:
        """The fault for a request to `path`, if one is still planned for it."""
        with self._lock:
            if self._plan is None or self._remaining == 0:
                return None
            if self._plan.path_suffix is not None and not path.endswith(self._plan.path_suffix):
                return None
            self._remaining -= 1
            return self._plan


ErrorBody = Callable[[int, str], dict[str, object]]


def install_faults(app: FastAPI, error_body: ErrorBody) -> FaultInjector:
    """Add `/_sandbox/faults` (POST arms, GET shows, DELETE clears) and the middleware that fails requests.

    `error_body(status, message)` renders the failure in the provider's own error envelope.
    """
    faults = FaultInjector()

    @app.middleware("http")
    async def inject_faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(_sandbox_path(request)):
            return await call_next(request)
        plan = faults.take(request.url.path)
        if plan is None:
            return await call_next(request)
        headers = {} if plan.retry_after is None else {"Retry-After": _format_seconds(plan.retry_after)}
        message = "Too many requests" if plan.status == 429 else "Injected sandbox fault"
        return JSONResponse(error_body(plan.status, message), status_code=plan.status, headers=headers)

    @app.post("/_sandbox/faults", include_in_schema=False)
    def arm_faults(plan: FaultPlan) -> dict[str, object]:
        faults.arm(plan)
        return {"armed": plan.model_dump(), "remaining": faults.remaining}

    @app.get("/_sandbox/faults", include_in_schema=False)
    def show_faults() -> dict[str, int]:
        return {"remaining": faults.remaining}

    @app.delete("/_sandbox/faults", include_in_schema=False)
    def clear_faults() -> dict[str, int]:
        faults.clear()
        return {"remaining": 0}

    return faults


FieldProblem = tuple[str, str]
"""A request field (dotted path, e.g. `shipment.parcel.weight`) and what is wrong with it."""

ProviderErrorBody = Callable[[int, str, list[FieldProblem]], dict[str, object]]


def install_error_envelope(app: FastAPI, error_body: ProviderErrorBody, *, validation_status: int = 422) -> None:
    """Answer FastAPI's own refusals (an unknown path, a method the path does not take, a request its
    validation rejects) in the provider's envelope, as the provider itself would; `/_sandbox/` paths
    keep FastAPI's. `error_body(status, message, field_problems)` renders the envelope; a refused request
body is answered `validation_status` (the status the provider uses for invalid parameters)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(_sandbox_path(request)):
            return await http_exception_handler(request, exc)
        message = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        return JSONResponse(error_body(exc.status_code, message, []), status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(_sandbox_path(request)):
            return await request_validation_exception_handler(request, exc)
        problems = [(".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]), str(error["msg"]))
                    for error in exc.errors()]
        return JSONResponse(error_body(validation_status, "One or more parameters were invalid.", problems),
                            status_code=validation_status)


def _sandbox_path(request: Request) -> str:
    # Under a mount, request.url.path is the full path; root_path is the mount prefix.
    return str(request.scope.get("root_path", "")) + SANDBOX_PREFIX


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
