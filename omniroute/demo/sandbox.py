"""The demo's dealings with the provider sandboxes (`omniroute sandbox`): the carriers' tracking plan
(EasyPost sandbox, docs/tracking.md) and the customers' mailboxes (SendGrid sandbox), where a pickup
customer reads the pickup code the system e-mailed them. Nothing here reaches the gateway.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from omniroute.demo.api import GatewayError

TRACKING_PLAN_PATH = "/easypost/v2/_sandbox/tracking"
MESSAGES_PATH = "/sendgrid/_sandbox/messages"
SMS_PATH = "/twilio/_sandbox/messages"
# The ready-for-pickup e-mail lists its facts one a line, labelled in the customer's language
# (integrations/notify/templates: English and French).
_CODE = re.compile(r"^(?:pickup code|Code de retrait) ?: (\d+)$", re.MULTILINE)


def _about(shipment_id: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:shipment|Colis) ?: {re.escape(shipment_id)}$", re.MULTILINE)


@dataclass(frozen=True)
class CarrierPlan:
    """How the sandbox's carriers move the demo's parcels: a status every `step_s` from
    `first_scan_s` after the label's purchase, and every `exception_every`-th tracker meets a failed
    delivery attempt before it is delivered."""

    step_s: float
    first_scan_s: float
    exception_every: int

    def as_json(self) -> dict[str, Any]:
        return {"step_s": self.step_s, "first_scan_s": self.first_scan_s, "exception": "failure",
                "exception_every": self.exception_every}


class ProviderSandboxes:
    """An HTTP client for the sandboxes at `sandbox_url`."""

    def __init__(self, sandbox_url: str, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=sandbox_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def plan_tracking(self, plan: CarrierPlan) -> None:
        """Trackers made from now on follow `plan`; GatewayError when the sandbox refuses it."""
        response = await self._http.put(TRACKING_PLAN_PATH, json=plan.as_json())
        if response.is_error:
            raise GatewayError("PUT", TRACKING_PLAN_PATH, response.status_code, response.text)

    async def texts_to(self, phones: Collection[str]) -> int:
        """How many SMS the Twilio sandbox took for the numbers in `phones`."""
        response = await self._http.get(SMS_PATH)
        response.raise_for_status()
        return sum(1 for message in response.json() if message.get("to") in phones)

    async def pickup_code(self, email: str, shipment_id: str) -> str | None:
        """The pickup code in `email`'s ready-for-pickup message about `shipment_id`; None before it came."""
        response = await self._http.get(MESSAGES_PATH, params={"to": email})
        response.raise_for_status()
        for message in response.json():
            text = message.get("text") or ""
            about = "ready_for_pickup" in (message.get("categories") or []) and _about(shipment_id).search(text)
            if about and (match := _CODE.search(text)):
                return match.group(1)
        return None
