"""The simulated warehouse's ports over the channel SDK: order status by query, events as updates.

SDK errors are translated into the GatewayError the warehouse understands, with the HTTP status the
gateway would have answered (404 unknown, 409 refused, 503 unavailable), so the warehouse behaves the
same whichever way it reaches the system.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio.service import RPCError

from models.shipment import ShipmentEvent, ShipmentEventType
from omniroute.client import NotFoundError, OmnirouteClient, RequestRejectedError, TemporalUnavailableError
from omniroute.demo.api import GatewayError, OrderSnapshot

T = TypeVar("T")


class SdkWarehousePort:
    """Reads orders with the status query and sends each shipment event as one update to its
    fulfilment (a replay of an event id it applied before is accepted like the first)."""

    def __init__(self, client: OmnirouteClient) -> None:
        self._client = client

    async def order(self, order_id: str) -> OrderSnapshot:
        view = await _translated("QUERY", order_id, self._client.get_order(order_id))
        return OrderSnapshot.from_json(view.model_dump(mode="json"))

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str) -> None:
        event = ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType(event_type), event_id=event_id)
        await _translated("UPDATE", shipment_id, self._client.send_shipment_event(event))


async def _translated(method: str, target: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except NotFoundError as err:
        raise GatewayError(method, target, 404, str(err)) from err
    except RequestRejectedError as err:
        raise GatewayError(method, target, 409, str(err)) from err
    except (TemporalUnavailableError, RPCError) as err:
        raise GatewayError(method, target, 503, str(err)) from err
