"""The Twilio sandbox over HTTP, judged by Twilio's official SDK (`twilio.rest.Client` pointed at it through
its own http_client, and `RequestValidator` checking the status callbacks' signatures), and our client
against it: wire format, Twilio's error codes mapped into our error tree naming the field, faults."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from integrations.http import NO_RETRY, PermanentProviderError, TransientProviderError
from integrations.notify.twilio import TwilioClient
from integrations.notify.twilio_sandbox import (
    DEV_TWILIO_ACCOUNT_SID,
    DEV_TWILIO_AUTH_TOKEN,
    create_twilio_sandbox,
    read_form,
)
from integrations.sandbox import SandboxServer
from integrations.sandbox_store import SandboxStore
from tests.fixtures.sandbox import RunningSandbox

SENDER = "+15005550006"


def a_number() -> str:
    return "+1415" + str(uuid.uuid4().int)[:7]


@dataclass
class CallbackInbox:
    """Status callbacks received by a test endpoint: (url, form, headers)."""

    posts: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, sid: str, status: str, timeout: float = 10.0) -> tuple[str, dict[str, str], dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for post in self.posts:
                    if post[1].get("MessageSid") == sid and post[1].get("MessageStatus") == status:
                        return post
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {status} callback for {sid}; got {self.posts}")
                self.arrived.wait(left)


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[CallbackInbox, str]]:
    received = CallbackInbox()
    app = FastAPI()

    @app.post("/sms/status")
    async def status(request: Request) -> dict[str, str]:
        form = read_form(await request.body())
        with received.arrived:
            received.posts.append((str(request.url), form, dict(request.headers)))
            received.arrived.notify_all()
        return {}

    with SandboxServer(app, port=0) as server:
        yield received, f"{server.url}/sms/status?shop=omniroute"


class SandboxHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending what it would send to api.twilio.com to the sandbox instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        return super().request(method, url.replace("https://api.twilio.com", self._base), *args, **kwargs)


@pytest.fixture
def sdk(sandbox: RunningSandbox) -> Client:
    return Client(DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN,
                  http_client=SandboxHttpClient(f"{sandbox.url}/twilio"))


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[TwilioClient]:
    with TwilioClient(f"{sandbox.url}/twilio", DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER,
                      retry=NO_RETRY) as twilio:
        yield twilio


@pytest.mark.conformance
def test_the_sdk_creates_fetches_and_lists_messages(sdk: Client) -> None:
    to = a_number()

    created = sdk.messages.create(to=to, from_=SENDER, body="Your order O-1 has shipped")
    fetched = sdk.messages(created.sid).fetch()
    listed = sdk.messages.list(to=to)

    assert created.sid.startswith("SM") and created.status == "queued"
    assert created.direction == "outbound-api" and created.num_segments == "1"
    assert isinstance(created.date_created, datetime) and created.date_created.tzinfo is not None
    assert (fetched.sid, fetched.to, fetched.from_, fetched.body) == (created.sid, to, SENDER,
                                                                       "Your order O-1 has shipped")
    assert [m.sid for m in listed] == [created.sid]


@pytest.mark.conformance
def test_the_sdk_pages_through_a_long_list(sdk: Client) -> None:
    to = a_number()
    sids = [sdk.messages.create(to=to, from_=SENDER, body=f"message {n}").sid for n in range(5)]

    listed = sdk.messages.list(to=to, page_size=2)

    assert [m.sid for m in listed] == list(reversed(sids)), "newest first, across three pages"


@pytest.mark.conformance
def test_the_sdk_raises_twilio_errors_with_their_codes(sdk: Client, sandbox: RunningSandbox) -> None:
    with pytest.raises(TwilioRestException) as invalid:
        sdk.messages.create(to="0800 NOT A NUMBER", from_=SENDER, body="hi")
    with pytest.raises(TwilioRestException) as unknown:
        sdk.messages("SM" + "0" * 32).fetch()
    wrong = Client(DEV_TWILIO_ACCOUNT_SID, "not-the-token", http_client=SandboxHttpClient(f"{sandbox.url}/twilio"))
    with pytest.raises(TwilioRestException) as denied:
        wrong.messages.create(to=a_number(), from_=SENDER, body="hi")

    assert (invalid.value.status, invalid.value.code) == (400, 21211)
    assert (unknown.value.status, unknown.value.code) == (404, 20404)
    assert (denied.value.status, denied.value.code) == (401, 20003)


@pytest.mark.conformance
def test_status_callbacks_carry_signatures_the_sdk_validator_accepts(
        sdk: Client, inbox: tuple[CallbackInbox, str]) -> None:
    received, url = inbox
    created = sdk.messages.create(to=a_number(), from_=SENDER, body="Ready for pickup", status_callback=url)

    for status in ("sent", "delivered"):
        posted_url, form, headers = received.wait_for(created.sid, status)
        validator = RequestValidator(DEV_TWILIO_AUTH_TOKEN)
        assert validator.validate(posted_url, form, headers["x-twilio-signature"])
        assert not RequestValidator("another-token").validate(posted_url, form, headers["x-twilio-signature"])
        assert not validator.validate(posted_url, {**form, "MessageStatus": "failed"}, headers["x-twilio-signature"])
    assert sdk.messages(created.sid).fetch().status == "delivered"


def test_our_client_sends_fetches_and_finds_a_message(client: TwilioClient) -> None:
    to, before = a_number(), datetime.now(UTC) - timedelta(seconds=1)

    sent = client.send_sms(to=to, body="Your order O-2 was delivered")

    assert sent.sid.startswith("SM") and sent.status == "queued" and sent.sender == SENDER
    assert client.fetch(sent.sid).body == "Your order O-2 was delivered"
    assert client.find_sent(to=to, body="Your order O-2 was delivered", since=before) == client.fetch(sent.sid)
    assert client.find_sent(to=to, body="another text", since=before) is None
    assert client.find_sent(to=to, body="Your order O-2 was delivered",
                            since=datetime.now(UTC) + timedelta(minutes=5)) is None


def test_our_client_names_the_field_twilio_refuses(client: TwilioClient) -> None:
    with pytest.raises(PermanentProviderError) as refused:
        client.send_sms(to="+0123", body="hi")

    assert (refused.value.status, refused.value.code, refused.value.field) == (400, "21211", "To")


def test_a_messaging_service_sends_without_a_from_number(sandbox: RunningSandbox) -> None:
    service = "MG" + "ab" * 16
    with TwilioClient(f"{sandbox.url}/twilio", DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, service) as twilio:
        sent = twilio.send_sms(to=a_number(), body="hello")
    message = httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": sent.to}).json()[0]
    assert (message["messaging_service_sid"], message["from"]) == (service, None)


def test_a_sandbox_fault_is_transient_and_sends_nothing(client: TwilioClient, sandbox: RunningSandbox) -> None:
    to = a_number()
    httpx.post(f"{sandbox.url}/twilio/_sandbox/faults", json={"status": 503, "count": 1}).raise_for_status()

    with pytest.raises(TransientProviderError) as failed:
        client.send_sms(to=to, body="hi")

    assert failed.value.status == 503 and failed.value.code == "20500"
    assert httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": to}).json() == []
    assert client.send_sms(to=to, body="hi").status == "queued", "the fault was for one request"


def test_messages_outlive_a_restart_on_the_same_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandboxes.db"
    with SandboxStore(state) as store, SandboxServer(create_twilio_sandbox(store=store)) as before:
        with TwilioClient(before.url, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER) as twilio:
            sent = twilio.send_sms(to=a_number(), body="kept")

    with SandboxStore(state) as store, SandboxServer(create_twilio_sandbox(store=store)) as after:
        with TwilioClient(after.url, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER) as twilio:
            assert twilio.fetch(sent.sid).body == "kept"
