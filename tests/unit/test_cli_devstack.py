"""DevStack's decisions that need no running service: what its children are told, which ports it
refuses, and what it says about where things are. With the sandboxes running, that without a restart
policy nothing is restarted: tests/integration/test_devstack_sandbox_process.py."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.channel_sync import ChannelSyncConfig
from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port, port_is_free, split_host_port
from omniroute.devstack.stack import DevStack, PortInUseError, StackError
from omniroute.devstack.stack_env import child_environment, redact_url, settings_environment


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data", temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        gateway_port=free_port(), sandbox_port=free_port(),
    )


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A port some other program holds."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder


def test_a_child_reads_back_exactly_the_settings_it_was_given(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = Settings(
        _env_file=None,
        data_dir=tmp_path / "d", gateway_port=9123, database_url="postgresql+psycopg://u:p@db:5432/app",
        easypost_api_key="EZAK-key", return_window_days=14, temporal_namespace="orders",
        channel_syncs=[ChannelSyncConfig(channel="web", locations={"dc-1": 1001},
                                         items={"SKU-1": 2002})],
    )
    for key, value in settings_environment(given).items():
        monkeypatch.setenv(key, value)

    assert Settings(_env_file=None) == given


def test_a_childs_environment_keeps_none_of_the_parents_own_omniroute_variables(settings: Settings) -> None:
    parent = {"PATH": "/usr/bin", "OMNIROUTE_DATABASE_URL": "postgresql://elsewhere/db", "omniroute_task_queue": "x"}

    env = child_environment(settings, base=parent)

    assert env["PATH"] == "/usr/bin" and env["PYTHONUNBUFFERED"] == "1"
    assert "OMNIROUTE_DATABASE_URL" not in env and "omniroute_task_queue" not in env
    assert env["OMNIROUTE_GATEWAY_PORT"] == str(settings.gateway_port)
    assert env["OMNIROUTE_DATA_DIR"] == str(settings.data_dir.resolve())


@pytest.mark.parametrize("taken", ["gateway", "Temporal gRPC", "Temporal UI", "provider sandboxes"])
def test_a_taken_port_stops_the_stack_before_anything_starts(
    settings: Settings, listening: socket.socket, taken: str
) -> None:
    port = listening.getsockname()[1]
    field = {"gateway": "gateway_port", "Temporal UI": "temporal_ui_port", "provider sandboxes": "sandbox_port"}
    if taken == "Temporal gRPC":
        settings = settings.model_copy(update={"temporal_address": f"127.0.0.1:{port}"})
    else:
        settings = settings.model_copy(update={field[taken]: port})

    with pytest.raises(PortInUseError) as raised:
        DevStack(settings).start()

    assert (raised.value.port, raised.value.what) == (port, taken)
    assert str(port) in str(raised.value)
    assert not settings.data_dir.exists()  # nothing was started or created


def test_unknown_services_are_refused_by_name(settings: Settings) -> None:
    with pytest.raises(ValueError, match="billing"):
        DevStack(settings, services=("temporal", "billing"))


def test_urls_name_the_chosen_services_and_hide_the_database_password(settings: Settings) -> None:
    settings = settings.model_copy(update={"database_url": "postgresql+psycopg://app:s3cret@db:5432/omniroute"})

    partial = DevStack(settings, services=("temporal", "sandbox")).urls
    full = DevStack(settings).urls

    assert set(partial) == {"temporal", "temporal_ui", "sandbox"}
    assert full["gateway"] == f"http://127.0.0.1:{settings.gateway_port}"
    assert full["docs"] == f"http://127.0.0.1:{settings.gateway_port}/docs"
    assert full["temporal_ui"] == f"http://127.0.0.1:{settings.temporal_ui_port}"
    assert "s3cret" not in full["database"] and "db:5432/omniroute" in full["database"]


def test_a_gateway_bound_to_all_interfaces_is_reached_on_loopback(settings: Settings) -> None:
    settings = settings.model_copy(update={"gateway_host": "0.0.0.0"})

    assert DevStack(settings).urls["gateway"] == f"http://127.0.0.1:{settings.gateway_port}"


def test_a_held_port_is_not_free_and_addresses_split_into_host_and_port(listening: socket.socket) -> None:
    assert not port_is_free("127.0.0.1", listening.getsockname()[1])
    assert port_is_free("127.0.0.1", free_port())
    assert split_host_port("temporal:7233") == ("temporal", 7233)
    with pytest.raises(ValueError, match="host:port"):
        split_host_port("temporal")
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_a_second_stack_on_the_same_data_dir_is_refused_until_the_first_stops(settings: Settings) -> None:
    with DevStack(settings, services=()):
        with pytest.raises(StackError, match="another Omniroute dev stack is running"):
            DevStack(settings, services=()).start()

    DevStack(settings, services=()).start().stop()


def test_free_ports_come_from_below_the_ephemeral_range_where_no_outgoing_connection_takes_them() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}

    assert all(10_000 <= port < low for port in ports)
    assert len(ports) > 1, "chosen at random, not the same port each time"
    assert all(port_is_free("127.0.0.1", port) for port in ports)
