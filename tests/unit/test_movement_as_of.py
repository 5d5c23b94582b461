"""A ledger movement carries the feed's `as_of` (when the sender observed it) next to when it was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from models.inventory import MovementKind
from models.records import Movement


def a_movement(**overrides: object) -> Movement:
    fields: dict[str, object] = {
        "movement_id": 7, "node_id": "dc-chi", "sku": "MUG-1", "kind": MovementKind.COUNT, "on_hand_delta": 12,
        "reserved_delta": 0, "key": None, "reason": "count", "source": "wms",
        "created_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    }
    return Movement.model_validate(fields | overrides)


def test_a_movement_without_an_observation_time_has_no_as_of() -> None:
    assert a_movement().as_of is None


def test_a_movement_keeps_the_senders_observation_time_apart_from_when_it_was_written() -> None:
    observed = datetime(2025, 3, 1, 5, 30, tzinfo=timezone(timedelta(hours=-6)))  # 11:30 UTC

    movement = a_movement(as_of=observed)

    assert movement.as_of == datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    assert movement.created_at - movement.as_of == timedelta(minutes=30)


def test_as_of_survives_a_json_round_trip() -> None:
    movement = a_movement(as_of=datetime(2025, 3, 1, 11, 30, tzinfo=UTC))

    again = Movement.model_validate_json(movement.model_dump_json())

    assert again == movement
    assert again.as_of == datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    assert '"as_of":"2025-03-01T11:30:00Z"' in movement.model_dump_json()
