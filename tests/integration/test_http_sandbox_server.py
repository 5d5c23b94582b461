"""SandboxServer: a real uvicorn server on a free port, started and stopped in-process."""

from __future__ import annotations

import httpx
import pytest

from integrations.sandbox import SandboxServer, create_sandbox_app
from tests.fixtures.sandbox import RunningSandbox


def test_a_server_on_port_zero_gets_a_free_port_and_stops_listening_when_stopped() -> None:
    app = create_sandbox_app(easypost_key="EZTK-a", sendgrid_key="SG.a")
    with SandboxServer(app, port=0) as server:
        assert server.port > 0
        assert server.easypost_url == f"http://127.0.0.1:{server.port}/easypost/v2"
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=1)


def test_two_servers_run_side_by_side_with_separate_state() -> None:
    first = SandboxServer(create_sandbox_app(easypost_key="k", sendgrid_key="s")).start()
    second = SandboxServer(create_sandbox_app(easypost_key="k", sendgrid_key="s")).start()
    try:
        assert first.port != second.port
        httpx.post(f"{first.sendgrid_url}/v3/mail/send", headers={"Authorization": "Bearer s"}, json={
            "personalizations": [{"to": [{"email": "a@example.com"}]}], "from": {"email": "o@example.com"},
            "subject": "s", "content": [{"type": "text/plain", "value": "t"}]}).raise_for_status()
        assert len(httpx.get(f"{first.sendgrid_url}/_sandbox/messages").json()) == 1
        assert httpx.get(f"{second.sendgrid_url}/_sandbox/messages").json() == []
    finally:
        first.stop()
        second.stop()


def test_faults_spare_the_inspection_endpoints(sandbox: RunningSandbox) -> None:
    with sandbox.faults("easypost", status=503, count=3):
        assert sandbox.easypost_stats()["shipments_created"] >= 0
        assert sandbox.faults_remaining("easypost") == 3
        failed = httpx.get(f"{sandbox.easypost_url}/shipments/shp_x",
                           headers={"Authorization": f"Bearer {sandbox.easypost_key}"})
        assert failed.status_code == 503 and "error" in failed.json()
    assert sandbox.faults_remaining("easypost") == 0
