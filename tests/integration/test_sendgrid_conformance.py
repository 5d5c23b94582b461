"""The SendGrid sandbox judged by SendGrid's official Python SDK: its Mail helpers build the bodies, its
HTTP client sends them and raises its own errors, and its EventWebhook verifier checks the signed events."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from python_http_client.exceptions import BadRequestsError, MethodNotAllowedError, NotFoundError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import Mail, MailSettings, Personalization, SandBoxMode, To

from integrations.notify.sandbox import create_sendgrid_sandbox
from integrations.sandbox import SandboxServer
from models.sendgrid_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, event_webhook_valid

pytestmark = pytest.mark.conformance

FROM = "orders@omniroute.example"
TEMPLATE = "d-" + "5b1e" * 8


@dataclass
class Inbox:
    """Event Webhook posts received by a test endpoint: (raw body, headers)."""

    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def events_for(self, email: str, kinds: set[str], timeout: float = 10.0) -> list[tuple[dict[str, Any], bytes,
                                                                                              dict[str, str]]]:
        """Every event for `email` with the post that carried it, once each kind in `kinds` has come."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = [(event, body, headers) for body, headers in self.posts
                         for event in json.loads(body) if event["email"] == email]
                if kinds <= {event["event"] for event, _, _ in found}:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {sorted(kinds)} events for {email}; got {found}")
                self.arrived.wait(left)


@dataclass(frozen=True)
class SendGrid:
    url: str
    client: SendGridAPIClient
    inbox: Inbox
    public_key: str

    def messages(self, to: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_sandbox/messages", params={"to": to}).json())

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/_sandbox/stats").json())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SendGrid]:
    inbox = Inbox()
    receiver = FastAPI()

    @receiver.post("/hooks/sendgrid")
    async def receive(request: Request) -> dict[str, str]:
        body = await request.body()
        with inbox.arrived:
            inbox.posts.append((body, dict(request.headers)))
            inbox.arrived.notify_all()
        return {}

    key = f"SG.{uuid.uuid4().hex}"
    with SandboxServer(receiver) as hooks, SandboxServer(create_sendgrid_sandbox(key)) as server:
        client = SendGridAPIClient(key, host=server.url)
        client.client.user.webhooks.event.settings.patch(request_body={
            "enabled": True, "url": f"{hooks.url}/hooks/sendgrid",
            "processed": True, "delivered": True, "bounce": True, "dropped": True})
        signed = client.client.user.webhooks.event.settings.signed.patch(request_body={"enabled": True})
        yield SendGrid(server.url, client, inbox, json.loads(signed.body)["public_key"])


def _recipient() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}@example.com"


def _template_mail(*recipients: tuple[str, dict[str, Any]]) -> Mail:
    message = Mail(from_email=FROM)
    message.template_id = TEMPLATE
    for email, data in recipients:
        personalization = Personalization()
        personalization.add_to(To(email))
        personalization.dynamic_template_data = data
        message.add_personalization(personalization)
    return message


def test_a_template_mail_without_a_subject_is_accepted_with_its_data(sandbox: SendGrid) -> None:
    ada, bob = _recipient(), _recipient()
    response = sandbox.client.send(_template_mail((ada, {"order": "web-1"}), (bob, {"order": "web-2"})))
    assert response.status_code == 202
    [received] = sandbox.messages(to=ada)
    assert received["message_id"] == response.headers["X-Message-Id"]
    assert received["template_id"] == TEMPLATE and received["subject"] is None
    assert received["dynamic_template_data"] == {ada: {"order": "web-1"}, bob: {"order": "web-2"}}


def test_a_template_id_that_is_not_a_template_is_refused_naming_the_field(sandbox: SendGrid) -> None:
    message = _template_mail((_recipient(), {"order": "web-3"}))
    message.template_id = "order-shipped"
    with pytest.raises(BadRequestsError) as caught:
        sandbox.client.send(message)
    assert [error["field"] for error in caught.value.to_dict["errors"]] == ["template_id"]


