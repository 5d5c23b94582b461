"""Returns (RMAs): start one, follow it, and report the parcel's arrival at a node.

A return takes `received` only while it awaits receipt (its label is issued); before that, or once it
is rejected or expired, the answer is 409 naming its status. Redelivery follows the shipment events'
rule: with an `event_id`, a return already received answers 202 with `signalled: false`; without
one, 409.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from starlette.concurrency import run_in_threadpool

from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from models.api import ReturnAccepted, ReturnEventAccepted, ReturnEventIn
from models.returns import ReturnEvent, ReturnStatus, ReturnView, StartReturn

router = APIRouter(prefix="/v1/returns", tags=["returns"], responses=UNAVAILABLE)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnAccepted,
    responses={200: {"model": ReturnAccepted, "description": "the same RMA was started before"}},
)
async def start_return(request: StartReturn, client: ClientDep, response: Response) -> ReturnAccepted:
    """Start the return's workflow: 202; the same RMA again starts nothing new: 200, `created: false`."""
    accepted = await client.start_return(request)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return accepted


@router.get("/{rma}", response_model=ReturnView, responses=NOT_FOUND)
async def get_return(rma: str, client: ClientDep) -> ReturnView:
    return await client.get_return(rma)


@router.post(
    "/{rma}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnEventAccepted,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_return_event(
    rma: str, event: ReturnEventIn, store: StoreDep, client: ClientDep
) -> ReturnEventAccepted:
    """The parcel arrived (`received`), optionally at another node than planned (`node_id`, which
    must exist). Only a return awaiting receipt takes it. Unknown RMA: 404; any other state: 409."""
    view = await client.get_return(rma)
    if event.node_id is not None and await run_in_threadpool(store.get_node, event.node_id) is None:
        raise field_error(("body", "node_id"), f"unknown node_id {event.node_id!r}", value=event.node_id)

    def accepted(signalled: bool) -> ReturnEventAccepted:
        return ReturnEventAccepted(rma=rma, type=event.type, status=view.status, signalled=signalled)

    if view.status is not ReturnStatus.AWAITING_RECEIPT:
        if view.received_at is not None and event.event_id is not None:
            return accepted(signalled=False)
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"return {rma!r} is {view.status.value}; {_why_not(view.status)}"
        )
    await client.send_return_event(
        ReturnEvent(rma=rma, type=event.type, node_id=event.node_id, event_id=event.event_id)
    )
    return accepted(signalled=True)


def _why_not(current: ReturnStatus) -> str:
    if current is ReturnStatus.REQUESTED:
        return "its return label is not issued yet, so it cannot be received; retry shortly"
    if current in (ReturnStatus.RECEIVED, ReturnStatus.COMPLETED):
        return "it was already received"
    return "it takes no more events"
