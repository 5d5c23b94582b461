"""Payloads of the message retry sweep (workflows/message_retry.py): one batch of due messages asked for,
what it did, and what one run of the sweep did."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MessageRetryBatch(BaseModel):
    """Send again up to `limit` messages whose next attempt is due at `now`."""

    now: datetime
    limit: int = Field(default=50, ge=1, le=1000)


class MessageRetryResult(BaseModel):
    """What one batch did, per message (a key: its e-mail and, when asked for, its SMS)."""

    tried: int = Field(default=0, ge=0, description="messages tried again")
    sent: int = Field(default=0, ge=0, description="messages now sent on every channel they go by")
    failed: int = Field(default=0, ge=0, description="messages that failed again and wait for their next attempt")
    abandoned: int = Field(default=0, ge=0, description="messages given up: tried for too long")
    refused: int = Field(default=0, ge=0, description="messages the provider refused (not tried again)")
    busy: int = Field(default=0, ge=0, description="messages another attempt took first")
    exhausted: bool = Field(default=True, description="true when fewer than `limit` rows were due")

    def plus(self, other: MessageRetryResult) -> MessageRetryResult:
        """Both batches' counts; exhausted as the later one says."""
        return MessageRetryResult(tried=self.tried + other.tried, sent=self.sent + other.sent,
                                  failed=self.failed + other.failed, abandoned=self.abandoned + other.abandoned,
                                  refused=self.refused + other.refused, busy=self.busy + other.busy,
                                  exhausted=other.exhausted)


class MessageRetryReport(MessageRetryResult):
    """What one run of the sweep did: the result of MessageRetryWorkflow."""

    batches: int = Field(default=0, ge=0)
