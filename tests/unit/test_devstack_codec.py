"""`omniroute dev` starts the Temporal UI decoding payloads through the gateway's /codec, and says where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port
from omniroute.devstack.stack import DevStack
from omniroute.devstack.stack_services import codec_endpoint, service_command


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", temporal_address=f"127.0.0.1:{free_port()}",
                    temporal_ui_port=free_port(), gateway_host="0.0.0.0", gateway_port=free_port())


def test_the_ui_is_pointed_at_the_gateways_codec_endpoint(settings: Settings) -> None:
    command = service_command("temporal", settings, python="python", temporal="temporal",
                              codec_endpoint=codec_endpoint(settings))

    flag = command.index("--ui-codec-endpoint")
    assert command[flag + 1] == f"http://127.0.0.1:{settings.gateway_port}/codec"


def test_without_a_codec_endpoint_the_ui_gets_no_flag(settings: Settings) -> None:
    assert "--ui-codec-endpoint" not in service_command("temporal", settings, python="python", temporal="temporal")


def test_the_stack_prints_the_codec_endpoint_when_it_runs_the_ui_and_the_gateway(settings: Settings) -> None:
    whole = DevStack(settings)
    without_gateway = DevStack(settings, services=("temporal", "sandbox", "worker"))

    assert whole.urls["codec"] == f"http://127.0.0.1:{settings.gateway_port}/codec"
    assert "codec" not in without_gateway.urls
    assert any("codec" in str(cell) for column in whole.table().columns for cell in column._cells)