def test_a_plain_mail_without_a_subject_is_still_refused(sandbox: SendGrid) -> None:
    message = Mail(from_email=FROM, to_emails=_recipient(), plain_text_content="Your order has shipped")
    with pytest.raises(BadRequestsError) as caught:
        sandbox.client.send(message)
    assert [error["field"] for error in caught.value.to_dict["errors"]] == ["subject"]


def test_sandbox_mode_validates_answers_200_and_delivers_nothing(sandbox: SendGrid) -> None:
    to = _recipient()
    before = sandbox.stats()
    message = Mail(from_email=FROM, to_emails=to, subject="Shipped", plain_text_content="On its way")
    settings = MailSettings()
    settings.sandbox_mode = SandBoxMode(True)
    message.mail_settings = settings

    response = sandbox.client.send(message)

    assert response.status_code == 200
    assert sandbox.messages(to=to) == []
    after = sandbox.stats()
    assert after["sandbox_mode"] == before["sandbox_mode"] + 1
    assert after["accepted"] == before["accepted"]


def test_sandbox_mode_still_refuses_an_invalid_mail(sandbox: SendGrid) -> None:
    message = Mail(from_email=FROM, to_emails=_recipient(), subject="Shipped")  # no content, no template
    message.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    with pytest.raises(BadRequestsError) as caught:
        sandbox.client.send(message)
    assert [error["field"] for error in caught.value.to_dict["errors"]] == ["content"]


def test_an_unknown_route_raises_not_found_in_sendgrids_envelope(sandbox: SendGrid) -> None:
    with pytest.raises(NotFoundError) as caught:
        sandbox.client.client.marketing.lists.get()
    assert caught.value.to_dict == {"errors": [{"message": "resource not found", "field": None, "help": None}]}


def test_a_method_a_route_does_not_take_raises_method_not_allowed(sandbox: SendGrid) -> None:
    with pytest.raises(MethodNotAllowedError) as caught:
        sandbox.client.client.mail.send.get()
    assert caught.value.to_dict["errors"][0]["message"] == "method not allowed"


def test_delivered_and_bounced_recipients_are_posted_signed_as_sendgrid_signs(sandbox: SendGrid) -> None:
    delivered, bounced = _recipient(), _recipient()
    httpx.post(f"{sandbox.url}/_sandbox/bounces", json={"emails": [bounced]}).raise_for_status()
    message = Mail(from_email=FROM, to_emails=[delivered, bounced], subject="Shipped", plain_text_content="Soon")
    message_id = sandbox.client.send(message).headers["X-Message-Id"]

    verifier = EventWebhook()
    public_key = verifier.convert_public_key_to_ecdsa(sandbox.public_key)
    for email, outcome in ((delivered, "delivered"), (bounced, "bounce")):
        found = sandbox.inbox.events_for(email, {"processed", outcome})
        assert {event["event"] for event, _, _ in found} == {"processed", outcome}
        for event, body, headers in found:
            assert event["sg_message_id"].startswith(message_id + ".")
            signature, timestamp = headers[SIGNATURE_HEADER.lower()], headers[TIMESTAMP_HEADER.lower()]
            assert verifier.verify_signature(body.decode(), signature, timestamp, public_key)
            assert event_webhook_valid(sandbox.public_key, body, signature, timestamp)
            assert not verifier.verify_signature(body.decode() + " ", signature, timestamp, public_key)


def test_mail_to_an_address_that_bounced_is_dropped(sandbox: SendGrid) -> None:
    bounced = _recipient()
    httpx.post(f"{sandbox.url}/_sandbox/bounces", json={"emails": [bounced]}).raise_for_status()
    sandbox.client.send(Mail(from_email=FROM, to_emails=bounced, subject="First", plain_text_content="one"))
    sandbox.inbox.events_for(bounced, {"bounce"})

    second = sandbox.client.send(Mail(from_email=FROM, to_emails=bounced, subject="Again", plain_text_content="two"))

    assert second.status_code == 202  # SendGrid takes the mail and drops it for the suppressed address
    found = sandbox.inbox.events_for(bounced, {"dropped"})
    [dropped] = [event for event, _, _ in found if event["event"] == "dropped"]
    assert dropped["sg_message_id"].startswith(second.headers["X-Message-Id"] + ".")
    assert dropped["reason"] == "Bounced Address"
