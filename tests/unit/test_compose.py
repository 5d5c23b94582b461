"""docker-compose.yml cannot run here (no Docker daemon), so these tests read it and hold it to the code:
its commands are real `omniroute` commands, its OMNIROUTE_* variables and secret files are settings that
validate in production, it registers the workflows' search attributes, its dependencies add up, only
the gateway is published, and each process gets only the secrets it uses."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gateway.routes import webhooks_easypost
from models.names import search_attribute_cli_args
from omniroute.cli.app import app
from omniroute.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "worker", "gateway")
PREFIX = "OMNIROUTE_"
# What the operator exports (compose interpolates these); the secrets themselves are files.
VARIABLES = {"TEMPORAL_DB_PASSWORD": "temporal-secret", "MAIL_FROM": "orders@shop.example", "CODEC_ACTIVE_KEY": "k1"}
SECRET_FILES = {
    "database_url": "postgresql+psycopg://omniroute:app-secret@app-db:5432/omniroute",
    "app_db_password": "app-secret",
    "easypost_api_key": "EZAK-live-key",
    "sendgrid_api_key": "SG.live-key",
    "codec_keys": '{"k1": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}',
    "bootstrap_admin_key": "bootstrap-admin-secret",
    "shipbob_api_key": "shipbob-live-token",
    "easypost_webhook_secret": "easypost-webhook-secret",
    "partner_secrets": '{"shipbob-webhooks": "whsec_c2hpcGJvYi1saXZlLXNlY3JldA==", "dc-edison": "whsec_ZWRpc29u"}',
    "shopify_webhook_secrets": '{"shopify_us": "shpss_live_secret"}',
}
# Each process and the secrets it uses, by the setting they fill; nobody else gets any.
SECRETS_BY_SERVICE = {
    "migrate": {"database_url"},
    "worker": {"database_url", "easypost_api_key", "sendgrid_api_key", "shipbob_api_key", "codec_keys",
               "partner_secrets"},
    "gateway": {"database_url", "bootstrap_admin_key", "codec_keys", "easypost_webhook_secret", "partner_secrets",
                "shopify_webhook_secrets"},
}
PROVIDER_KEYS = {"easypost_api_key", "sendgrid_api_key", "shopify_api_key", "shipbob_api_key"}
# Settings that are secrets: they reach a process as a file, never as an environment variable.
SECRET_SETTINGS = PROVIDER_KEYS | {"database_url", "codec_keys", "bootstrap_admin_key", "easypost_webhook_secret",
                                   "partner_secrets", "shopify_webhook_secrets"}
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


def default_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What `docker compose up` starts: the services in no profile."""
    return {name: service for name, service in services(compose).items() if not service.get("profiles")}


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def secret_targets(service: dict[str, Any]) -> dict[str, str]:
    """The service's secrets as {file name under /run/secrets: top-level secret}."""
    targets: dict[str, str] = {}
    for entry in service.get("secrets", []):
        source = entry if isinstance(entry, str) else entry["source"]
        target = entry if isinstance(entry, str) else entry.get("target", source)
        targets[target] = source
    return targets


def setting_of(target: str) -> str | None:
    """The Settings field a secret file fills (pydantic-settings matches file names case-insensitively)."""
    return target[len(PREFIX):].lower() if target.upper().startswith(PREFIX) else None


