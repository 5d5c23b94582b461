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

from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from models.api import ReturnAccepted, ReturnEventAccepted, ReturnEventIn
from models.returns import ReturnEvent, ReturnView, StartReturn

RmaPath = Annotated[str, Path(min_length=1, max_length=64)]

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
async def get_return(rma: RmaPath, client: ClientDep) -> ReturnView:
    return await client.get_return(rma)


@router.post(
    "/{rma}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReturnEventAccepted,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_return_event(
    rma: RmaPath, event: ReturnEventIn, store: StoreDep, client: ClientDep
) -> ReturnEventAccepted:
    """The parcel arrived (`received`), optionally at another node than planned (`node_id`, which
    must exist: 422 otherwise). Only a return awaiting receipt takes it. Unknown RMA: 404; any other
    status: 409 naming it; an `event_id` applied before: 202 with `replay: true`."""
    if event.node_id is not None and await run_in_threadpool(store.get_node, event.node_id) is None:
        raise field_error(("body", "node_id"), f"unknown node_id {event.node_id!r}", value=event.node_id)
    applied = await client.send_return_event(
        ReturnEvent(rma=rma, type=event.type, node_id=event.node_id, event_id=event.event_id))
    return ReturnEventAccepted(rma=applied.rma, type=applied.type, status=applied.from_status,
                               to_status=applied.to_status, signalled=not applied.replay, replay=applied.replay)
