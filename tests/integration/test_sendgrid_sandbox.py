"""SendGridClient against the SendGrid sandbox over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from integrations.http import PermanentProviderError, RetryPolicy
from integrations.notify.sendgrid import SendGridClient
from tests.fixtures.sandbox import RunningSandbox

FROM = "orders@omniroute.example"


def _recipient() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def sendgrid(sandbox: RunningSandbox) -> Iterator[SendGridClient]:
    retry = RetryPolicy(max_retries=2, max_wait=2.0, default_wait=0.05)
    with SendGridClient(sandbox.sendgrid_url, sandbox.sendgrid_key, retry=retry) as client:
        yield client


def test_a_sent_email_returns_its_message_id_and_arrives(sendgrid: SendGridClient, sandbox: RunningSandbox) -> None:
    to = _recipient()
    message_id = sendgrid.send(to_email=to, to_name="Ada Lovelace", from_email=FROM,
                               subject="Your order has shipped", text="Tracking: EZ1000000001",
                               categories=["shipped"], custom_args={"order_id": "web-1001"})
    [received] = sandbox.messages(to=to)
    assert message_id and received["message_id"] == message_id
    assert received["subject"] == "Your order has shipped"
    assert received["text"] == "Tracking: EZ1000000001"
    assert received["categories"] == ["shipped"]
    assert received["custom_args"] == {"order_id": "web-1001"}
    assert received["to_name"] == "Ada Lovelace"


def test_an_invalid_recipient_is_refused_naming_the_field(sendgrid: SendGridClient, sandbox: RunningSandbox) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        sendgrid.send(to_email="not-an-address", to_name="Nobody", from_email=FROM, subject="s", text="t")
    assert caught.value.status == 400
    assert caught.value.field == "personalizations.0.to.0.email"
    assert sandbox.messages(to="not-an-address") == []


def test_an_empty_body_part_is_refused_naming_the_field(sendgrid: SendGridClient) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        sendgrid.send(to_email=_recipient(), to_name="A", from_email=FROM, subject="s", text="")
    assert caught.value.field == "content.0.value"


def test_a_body_missing_from_and_subject_names_every_field(sandbox: RunningSandbox) -> None:
    response = httpx.post(f"{sandbox.sendgrid_url}/v3/mail/send",
                          headers={"Authorization": f"Bearer {sandbox.sendgrid_key}"},
                          json={"personalizations": [{"to": [{"email": _recipient()}]}],
                                "content": [{"type": "text/plain", "value": "hi"}]})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["from", "subject"]


def test_a_wrong_api_key_is_a_permanent_401(sandbox: RunningSandbox) -> None:
    with SendGridClient(sandbox.sendgrid_url, "SG.wrong") as client:
        with pytest.raises(PermanentProviderError) as caught:
            client.send(to_email=_recipient(), to_name="A", from_email=FROM, subject="s", text="t")
    assert caught.value.status == 401


def test_a_throttled_send_is_retried_and_delivered_once(sendgrid: SendGridClient, sandbox: RunningSandbox) -> None:
    to = _recipient()
    with sandbox.faults("sendgrid", status=429, count=2, retry_after=0):
        message_id = sendgrid.send(to_email=to, to_name="A", from_email=FROM, subject="s", text="t")
    assert [m["message_id"] for m in sandbox.messages(to=to)] == [message_id]
