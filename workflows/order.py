"""OrderWorkflow: one order from intake to the last delivery.

Lifecycle: record → order rules (a hold waits for an operator's release update or a cancel) → plan
and reserve (backorders, release-wave hold) → confirm → release: each shipment handed to its node's
fulfilment workflow (workflows/fulfilment/), which reports progress and ends delivered or cancelled →
done when every shipment has. A cancel update, a failed fulfilment or a cancelled workflow winds the
shipments down: the ones that have not left are undone, the customer is told.

One runner: signals, updates, timers and fulfilment results become steps in the order's inbox and
`run` takes them one at a time, so that it alone issues commands and a replay issues the same ones
whatever grouping of local-activity results it sees.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from models import names
    from models.commands import WavePlan
    from models.fulfilment import FulfilmentOutcome, FulfilmentProgress, OutcomeKind
    from models.network import Node
    from models.notify import NotificationKind
    from models.order import CancelOrder, CancelResult, OrderStatus, OrderView, PlaceOrder, ReleaseHold
    from models.reroute import REROUTE_REFUSED, RerouteShipment, ShipmentRerouted
    from models.shipment import ShipmentState
    from sourcing.pickup import store_address
    from workflows import order_planning as planning
    from workflows import order_reroute
    from workflows.fulfilment.protocol import PARTIAL_CANCEL_ASKS_NODE
    from workflows.order_book import OrderBook
    from workflows.order_shipments import Shipments
    from workflows.order_state import (
        OrderState,
        ShipmentRuntime,
        cancellable_lines,
        check_releasable,
        check_reroutable,
        open_lines,
        order_view,
        split_cancel,
    )
    from workflows.policies import describe, local

Step = Callable[[], Awaitable[None]]

# Orders from before a refused cancel told the customer the shipment's return path.
CANCEL_REFUSED_NOTICE = "cancel-refused-notice"


@dataclass
class PendingCancel:
    """A cancel being carried out, answered once each shipment it touches has answered."""

    request: CancelOrder
    answer: asyncio.Future[CancelResult]
    line_nos: list[int]
    whole: list[ShipmentRuntime]
    partial: list[tuple[ShipmentRuntime, set[str]]] = field(default_factory=list)
    unplanned_cancelled: bool = False


@workflow.defn(name=names.ORDER_WORKFLOW)
class OrderWorkflow:
    """Input PlaceOrder, result OrderView. Fails with `OrderFailed` when a fulfilment fails for good
    (after the other shipments are wound down and the customer told)."""

    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self._state = OrderState(order=order, created_at=workflow.now())
        self._book = OrderBook(self._state)
        self._shipments = Shipments(self._state, self._book)
        self._inbox: deque[Step] = deque()
        # Callers waiting on updates, and the failure that stopped the order: in flight, not state.
        self._cancels: list[PendingCancel] = []
        self._releases: list[asyncio.Future[OrderView]] = []
        self._reroutes_queued = 0
        self._error: ChildWorkflowError | None = None

    @workflow.run
    async def run(self, order: PlaceOrder) -> OrderView:
        if order.pickup is not None:  # only pickup orders (none before them) read their store first
            await self._find_pickup_store(order.pickup.node_id)
        await self._book.record_order()
        await planning.apply_rules(self._state, self._book)
        while self._state.held and not self._state.hold_released and open_lines(self._state):
            await self._step()
        await planning.allocate(self._state, self._book)
        self._answer_releases()
        try:
            if self._state.release_at is None:
                await self._release()
            while not self._settled():
                await self._step()
        except asyncio.CancelledError:
            await self._wind_down("order cancelled")
            raise
        if self._error is not None:
            await self._fail(self._error)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return order_view(self._state)

    async def _find_pickup_store(self, node_id: str) -> None:
        """A pickup order is planned and recorded at its store: read the store's address."""
        try:
            node: Node = await local(RecordActivities.get_node, node_id)
        except ActivityError as err:
            raise ApplicationError(f"pickup.node_id: {describe(err)}", type="InvalidOrder",
                                   non_retryable=True) from err
        self._state.pickup_address = store_address(node, self._state.order.customer.name)

    # -- messages: each becomes a step for the runner ---------------------------------------------

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> OrderView:
        return order_view(self._state)

    @workflow.signal(name=names.FULFILMENT_PROGRESS_SIGNAL)
    def fulfilment_progress(self, progress: FulfilmentProgress) -> None:
        self._inbox.append(partial(self._on_progress, progress))

    @workflow.signal(name=names.RETRY_BACKORDERS_SIGNAL)
    def retry_backorders(self) -> None:
        """Stock has come in for a backordered SKU (the backorder sweep): plan the waiting units now."""
        self._inbox.append(self._retry_backorders)

    @workflow.signal(name=names.WAVE_PLAN_SIGNAL)
    def wave_plan(self, plan: WavePlan) -> None:
        self._inbox.append(partial(self._on_wave, plan))

    @workflow.update(name=names.RELEASE_HOLD_UPDATE)
    async def release_hold(self, request: ReleaseHold) -> OrderView:
        """An operator lets a held order go on; answers once it is planned."""
        answer: asyncio.Future[OrderView] = asyncio.get_running_loop().create_future()
        self._inbox.append(partial(self._on_release_hold, request, answer))
        return await answer

    @release_hold.validator
    def _validate_release(self, request: ReleaseHold) -> None:
        check_releasable(self._state)

    @workflow.update(name=names.CANCEL_UPDATE)
    async def cancel(self, request: CancelOrder) -> CancelResult:
        """Cancel lines (all by default); answers once the shipments they touch have answered."""
        answer: asyncio.Future[CancelResult] = asyncio.get_running_loop().create_future()
        self._inbox.append(partial(self._on_cancel, request, answer))
        return await answer

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        cancellable_lines(self._state, request.line_nos)

    @workflow.update(name=names.REROUTE_SHIPMENT_UPDATE)
    async def reroute_shipment(self, request: RerouteShipment) -> ShipmentRerouted:
        """An operator moves a shipment not yet released to another node; answers once it is re-planned
        there and its stock moved, or fails (`RerouteRefused`) naming why, with nothing changed."""
        answer: asyncio.Future[ShipmentRerouted] = asyncio.get_running_loop().create_future()
        self._reroutes_queued += 1
        self._inbox.append(partial(self._on_reroute, request, answer))
        return await answer

    @reroute_shipment.validator
    def _validate_reroute(self, request: RerouteShipment) -> None:
        check_reroutable(self._state, request)

    # -- the runner ---------------------------------------------------------------------------------

    async def _step(self) -> None:
        """Take the next step (or the runner's own timer when its time comes first), then answer the
        cancels it completed."""
        await (await self._next())()
        await self._answer_cancels()

    async def _next(self) -> Step:
        due = self._due()
        if due is None:
            await workflow.wait_condition(lambda: bool(self._inbox))
            return self._inbox.popleft()
        at, timer = due
        wait = at - workflow.now()
        if not self._inbox and wait > timedelta(0):
            try:
                await workflow.wait_condition(lambda: bool(self._inbox), timeout=wait)
            except TimeoutError:
                return timer
        return self._inbox.popleft() if self._inbox else timer

    def _due(self) -> tuple[datetime, Step] | None:
        """The runner's next timer: the end of a release-wave hold, or the next backorder retry."""
        state = self._state
        if state.stopping:
            return None
        if state.release_at is not None:
            return state.release_at, self._release
        if state.backordered and state.backorder_retry_at is not None:
            return state.backorder_retry_at, self._retry_backorders
        return None

    def _settled(self) -> bool:
        """Nothing more will happen: every shipment has ended, no cancel or backorder waits (or, once
        the order is stopping, no shipment that has not left is still being wound down). A queued
        reroute is always taken (and answered) first."""
        if self._reroutes_queued:
            return False
        if self._state.stopping:
            return not any(not s.left for s in self._shipments.running())
        return not self._shipments.running() and not self._cancels and not self._state.backordered and all(
            s.view.state is ShipmentState.CANCELLED for s in self._state.shipments.values() if not s.started)

    # -- steps --------------------------------------------------------------------------------------

    async def _release(self) -> None:
        """Hand every shipment still waiting to its fulfilment (the release hold, if any, is over)."""
        self._state.release_at = None
        for shipment in list(self._state.shipments.values()):
            if shipment.view.state is ShipmentState.PENDING and not shipment.started and not shipment.cancel_requested:
                await self._start(shipment)

    async def _start(self, shipment: ShipmentRuntime) -> None:
        handle = await self._shipments.start(shipment)
        sid = shipment.view.shipment_id
        handle.add_done_callback(lambda done: self._inbox.append(partial(self._on_fulfilment_end, sid, done)))

    async def _on_progress(self, progress: FulfilmentProgress) -> None:
        shipment = self._shipments.take_progress(progress)
        if shipment is None:
            return
        if progress.handed_back and not self._state.stopping:  # a short pick: plan the shortfall again
            fresh = await planning.resource(self._state, self._book, shipment.view.node_id, progress.handed_back,
                                            progress.reason or "handed back")
            for planned in fresh:
                await self._start(planned)
            return
        await self._book.update_status()

    async def _on_fulfilment_end(self, sid: str, done: asyncio.Future[FulfilmentOutcome]) -> None:
        error = done.exception()
        if error is None:
            outcome = done.result()
            asked = self._state.shipments[sid].view.cancel_requested
            self._shipments.take_outcome(sid, outcome)
            if (outcome.kind is OutcomeKind.CANCELLED and outcome.resource and not self._state.stopping
                    and workflow.patched(PARTIAL_CANCEL_ASKS_NODE)):
                await self._resource_after_partial_cancel(sid, outcome, asked)
                return
            if asked and outcome.kind is OutcomeKind.CANCELLED:  # the node agreed to a cancel it was asked
                await self._book.update_status()
                kind = (NotificationKind.ORDER_CANCELLED if self._state.status is OrderStatus.CANCELLED
                        else NotificationKind.LINES_CANCELLED)
                await self._book.notify(kind, {"shipment": sid, "reason": outcome.reason or "cancelled"})
                return
            if outcome.kind is OutcomeKind.HANDED_BACK and outcome.handed_back and not self._state.stopping:
                fresh = await planning.resource(self._state, self._book, outcome.shipment.node_id,
                                                outcome.handed_back, outcome.reason or "handed back")
                for shipment in fresh:
                    await self._start(shipment)
                return
            await self._book.update_status()
            return
        if not isinstance(error, ChildWorkflowError):
            raise error
        self._shipments.take_failure(sid, describe(error))
        if self._error is None:
            self._error = error
            await self._stop("order failed")

    async def _resource_after_partial_cancel(self, sid: str, outcome: FulfilmentOutcome, asked: bool) -> None:
        """Some lines of a shipment were to be cancelled and its node could cancel only the whole of it,
        and did: the other lines are planned again (the node may ship them again), the customer told."""
        if asked:  # the cancel was answered `requested`: the customer hears the lines went now
            await self._book.update_status()
            await self._book.notify(NotificationKind.LINES_CANCELLED,
                                    {"shipment": sid, "reason": outcome.reason or "cancelled"})
        fresh = await planning.resource(self._state, self._book, outcome.shipment.node_id, outcome.resource,
                                        outcome.reason or "cancelled", exclude=False)
        for shipment in fresh:
            await self._start(shipment)

    async def _retry_backorders(self) -> None:
        for shipment in await planning.retry_backorders(self._state, self._book):
            await self._start(shipment)

    async def _on_wave(self, offer: WavePlan) -> None:
        if await planning.take_wave(self._state, self._book, offer):
            await self._release()

    async def _on_release_hold(self, request: ReleaseHold, answer: asyncio.Future[OrderView]) -> None:
        if self._state.held and not self._state.hold_released:
            self._state.hold_released = True
            self._state.events.append(f"hold released by {request.released_by}: {request.reason}")
        self._releases.append(answer)
        if self._state.allocated:
            self._answer_releases()

    async def _on_reroute(self, request: RerouteShipment, answer: asyncio.Future[ShipmentRerouted]) -> None:
        self._reroutes_queued -= 1
        try:
            answer.set_result(await order_reroute.reroute(self._state, self._book, request))
        except ApplicationError as err:
            answer.set_exception(err)
        except asyncio.CancelledError:  # the order itself was cancelled meanwhile: say so, never hang
            answer.set_exception(ApplicationError("the order was cancelled first", type=REROUTE_REFUSED,
                                                  non_retryable=True))
            raise

    def _answer_releases(self) -> None:
        for answer in self._releases:
            answer.set_result(order_view(self._state))
        self._releases.clear()

    async def _on_cancel(self, request: CancelOrder, answer: asyncio.Future[CancelResult]) -> None:
        state = self._state
        try:
            line_nos = cancellable_lines(state, request.line_nos)
        except ValueError as err:  # the lines shipped between the request and its turn
            answer.set_exception(ApplicationError(str(err), type="NotCancellable", non_retryable=True))
            return
        whole, partial_hits = split_cancel(state, line_nos)
        pending = PendingCancel(request=request, answer=answer, line_nos=line_nos, whole=whole, partial=partial_hits)
        for line_no in line_nos:  # units on no shipment (backordered, or not yet planned) go at once
            planned = sum(line.quantity for _, line in state.parts(line_no))
            unplanned = state.order.lines[line_no - 1].quantity - state.quantity_cancelled(line_no) - planned
            if unplanned > 0:
                state.cancel_quantity(line_no, unplanned, request.reason)
                pending.unplanned_cancelled = True
            state.backordered.pop(line_no, None)
        if not state.backordered:
            state.backordered_since = None
        self._cancels.append(pending)
        for shipment in whole:
            await self._shipments.cancel(shipment, request.reason)
        for shipment, skus in partial_hits:
            await self._shipments.cancel(shipment, request.reason, skus)

    async def _answer_cancels(self) -> None:
        """Answer, in the order they came, the cancels whose shipments have all answered."""
        while self._cancels and _answered(self._cancels[0]):
            pending = self._cancels.pop(0)
            cancelled = [s.view.shipment_id for s in pending.whole if s.view.state is ShipmentState.CANCELLED]
            cancelled += [s.view.shipment_id for s, _ in pending.partial if s.view.state is ShipmentState.CANCELLED]
            asked = [s.view.shipment_id for s in pending.whole + [s for s, _ in pending.partial]
                     if s.view.cancel_requested and not s.left and s.view.state is not ShipmentState.CANCELLED]
            trimmed = [s for s, skus in pending.partial if not s.left and (
                s.view.state is ShipmentState.CANCELLED or not any(line.sku in skus for line in s.view.lines))]
            await self._book.update_status()
            if asked and not (cancelled or trimmed or pending.unplanned_cancelled):
                self._state.events.append(f"cancel of lines {pending.line_nos} asked of the node: {', '.join(asked)}")
                pending.answer.set_result(CancelResult(cancelled_line_nos=[], cancelled_shipment_ids=[],
                                                       requested_shipment_ids=asked, status=self._state.status))
                continue
            if not (cancelled or trimmed or pending.unplanned_cancelled):
                shipped = [s.view.shipment_id for s in pending.whole if s.left] + [
                    s.view.shipment_id for s, _ in pending.partial if s.left]
                if workflow.patched(CANCEL_REFUSED_NOTICE):
                    await self._book.notify(NotificationKind.CANCEL_REFUSED, {
                        "lines": ", ".join(map(str, pending.line_nos)), "shipments": ", ".join(shipped),
                        "return": "it can be returned once it arrives"})
                pending.answer.set_exception(ApplicationError(
                    f"line_nos: {pending.line_nos} shipped before the cancel reached the node "
                    f"({', '.join(shipped)}); return them once they arrive",
                    type="NotCancellable", non_retryable=True))
                continue
            kind = (NotificationKind.ORDER_CANCELLED if self._state.status is OrderStatus.CANCELLED
                    else NotificationKind.LINES_CANCELLED)
            reason = pending.request.reason
            await self._book.notify(kind, {"lines": ", ".join(map(str, pending.line_nos)), "reason": reason})
            self._state.events.append(f"cancelled lines {pending.line_nos}: {reason}")
            pending.answer.set_result(CancelResult(cancelled_line_nos=pending.line_nos,
                                                   cancelled_shipment_ids=cancelled, requested_shipment_ids=asked,
                                                   status=self._state.status))

    # -- winding down -------------------------------------------------------------------------------

    async def _stop(self, reason: str) -> None:
        """Ask every shipment that has not left to stop; undo at once the ones never released."""
        self._state.stopping = True
        for shipment in reversed(list(self._state.shipments.values())):
            waiting = not shipment.left and shipment.view.state is not ShipmentState.CANCELLED
            if waiting and not shipment.finished and not (shipment.started and shipment.cancel_requested):
                await self._shipments.cancel(shipment, reason)
        planning.cancel_backorders(self._state, reason)

    async def _wind_down(self, reason: str) -> None:
        await self._stop(reason)
        while not self._settled():
            await self._step()
        await self._answer_cancels()
        for pending in self._cancels:  # a shipment it waited on left the order's hands: say so, never hang
            pending.answer.set_exception(ApplicationError(f"the order stopped first: {reason}",
                                                          type="NotCancellable", non_retryable=True))
        self._cancels.clear()
        await self._book.update_status()  # the read model and search attributes say it ended too

    async def _fail(self, error: ChildWorkflowError) -> None:
        await self._wind_down("order failed")
        self._state.failure = describe(error)
        await self._book.update_status()
        await self._book.notify(NotificationKind.ORDER_FAILED, {"reason": self._state.failure})
        await workflow.wait_condition(workflow.all_handlers_finished)
        raise ApplicationError(f"order {self._state.order.order_id} failed: {self._state.failure}",
                               type="OrderFailed") from error


def _answered(pending: PendingCancel) -> bool:
    """Each shipment the cancel touches has answered: it ended, left, was cancelled, or its node has
    been asked and will answer later."""
    whole_done = all(s.finished or s.left or s.view.state is ShipmentState.CANCELLED or s.view.cancel_requested
                     for s in pending.whole)
    partial_done = all(s.finished or s.left or s.view.cancel_requested
                       or not any(line.sku in skus for line in s.view.lines) for s, skus in pending.partial)
    return whole_done and partial_done
