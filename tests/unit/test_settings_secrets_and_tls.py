"""Settings read secrets from files named after their variables (OMNIROUTE_SECRETS_DIR, as compose mounts
them), TLS to Temporal from certificate files, and the per-recipient message limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.client import TLSConfig

from omniroute.client import OmnirouteClient
from omniroute.config.settings import Settings
from omniroute.config.temporal_tls import temporal_tls


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    for key in [key for key in os.environ if key.upper().startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_secrets_are_read_from_files_named_after_their_variables(clean_env: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    secrets = tmp_path / "run-secrets"
    write(secrets, "OMNIROUTE_EASYPOST_API_KEY", "EZAK-from-a-file\n")
    write(secrets, "OMNIROUTE_DATABASE_URL", "postgresql://omniroute:pw@app-db/omniroute")
    clean_env.setenv("OMNIROUTE_SECRETS_DIR", str(secrets))

    settings = Settings()

    assert settings.easypost_api_key.get_secret_value() == "EZAK-from-a-file", "trailing newline dropped"
    assert settings.database_url == "postgresql://omniroute:pw@app-db/omniroute"
    assert settings.secrets_dir == secrets


def test_a_variable_in_the_environment_wins_over_its_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "run-secrets"
    write(secrets, "OMNIROUTE_SENDGRID_API_KEY", "SG.from-file")
    clean_env.setenv("OMNIROUTE_SECRETS_DIR", str(secrets))
    clean_env.setenv("OMNIROUTE_SENDGRID_API_KEY", "SG.from-env")

    assert Settings().sendgrid_api_key.get_secret_value() == "SG.from-env"


def test_without_a_secrets_dir_no_file_is_read(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path, "OMNIROUTE_SENDGRID_API_KEY", "SG.stray-file-in-the-working-directory")

    assert Settings().sendgrid_api_key.get_secret_value() == "SG.omniroute-sandbox"


def test_a_production_process_without_its_database_secret_refuses_to_start(clean_env: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    clean_env.setenv("OMNIROUTE_SECRETS_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    clean_env.setenv("OMNIROUTE_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match="OMNIROUTE_DATABASE_URL must be set"):
        Settings()


def certificates(folder: Path) -> dict[str, Path]:
    return {"ca": write(folder, "ca.pem", "-----BEGIN CERTIFICATE-----\nCA\n"),
            "cert": write(folder, "worker.pem", "-----BEGIN CERTIFICATE-----\nWORKER\n"),
            "key": write(folder, "worker.key", "-----BEGIN PRIVATE KEY-----\nKEY\n")}


def test_no_tls_setting_means_plaintext() -> None:
    assert temporal_tls(Settings(_env_file=None)) is False


def test_the_ca_and_a_client_certificate_make_an_mtls_config(tmp_path: Path) -> None:
    files = certificates(tmp_path)
    settings = Settings(_env_file=None, temporal_tls_ca=files["ca"], temporal_tls_cert=files["cert"],
                        temporal_tls_key=files["key"], temporal_tls_server_name="temporal.internal")

    tls = temporal_tls(settings)

    assert tls == TLSConfig(server_root_ca_cert=files["ca"].read_bytes(), client_cert=files["cert"].read_bytes(),
                            client_private_key=files["key"].read_bytes(), domain="temporal.internal")


def test_tls_settings_are_read_from_the_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = certificates(tmp_path)
    clean_env.setenv("OMNIROUTE_TEMPORAL_TLS_CA", str(files["ca"]))

    tls = temporal_tls(Settings())

    assert isinstance(tls, TLSConfig)
    assert (tls.server_root_ca_cert, tls.client_cert) == (files["ca"].read_bytes(), None), "TLS without mTLS"


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    files = certificates(tmp_path)

    with pytest.raises(ValidationError, match="OMNIROUTE_TEMPORAL_TLS_CERT and OMNIROUTE_TEMPORAL_TLS_KEY go together"):
        Settings(_env_file=None, temporal_tls_cert=files["cert"])


def test_a_certificate_file_that_does_not_exist_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, temporal_tls_ca=tmp_path / "missing.pem")

    assert refused.value.errors()[0]["loc"] == ("temporal_tls_ca",)


async def test_the_sdk_hands_its_tls_config_to_the_temporal_connection(tmp_path: Path) -> None:
    files = certificates(tmp_path)
    tls = temporal_tls(Settings(_env_file=None, temporal_tls_ca=files["ca"], temporal_tls_cert=files["cert"],
                                temporal_tls_key=files["key"]))

    sdk = await OmnirouteClient.connect("127.0.0.1:7233", lazy=True, tls=tls)

    assert sdk.temporal.service_client.config.tls == tls


def test_the_message_limit_is_ten_an_hour_unless_set(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().notify_per_recipient_per_hour == 10
    clean_env.setenv("OMNIROUTE_NOTIFY_PER_RECIPIENT_PER_HOUR", "3")
    assert Settings().notify_per_recipient_per_hour == 3
    clean_env.setenv("OMNIROUTE_NOTIFY_PER_RECIPIENT_PER_HOUR", "0")
    with pytest.raises(ValidationError, match="notify_per_recipient_per_hour"):
        Settings()
