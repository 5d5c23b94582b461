"""The gateway's codec server for the Temporal UI and CLI: Temporal's codec protocol (payloads in protobuf
JSON, base64 metadata and data) over /codec/encode and /codec/decode, for operator and admin keys only, with
CORS for the UI's origin only."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from models.keys import KeyCreate, Role
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.gateway import ADMIN_TOKEN, bearer, http_to

UI = "http://127.0.0.1:8233"
Json = dict[str, Any]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def json_payload(value: object) -> Json:
    """A payload as the UI sends it: the pydantic converter's json/plain, in protobuf JSON."""
    return {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(json.dumps(value).encode())}


def keys(**by_id: bytes) -> str:
    return json.dumps({key_id: b64(key) for key_id, key in by_id.items()})


def gateway(settings: Settings) -> httpx.AsyncClient:
    """The gateway for `settings`, called with the tests' bootstrap admin key (the codec routes need
    neither the store nor Temporal for it)."""
    return http_to(create_app(settings.model_copy(update={"bootstrap_admin_key": SecretStr(ADMIN_TOKEN)})))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with gateway(Settings.model_validate({"environment": "test"})) as client:
        yield client


@pytest.mark.parametrize("route", ["/codec/decode", "/codec/encode"])
async def test_operators_and_admins_may_use_the_codec_and_channel_and_node_keys_may_not(
    sqlite_store: Store, route: str,
) -> None:
    scopes: dict[Role, Json] = {Role.CHANNEL: {"channels": ["web"]}, Role.NODE: {"nodes": ["dc-1"]}}
    tokens = {role: sqlite_store.create_key(KeyCreate(name=f"codec {role.value}", role=role,
                                                      **scopes.get(role, {}))).token for role in Role}
    app = create_app(Settings.model_validate({"environment": "test"}), store=sqlite_store)
    body = {"payloads": [json_payload({"email": "ada@example.com"})]}

    async with http_to(app, token=None) as http:
        answers = {role: await http.post(route, json=body, headers=bearer(token)) for role, token in tokens.items()}
        anonymous = await http.post(route, json=body)

    assert {role: answer.status_code for role, answer in answers.items()} == {
        Role.ADMIN: 200, Role.OPERATOR: 200, Role.CHANNEL: 403, Role.NODE: 403}
    assert "ada@example.com" not in answers[Role.CHANNEL].text
    assert anonymous.status_code == 401


async def test_a_payload_encoded_by_the_endpoint_is_ciphertext_that_decode_gives_back(http: httpx.AsyncClient) -> None:
    original = json_payload({"email": "ada@example.com", "name": "Ada Lovelace"})

    encoded = await http.post("/codec/encode", json={"payloads": [original]})
    assert encoded.status_code == 200, encoded.text
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"omniroute-dev-insecure"
    assert b"ada@example.com" not in base64.b64decode(sealed["data"])

    decoded = await http.post("/codec/decode", json={"payloads": [sealed]}, headers={"X-Namespace": "default"})
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == {"payloads": [original]}


async def test_decode_passes_unencrypted_payloads_through(http: httpx.AsyncClient) -> None:
    plain = [json_payload("hello"), {"metadata": {"encoding": b64(b"binary/null")}}]

    decoded = await http.post("/codec/decode", json={"payloads": plain})

    assert decoded.json() == {"payloads": plain}


async def test_a_payload_under_a_retired_key_is_refused_naming_the_key_id() -> None:
    old, new = os.urandom(32), os.urandom(32)
    async with gateway(Settings.model_validate({"environment": "test", "codec_keys": keys(old=old)})) as before:
        [sealed] = (await before.post("/codec/encode", json={"payloads": [json_payload(1)]})).json()["payloads"]
    rotated = {"environment": "test", "codec_keys": keys(old=old, new=new), "codec_active_key": "new"}
    retired = {"environment": "test", "codec_keys": keys(new=new)}

    async with gateway(Settings.model_validate(rotated)) as after_rotation:
        assert (await after_rotation.post("/codec/decode", json={"payloads": [sealed]})).json()["payloads"] == [
            json_payload(1)]
    async with gateway(Settings.model_validate(retired)) as after_retirement:
        refused = await after_retirement.post("/codec/decode", json={"payloads": [json_payload(0), sealed]})

    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "payloads", 1]
    assert "codec key 'old', which is not configured" in error["msg"]


