"""The typed channel SDK: place, follow and change orders and returns through Temporal.

It needs only `models` (its names in `models.names`) and temporalio, and calls the workflows by *name*, so a
channel app can use it without our workflow code. Temporal's errors are translated here, at the
boundary, into the small tree of `omniroute.errors` (re-exported here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn, Self, TypeVar

import temporalio.client
from temporalio.client import (
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models import names
from models.api import ReturnAccepted
from models.channel_sync import (
    ChannelSyncConfig,
    ChannelSyncRun,
    SkusChanged,
)
from models.fulfilment import EVENT_REFUSED, FulfilmentOutcome, PickupUnlocked, ShipmentEventApplied, UnlockPickup
from models.order import (
    CancelOrder,
    CancelResult,
    OrderAccepted,
    OrderStatus,
    OrderView,
    PlaceOrder,
    ReleaseHold,
)
from models.reroute import DEFAULT_REROUTE_REASON, RerouteShipment, ShipmentRerouted
from models.returns import (
    ReturnEvent,
    ReturnEventApplied,
    ReturnStatus,
    ReturnView,
    StartReturn,
    receipt_refusal,
)
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.errors import (
    CancelRejectedError,
    EventRejectedError,
    NotFoundError,
    OmnirouteError,
    OrderNotFoundError,
    RequestRejectedError,
    ReturnNotFoundError,
    ShipmentNotFoundError,
    TemporalUnavailableError,
    WorkflowClosedError,
)

DEFAULT_QUERY_TIMEOUT = timedelta(seconds=10)
DEFAULT_EVENT_TIMEOUT = timedelta(seconds=30)

# The search attributes a start sets, so that a new order or return is found at once.
_CHANNEL = SearchAttributeKey.for_keyword(names.CHANNEL_ATTRIBUTE)
_ORDER_STATUS = SearchAttributeKey.for_keyword(names.ORDER_STATUS_ATTRIBUTE)
_ORDER_ID = SearchAttributeKey.for_keyword(names.ORDER_ID_ATTRIBUTE)
# A node's steps up to shipped: done, once the carrier scanned the shipment before the node shipped it.
_NODE_STEPS = frozenset({ShipmentEventType.ACCEPTED, ShipmentEventType.PICKED, ShipmentEventType.PACKED,
                         ShipmentEventType.SHIPPED})
_ORDER_TOTAL = SearchAttributeKey.for_int(names.ORDER_TOTAL_ATTRIBUTE)
_RETURN_STATUS = SearchAttributeKey.for_keyword(names.RETURN_STATUS_ATTRIBUTE)

_Result = TypeVar("_Result")

# A query with no worker to answer it ends in one of these when its rpc_timeout expires.
_TIMED_OUT = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


class OmnirouteClient:
    """Orders and returns as Temporal workflows, addressed by their business ids.

    Starting is idempotent: the same order (or RMA) twice, by SDK and by webhook, is one workflow,
    and the second call answers `created=False` with the first one's ids.
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        *,
        task_queue: str = names.TASK_QUEUE,
        query_timeout: timedelta = DEFAULT_QUERY_TIMEOUT,
        event_timeout: timedelta = DEFAULT_EVENT_TIMEOUT,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._query_timeout = query_timeout
        self._event_timeout = event_timeout

    @classmethod
    async def connect(
        cls,
        address: str,
        *,
        namespace: str = "default",
        task_queue: str = names.TASK_QUEUE,
        lazy: bool = False,
        data_converter: DataConverter = pydantic_data_converter,
        tls: bool | temporalio.client.TLSConfig = False,
    ) -> Self:
        """Connect with tracing and `data_converter`. Pass the one the workers use (Omniroute's services
        pass `omniroute.config.codec.data_converter_for(settings)`, which encrypts payloads); the default,
        the plain pydantic converter, writes orders to Temporal unencrypted. With `lazy`, the first call
        connects, so a service can start while Temporal is down (its calls then raise
        TemporalUnavailableError). `tls` is temporalio's: a `TLSConfig` (the server's CA, a client
        certificate and key for mTLS, the server name), True for TLS against the system's roots, False
        for plaintext."""
        try:
            client = await temporalio.client.Client.connect(
                address,
                namespace=namespace,
                data_converter=data_converter,
                interceptors=[TracingInterceptor()],
                lazy=lazy,
                tls=tls,
            )
        except RuntimeError as err:
            raise TemporalUnavailableError(f"cannot reach Temporal at {address}: {err}") from err
        return cls(client, task_queue=task_queue)

    @property
    def temporal(self) -> temporalio.client.Client:
        return self._client

    @property
    def task_queue(self) -> str:
        return self._task_queue

    # Orders

    async def place_order(self, order: PlaceOrder) -> OrderAccepted:
        """Start the order's workflow, or find the one already started for the same order id."""
        workflow_id = names.order_workflow_id(order.order_id)
        attributes = TypedSearchAttributes([
            SearchAttributePair(_CHANNEL, order.channel),
            SearchAttributePair(_ORDER_STATUS, OrderStatus.RECEIVED.value),
            SearchAttributePair(_ORDER_ID, order.order_id),
            SearchAttributePair(_ORDER_TOTAL, order.total.amount),
        ])
        summary = f"{order.channel} order {order.channel_order_id}, {_count(len(order.lines), 'line')}"
        created = await self._start(names.ORDER_WORKFLOW, order, workflow_id, attributes, summary)
        return OrderAccepted(order_id=order.order_id, workflow_id=workflow_id, created=created)

    async def get_order(self, order_id: str) -> OrderView:
        """The order as its workflow sees it now (also after it finished)."""
        handle = self._client.get_workflow_handle(names.order_workflow_id(order_id))
        try:
            return await self._query(handle, OrderView)
        except _NotFound:
            raise OrderNotFoundError(order_id) from None

    async def release_hold(self, order_id: str, request: ReleaseHold) -> OrderView:
        """Let a held order go on to sourcing; answers the order once it is planned.

        Raises RequestRejectedError if the order is not on hold, WorkflowClosedError if it has
        finished, OrderNotFoundError if there is no such order.
        """
        return await self._order_update(order_id, names.RELEASE_HOLD_UPDATE, request, OrderView, RequestRejectedError)

    async def cancel_order(self, order_id: str, request: CancelOrder) -> CancelResult:
        """Cancel lines (or everything unshipped) and wait for the outcome.

        Raises CancelRejectedError with the workflow's reason, WorkflowClosedError if the order has
        finished, OrderNotFoundError if there is no such order.
        """
        return await self._order_update(order_id, names.CANCEL_UPDATE, request, CancelResult, CancelRejectedError)

    async def reroute_shipment(
        self, order_id: str, shipment_id: str, node_id: str, *, actor: str, reason: str = DEFAULT_REROUTE_REASON
    ) -> ShipmentRerouted:
        """Move a shipment not yet released to `node_id`: it is re-planned from that node (service, cost,
        promised date), its reservations move in one transaction, and the order's decision says who
        moved it and what it changed. `actor` is who asked (the gateway passes the API key's id).

        Raises RequestRejectedError naming why it cannot move (no such shipment on the order; released,
        shipped or cancelled, naming its state; the node it already ships from; an unknown or inactive
        node, one that does not ship, or one without stock for a SKU; the order on hold), WorkflowClosedError
        if the order has finished, OrderNotFoundError if there is no such order.
        """
        request = RerouteShipment(shipment_id=shipment_id, node_id=node_id, actor=actor, reason=reason)
        return await self._order_update(order_id, names.REROUTE_SHIPMENT_UPDATE, request, ShipmentRerouted,
                                        RequestRejectedError)

    async def _order_update(
        self, order_id: str, update: str, request: object, result_type: type[_Result],
        rejected: type[RequestRejectedError],
    ) -> _Result:
        """Run an update on the order and wait for its result; the workflow's refusal becomes `rejected`."""
        handle = self._client.get_workflow_handle(names.order_workflow_id(order_id))
        try:
            result: _Result = await self._call(handle.execute_update(update, request, result_type=result_type))
        except temporalio.client.WorkflowUpdateFailedError as err:
            raise rejected(_reason(err)) from err
        except _NotFound:
            await self._raise_closed_or_missing(handle, OrderNotFoundError(order_id), f"order {order_id!r}")
        return result

    async def send_shipment_event(self, event: ShipmentEvent) -> ShipmentEventApplied:
        """Apply a warehouse or carrier event to the shipment's fulfilment workflow, in one update, and
        answer the move it made; an event id applied before is answered `replay=True`, nothing moved, and
        so is a node's accepted/picked/packed/shipped that the carrier's scan overtook (`carrier_first`,
        also once the shipment is delivered).

        Raises EventRejectedError (naming the current state) when the shipment cannot take the event,
        also after its fulfilment has ended; ShipmentNotFoundError when no fulfilment runs or ran for
        it (no such shipment, or not released to a node yet); WorkflowClosedError when its fulfilment
        ended without an outcome; TemporalUnavailableError.
        """
        shipment_id = event.shipment_id
        handle = self._client.get_workflow_handle(names.fulfilment_workflow_id(shipment_id))
        applied = await self._event_update(handle, names.SHIPMENT_EVENT_UPDATE, event, ShipmentEventApplied,
                                           ShipmentNotFoundError(shipment_id))
        if applied is not None:
            return applied
        outcome = await self._final_result(handle, FulfilmentOutcome, f"the fulfilment of shipment {shipment_id!r}")
        state = outcome.shipment.state
        carrier_first = (outcome.carrier_scanned_first and event.type in _NODE_STEPS
                         and state is ShipmentState.DELIVERED)
        if not carrier_first and (event.event_id is None or event.event_id not in outcome.seen_event_ids):
            raise EventRejectedError(f"shipment {shipment_id} is {state.value}; cannot apply {event.type.value}",
                                     state.value)
        description = await self._call(handle.describe())
        order_id = description.typed_search_attributes.get(_ORDER_ID) or names.order_id_of_shipment(shipment_id)
        return ShipmentEventApplied(shipment_id=shipment_id, order_id=order_id, type=event.type, from_state=state,
                                    to_state=state, replay=True, carrier_first=carrier_first)

    async def unlock_pickup(self, shipment_id: str, *, actor: str, reason: str) -> PickupUnlocked:
        """Let the customer try pickup codes again on a pickup locked after too many wrong codes.

        Raises RequestRejectedError when it is not locked (or not a pickup, or not a store's shipment),
        ShipmentNotFoundError when no fulfilment runs or ran for it, WorkflowClosedError when its
        fulfilment has ended.
        """
        handle = self._client.get_workflow_handle(names.fulfilment_workflow_id(shipment_id))
        request = UnlockPickup(actor=actor, reason=reason)
        try:
            result: PickupUnlocked = await self._call(handle.execute_update(
                names.UNLOCK_PICKUP_UPDATE, request, result_type=PickupUnlocked))
        except WorkflowUpdateFailedError as err:
            raise RequestRejectedError(_reason(err)) from err
        except _NotFound:
            await self._raise_closed_or_missing(handle, ShipmentNotFoundError(shipment_id), f"shipment {shipment_id!r}")
        return result

    # Returns

    async def start_return(self, request: StartReturn) -> ReturnAccepted:
        """Start the return's workflow, or find the one already started for the same RMA."""
        workflow_id = names.return_workflow_id(request.rma)
        attributes = TypedSearchAttributes([
            SearchAttributePair(_RETURN_STATUS, ReturnStatus.REQUESTED.value),
            SearchAttributePair(_ORDER_ID, request.order_id),
        ])
        summary = f"return {request.rma} of order {request.order_id}, {_count(len(request.lines), 'line')}"
        created = await self._start(names.RETURN_WORKFLOW, request, workflow_id, attributes, summary)
        return ReturnAccepted(rma=request.rma, workflow_id=workflow_id, created=created)

    async def get_return(self, rma: str) -> ReturnView:
        handle = self._client.get_workflow_handle(names.return_workflow_id(rma))
        try:
            return await self._query(handle, ReturnView)
        except _NotFound:
            raise ReturnNotFoundError(rma) from None

    async def send_return_event(self, event: ReturnEvent) -> ReturnEventApplied:
        """Apply a receiving node's event to the return's workflow, in one update, and answer the move it
        made; an event id applied before is answered `replay=True`, nothing moved.

        Raises EventRejectedError (naming the current status) when the return cannot take the event,
        also after it has finished; ReturnNotFoundError when there is no such return;
        WorkflowClosedError when it ended without a result; TemporalUnavailableError.
        """
        handle = self._client.get_workflow_handle(names.return_workflow_id(event.rma))
        applied = await self._event_update(handle, names.RETURN_EVENT_UPDATE, event, ReturnEventApplied,
                                           ReturnNotFoundError(event.rma))
        if applied is not None:
            return applied
        view = await self._final_result(handle, ReturnView, f"return {event.rma!r}")
        if event.event_id is None or event.event_id != view.received_event_id:
            raise EventRejectedError(receipt_refusal(event.rma, view.status), view.status.value)
        return ReturnEventApplied(rma=event.rma, type=event.type, from_status=view.status, to_status=view.status,
                                  replay=True)

    # Channel inventory sync

    async def start_channel_sync(self, config: ChannelSyncConfig) -> str:
        """Start the channel's long-running sync workflow unless it already runs; returns its workflow id.
        A running sync keeps the configuration it was started with."""
        workflow_id = names.channel_sync_workflow_id(config.channel)
        await self._call(
            self._client.start_workflow(
                names.CHANNEL_SYNC_WORKFLOW,
                ChannelSyncRun(config=config),
                id=workflow_id,
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"inventory sync to {config.channel}",
            )
        )
        return workflow_id

    async def notify_inventory_changed(self, channel: str, skus: list[str]) -> None:
        """Tell the channel's sync workflow that these SKUs' stock moved (it debounces and pushes).
        Raises NotFoundError if no sync runs for the channel."""
        handle = self._client.get_workflow_handle(names.channel_sync_workflow_id(channel))
        try:
            await self._call(handle.signal(names.INVENTORY_CHANGED_SIGNAL, SkusChanged(skus=skus)))
        except _NotFound:
            raise NotFoundError(f"no inventory sync runs for channel {channel!r}") from None

    # Backorders

    async def sweep_backorders(self) -> bool:
        """Stock came in: run the `backorder-sweep` schedule now, so that orders waiting for these units
        plan them in seconds instead of at the next interval. A sweep already running makes this one
        wait for it (buffered, not dropped). False when no worker has created the schedule yet."""
        handle = self._client.get_schedule_handle(names.BACKORDER_SWEEP_SCHEDULE)
        try:
            await self._call(handle.trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE))
        except _NotFound:
            return False
        return True

    # Translation of Temporal's errors

    async def _start(
        self, workflow: str, arg: Any, workflow_id: str, attributes: TypedSearchAttributes, summary: str
    ) -> bool:
        try:
            await self._call(
                self._client.start_workflow(
                    workflow,
                    arg,
                    id=workflow_id,
                    task_queue=self._task_queue,
                    # A finished order keeps its id forever: the same order must never run twice.
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    search_attributes=attributes,
                    static_summary=summary,
                )
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def _event_update(
        self, handle: temporalio.client.WorkflowHandle[Any, Any], update: str, event: object,
        result_type: type[_Result], missing: NotFoundError,
    ) -> _Result | None:
        """Run an event's update and answer its result, or None when the workflow has closed (its result
        then says what the event would have met). The workflow's refusal becomes EventRejectedError.
        NOT_FOUND means "never ran" or "closed"; describe tells them apart, and a run that started in
        between (a shipment released just now) is asked once more."""
        for _attempt in range(2):
            try:
                result: _Result = await self._call(handle.execute_update(
                    update, event, result_type=result_type, rpc_timeout=self._event_timeout))
                return result
            except WorkflowUpdateFailedError as err:
                raise _event_rejected(err) from err
            except WorkflowUpdateRPCTimeoutOrCancelledError as err:
                raise TemporalUnavailableError(
                    f"no answer in time (is a worker polling task queue {self._task_queue!r}?)") from err
            except _NotFound:
                try:
                    description = await self._call(handle.describe())
                except _NotFound:
                    raise missing from None
                if description.status != WorkflowExecutionStatus.RUNNING:
                    return None
        raise TemporalUnavailableError(f"workflow {handle.id!r} neither takes the event nor has closed; retry")

    async def _final_result(
        self, handle: temporalio.client.WorkflowHandle[Any, Any], result_type: type[_Result], what: str
    ) -> _Result:
        """The result a closed workflow ended with; WorkflowClosedError if it ended without one."""
        try:
            closed = self._client.get_workflow_handle(handle.id, result_type=result_type)
            result: _Result = await self._call(closed.result())
        except WorkflowFailureError as err:
            raise WorkflowClosedError(f"{what} has ended without a result ({err.cause}); it takes no events") from err
        return result

    async def _query(self, handle: temporalio.client.WorkflowHandle[Any, Any], result_type: type[_Result]) -> _Result:
        result: _Result = await self._call(
            handle.query(names.STATUS_QUERY, result_type=result_type, rpc_timeout=self._query_timeout)
        )
        return result

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise _NotFound from err
            if err.status == RPCStatusCode.UNAVAILABLE:
                raise TemporalUnavailableError(f"Temporal is unreachable: {err.message}") from err
            if err.status in _TIMED_OUT:
                raise TemporalUnavailableError(
                    f"no answer in time (is a worker polling task queue {self._task_queue!r}?): {err.message}"
                ) from err
            raise
        except RuntimeError as err:
            # A lazy client that cannot connect raises RuntimeError("Failed client connect: ...").
            if "connect" in str(err):
                raise TemporalUnavailableError(f"cannot reach Temporal: {err}") from err
            raise

    async def _raise_closed_or_missing(
        self, handle: temporalio.client.WorkflowHandle[Any, Any], missing: OmnirouteError, what: str
    ) -> NoReturn:
        """NOT_FOUND means either "never existed" or "already completed"; describe tells them apart."""
        try:
            await self._call(handle.describe())
        except _NotFound:
            raise missing from None
        raise WorkflowClosedError(f"{what} has finished and takes no more changes")


class _NotFound(Exception):
    """Internal: the server answered NOT_FOUND; each public method says what was not found."""


def _reason(err: temporalio.client.WorkflowUpdateFailedError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.message:
        return cause.message
    return str(cause) if cause is not None else str(err)


def _event_rejected(err: WorkflowUpdateFailedError) -> RequestRejectedError:
    """A refusal naming the current state (EVENT_REFUSED, its first detail the state) keeps both."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == EVENT_REFUSED and cause.details:
        return EventRejectedError(cause.message, str(cause.details[0]))
    return RequestRejectedError(_reason(err))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


__all__ = [
    "OmnirouteClient",
    "OmnirouteError",
    "NotFoundError",
    "OrderNotFoundError",
    "ReturnNotFoundError",
    "ShipmentNotFoundError",
    "RequestRejectedError",
    "CancelRejectedError",
    "EventRejectedError",
    "WorkflowClosedError",
    "TemporalUnavailableError",
]
