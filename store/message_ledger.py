"""The message ledger: every customer message by its key and channel, so that each goes out once.

The notify activity records a message `sending` before it calls the provider and `sent`, with the
provider's id, once the provider has accepted it. Finding a row already `sent`, a rerun answers its id
and sends nothing. A row left `failed` (the provider answered with an error: nothing went out) is sent
again. A row left `sending` means an attempt stopped between the provider call and its answer (a
crash, a timeout): whether the provider took it is unknown. The caller asks the provider when it can;
when it cannot and sends again, `resend(uncertain=True)` counts a possible duplicate in
`uncertain_resends`, the one at-least-once edge left. One row per message; inserting it is
`ON CONFLICT DO NOTHING`, so two workers racing for one message find one row between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from store.engine import Database
from store.tables import notification_messages

_T = notification_messages


class MessageState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class MessageRecord:
    key: str
    channel: str
    kind: str
    recipient: str
    language: str
    state: MessageState
    provider_message_id: str | None
    attempts: int
    uncertain_resends: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = (_T.c.message_key, _T.c.channel, _T.c.kind, _T.c.recipient, _T.c.language, _T.c.state,
            _T.c.provider_message_id, _T.c.attempts, _T.c.uncertain_resends, _T.c.created_at, _T.c.updated_at)


class MessageLedgerRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def begin(self, key: str, channel: str, *, kind: str, recipient: str, language: str,
              now: datetime) -> MessageRecord | None:
        """Record the message `sending` and answer None when it is new; else answer its row unchanged."""
        with self._db.write() as connection:
            inserted = connection.execute(
                self._db.insert(_T)
                .values(message_key=key, channel=channel, kind=kind, recipient=recipient, language=language,
                        state=MessageState.SENDING.value, attempts=1, uncertain_resends=0, created_at=now,
                        updated_at=now)
                .on_conflict_do_nothing(index_elements=[_T.c.message_key, _T.c.channel])
                .returning(_T.c.message_key)
            ).first()
            if inserted is not None:
                return None
            row = connection.execute(sa.select(*_COLUMNS).where(_T.c.message_key == key,
                                                                 _T.c.channel == channel)).one()
        return _record(row)

    def resend(self, key: str, channel: str, *, uncertain: bool, now: datetime) -> None:
        """One more attempt at a message not sent: `sending` again; `uncertain` counts a possible duplicate."""
        with self._db.write() as connection:
            connection.execute(
                sa.update(_T).where(_T.c.message_key == key, _T.c.channel == channel)
                .values(state=MessageState.SENDING.value, attempts=_T.c.attempts + 1, updated_at=now,
                        uncertain_resends=_T.c.uncertain_resends + (1 if uncertain else 0)))

    def finish(self, key: str, channel: str, state: MessageState, *, now: datetime,
               provider_message_id: str | None = None) -> None:
        """What became of the attempt: sent (with the provider's id), failed, rejected or suppressed."""
        values: dict[str, object] = {"state": state.value, "updated_at": now}
        if provider_message_id is not None:
            values["provider_message_id"] = provider_message_id
        with self._db.write() as connection:
            connection.execute(sa.update(_T).where(_T.c.message_key == key, _T.c.channel == channel)
                               .values(**values))

    def get(self, key: str, channel: str) -> MessageRecord | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(*_COLUMNS).where(_T.c.message_key == key,
                                                                 _T.c.channel == channel)).first()
        return None if row is None else _record(row)

    def uncertain_total(self) -> int:
        """Messages sent again without knowing whether the provider had taken the first attempt."""
        with self._db.read() as connection:
            return int(connection.execute(sa.select(sa.func.coalesce(sa.func.sum(_T.c.uncertain_resends), 0)))
                       .scalar_one())


def _record(row: Any) -> MessageRecord:  # a Row of _COLUMNS
    m = row._mapping
    return MessageRecord(key=m["message_key"], channel=m["channel"], kind=m["kind"], recipient=m["recipient"],
                         language=m["language"], state=MessageState(m["state"]),
                         provider_message_id=m["provider_message_id"], attempts=m["attempts"],
                         uncertain_resends=m["uncertain_resends"], created_at=m["created_at"],
                         updated_at=m["updated_at"])
