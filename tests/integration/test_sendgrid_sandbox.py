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


def _post(sandbox: RunningSandbox, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{sandbox.sendgrid_url}/v3/mail/send",
                      headers={"Authorization": f"Bearer {sandbox.sendgrid_key}"}, json=body)


def _template_body(**personalization: object) -> dict[str, object]:
    return {"personalizations": [{"to": [{"email": _recipient()}], **personalization}],
            "from": {"email": FROM}, "template_id": "d-" + "0a" * 16}


def test_dynamic_template_data_that_is_not_an_object_is_refused_naming_the_field(sandbox: RunningSandbox) -> None:
    response = _post(sandbox, _template_body(dynamic_template_data=["web-1001"]))
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["personalizations.0.dynamic_template_data"]


def test_substitutions_are_refused_with_a_dynamic_template(sandbox: RunningSandbox) -> None:
    response = _post(sandbox, _template_body(substitutions={"-name-": "Ada"}))
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["personalizations.0.substitutions"]


def test_a_sandbox_mode_flag_that_is_not_a_boolean_is_refused_naming_the_field(sandbox: RunningSandbox) -> None:
    to = _recipient()
    response = _post(sandbox, {**_template_body(), "personalizations": [{"to": [{"email": to}]}],
                               "mail_settings": {"sandbox_mode": {"enable": "true"}}})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["mail_settings.sandbox_mode.enable"]
    assert sandbox.messages(to=to) == []


def test_the_event_webhook_settings_need_the_api_key(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.sendgrid_url}/v3/user/webhooks/event/settings",
                         headers={"Authorization": "Bearer SG.wrong"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] is None


def test_event_webhook_settings_of_the_wrong_type_are_refused_naming_the_field(sandbox: RunningSandbox) -> None:
    response = httpx.patch(f"{sandbox.sendgrid_url}/v3/user/webhooks/event/settings/signed",
                           headers={"Authorization": f"Bearer {sandbox.sendgrid_key}"}, json={"enabled": "maybe"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["enabled"]
