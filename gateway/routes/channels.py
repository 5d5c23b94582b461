"""Channel allocation rules: what share of the network's ATP each channel may promise."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from gateway.audit import record
from gateway.auth import AdminKey, ChannelOrOperatorKey
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.allocation import ChannelAllocation
from models.audit import AuditKind
from models.order import ChannelName

router = APIRouter(prefix="/v1/channels", tags=["channels"])

ChannelPath = Annotated[ChannelName, Path(description="the channel, as orders name it")]


@router.put("/{channel}/allocation", response_model=ChannelAllocation)
def put_allocation(
    channel: ChannelPath, rule: ChannelAllocation, store: StoreDep, caller: AdminKey
) -> ChannelAllocation:
    """Set the channel's rule (a percentage of ATP, a buffer per node, and which nodes it sees)."""
    stored = store.set_channel_allocation(channel, rule)
    record(store, caller, AuditKind.ALLOCATION_PUT, channel)
    return stored


@router.get("/{channel}/allocation", response_model=ChannelAllocation, responses=NOT_FOUND)
def get_allocation(channel: ChannelPath, store: StoreDep, caller: ChannelOrOperatorKey) -> ChannelAllocation:
    """The channel's rule; 404 when it has none (it then sees all network ATP). A channel key reads
    its own channels' rules only (another's: 404)."""
    rule = store.channel_allocation(channel) if caller.owns_channel(channel) else None
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no allocation rule for channel {channel!r}")
    return rule


@router.delete("/{channel}/allocation", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_allocation(channel: ChannelPath, store: StoreDep, caller: AdminKey) -> Response:
    """Drop the channel's rule, so that it sees all network ATP; 404 when it had none."""
    if not store.delete_channel_allocation(channel):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no allocation rule for channel {channel!r}")
    record(store, caller, AuditKind.ALLOCATION_DELETE, channel)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
