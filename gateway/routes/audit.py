"""The audit trail over the API (operator and admin keys): who changed what, newest first, a page at a
time. `next_cursor` is opaque: pass it back as `cursor` for the older entries, with the same filters."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from gateway.auth import OperatorKey
from gateway.deps import StoreDep
from gateway.errors import field_error
from models.audit import ActorRole, AuditFilter, AuditKind, AuditPage
from models.text import NO_CONTROL_CHARACTERS

router = APIRouter(prefix="/v1", tags=["audit"])

_CURSOR_PREFIX = "before:"


@router.get("/audit", response_model=AuditPage)
async def list_audit(
    store: StoreDep,
    _caller: OperatorKey,
    actor: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS,
                                       description="only changes by this key id")] = None,
    role: Annotated[ActorRole | None, Query(description="only changes by keys of this role")] = None,
    kind: Annotated[AuditKind | None, Query(description="only changes of this kind")] = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS,
                                         description="only changes to this node, order, document or key")] = None,
    order_id: Annotated[str | None, Query(min_length=1, max_length=133, pattern=NO_CONTROL_CHARACTERS,
                                          description="only changes concerning this order")] = None,
    since: Annotated[datetime | None, Query(description="from this time on (inclusive; UTC if no offset)")] = None,
    until: Annotated[datetime | None, Query(description="before this time (exclusive; UTC if no offset)")] = None,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many entries")] = 100,
) -> AuditPage:
    """Changes made through the gateway (inventory counts and feeds, order intake, cancels and releases,
    shipment and return events, network, allocation, safety stock, catalogue, cost model, rules and
    keys), each with its actor (key id and role), newest first. A bad `cursor`: 422."""
    wanted = AuditFilter(actor_id=actor, role=role, kind=kind, subject=subject, order_id=order_id,
                         since=_utc(since, "since"), until=_utc(until, "until"))
    before = None if cursor is None else _decode(cursor)
    found = await run_in_threadpool(lambda: store.audit_entries(wanted, before_id=before, limit=limit + 1))
    page = found[:limit]
    more = len(found) > limit
    return AuditPage(entries=page, next_cursor=_encode(page[-1].id) if more else None)


def _utc(value: datetime | None, name: str) -> datetime | None:
    """`value` in UTC (taken as UTC without an offset); a 422 when it cannot be (out of range)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise field_error(("query", name), "not a time that exists in UTC", value=value.isoformat()) from exc


def _encode(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{entry_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    """The id a cursor stops before; a 422 naming `cursor` for anything this route did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise field_error(("query", "cursor"), "not a cursor this route handed out; start without one",
                          kind="cursor_invalid", value=cursor)
    return int(number)
