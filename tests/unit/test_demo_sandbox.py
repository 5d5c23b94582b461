"""The demo's pickup customer reads the pickup code in the e-mail the system sent, from the SendGrid
sandbox, as `activities.notify` renders it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from activities.notify import render
from integrations.notify.sandbox import create_sendgrid_sandbox
from models.notify import Notification, NotificationKind
from omniroute.demo.sandbox import ProviderSandboxes

KEY = "SG.test-key"


def _mail(notification: Notification) -> dict[str, object]:
    subject, text = render(notification)
    return {"personalizations": [{"to": [{"email": notification.to_email}], "subject": subject}],
            "from": {"email": "orders@example.com"}, "content": [{"type": "text/plain", "value": text}],
            "categories": [notification.kind.value]}


async def test_the_code_is_read_from_the_ready_for_pickup_mail_about_that_shipment() -> None:
    app = FastAPI()
    app.mount("/sendgrid", create_sendgrid_sandbox(KEY))
    transport = httpx.ASGITransport(app=app)
    ada = {"to_email": "ada@example.com", "to_name": "Ada", "reference": "web-1"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        async with ProviderSandboxes("http://sandbox", transport=transport) as sandboxes:
            assert await sandboxes.pickup_code("ada@example.com", "web-1-S1") is None
            for kind, facts in [
                (NotificationKind.SHIPPED, {"shipment": "web-1-S2", "tracking_number": "EZ1"}),
                (NotificationKind.READY_FOR_PICKUP, {"shipment": "web-1-S11", "pickup_code": "111111",
                                                     "store": "Brooklyn store", "collect_by": "2026-12-06"}),
                (NotificationKind.READY_FOR_PICKUP, {"shipment": "web-1-S1", "pickup_code": "493817",
                                                     "store": "Brooklyn store", "collect_by": "2026-12-06"}),
            ]:
                mail = _mail(Notification(kind=kind, facts=facts, **ada))
                sent = await http.post("/sendgrid/v3/mail/send", json=mail,
                                       headers={"Authorization": f"Bearer {KEY}"})
                assert sent.status_code == 202, sent.text

            assert await sandboxes.pickup_code("ada@example.com", "web-1-S1") == "493817"
            assert await sandboxes.pickup_code("ada@example.com", "web-1-S2") is None
            assert await sandboxes.pickup_code("bob@example.com", "web-1-S1") is None


async def test_a_french_customer_reads_the_code_in_the_french_mail() -> None:
    app = FastAPI()
    app.mount("/sendgrid", create_sendgrid_sandbox(KEY))
    transport = httpx.ASGITransport(app=app)
    lea = {"to_email": "lea@example.com", "to_name": "Léa", "reference": "web-2", "locale": "fr"}
    facts = {"shipment": "web-2-S1", "pickup_code": "204615", "store": "Brooklyn store"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        async with ProviderSandboxes("http://sandbox", transport=transport) as sandboxes:
            mail = _mail(Notification(kind=NotificationKind.READY_FOR_PICKUP, facts=facts, **lea))
            sent = await http.post("/sendgrid/v3/mail/send", json=mail, headers={"Authorization": f"Bearer {KEY}"})
            assert sent.status_code == 202, sent.text
            assert "Code de retrait" in str(mail["content"])

            assert await sandboxes.pickup_code("lea@example.com", "web-2-S1") == "204615"
            assert await sandboxes.pickup_code("lea@example.com", "web-2-S11") is None
