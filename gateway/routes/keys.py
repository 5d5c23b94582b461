"""API keys over the API (admin keys only): create one (its token is in this answer only), list them
without tokens, revoke one (the next request with it is a 401)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import AdminKey
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.audit import AuditKind
from models.keys import ApiKey, KeyCreate, KeyCreated, KeyId

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
async def create_key(request: KeyCreate, store: StoreDep, caller: AdminKey) -> KeyCreated:
    """A new key. The token is shown in this answer only: only its hash is kept."""
    created = await run_in_threadpool(store.create_key, request)
    await record_async(store, caller, AuditKind.KEY_CREATE, created.key_id, role=created.role.value,
                       channels=created.channels, nodes=created.nodes[:20])
    return created


@router.get("", response_model=list[ApiKey])
async def list_keys(
    store: StoreDep, _caller: AdminKey,
    include_revoked: Annotated[bool, Query(description="list revoked keys too")] = False,
) -> list[ApiKey]:
    return await run_in_threadpool(lambda: store.list_keys(include_revoked=include_revoked))


@router.delete("/{key_id}", response_model=ApiKey, responses=NOT_FOUND)
async def revoke_key(
    key_id: Annotated[KeyId, Path(description="the key to revoke")], store: StoreDep, caller: AdminKey
) -> ApiKey:
    """Revoke the key at once; revoking it again answers its first revocation."""
    asked_at = datetime.now(UTC)
    revoked = await run_in_threadpool(store.revoke_key, key_id)
    if revoked is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown key_id {key_id!r}")
    if revoked.revoked_at is not None and revoked.revoked_at >= asked_at:  # not an earlier revocation
        await record_async(store, caller, AuditKind.KEY_REVOKE, key_id, role=revoked.role.value)
    return revoked
