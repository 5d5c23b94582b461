"""The app DB: SQLAlchemy tables, repositories, the inventory ledger and its Alembic migrations.

from store import Store, upgrade_database
upgrade_database(url)
store = Store.connect(url)
"""

from store.errors import InvalidQuantityError, StoreError, UnknownNodeError, UnknownOrderError
from store.facade import Store
from store.migrate import upgrade_database
from store.reservations import ReservationView

__all__ = [
    "InvalidQuantityError",
    "ReservationView",
    "Store",
    "StoreError",
    "UnknownNodeError",
    "UnknownOrderError",
    "upgrade_database",
]