async def test_a_payload_that_is_not_base64_is_a_422_naming_it(http: httpx.AsyncClient) -> None:
    refused = await http.post("/codec/decode", json={"payloads": [json_payload(1), {"data": "*not base64*"}]})

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "payloads", 1]


async def test_fields_newer_servers_add_to_a_payload_are_ignored(http: httpx.AsyncClient) -> None:
    payload = {**json_payload(1), "externalPayloads": []}

    assert (await http.post("/codec/decode", json={"payloads": [payload]})).json() == {"payloads": [json_payload(1)]}


@pytest.mark.parametrize("origin", [UI, "http://localhost:8233"])
async def test_the_ui_origin_may_call_the_codec_from_the_browser(http: httpx.AsyncClient, origin: str) -> None:
    preflight = await http.options("/codec/decode", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization"})
    call = await http.post("/codec/decode", json={"payloads": []}, headers={"Origin": origin})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in preflight.headers["access-control-allow-headers"].lower()
    assert call.headers["access-control-allow-origin"] == origin


async def test_other_origins_and_other_routes_get_no_cors(http: httpx.AsyncClient) -> None:
    stranger = await http.options("/codec/decode", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    other_route = await http.get("/openapi.json", headers={"Origin": UI})

    assert "access-control-allow-origin" not in stranger.headers
    assert "access-control-allow-origin" not in other_route.headers


async def test_the_ui_origins_follow_the_settings() -> None:
    configured = Settings.model_validate({"environment": "test", "codec_ui_origins": ["https://temporal.example"]})
    async with gateway(configured) as http:
        allowed = await http.post("/codec/decode", json={"payloads": []},
                                  headers={"Origin": "https://temporal.example"})
        local = await http.post("/codec/decode", json={"payloads": []}, headers={"Origin": UI})

    assert allowed.headers["access-control-allow-origin"] == "https://temporal.example"
    assert "access-control-allow-origin" not in local.headers


async def test_a_browser_signed_in_with_an_operator_key_decodes_by_its_cookie_until_the_key_is_revoked(
    sqlite_store: Store,
) -> None:
    operator = sqlite_store.create_key(KeyCreate(name="ui operator", role=Role.OPERATOR))
    channel = sqlite_store.create_key(KeyCreate(name="shop", role=Role.CHANNEL, channels=["web"]))
    app = create_app(Settings.model_validate({"environment": "test"}), store=sqlite_store)
    body = {"payloads": [json_payload({"email": "ada@example.com"})]}

    async with http_to(app, token=None) as browser:
        page = await browser.get("/codec/login")
        refused = await browser.post("/codec/login", content=f"token={channel.token}",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        assert "set-cookie" not in refused.headers
        signed_in = await browser.post("/codec/login", content=f"token={operator.token}",
                                       headers={"content-type": "application/x-www-form-urlencoded"})
        decoded = await browser.post("/codec/decode", json=body, headers={"origin": UI})
        sqlite_store.revoke_key(operator.key_id)
        after_revocation = await browser.post("/codec/decode", json=body)
        signed_out = await browser.post("/codec/logout")

    assert page.status_code == 200 and "<form" in page.text
    assert refused.status_code == 403 and "role is channel" in refused.text
    assert signed_in.status_code == 200 and operator.key_id in signed_in.text
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "path=/codec" in cookie and "samesite=strict" in cookie
    assert decoded.status_code == 200
    assert json.loads(base64.b64decode(decoded.json()["payloads"][0]["data"])) == {"email": "ada@example.com"}
    assert decoded.headers["access-control-allow-credentials"] == "true"
    assert after_revocation.status_code == 401
    assert "max-age=0" in signed_out.headers["set-cookie"].lower()


async def test_the_sign_in_cookie_opens_the_codec_only(sqlite_store: Store) -> None:
    operator = sqlite_store.create_key(KeyCreate(name="ui operator", role=Role.OPERATOR))
    app = create_app(Settings.model_validate({"environment": "test"}), store=sqlite_store)

    async with http_to(app, token=None) as browser:
        browser.cookies.set("omniroute_codec", operator.token)
        other_route = await browser.get("/v1/nodes")

    assert other_route.status_code == 401
