"""docker-compose.yml cannot run here (no Docker daemon), so these tests read it and hold it to the code:
its commands are real `omniroute` commands, its OMNIROUTE_* variables are settings that validate in
production, it registers the workflows' search attributes, and its dependencies and ports add up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from models.names import search_attribute_cli_args
from omniroute.cli.app import app
from omniroute.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "worker", "gateway")
PREFIX = "OMNIROUTE_"
SECRETS = {
    "TEMPORAL_DB_PASSWORD": "temporal-secret", "APP_DB_PASSWORD": "app-secret",
    "EASYPOST_API_KEY": "EZAK-live-key", "SENDGRID_API_KEY": "SG.live-key", "MAIL_FROM": "orders@shop.example",
}
SUBSTITUTION = re.compile(r"\$\{(?P<name>[A-Za-z0-9_]+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


class MissingVariable(LookupError):
    pass


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` substitution."""
    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg
        raise MissingVariable(f"{name}: {arg}" if op == ":?" else name)
    return SUBSTITUTION.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def app_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in [key for key in os.environ if key.upper().startswith(PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in environment(service).items():
        monkeypatch.setenv(key, interpolate(value, SECRETS))
    return Settings(_env_file=None)


def test_every_app_service_runs_a_real_omniroute_command(compose: dict[str, Any]) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["no-such-command", "--help"]).exit_code != 0  # the check below can fail

    for name in APP_SERVICES:
        command = services(compose)[name]["command"]
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: `omniroute {' '.join(command)}` is not a command: {result.output}"
    assert 'ENTRYPOINT ["omniroute"]' in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_every_omniroute_variable_in_compose_is_a_setting(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for key in environment(service):
            if key.startswith(PREFIX):
                assert key.removeprefix(PREFIX).lower() in Settings.model_fields, f"{name}: {key} is no setting"


def test_app_services_validate_as_production_settings_aimed_at_the_cluster(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in APP_SERVICES:
        with monkeypatch.context() as patch:
            settings = app_settings(services(compose)[name], patch)

        assert settings.environment == "production", name
        assert settings.temporal_address == "temporal:7233", name
        assert settings.app_database_url == "postgresql+psycopg://omniroute:app-secret@app-db:5432/omniroute", name
        assert settings.easypost_url == "https://api.easypost.com/v2", name
        assert settings.sendgrid_url == "https://api.sendgrid.com", name
        assert settings.easypost_api_key.get_secret_value() == SECRETS["EASYPOST_API_KEY"], name
        assert settings.sendgrid_api_key.get_secret_value() == SECRETS["SENDGRID_API_KEY"], name
        assert settings.mail_from == SECRETS["MAIL_FROM"], name
        assert settings.otel_traces == "otlp", name
        assert settings.otel_endpoint == "http://otel-collector:4318/v1/traces", name


def test_the_gateway_listens_on_all_interfaces_at_its_published_port(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = services(compose)["gateway"]
    settings = app_settings(gateway, monkeypatch)

    assert settings.gateway_host == "0.0.0.0"
    assert f"{settings.gateway_port}:{settings.gateway_port}" in gateway["ports"]
    assert str(settings.gateway_port) in " ".join(gateway["healthcheck"]["test"])


def test_compose_refuses_to_start_without_each_secret(compose: dict[str, Any]) -> None:
    values = [value for service in services(compose).values() for value in environment(service).values()]
    for secret in SECRETS:
        without = {key: value for key, value in SECRETS.items() if key != secret}
        with pytest.raises(MissingVariable, match=secret):
            for value in values:
                interpolate(value, without)
    app_environment = environment(services(compose)["worker"])
    for setting in ("DATABASE_URL", "EASYPOST_API_KEY", "SENDGRID_API_KEY"):
        assert ":?" in app_environment[PREFIX + setting], f"{setting} must be required, not defaulted"


def test_traces_go_to_the_collector_which_receives_otlp_over_http(compose: dict[str, Any]) -> None:
    collector = services(compose)["otel-collector"]
    config_path = ROOT / collector["volumes"][0].split(":")[0]
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))

    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert "otlp" in config["service"]["pipelines"]["traces"]["receivers"]
    for name in APP_SERVICES[1:]:
        assert "otel-collector" in services(compose)[name]["depends_on"], name


def test_the_search_attributes_registered_are_the_workflows_own(compose: dict[str, Any]) -> None:
    args = search_attribute_cli_args()
    expected = sorted(args[i + 1] for i in range(0, len(args), 2))
    registered = environment(services(compose)["temporal-admin-tools"])["SEARCH_ATTRIBUTES"].split()

    assert sorted(registered) == expected


def test_workers_and_the_gateway_wait_for_migrations_and_search_attributes(compose: dict[str, Any]) -> None:
    for name in ("worker", "gateway"):
        depends = services(compose)[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["temporal-admin-tools"]["condition"] == "service_completed_successfully", name


def test_every_dependency_names_a_service_with_what_its_condition_needs(compose: dict[str, Any]) -> None:
    known = services(compose)
    for name, service in known.items():
        depends = service.get("depends_on", {})
        for target, rule in (depends.items() if isinstance(depends, dict) else ((t, {}) for t in depends)):
            assert target in known, f"{name} depends on unknown service {target}"
            condition = rule.get("condition", "service_started")
            assert condition in CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in known[target], f"{name} waits for {target} to be healthy; it has no check"


def test_no_two_services_publish_the_same_host_port_and_scaled_ones_publish_none(compose: dict[str, Any]) -> None:
    published: dict[str, str] = {}
    for name, service in services(compose).items():
        for mapping in service.get("ports", []):
            host_port = str(mapping).split(":")[-2]
            assert host_port not in published, f"{name} and {published.get(host_port)} both publish {host_port}"
            published[host_port] = name
        if service.get("deploy", {}).get("replicas", 1) > 1:
            assert "ports" not in service and "container_name" not in service, name
    assert services(compose)["worker"]["deploy"]["replicas"] >= 2


def test_files_mounted_from_the_repository_exist(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"
