"""Recording a change in the audit trail: one call per mutating route, after its write succeeded.

A request refused (422, 403, 404, 409) raises before its route gets here, so it records nothing; a
request that changed nothing (a replayed event, an order or return placed before) is not recorded
either. The detail is small and never personal data or secrets (see models.audit).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from gateway.auth import Principal
from models.audit import Actor, AuditDetail, AuditEntryIn, AuditKind
from store import Store


def actor_of(principal: Principal) -> Actor:
    """The key behind a request, as the actor of what it changes."""
    return Actor.key(principal.key_id, principal.role)


def record(
    store: Store, principal: Principal, kind: AuditKind, subject: str, /, *, order_id: str | None = None,
    **detail: str | int | bool | None | list[str] | list[int],
) -> None:
    """Append what `principal` just did to the audit trail (from a sync route); `detail` as keywords."""
    details: AuditDetail = dict(detail)
    store.record_audit(AuditEntryIn(kind=kind, subject=subject[:200], actor=actor_of(principal), order_id=order_id,
                                    detail=details))


async def record_async(
    store: Store, principal: Principal, kind: AuditKind, subject: str, /, *, order_id: str | None = None,
    **detail: str | int | bool | None | list[str] | list[int],
) -> None:
    """`record`, from an async route (the write runs in the thread pool)."""
    await run_in_threadpool(lambda: record(store, principal, kind, subject, order_id=order_id, **detail))
