"""Returns (RMAs): start one, follow it, and report the parcel's arrival at a node.

An event is one update on the return's workflow, whose validator checks it before anything is
written. A return takes `received` only while it awaits receipt (its label is issued); before that,
once received, or once it is rejected or expired, the answer is 409 naming its status. Redelivery
follows the shipment events' rule: an `event_id` the return has applied before answers 202 with
`replay: true` and `signalled: false`; without an `event_id`, 409. A `node_id` is checked against the
network first (422 if unknown): that is a check of the request, not of the return's state.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import ChannelOrOperatorKey, NodeOrOperatorKey, forbid_node
from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from models.api import ReturnAccepted, ReturnEventAccepted, ReturnEventIn
from models.audit import AuditKind
from models.order import channel_of_order
from models.returns import ReturnEvent, ReturnView, StartReturn
from omniroute.errors import OrderNotFoundError, ReturnNotFoundError

RmaPath = Annotated[str, Path(min_length=1, max_length=64)]

router = APIRouter(prefix="/v1/returns", tags=["returns"], responses=UNAVAILABLE)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnAccepted,
    responses={200: {"model": ReturnAccepted, "description": "the same RMA was started before"}},
)
async def start_return(
    request: StartReturn, client: ClientDep, store: StoreDep, response: Response, caller: ChannelOrOperatorKey
) -> ReturnAccepted:
    """Start the return's workflow: 202; the same RMA again starts nothing new: 200, `created: false`.
    A channel key starts returns of its own channels' orders only (another's order: 404)."""
    if not caller.owns_channel(channel_of_order(request.order_id)):
        raise OrderNotFoundError(request.order_id)
    accepted = await client.start_return(request)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    else:
        await record_async(store, caller, AuditKind.RETURN_START, accepted.rma, order_id=request.order_id,
                           lines=len(request.lines))
    return accepted


@router.get("/{rma}", response_model=ReturnView, responses=NOT_FOUND)
async def get_return(rma: RmaPath, client: ClientDep, caller: ChannelOrOperatorKey) -> ReturnView:
    """The return as its workflow sees it; a channel key sees returns of its own channels' orders only."""
    view = await client.get_return(rma)
    if not caller.owns_channel(channel_of_order(view.order_id)):
        raise ReturnNotFoundError(rma)
    return view


@router.post(
    "/{rma}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnEventAccepted,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_return_event(
    rma: RmaPath, event: ReturnEventIn, store: StoreDep, client: ClientDep, caller: NodeOrOperatorKey
) -> ReturnEventAccepted:
    """The parcel arrived (`received`), optionally at another node than planned (`node_id`, which
    must exist: 422 otherwise). Only a return awaiting receipt takes it. Unknown RMA: 404; any other
    status: 409 naming it; an `event_id` applied before: 202 with `replay: true`. A node key reports
    parcels at its own nodes only: the return's planned node, or the `node_id` it names, must be one."""
    if not caller.sees_everything:
        if event.node_id is not None and not caller.owns_node(event.node_id):
            raise forbid_node(event.node_id)
        if event.node_id is None:
            planned = (await client.get_return(rma)).return_node_id
            if planned is None or not caller.owns_node(planned):
                raise ReturnNotFoundError(rma)
    if event.node_id is not None and await run_in_threadpool(store.get_node, event.node_id) is None:
        raise field_error(("body", "node_id"), f"unknown node_id {event.node_id!r}", value=event.node_id)
    applied = await client.send_return_event(
        ReturnEvent(rma=rma, type=event.type, node_id=event.node_id, event_id=event.event_id))
    if not applied.replay:
        await record_async(store, caller, AuditKind.RETURN_EVENT, rma, type=applied.type.value,
                           to_status=applied.to_status.value, node_id=event.node_id)
    return ReturnEventAccepted(rma=applied.rma, type=applied.type, status=applied.from_status,
                               to_status=applied.to_status, signalled=not applied.replay, replay=applied.replay)
