"""What each service of the embedded stack is: its command line, the ports it needs, when it is ready,
and where people find it. DevStack decides when; this module says what."""

from __future__ import annotations

from dataclasses import dataclass

from omniroute.config.settings import Settings
from omniroute.devstack.ports import connect_host, http_ok, is_listening, split_host_port
from omniroute.devstack.stack_env import redact_url
from omniroute.devstack.temporal_cli import latest_poll_time, namespace_ready

SERVICES = ("temporal", "sandbox", "worker", "gateway")


@dataclass(frozen=True)
class PortNeed:
    """A port a service will listen on, and the setting that moves it."""

    port: int
    what: str
    host: str
    setting: str


def needed_ports(name: str, settings: Settings) -> list[PortNeed]:
    host, port = split_host_port(settings.temporal_address)
    return {
        "temporal": [PortNeed(port, "Temporal gRPC", host, "OMNIROUTE_TEMPORAL_ADDRESS"),
                     PortNeed(settings.temporal_ui_port, "Temporal UI", host, "OMNIROUTE_TEMPORAL_UI_PORT")],
        "sandbox": [PortNeed(settings.sandbox_port, "provider sandboxes", "127.0.0.1", "OMNIROUTE_SANDBOX_PORT")],
        "gateway": [PortNeed(settings.gateway_port, "gateway", settings.gateway_host, "OMNIROUTE_GATEWAY_PORT")],
    }.get(name, [])


def service_command(name: str, settings: Settings, *, python: str, temporal: str,
                    codec_endpoint: str | None = None) -> list[str]:
    """The command line of a service: `python -m omniroute <name>`, or the Temporal dev server with a
    SQLite file under the data dir and the workflows' search attributes registered, its UI decoding
    payloads through `codec_endpoint` (the gateway's /codec) when given."""
    if name != "temporal":
        return [python, "-m", "omniroute", name]
    from models.names import search_attribute_cli_args

    host, port = split_host_port(settings.temporal_address)
    namespaces = [] if settings.temporal_namespace == "default" else ["--namespace", settings.temporal_namespace]
    codec = [] if codec_endpoint is None else ["--ui-codec-endpoint", codec_endpoint]
    return [
        temporal, "server", "start-dev", "--ip", host, "--port", str(port),
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
        "--log-level", "warn", "--ui-disable-news-fetch", *codec, *namespaces, *search_attribute_cli_args(),
    ]


def service_ready(name: str, settings: Settings, *, temporal: str, started_at: float) -> bool:
    """Temporal: its ports listen and it knows the namespace. Sandboxes and gateway: /healthz answers
    200. Worker: the task queue had a poll after `started_at` (not a killed predecessor's)."""
    if name == "temporal":
        host, port = split_host_port(settings.temporal_address)
        return (is_listening(host, port) and is_listening(host, settings.temporal_ui_port)
                and namespace_ready(temporal, settings.temporal_address, settings.temporal_namespace))
    if name == "sandbox":
        return http_ok(f"{settings.sandbox_url}/healthz")
    if name == "gateway":
        return http_ok(f"{gateway_url(settings)}/healthz")
    polled = latest_poll_time(temporal, settings.temporal_address, settings.temporal_namespace, settings.task_queue)
    return polled is not None and polled >= started_at


def gateway_url(settings: Settings) -> str:
    return f"http://{connect_host(settings.gateway_host)}:{settings.gateway_port}"


def codec_endpoint(settings: Settings) -> str:
    """Where the Temporal UI decodes payloads: the gateway's codec server (gateway/routes/codec.py)."""
    return f"{gateway_url(settings)}/codec"


def stack_urls(settings: Settings, services: tuple[str, ...]) -> dict[str, str]:
    """Where the chosen services are: temporal, temporal_ui, sandbox, gateway, docs, codec (the UI's codec
    endpoint, when both Temporal and the gateway run), and database (password hidden) when a worker or the
    gateway uses it."""
    urls = {
        "temporal": ("temporal", settings.temporal_address), "temporal_ui": ("temporal", settings.ui_url),
        "sandbox": ("sandbox", settings.sandbox_url), "gateway": ("gateway", gateway_url(settings)),
        "docs": ("gateway", f"{gateway_url(settings)}/docs"),
    }
    chosen = {key: url for key, (service, url) in urls.items() if service in services}
    if "temporal" in services and "gateway" in services:
        chosen["codec"] = codec_endpoint(settings)
        chosen["codec_login"] = f"{codec_endpoint(settings)}/login"
    if "worker" in services or "gateway" in services:
        chosen["database"] = redact_url(settings.app_database_url)
    return chosen
