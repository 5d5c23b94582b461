"""Who is calling: API keys, their roles and scopes, and a rate limit per key.

Every /v1 route depends on `allow(...)` with the roles it admits (admin is always among them). A
request without `Authorization: Bearer <token>`, or with a token that is unknown, malformed or
revoked, is a 401; a key whose role the route does not admit is a 403 naming the roles it needs. A
key over its rate (`rate_limit_per_second`, bursts of `rate_limit_burst`) is a 429 with Retry-After.
Scope inside a role (a channel key's channels, a node key's nodes) is checked by the routes with the
`Principal`'s `owns_*` methods: another channel's order answers 404, so its existence does not leak.

`OMNIROUTE_BOOTSTRAP_ADMIN_KEY` is accepted as an admin key (key id "bootstrap") so that a fresh
deployment can create the others. A key's last use is stamped at most once a minute per process.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from gateway.deps import StoreDep
from gateway.errors import Problem
from models.keys import Role
from omniroute.config.settings import Settings

BOOTSTRAP_KEY_ID = "bootstrap"
TOUCH_EVERY_S = 60.0

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An Omniroute API key: `Authorization: Bearer omr_<key_id>_<secret>` (see docs/security.md).",
)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no API key, or an unknown or revoked one"},
    403: {"model": Problem, "description": "the key's role may not use this route, or not for this channel or node"},
    429: {"model": Problem, "description": "the key is over its rate limit; retry after Retry-After seconds"},
}


@dataclass(frozen=True)
class Principal:
    """The caller: its key id, role and scope."""

    key_id: str
    role: Role
    channels: frozenset[str] = frozenset()
    nodes: frozenset[str] = frozenset()

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.OPERATOR, Role.ADMIN)

    def owns_channel(self, channel: str | None) -> bool:
        """Whether the key acts for `channel` (None, an order id without a channel part: operators only)."""
        return self.sees_everything or (channel is not None and channel in self.channels)

    def owns_node(self, node_id: str) -> bool:
        return self.sees_everything or node_id in self.nodes


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per key: `per_second` on average, up to `burst` at once."""

    per_second: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key_id: str) -> float | None:
        """None when the request may go; else the seconds until it could."""
        now = self.clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.per_second


@dataclass
class KeyGuard:
    """The gateway's authentication state: the bootstrap token, the rate limiter, last-use stamps."""

    bootstrap_token: str | None
    limiter: RateLimiter
    _touched: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyGuard:
        token = settings.bootstrap_admin_key.get_secret_value() if settings.bootstrap_admin_key else None
        return cls(token or None, RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst))

    def is_bootstrap(self, token: str) -> bool:
        return self.bootstrap_token is not None and hmac.compare_digest(
            token.encode("utf-8"), self.bootstrap_token.encode("utf-8"))

    def due_for_touch(self, key_id: str) -> bool:
        now = time.monotonic()
        last = self._touched.get(key_id)
        if last is not None and now - last < TOUCH_EVERY_S:
            return False
        self._touched[key_id] = now
        return True


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(
    request: Request, store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """The caller's key, checked and counted against its rate; kept on `request.state.principal`."""
    if credentials is None:
        raise _unauthorized("an API key is required: send `Authorization: Bearer <token>`")
    return await principal_for(request, store, credentials.credentials)


async def principal_for(request: Request, store: StoreDep, token: str) -> Principal:
    """The key `token` belongs to (401 if none), counted against its rate (429 over it)."""
    guard: KeyGuard = request.app.state.key_guard
    if guard.is_bootstrap(token):
        principal = Principal(BOOTSTRAP_KEY_ID, Role.ADMIN)
    else:
        key = await run_in_threadpool(store.authenticate_key, token)
        if key is None:
            raise _unauthorized("unknown or revoked API key")
        principal = Principal(key.key_id, key.role, frozenset(key.channels), frozenset(key.nodes))
        if guard.due_for_touch(key.key_id):
            await run_in_threadpool(store.touch_key, key.key_id, datetime.now(UTC))
    wait = guard.limiter.take(principal.key_id)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, f"key {principal.key_id} is over its rate limit",
            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    request.state.principal = principal
    return principal


def allow(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of `roles` (and admin keys); the others get a 403 naming them."""
    admitted = frozenset(roles) | {Role.ADMIN}
    needed = " or ".join(role.value for role in Role if role in admitted)

    async def admit(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in admitted:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this route needs a key with role {needed}; this key's role is {principal.role.value}")
        return principal

    return admit


AdminKey = Annotated[Principal, Depends(allow(Role.ADMIN))]
OperatorKey = Annotated[Principal, Depends(allow(Role.OPERATOR))]
ChannelKey = Annotated[Principal, Depends(allow(Role.CHANNEL))]
NodeKey = Annotated[Principal, Depends(allow(Role.NODE))]
# Reads and actions shared by a scoped role and the operators (each route checks the scope).
ChannelOrOperatorKey = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.OPERATOR))]
NodeOrOperatorKey = Annotated[Principal, Depends(allow(Role.NODE, Role.OPERATOR))]
AnyKey = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.NODE, Role.OPERATOR))]


def forbid_channel(channel: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"this key may not act for channel {channel!r}")


def forbid_node(node_id: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"this key may not act for node {node_id!r}")


def scoped_channel(principal: Principal, asked: str | None, loc: tuple[str, ...]) -> str | None:
    """The channel a read answers for: as asked for operators and admins; a channel key always answers
    as one of its channels (the one it names, or its only one), never network-wide."""
    if principal.sees_everything:
        return asked
    if asked is None:
        if len(principal.channels) == 1:
            return next(iter(principal.channels))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "type": "missing", "loc": list(loc), "input": None,
            "msg": f"this key serves channels {', '.join(sorted(principal.channels))}: name one"}])
    if asked not in principal.channels:
        raise forbid_channel(asked)
    return asked
