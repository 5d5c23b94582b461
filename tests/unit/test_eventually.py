"""The shared `eventually`: only a truthy value ends the wait, and a timeout says what was awaited; and
`eventually_reads`, the same wait for a read and a condition on it."""

from __future__ import annotations

import pytest

from tests.fixtures.eventually import eventually, eventually_reads


async def test_the_first_truthy_value_is_returned_after_empty_answers() -> None:
    answers = iter([None, [], 0, {}, ["ready"]])

    assert await eventually(lambda: next(answers), "a ready list", timeout=5) == ["ready"]


async def test_a_check_awaited_as_a_coroutine_counts_like_a_plain_one() -> None:
    calls = 0

    async def check() -> int:
        nonlocal calls
        calls += 1
        return calls if calls >= 3 else 0

    assert await eventually(check, timeout=5) == 3


@pytest.mark.parametrize("empty", [None, [], 0, {}, False])
async def test_an_empty_answer_never_passes_and_the_timeout_names_what_and_the_last_value(empty: object) -> None:
    with pytest.raises(AssertionError, match=r"waiting for the order to ship; the last value was"):
        await eventually(lambda: empty, "the order to ship", timeout=0.3)


async def test_a_check_that_raises_fails_at_once() -> None:
    def broken() -> bool:
        raise KeyError("no such order")

    with pytest.raises(KeyError):
        await eventually(broken, timeout=30)


async def test_a_read_ends_the_wait_with_the_first_value_its_condition_accepts_even_a_falsy_one() -> None:
    answers = iter([3, 2, 1, 0])

    async def read() -> int:
        return next(answers)

    assert await eventually_reads(read, lambda n: n < 2, "a count below two", timeout=5) == 1
    assert await eventually_reads(read, lambda n: n == 0, "a count of zero", timeout=5) == 0


async def test_a_read_that_never_satisfies_times_out_showing_what_and_the_last_value_read() -> None:
    async def read() -> dict[str, str]:
        return {"status": "pending"}

    with pytest.raises(AssertionError, match=r"waiting for the return to complete; the last value was STATUS pending"):
        await eventually_reads(read, lambda view: view["status"] == "completed", "the return to complete",
                               timeout=0.3, show=lambda view: f"STATUS {view['status']}")