def app_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch, secrets_dir: Path,
                 without: str | None = None) -> Settings:
    """Settings as the service's container reads them: its environment, and its secrets as the files
    compose mounts (here in `secrets_dir` instead of /run/secrets), `without` one of them."""
    for key in [key for key in os.environ if key.upper().startswith(PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in environment(service).items():
        monkeypatch.setenv(key, interpolate(value, VARIABLES))
    secrets_dir.mkdir(exist_ok=True)
    for target, source in secret_targets(service).items():
        if source != without:
            (secrets_dir / target).write_text(SECRET_FILES[source] + "\n", encoding="utf-8")
    assert environment(service)["OMNIROUTE_SECRETS_DIR"] == "/run/secrets", "where compose mounts secrets"
    monkeypatch.setenv("OMNIROUTE_SECRETS_DIR", str(secrets_dir))
    return Settings(_env_file=None)


def test_every_app_service_runs_a_real_omniroute_command(compose: dict[str, Any]) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["no-such-command", "--help"]).exit_code != 0  # the check below can fail

    for name in APP_SERVICES:
        command = services(compose)[name]["command"]
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: `omniroute {' '.join(command)}` is not a command: {result.output}"
    assert 'ENTRYPOINT ["omniroute"]' in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_every_omniroute_variable_and_secret_file_in_compose_is_a_setting(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for key in environment(service):
            if key.startswith(PREFIX):
                assert key.removeprefix(PREFIX).lower() in Settings.model_fields, f"{name}: {key} is no setting"
        for target in secret_targets(service):
            field = setting_of(target)
            if name in APP_SERVICES:
                assert field in Settings.model_fields, f"{name}: secret file {target} fills no setting"


def test_app_services_validate_as_production_settings_aimed_at_the_cluster(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in APP_SERVICES:
        with monkeypatch.context() as patch:
            settings = app_settings(services(compose)[name], patch, tmp_path / name)

        assert settings.environment == "production", name
        assert settings.temporal_address == "temporal:7233", name
        assert settings.app_database_url == SECRET_FILES["database_url"], f"{name}: from its secret file"
        assert settings.otel_traces == "otlp", name
        assert settings.otel_endpoint == "http://otel-collector:4318/v1/traces", name


def test_the_worker_has_live_provider_keys_and_urls(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    settings = app_settings(services(compose)["worker"], monkeypatch, tmp_path)

    settings.require_providers()
    assert settings.easypost_url == "https://api.easypost.com/v2"
    assert settings.sendgrid_url == "https://api.sendgrid.com"
    assert settings.easypost_api_key.get_secret_value() == SECRET_FILES["easypost_api_key"]
    assert settings.sendgrid_api_key.get_secret_value() == SECRET_FILES["sendgrid_api_key"]
    assert settings.mail_from == VARIABLES["MAIL_FROM"]
    assert settings.codec_active_key == VARIABLES["CODEC_ACTIVE_KEY"]
    assert settings.codec_keys is not None and settings.codec_keys.get_secret_value() == SECRET_FILES["codec_keys"]


def test_the_gateway_has_the_bootstrap_key_and_the_codec_keys(compose: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = app_settings(services(compose)["gateway"], monkeypatch, tmp_path)

    assert settings.bootstrap_admin_key is not None
    assert settings.bootstrap_admin_key.get_secret_value() == SECRET_FILES["bootstrap_admin_key"]
    assert settings.codec_keys is not None and settings.codec_active_key == VARIABLES["CODEC_ACTIVE_KEY"]


def test_the_gateway_verifies_partner_webhooks_with_the_deployments_secrets(
        compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = app_settings(services(compose)["gateway"], monkeypatch, tmp_path)

    assert webhooks_easypost.webhook_secret(settings) == SECRET_FILES["easypost_webhook_secret"]
    assert settings.partner_secret(settings.shipbob_webhook_secret_ref) == "whsec_c2hpcGJvYi1saXZlLXNlY3JldA=="
    with pytest.raises(ValueError, match="no secret named 'dc-ontario'"):
        settings.partner_secret("dc-ontario")  # outside development a name not listed is no published dev secret
    assert settings.shopify_webhook_secret("shopify_us") == "shpss_live_secret"
    assert settings.shopify_webhook_secret("shopify_eu") is None, "a channel not listed has no secret in production"


def test_the_worker_signs_hand_offs_with_the_deployments_partner_secrets_and_calls_shipbob_with_its_key(
        compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = app_settings(services(compose)["worker"], monkeypatch, tmp_path).model_copy(
        update={"shipbob_base_url": "https://api.shipbob.com/2.0"})  # a 3PL node uses ShipBob

    settings.require_providers()
    assert settings.partner_secret("dc-edison") == "whsec_ZWRpc29u"
    assert settings.shipbob_api_key.get_secret_value() == SECRET_FILES["shipbob_api_key"]


def test_a_worker_using_shipbob_with_an_empty_key_file_refuses_to_start_naming_it(
        compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(SECRET_FILES, "shipbob_api_key", "")  # as deploy/init-secrets.sh leaves it
    settings = app_settings(services(compose)["worker"], monkeypatch, tmp_path).model_copy(
        update={"shipbob_base_url": "https://api.shipbob.com/2.0"})

    with pytest.raises(ValueError, match="OMNIROUTE_SHIPBOB_API_KEY must be set"):
        settings.require_providers()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_an_app_service_without_its_database_secret_refuses_to_start(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, service: str
) -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_DATABASE_URL must be set"):
        app_settings(services(compose)[service], monkeypatch, tmp_path, without="database_url")


@pytest.mark.parametrize("secret", ["easypost_api_key", "sendgrid_api_key"])
def test_the_worker_without_a_provider_key_refuses_to_start_naming_it(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str
) -> None:
    settings = app_settings(services(compose)["worker"], monkeypatch, tmp_path, without=secret)

    with pytest.raises(ValueError, match=f"OMNIROUTE_{secret.upper()} must be set"):
        settings.require_providers()


def test_each_process_gets_only_the_secrets_it_uses(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        filled = {setting_of(target) for target in secret_targets(service)} - {None}
        assert filled == SECRETS_BY_SERVICE.get(name, set()), name
        for target, source in secret_targets(service).items():
            if setting_of(target) is not None:
                assert setting_of(target) == source, f"{name}: secret {source} mounted as {target}"


def test_provider_keys_reach_the_worker_and_no_other_process(compose: dict[str, Any]) -> None:
    holders = {name for name, service in services(compose).items()
               if PROVIDER_KEYS & {setting_of(target) for target in secret_targets(service)}}

    assert holders == {"worker"}


def test_no_secret_is_handed_over_as_an_environment_variable(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for key in environment(service):
            assert key.removeprefix(PREFIX).lower() not in SECRET_SETTINGS, f"{name}: {key} belongs in a secret file"


def test_the_temporal_server_and_its_tools_get_no_omniroute_setting_or_secret(compose: dict[str, Any]) -> None:
    for name in ("postgresql", "temporal-schema", "temporal", "temporal-admin-tools", "temporal-ui",
                 "otel-collector"):
        service = services(compose)[name]
        assert not [key for key in environment(service) if key.startswith(PREFIX)], name
        assert not service.get("secrets"), name


def test_every_secret_comes_from_a_file_git_ignores(compose: dict[str, Any]) -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/secrets/" in ignored

    used = {source for service in services(compose).values() for source in secret_targets(service).values()}
    assert used == set(compose["secrets"]) == set(SECRET_FILES)
    for name, secret in compose["secrets"].items():
        assert secret["file"] == f"./secrets/{name}", name


def test_the_secrets_script_writes_every_secret_that_can_be_generated(tmp_path: Path) -> None:
    target = tmp_path / "secrets"
    first = subprocess.run(["sh", str(ROOT / "deploy/init-secrets.sh"), str(target)], capture_output=True,
                           text=True, check=True)
    written = {path.name: path.read_text(encoding="utf-8") for path in target.iterdir()}
    again = subprocess.run(["sh", str(ROOT / "deploy/init-secrets.sh"), str(target)], capture_output=True,
                           text=True, check=True)

    assert set(written) == set(SECRET_FILES) - {"easypost_api_key", "sendgrid_api_key"}
    assert "missing" in first.stdout and "easypost_api_key" in first.stdout, "names what is left to write"
    assert f":{written['app_db_password']}@app-db:5432/" in written["database_url"]
    [(key_id, key)] = json.loads(written["codec_keys"]).items()
    assert f"CODEC_ACTIVE_KEY={key_id}" in first.stdout
    assert len(base64.b64decode(key, validate=True)) == 32, "an AES-256 key"
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert {path.name: path.read_text(encoding="utf-8") for path in target.iterdir()} == written, "nothing replaced"
    assert "wrote" not in again.stdout


def test_only_the_gateway_is_published_and_on_the_loopback_by_default(compose: dict[str, Any]) -> None:
    published = {name: service["ports"] for name, service in default_services(compose).items() if "ports" in service}

    assert list(published) == ["gateway"]
    [mapping] = published["gateway"]
    assert interpolate(mapping, {}) == "127.0.0.1:8000:8000"
    assert interpolate(mapping, {"GATEWAY_BIND_ADDRESS": "0.0.0.0"}) == "0.0.0.0:8000:8000"


def test_the_gateway_listens_on_its_container_interfaces_at_its_published_port(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gateway = services(compose)["gateway"]
    settings = app_settings(gateway, monkeypatch, tmp_path)

    assert settings.gateway_host == "0.0.0.0"
    assert interpolate(gateway["ports"][0], {}).endswith(f":{settings.gateway_port}:{settings.gateway_port}")
    assert str(settings.gateway_port) in " ".join(gateway["healthcheck"]["test"])


def test_temporal_its_ui_and_the_databases_are_on_the_internal_network_only(compose: dict[str, Any]) -> None:
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgresql", "temporal", "temporal-ui", "app-db", "temporal-admin-tools", "migrate"):
        assert services(compose)[name]["networks"] == ["backend"], name
    for name, service in default_services(compose).items():
        assert "backend" in service["networks"], f"{name} cannot reach the others"


def test_the_operator_tunnel_to_the_ui_is_opt_in_and_on_the_hosts_loopback_only(compose: dict[str, Any]) -> None:
    tunnel = services(compose)["ui-tunnel"]

    assert tunnel["profiles"] == ["operator"]
    assert [interpolate(port, {}) for port in tunnel["ports"]] == ["127.0.0.1:8080:8080"]
    assert tunnel["ports"][0].startswith("127.0.0.1:"), "no variable can move it off the loopback"
    assert "TCP:temporal-ui:8080" in tunnel["command"]


def test_the_ui_decodes_payloads_through_the_gateways_codec_and_cannot_change_workflows(
    compose: dict[str, Any]
) -> None:
    ui = environment(services(compose)["temporal-ui"])

    endpoint = interpolate(ui["TEMPORAL_CODEC_ENDPOINT"], {})
    assert endpoint == "http://127.0.0.1:8000/codec", "the gateway's published port; the UI appends /decode"
    assert interpolate(ui["TEMPORAL_CODEC_ENDPOINT"], {"UI_CODEC_ENDPOINT": "https://ops.example/codec"}) == (
        "https://ops.example/codec")
    assert ui["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_every_client_of_temporal_uses_one_namespace(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    for env in ({}, {"TEMPORAL_NAMESPACE": "omniroute-prod"}):
        expected = env.get("TEMPORAL_NAMESPACE", "default")
        for name in APP_SERVICES:
            assert interpolate(environment(services(compose)[name])["OMNIROUTE_TEMPORAL_NAMESPACE"], env) == expected
        assert interpolate(environment(services(compose)["temporal-admin-tools"])["NAMESPACE"], env) == expected
        assert interpolate(environment(services(compose)["temporal-ui"])["TEMPORAL_DEFAULT_NAMESPACE"], env) == (
            expected)


def test_compose_refuses_to_start_without_each_variable(compose: dict[str, Any]) -> None:
    values = [value for service in services(compose).values() for value in environment(service).values()]
    for variable in VARIABLES:
        without = {key: value for key, value in VARIABLES.items() if key != variable}
        with pytest.raises(MissingVariable, match=variable):
            for value in values:
                interpolate(value, without)


def test_traces_go_to_the_collector_which_receives_otlp_over_http(compose: dict[str, Any]) -> None:
    collector = services(compose)["otel-collector"]
    config_path = ROOT / collector["volumes"][0].split(":")[0]
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))

    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert "otlp" in config["service"]["pipelines"]["traces"]["receivers"]
    assert "ports" not in collector, "reached by the app services on the backend network only"
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
            host_port = interpolate(str(mapping), {}).split(":")[-2]
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
