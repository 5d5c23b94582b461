"""deploy/compose.mtls.yml, layered over docker-compose.yml as `docker compose -f ... -f ...` merges it:
the Temporal frontend takes only clients with a certificate from the CA, every client of it presents
one, and Omniroute's processes find theirs through settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import TLSConfig

from omniroute.config.settings import Settings
from omniroute.config.temporal_tls import temporal_tls

ROOT = Path(__file__).resolve().parents[2]
SECRETS = "/run/secrets/"
TEMPORAL_CLIENTS = ("temporal-admin-tools", "temporal-ui", "worker", "gateway")


def load(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    return loaded


def merged_services() -> dict[str, dict[str, Any]]:
    """The main file with the override on top: mappings merged key by key, `ports` and `secrets`
    appended, `networks` joined, other values replaced (compose's merge rules for these keys)."""
    base: dict[str, dict[str, Any]] = load("docker-compose.yml")["services"]
    for name, override in load("deploy/compose.mtls.yml")["services"].items():
        service = base[name]
        for key, value in override.items():
            if key == "environment":
                service[key] = {**service.get(key, {}), **value}
            elif key in ("ports", "secrets"):
                service[key] = [*service.get(key, []), *value]
            elif key == "networks":
                service[key] = list(dict.fromkeys([*service.get(key, []), *value]))
            else:
                service[key] = value
    return base


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return merged_services()


def mounted(service: dict[str, Any]) -> set[str]:
    return {entry if isinstance(entry, str) else entry.get("target", entry["source"])
            for entry in service.get("secrets", [])}


def test_the_frontend_requires_a_client_certificate_from_the_ca(services: dict[str, dict[str, Any]]) -> None:
    env = services["temporal"]["environment"]

    assert env["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    assert env["TEMPORAL_TLS_CLIENT1_CA_CERT"] == env["TEMPORAL_TLS_SERVER_CA_CERT"] == SECRETS + "temporal_ca"
    for key in ("TEMPORAL_TLS_FRONTEND_CERT", "TEMPORAL_TLS_FRONTEND_KEY", "TEMPORAL_TLS_SERVER_CERT",
                "TEMPORAL_TLS_SERVER_KEY", "TEMPORAL_TLS_CLIENT1_CA_CERT"):
        assert env[key].removeprefix(SECRETS) in mounted(services["temporal"]), key


def test_with_mtls_the_frontend_is_published_too_on_the_loopback_unless_told(
    services: dict[str, dict[str, Any]]
) -> None:
    published = sorted(name for name, service in services.items() if service.get("ports") and not
                       service.get("profiles"))

    assert published == ["gateway", "temporal"]
    assert services["temporal"]["ports"] == ["${TEMPORAL_BIND_ADDRESS:-127.0.0.1}:7233:7233"]
    assert "edge" in services["temporal"]["networks"], "a port is published from a network with a way out"


@pytest.mark.parametrize("name", TEMPORAL_CLIENTS)
def test_every_client_of_temporal_presents_a_certificate_it_is_given(services: dict[str, dict[str, Any]],
                                                                      name: str) -> None:
    env = services[name]["environment"]
    paths = [value for key, value in env.items() if "TLS" in key and value.startswith(SECRETS)]

    assert len(paths) == 3, f"{name}: the CA, a certificate and its key"
    for path in paths:
        assert path.removeprefix(SECRETS) in mounted(services[name]), f"{name}: {path} is not mounted"


def test_no_process_gets_another_ones_private_key(services: dict[str, dict[str, Any]]) -> None:
    holders: dict[str, set[str]] = {}
    for name, service in services.items():
        for secret in mounted(service):
            if secret.endswith("_key") and secret.startswith("temporal_"):
                holders.setdefault(secret, set()).add(name)

    assert holders == {"temporal_server_key": {"temporal"}, "temporal_worker_key": {"worker"},
                       "temporal_gateway_key": {"gateway"},
                       "temporal_admin_key": {"temporal-admin-tools", "temporal-ui"}}


def test_every_certificate_comes_from_the_ignored_secrets_directory() -> None:
    for name, secret in load("deploy/compose.mtls.yml")["secrets"].items():
        assert secret["file"].startswith("./secrets/temporal/"), name


@pytest.mark.parametrize("name", ["worker", "gateway"])
def test_omniroute_processes_read_their_mtls_files_through_settings(
    services: dict[str, dict[str, Any]], name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    for key, value in services[name]["environment"].items():
        if key.startswith("OMNIROUTE_TEMPORAL_TLS_"):
            if value.startswith(SECRETS):  # the file as mounted, here in tmp_path
                file = tmp_path / value.removeprefix(SECRETS)
                file.write_bytes(f"PEM of {file.name}".encode())
                value = str(file)
            monkeypatch.setenv(key, value.replace("${TEMPORAL_TLS_SERVER_NAME:-temporal}", "temporal"))

    tls = temporal_tls(Settings(_env_file=None))

    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == b"PEM of temporal_ca"
    assert tls.client_cert == f"PEM of temporal_{name}_cert".encode()
    assert tls.client_private_key == f"PEM of temporal_{name}_key".encode()
    assert tls.domain == "temporal", "the name in the server's certificate, as the address is temporal:7233"
