"""The message ledger: every customer message by its key and channel, so that each goes out once.

The notify activity records a message `sending` before it calls the provider and `sent`, with the
provider's id, once the provider has accepted it. Finding a row already `sent`, a rerun answers its id
and sends nothing. A row left `failed` (the provider answered with an error: nothing went out) is sent
again. A row left `sending` means an attempt stopped between the provider call and its answer (a
crash, a timeout): whether the provider took it is unknown. The caller asks the provider when it can;
when it cannot and sends again, `resend(uncertain=True)` counts a possible duplicate in
`uncertain_resends`, the one at-least-once edge left. One row per message; inserting it is
`ON CONFLICT DO NOTHING`, so two workers racing for one message find one row between them.

Later: each row keeps the message (`notification`, JSON) and `next_attempt_at`, when it may be tried
again: a `failed` row after its backoff, a `sending` row once its attempt's lease is over (the attempt
died). `due` lists those for the message retry sweep. An attempt on a row it found takes it with
`resend(expected_attempts=...)`, which changes the row only if nobody else has tried it since it was
read: two attempts never both go. A message tried for too long is `abandoned`.
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
    ABANDONED = "abandoned"


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
    next_attempt_at: datetime | None = None
    notification: str | None = None  # the message as JSON (models.notify.Notification), to send it again


_COLUMNS = (_T.c.message_key, _T.c.channel, _T.c.kind, _T.c.recipient, _T.c.language, _T.c.state,
            _T.c.provider_message_id, _T.c.attempts, _T.c.uncertain_resends, _T.c.created_at, _T.c.updated_at,
            _T.c.next_attempt_at, _T.c.notification)
# What may be tried again once its next_attempt_at has come.
_RETRIED = (MessageState.FAILED.value, MessageState.SENDING.value)


class MessageLedgerRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def begin(self, key: str, channel: str, *, kind: str, recipient: str, language: str, now: datetime,
              notification: str | None = None, lease_until: datetime | None = None) -> MessageRecord | None:
        """Record the message `sending` (with `notification`, its JSON, to send it again, and `lease_until`,
        when the sweep may take it if this attempt never finishes) and answer None when it is new; else
        answer its row unchanged."""
        with self._db.write() as connection:
            inserted = connection.execute(
                self._db.insert(_T)
                .values(message_key=key, channel=channel, kind=kind, recipient=recipient, language=language,
                        state=MessageState.SENDING.value, attempts=1, uncertain_resends=0, created_at=now,
                        updated_at=now, notification=notification, next_attempt_at=lease_until)
                .on_conflict_do_nothing(index_elements=[_T.c.message_key, _T.c.channel])
                .returning(_T.c.message_key)
            ).first()
            if inserted is not None:
                return None
            row = connection.execute(sa.select(*_COLUMNS).where(_T.c.message_key == key,
                                                                 _T.c.channel == channel)).one()
        return _record(row)

    def resend(self, key: str, channel: str, *, uncertain: bool, now: datetime,
               expected_attempts: int | None = None, lease_until: datetime | None = None) -> bool:
        """One more attempt at a message not sent: `sending` again; `uncertain` counts a possible duplicate.
        With `expected_attempts` (the row's `attempts` as the caller read it) only if no other attempt took
        the row since: answers whether this one has it."""
        condition = [_T.c.message_key == key, _T.c.channel == channel]
        if expected_attempts is not None:
            condition.append(_T.c.attempts == expected_attempts)
        with self._db.write() as connection:
            taken = connection.execute(
                sa.update(_T).where(*condition)
                .values(state=MessageState.SENDING.value, attempts=_T.c.attempts + 1, updated_at=now,
                        uncertain_resends=_T.c.uncertain_resends + (1 if uncertain else 0),
                        next_attempt_at=lease_until))
        return taken.rowcount == 1

    def finish(self, key: str, channel: str, state: MessageState, *, now: datetime,
               provider_message_id: str | None = None, next_attempt_at: datetime | None = None) -> None:
        """What became of the attempt: sent (with the provider's id), failed (to be tried again at
        `next_attempt_at`), rejected, suppressed or abandoned."""
        values: dict[str, object] = {"state": state.value, "updated_at": now, "next_attempt_at": next_attempt_at}
        if provider_message_id is not None:
            values["provider_message_id"] = provider_message_id
        with self._db.write() as connection:
            connection.execute(sa.update(_T).where(_T.c.message_key == key, _T.c.channel == channel)
                               .values(**values))

    def postpone(self, key: str, channel: str, *, next_attempt_at: datetime) -> None:
        """An attempt that got no answer (the provider may have taken it): left `sending`, tried again (and
        looked up first, where the provider can be asked) at `next_attempt_at`. `updated_at` keeps when
        that attempt began: the lookup searches from there."""
        with self._db.write() as connection:
            connection.execute(sa.update(_T).where(_T.c.message_key == key, _T.c.channel == channel)
                               .values(next_attempt_at=next_attempt_at))

    def due(self, now: datetime, *, limit: int) -> list[MessageRecord]:
        """Rows to try again: failed or left sending, kept with their message, whose next attempt is at or
        before `now`; the longest due first."""
        query = (sa.select(*_COLUMNS)
                 .where(_T.c.state.in_(_RETRIED), _T.c.next_attempt_at <= now, _T.c.notification.is_not(None))
                 .order_by(_T.c.next_attempt_at, _T.c.message_key, _T.c.channel).limit(limit))
        with self._db.read() as connection:
            return [_record(row) for row in connection.execute(query)]

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
                         updated_at=m["updated_at"], next_attempt_at=m["next_attempt_at"],
                         notification=m["notification"])
