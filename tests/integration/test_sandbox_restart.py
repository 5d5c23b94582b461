"""The provider sandboxes on a state file, over real HTTP: what each one held before a restart is there
after it, when the new server opens the same file. Without a file they start empty, as before."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from integrations.carriers.easypost import EasyPostClient, Parcel
from integrations.channels.shopify import ShopifyClient
from integrations.http import PermanentProviderError, RetryPolicy
from integrations.notify.sendgrid import SendGridClient
from integrations.sandbox import SandboxServer, create_sandbox_app
from integrations.sandbox_store import SandboxStore
from integrations.threepl.shipbob import ShipBobClient
from models.address import Address
from omniroute.config.settings import DEV_EASYPOST_KEY, DEV_SENDGRID_KEY, DEV_SHIPBOB_KEY, DEV_SHOPIFY_TOKEN
from omniroute.devstack.ports import free_port, http_ok
from tests.fixtures.sandbox import RunningSandbox

CUSTOMER = Address(name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA",
                   postal_code="90277", phone="3105550100")
CHICAGO_DC = Address(name="Omniroute Chicago DC", line1="2200 S Halsted St", city="Chicago", region="IL",
                     postal_code="60608")
BOX = Parcel(length=10, width=8, height=4, weight=20)
NO_RETRIES = RetryPolicy(max_retries=0)


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "sandboxes.db"


@contextmanager
def sandbox_on(state_file: Path | None) -> Iterator[RunningSandbox]:
    """A sandbox server of its own keeping its state in `state_file` (memory only when None)."""
    with SandboxStore(state_file) as store:
        app = create_sandbox_app(easypost_key=DEV_EASYPOST_KEY, sendgrid_key=DEV_SENDGRID_KEY,
                                 shopify_token=DEV_SHOPIFY_TOKEN, shipbob_key=DEV_SHIPBOB_KEY, store=store)
        with SandboxServer(app, port=0) as server:
            yield RunningSandbox(url=server.url, easypost_key=DEV_EASYPOST_KEY, sendgrid_key=DEV_SENDGRID_KEY)


def easypost(sandbox: RunningSandbox) -> EasyPostClient:
    return EasyPostClient(sandbox.easypost_url, sandbox.easypost_key, retry=NO_RETRIES)


def reference() -> str:
    return f"restart-{uuid.uuid4().hex[:12]}"


def test_a_label_bought_before_a_restart_is_found_refunded_and_not_sold_again_after_it(state_file: Path) -> None:
    ref = reference()
    with sandbox_on(state_file) as before, easypost(before) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX, reference=ref)
        bought = client.buy(shipment.id, shipment.rates[0].id)
        stats_before = before.easypost_stats()

    with sandbox_on(state_file) as after, easypost(after) as client:
        found = client.get_shipment(shipment.id)
        assert (found.tracking_code, found.selected_rate, found.label_url) == (
            bought.tracking_code, bought.selected_rate, bought.label_url)
        again = client.buy(shipment.id, shipment.rates[1].id)  # SHIPMENT.POSTAGE.EXISTS: the same label
        refunded = client.refund(shipment.id)
        [label] = after.labels(reference=ref)
        stats_after = after.easypost_stats()

    assert again.tracking_code == bought.tracking_code
    assert refunded.refund_status == "submitted"
    assert label["tracking_code"] == bought.tracking_code and label["refunded"] is True
    assert stats_after == {**stats_before, "refunds": stats_before["refunds"] + 1}


def test_a_shipment_rated_before_a_restart_is_bought_with_its_rate_after_it(state_file: Path) -> None:
    ref = reference()
    with sandbox_on(state_file) as before, easypost(before) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX, reference=ref)
    cheapest = min(shipment.rates, key=lambda rate: rate.rate_minor)

    with sandbox_on(state_file) as after, easypost(after) as client:
        bought = client.buy(shipment.id, cheapest.id)
        assert len(after.labels(reference=ref)) == 1

    assert bought.selected_rate == cheapest


def test_a_refund_asked_before_a_restart_is_counted_once_after_it(state_file: Path) -> None:
    with sandbox_on(state_file) as before, easypost(before) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                          reference=reference())
        client.buy(shipment.id, shipment.rates[0].id)
        client.refund(shipment.id)
        refunds = before.easypost_stats()["refunds"]

    with sandbox_on(state_file) as after, easypost(after) as client:
        # The refund submitted before the restart is settled after it (the sandbox's default carrier refunds).
        assert client.get_shipment(shipment.id).refund_status == "refunded"
        client.refund(shipment.id)
        assert after.easypost_stats()["refunds"] == refunds


def test_tracking_codes_go_on_after_a_restart_instead_of_starting_again(state_file: Path) -> None:
    codes = []
    for _ in range(2):
        with sandbox_on(state_file) as sandbox, easypost(sandbox) as client:
            shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                              reference=reference())
            codes.append(client.buy(shipment.id, shipment.rates[0].id).tracking_code)
    first, second = (int(code.removeprefix("EZ")) for code in codes if code)
    assert second == first + 1


def test_a_message_sent_before_a_restart_is_still_listed_after_it(state_file: Path) -> None:
    to = f"customer-{uuid.uuid4().hex[:10]}@example.com"
    with sandbox_on(state_file) as before:
        with SendGridClient(before.sendgrid_url, before.sendgrid_key, retry=NO_RETRIES) as sendgrid:
            message_id = sendgrid.send(to_email=to, to_name="Ada", from_email="orders@omniroute.example",
                                       subject="Your order has shipped", text="Tracking: EZ1")
    with sandbox_on(state_file) as after:
        [received] = after.messages(to=to)
    assert received["message_id"] == message_id and received["subject"] == "Your order has shipped"


def test_shopify_levels_set_before_a_restart_are_still_there_after_it(state_file: Path) -> None:
    location_id, item_id = 10_000_000 + secrets.randbelow(10**9), 10_000_000 + secrets.randbelow(10**9)
    with sandbox_on(state_file) as before:
        with ShopifyClient(before.shopify_url, before.shopify_token) as shopify:
            shopify.set_inventory_level(location_id, item_id, 7)
            shopify.set_inventory_level(location_id, item_id + 1, 3)
    with sandbox_on(state_file) as after:
        levels = after.shopify_levels(location_id)
        stats = after.shopify_stats()
    assert [(level["inventory_item_id"], level["available"]) for level in levels] == [(item_id, 7), (item_id + 1, 3)]
    assert (stats["calls"], stats["levels_set"]) == (2, 2)


def test_shipbob_inventory_seeded_before_a_restart_is_served_in_order_after_it(state_file: Path) -> None:
    items = [{"inventory_id": n, "sku": f"SB-{n:03d}", "total_on_hand_quantity": n * 10} for n in (3, 1, 2)]
    with sandbox_on(state_file) as before:
        before.shipbob_seed(items)
    with sandbox_on(state_file) as after:
        with ShipBobClient(after.shipbob_url, after.shipbob_key) as shipbob:
            served = [(level.sku, level.total_on_hand_quantity) for level in shipbob.inventory_levels(page_size=2)]
        after.shipbob_reset()
    with sandbox_on(state_file) as reset:
        emptied = reset.shipbob_stats()
    assert served == [("SB-003", 30), ("SB-001", 10), ("SB-002", 20)]
    assert emptied == {"requests_served": 0, "throttled": 0, "unauthorized": 0, "items": 0}


def test_faults_armed_before_a_restart_are_gone_after_it(state_file: Path) -> None:
    with sandbox_on(state_file) as before:
        httpx.post(f"{before.easypost_url}/_sandbox/faults", json={"status": 503, "count": 5}).raise_for_status()
    with sandbox_on(state_file) as after, easypost(after) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                          reference=reference())
        assert after.faults_remaining("easypost") == 0
    assert shipment.rates


def test_without_a_state_file_a_restarted_sandbox_has_forgotten_everything() -> None:
    with sandbox_on(None) as before, easypost(before) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                          reference=reference())
    with sandbox_on(None) as after, easypost(after) as client:
        with pytest.raises(PermanentProviderError) as caught:
            client.get_shipment(shipment.id)
        assert after.easypost_stats()["shipments_created"] == 0
    assert caught.value.status == 404


@contextmanager
def sandbox_command(data_dir: Path, port: int, stop: signal.Signals = signal.SIGTERM) -> Iterator[str]:
    """`omniroute sandbox` as a child process on `port`, ended by `stop` (SIGTERM: it must exit 0;
    SIGKILL: a crash) and killed if it lingers."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIROUTE_")}
    env.update({"OMNIROUTE_DATA_DIR": str(data_dir), "OMNIROUTE_SANDBOX_PORT": str(port)})
    log_path = data_dir.parent / f"sandbox-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "omniroute", "sandbox"], env=env, cwd=data_dir.parent,
                                 stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not http_ok(f"{url}/healthz"):
            assert child.poll() is None, f"the sandbox command exited: {log_path.read_text()}"
            assert time.monotonic() < deadline, "the sandbox command did not answer /healthz within 60s"
            time.sleep(0.1)
        yield url
        child.send_signal(stop)
        expected = 0 if stop is signal.SIGTERM else -stop
        assert child.wait(timeout=20) == expected, log_path.read_text()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_the_sandbox_command_keeps_a_bought_label_in_the_data_dir_across_a_restart(
    tmp_path: Path, stop: signal.Signals
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    ref = reference()
    with sandbox_command(data_dir, port, stop) as url:
        with EasyPostClient(f"{url}/easypost/v2", DEV_EASYPOST_KEY, retry=NO_RETRIES) as client:
            shipment = client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                              reference=ref)
            bought = client.buy(shipment.id, shipment.rates[0].id)
    assert (data_dir / "sandboxes.db").is_file()

    with sandbox_command(data_dir, port) as url:
        with EasyPostClient(f"{url}/easypost/v2", DEV_EASYPOST_KEY, retry=NO_RETRIES) as client:
            found = client.get_shipment(shipment.id)

    assert found.tracking_code == bought.tracking_code
