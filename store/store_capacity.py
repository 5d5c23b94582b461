"""A store's accepted work per local day, held to its daily capacity.

A claim is one conditional UPDATE of the store's counter for the day (`accepted < capacity`), so two
accepts racing for the last slot never both win, on SQLite (writes serialised) and on PostgreSQL
(the UPDATE takes the row's lock and re-checks its condition). A shipment holds at most one slot: a
repeated claim answers True and counts nothing; a released claim gives its slot back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import sqlalchemy as sa

from store.engine import Database
from store.tables import store_accepts, store_day_capacity

_C, _A = store_day_capacity, store_accepts

# A claim's answer: a slot taken now, one the shipment already held, or none left.
Claim = Literal["taken", "held", "full"]


class StoreCapacityRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def claim(self, node_id: str, day: date, shipment_id: str, capacity: int) -> Claim:
        """Take one of the store's `capacity` slots on its local `day` for `shipment_id`."""
        with self._db.write() as connection:
            held = connection.execute(sa.select(_A.c.shipment_id).where(_A.c.shipment_id == shipment_id)).first()
            if held is not None:
                return "held"
            connection.execute(self._db.insert(_C).values(node_id=node_id, day=day, accepted=0)
                               .on_conflict_do_nothing(index_elements=[_C.c.node_id, _C.c.day]))
            taken = connection.execute(
                sa.update(_C).where(_C.c.node_id == node_id, _C.c.day == day, _C.c.accepted < capacity)
                .values(accepted=_C.c.accepted + 1))
            if taken.rowcount != 1:
                return "full"
            connection.execute(sa.insert(_A).values(shipment_id=shipment_id, node_id=node_id, day=day))
            return "taken"

    def release(self, shipment_id: str) -> None:
        """Give back the slot `shipment_id` holds (its accept was refused after all). Idempotent."""
        with self._db.write() as connection:
            row = connection.execute(sa.delete(_A).where(_A.c.shipment_id == shipment_id)
                                     .returning(_A.c.node_id, _A.c.day)).first()
            if row is not None:
                connection.execute(sa.update(_C).where(_C.c.node_id == row.node_id, _C.c.day == row.day)
                                   .values(accepted=_C.c.accepted - 1))

    def accepted_on(self, days: Mapping[str, date]) -> dict[str, int]:
        """Shipments each store has accepted on its day (node id -> its local date); absent: none."""
        if not days:
            return {}
        with self._db.read() as connection:
            rows = connection.execute(sa.select(_C.c.node_id, _C.c.day, _C.c.accepted)
                                      .where(_C.c.node_id.in_(sorted(days)))).all()
        return {row.node_id: row.accepted for row in rows if days.get(row.node_id) == row.day}
