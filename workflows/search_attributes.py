"""The typed search-attribute keys the workflows upsert (names and types in models/names.py)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from models import names

ORDER_STATUS = SearchAttributeKey.for_keyword(names.ORDER_STATUS_ATTRIBUTE)
CHANNEL = SearchAttributeKey.for_keyword(names.CHANNEL_ATTRIBUTE)
RETURN_STATUS = SearchAttributeKey.for_keyword(names.RETURN_STATUS_ATTRIBUTE)
SHIPMENT_IDS = SearchAttributeKey.for_keyword_list(names.SHIPMENT_IDS_ATTRIBUTE)
TRACKING_NUMBERS = SearchAttributeKey.for_keyword_list(names.TRACKING_NUMBERS_ATTRIBUTE)
NODES = SearchAttributeKey.for_keyword_list(names.NODES_ATTRIBUTE)
ORDER_TOTAL = SearchAttributeKey.for_int(names.ORDER_TOTAL_ATTRIBUTE)
ORDER_ID = SearchAttributeKey.for_keyword(names.ORDER_ID_ATTRIBUTE)
SHIPMENT_STATE = SearchAttributeKey.for_keyword(names.SHIPMENT_STATE_ATTRIBUTE)
TRACKING_EXCEPTION = SearchAttributeKey.for_keyword(names.TRACKING_EXCEPTION_ATTRIBUTE)

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    ORDER_STATUS, CHANNEL, RETURN_STATUS, SHIPMENT_IDS, TRACKING_NUMBERS, NODES, ORDER_TOTAL, ORDER_ID, SHIPMENT_STATE,
    TRACKING_EXCEPTION,
)
