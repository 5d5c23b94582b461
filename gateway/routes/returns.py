"""Returns (RMAs): start one, follow it, and report the parcel's arrival at a node.

Redelivery of `received` follows the shipment events' rule: with an `event_id`, a return that is
already received answers 202 with `signalled: false`; without one, 409.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from starlette.concurrency import run_in_threadpool

from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from models.api import ReturnAccepted, ReturnEventAccepted, ReturnEventIn
from models.returns import ReturnEvent, ReturnEventType, ReturnStatus, ReturnView, StartReturn

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
    must exist). Unknown RMA: 404; a finished return: 409."""
    view = await client.get_return(rma)
    if event.node_id is not None and await run_in_threadpool(store.get_node, event.node_id) is None:
        raise field_error(("body", "node_id"), f"unknown node_id {event.node_id!r}", value=event.node_id)

    def accepted(signalled: bool) -> ReturnEventAccepted:
        return ReturnEventAccepted(rma=rma, type=event.type, status=view.status, signalled=signalled)

    if view.status.is_final:
        raise HTTPException(status.HTTP_409_CONFLICT, f"return {rma!r} is {view.status.value}; it takes no more events")
    if event.type is ReturnEventType.RECEIVED and view.status is ReturnStatus.RECEIVED:
        if event.event_id is not None:
            return accepted(signalled=False)
        raise HTTPException(status.HTTP_409_CONFLICT, f"return {rma!r} is already received")
    await client.send_return_event(
        ReturnEvent(rma=rma, type=event.type, node_id=event.node_id, event_id=event.event_id)
    )
    return accepted(signalled=True)
