"""Timeouts and retry policies, one named set per kind of step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

A = TypeVar("A")
R = TypeVar("R")

# Steps that touch only the app DB or pure code: local activities, retried until they succeed
# (a DB outage should pause orders, not fail them), within an overall budget.
LOCAL_DB: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=20),
    "schedule_to_close_timeout": timedelta(minutes=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10),
                                non_retryable_error_types=["InvalidData"]),
}

# Carrier calls: a bounded number of attempts, then the order's compensation runs.
CARRIER: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(seconds=30), maximum_attempts=8,
                                non_retryable_error_types=["ProviderRejected", "InvalidData", "NoRates"]),
}

# Compensations must get through: retry until they do.
COMPENSATION: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
}

# Notifications: short calls whose duplicates are harmless, so they run as local activities (no
# activity task, no extra workflow task). A failed e-mail is recorded on the order, never fails it.
NOTIFY: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=15),
    "schedule_to_close_timeout": timedelta(minutes=2),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=20),
                                maximum_attempts=5, non_retryable_error_types=["ProviderRejected"]),
}

# A 3PL inventory pull: paged provider calls that heartbeat per page (a retry resumes at the next page).
# A 429 retries after the 3PL's x-retry-after (the activity sets next_retry_delay); refusals stop it.
THREEPL_PULL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=15),
    "heartbeat_timeout": timedelta(minutes=1),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                                maximum_interval=timedelta(minutes=2), maximum_attempts=10,
                                non_retryable_error_types=["ProviderRejected", "InvalidData"]),
}


async def local(fn: Callable[[Any, A], R], arg: A, policy: dict[str, Any] = LOCAL_DB) -> R:
    """Run an activity method as a local activity under `policy` (the app-DB one by default)."""
    return await workflow.execute_local_activity_method(fn, arg, **policy)


def describe(err: BaseException) -> str:
    """What failed, for an order's or a shipment's events: the cause's message, else its type."""
    cause = err.__cause__ or err
    return str(cause) or type(cause).__name__
