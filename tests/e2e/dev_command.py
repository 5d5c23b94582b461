"""`omniroute dev` run as a user runs it: a child process on free ports with a temporary data dir, its
console read line by line on a thread (so that every wait honours its timeout), its services' pids
read from their pid files, and a channel's view of it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from omniroute.devstack.ports import free_port

SERVICES = ("temporal", "sandbox", "worker", "gateway")
START_S = 180.0  # two cores shared with other test runs: the stack may take a while to start
STOP_S = 15.0  # "within a few seconds" of Ctrl-C, generous for a loaded 2-core machine
SHIP_TO = {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL",
           "postal_code": "60601", "country": "US"}
Json = dict[str, Any]


def dev_environment(data_dir: Path, **ports: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIROUTE_")}
    env.update({
        "OMNIROUTE_DATA_DIR": str(data_dir), "OMNIROUTE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "OMNIROUTE_TEMPORAL_UI_PORT": str(ports["ui"]), "OMNIROUTE_GATEWAY_PORT": str(ports["gateway"]),
        "OMNIROUTE_SANDBOX_PORT": str(ports["sandbox"]),
    })
    return env


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


class DevCommand:
    """One `omniroute dev`. `start()` waits for "Ctrl-C stops everything"; `wait_for(text)` waits for a
    console line containing `text` after those already waited for; `close()` kills whatever is left."""

    def __init__(self, folder: Path, *, ignore_sigint: bool = False) -> None:
        self.ports = {"temporal": free_port(), "ui": free_port(), "gateway": free_port(), "sandbox": free_port()}
        self.data_dir = folder / "data"
        self.logs = self.data_dir / "logs"
        self.gateway_url = f"http://127.0.0.1:{self.ports['gateway']}"
        self.sandbox_url = f"http://127.0.0.1:{self.ports['sandbox']}"
        self.pids_seen: set[int] = set()
        self._lines: list[str] = []
        self._read = 0
        self._changed = threading.Condition()
        self._pumping = True
        # A shell starts a background job with SIGINT ignored; the child inherits that.
        ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omniroute", "dev"], env=dev_environment(self.data_dir, **self.ports),
            cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=ignore,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def start(self) -> str:
        output = self.wait_for("Ctrl-C stops everything", timeout=START_S)
        for name in SERVICES:
            self.pid(name)
        return output

    def pid(self, name: str) -> int:
        """The pid of the service's current run (its pid file is rewritten at each start)."""
        pid = int((self.logs / f"{name}.pid").read_text())
        self.pids_seen.add(pid)
        return pid

    def crash(self, name: str) -> int:
        """SIGKILL the service itself (not its guard), as the kernel's OOM killer or a segfault would."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_for(self, text: str, timeout: float = START_S) -> str:
        """The console from the last line waited for up to the first line containing `text`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(self._read, len(self._lines)):
                    if text in self._lines[index]:
                        seen = "".join(self._lines[self._read:index + 1])
                        self._read = index + 1
                        return seen
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._pumping):
                    raise AssertionError(f"`omniroute dev` did not print {text!r}:\n{self.output()}")
                self._changed.wait(min(left, 0.5))

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = STOP_S) -> tuple[int, str]:
        """Send `sig`, wait up to `timeout` for the exit; its status and the console since the last wait."""
        self.process.send_signal(sig)
        return self.wait_for_exit(timeout)

    def wait_for_exit(self, timeout: float) -> tuple[int, str]:
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`omniroute dev` still ran {timeout:.0f}s later:\n{self.output()}") from None
        with self._changed:
            self._changed.wait_for(lambda: not self._pumping, timeout=5)
            rest = "".join(self._lines[self._read:])
            self._read = len(self._lines)
        return status, rest

    def output(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def left_behind(self) -> list[int]:
        for name in SERVICES:
            if (self.logs / f"{name}.pid").exists():
                self.pid(name)
        return sorted(pid for pid in self.pids_seen if alive(pid))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._pumping = False
            self._changed.notify_all()


class Channel:
    """What a channel, a warehouse and the carrier sandbox's own pages show of the stack."""

    def __init__(self, dev: DevCommand) -> None:
        self.http = httpx.Client(base_url=dev.gateway_url, timeout=30)
        self.sandbox_url = dev.sandbox_url

    def close(self) -> None:
        self.http.close()

    def stock(self, node_id: str, postal_code: str, sku: str, on_hand: int) -> None:
        node = {"node_id": node_id, "name": f"Node {node_id}", "kind": "dc", "postal_code": postal_code,
                "country": "US"}
        assert self.http.put(f"/v1/nodes/{node_id}", json=node).status_code == 200
        response = self.http.put(f"/v1/inventory/{node_id}/{sku}", json={"on_hand": on_hand})
        assert response.status_code == 200, response.text

    def place(self, lines: list[tuple[str, int, int]]) -> str:
        """POST an order of (sku, quantity, unit_price) lines shipped to Chicago; its order id."""
        channel_order_id = uuid.uuid4().hex[:12]
        body = {
            "channel": "web", "channel_order_id": channel_order_id, "currency": "USD",
            "customer": {"email": f"buyer-{channel_order_id}@example.com", "name": "Ada Buyer"},
            "ship_to": SHIP_TO, "service_level": "standard",
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": price} for sku, quantity, price in lines],
        }
        # Posted again while the gateway or Temporal comes back: the same channel order id makes it one order.
        deadline = time.monotonic() + START_S
        while True:
            try:
                response = self.http.post("/v1/orders", json=body)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code != 503:
                break
            assert time.monotonic() < deadline, f"the gateway took no order in {START_S:.0f}s"
            time.sleep(0.5)
        assert response.status_code in (200, 202), response.text
        return str(response.json()["order_id"])

    def orders(self, order_ids: list[str]) -> dict[str, Json] | None:
        """Each order's view, or None while the gateway cannot answer (503, or restarting)."""
        views = {}
        for order_id in order_ids:
            try:
                response = self.http.get(f"/v1/orders/{order_id}")
            except httpx.TransportError:
                return None
            if response.status_code == 503:
                return None
            assert response.status_code == 200, response.text
            views[order_id] = response.json()
        return views

    def wait_for_orders(self, order_ids: list[str], state: str, timeout: float = 180.0) -> dict[str, Json]:
        """Until every shipment of every order is in `state` ("released" means its label is bought),
        or for "completed", every order is."""
        deadline = time.monotonic() + timeout
        while True:
            views = self.orders(order_ids)
            if views is not None and all(_reached(view, state) for view in views.values()):
                return views
            if time.monotonic() > deadline:
                raise AssertionError(f"orders not all {state} after {timeout:.0f}s: {views}")
            time.sleep(0.3)

    def event(self, shipment_id: str, kind: str) -> None:
        response = self.http.post(f"/v1/shipments/{shipment_id}/events", json={"type": kind})
        assert response.status_code == 202, f"{kind} for {shipment_id}: {response.text}"

    def healthy(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def sandbox(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.sandbox_url}/easypost/v2/_sandbox/{path}", timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def labels(self, reference: str | None = None) -> list[Json]:
        """Labels bought at the carrier sandbox, for one shipment or all."""
        return list(self.sandbox("GET", "labels", params={} if reference is None else {"reference": reference}))


def _reached(order: Json, state: str) -> bool:
    if state == "completed":
        return bool(order["status"] == "completed")
    shipments = order["shipments"]
    labelled = state != "released" or all(s["tracking_number"] for s in shipments)
    return bool(shipments) and labelled and all(s["state"] == state for s in shipments)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = START_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
