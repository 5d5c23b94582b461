"""The message retry sweep's settings: the production defaults, the worker's policy built from them, and bad
values refused naming the setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from omniroute.config.settings import Settings
from workers.main import message_retry_policy
from workers.schedules import message_retry_schedule


def test_by_default_failed_messages_are_swept_every_minute_and_tried_for_a_day() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    policy = message_retry_policy(settings)
    schedule = message_retry_schedule(settings)

    assert (policy.first_wait, policy.longest_wait, policy.give_up_after) == (
        timedelta(minutes=5), timedelta(hours=1), timedelta(hours=24))
    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(minutes=1)]


def test_a_longest_wait_shorter_than_the_first_is_refused_naming_both_variables() -> None:
    with pytest.raises(ValidationError, match="OMNIROUTE_MESSAGE_RETRY_LONGEST_WAIT_SECONDS.*FIRST_SECONDS"):
        Settings(_env_file=None, message_retry_first_seconds=600,  # type: ignore[call-arg]
                 message_retry_longest_wait_seconds=60)


@pytest.mark.parametrize("field", ["message_retry_every_seconds", "message_retry_first_seconds",
                                   "message_retry_give_up_hours"])
def test_a_wait_that_is_not_positive_is_refused_naming_the_setting(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **{field: 0})  # type: ignore[call-arg]
