"""The GraphQL client's throttle arithmetic, with Shopify's answers played by an httpx MockTransport and a
clock the test moves: it waits before a call for the points the same query was last requested at, less
what the restore rate has given back since."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.channels.shopify_graphql import ShopifyGraphQLClient


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def shopify_answering(requested: int, available: int) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["variables"] == {"id": "gid://shopify/Order/1"}
        return httpx.Response(200, json={"data": {"order": None}, "extensions": {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": 3, "throttleStatus": {
                "maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 50.0}}}})

    return httpx.MockTransport(answer)


def test_the_second_call_waits_for_what_the_query_was_requested_at_less_what_was_restored() -> None:
    clock = Clock()
    with ShopifyGraphQLClient("https://shop.example", "shpat", transport=shopify_answering(400, 100),
                              sleep=clock.sleep, clock=clock) as shopify:
        assert shopify.order_state(1) is None
        assert clock.slept == []  # nothing known yet: no wait
        clock.now += 2.0  # 100 points restored since the answer: 200 available
        shopify.order_state(1)

    assert clock.slept == [pytest.approx((400 - 200) / 50)]


def test_no_wait_while_the_points_suffice() -> None:
    clock = Clock()
    with ShopifyGraphQLClient("https://shop.example", "shpat", transport=shopify_answering(80, 900),
                              sleep=clock.sleep, clock=clock) as shopify:
        for _ in range(3):
            shopify.order_state(1)
    assert clock.slept == []
