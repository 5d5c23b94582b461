"""All configuration, from OMNIROUTE_* environment variables (and a .env file if present)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from models.channel_sync import ChannelSyncConfig
from models.channel_writeback import ChannelWritebackConfig
from models.sandbox_credentials import DEV_SHIPBOB_KEY as DEV_SHIPBOB_KEY  # re-exported: the default key
from models.sandbox_credentials import DEV_SHOPIFY_TOKEN as DEV_SHOPIFY_TOKEN  # re-exported: the default token
from omniroute.config.codec_keys import KeyRing, key_ring

DEV_EASYPOST_KEY = "EZTK-omniroute-sandbox"
# The secret EasyPost signs tracker webhooks with (`POST /webhooks`' webhook_secret); this one is for
# development and test only: the gateway refuses webhooks signed with it anywhere else.
DEV_EASYPOST_WEBHOOK_SECRET = "omniroute-dev-easypost-webhooks"


def dev_partner_secret(name: str) -> str:
    """The published development secret for a partner secret name (never used outside dev and test).
    A Standard Webhooks secret is `whsec_` + base64; this one is valid for both uses."""
    return "whsec_" + base64.b64encode(f"omniroute-dev-{name}".encode().ljust(24, b".")).decode()
DEV_SENDGRID_KEY = "SG.omniroute-sandbox"
# The secret key the Stripe sandbox accepts (the same text as integrations.payments.sandbox.DEV_STRIPE_KEY,
# which config may not import), and the development secret its webhooks are signed with.
DEV_STRIPE_KEY = "sk_test_omniroute_sandbox"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_omniroute_dev_stripe_webhooks"
# The token the Shippo sandbox accepts and the secret it signs webhooks with (the same texts as
# integrations.carriers.shippo_sandbox's, which config may not import); development and test only.
DEV_SHIPPO_KEY = "shippo_test_omniroute_sandbox"
DEV_SHIPPO_WEBHOOK_SECRET = "omniroute-dev-shippo-webhooks"
# The account the Twilio sandbox accepts and the number it sends from by default (the same texts as
# integrations.notify.twilio_sandbox's, which config may not import); development and test only.
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEV_TWILIO_AUTH_TOKEN = "omniroute-dev-twilio-token"
DEV_TWILIO_FROM = "+15005550006"
_TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_TWILIO_SENDER = re.compile(r"^(\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32})$")
_SHOPIFY_SECRETS_VARIABLE = "OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS"
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")


def dev_shopify_webhook_secret(channel: str) -> str:
    """The published development secret a channel's Shopify webhooks are checked with when
    OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS does not list it (development and test only)."""
    return f"omniroute-dev-shopify-{channel}"


class Settings(BaseSettings):
    # Errors name the variable but never echo its value: several values are secrets.
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    # Only development and test may run on a throwaway SQLite file or with the sandboxes' keys and URLs;
    # staging and production fail closed (see _real_database_outside_development and
    # require_providers). Any other value is refused, naming the variable.
    environment: Literal["development", "test", "staging", "production"] = "development"
    data_dir: Path = Path(".omniroute")
    # A directory of files named after the variables (OMNIROUTE_DATABASE_URL, OMNIROUTE_EASYPOST_API_KEY,
    # ...), each holding that setting: how docker-compose.yml hands a process its secrets (/run/secrets).
    # Read from the environment only; a variable that is set wins over its file.
    secrets_dir: Path | None = None

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "omniroute"
    temporal_ui_port: int = 8233
    temporal_ui_url: str | None = None
    # TLS to the Temporal frontend: the CA that signed its certificate, and this process's client
    # certificate and key where the server requires mTLS (PEM files). None set: plaintext.
    temporal_tls_ca: FilePath | None = None
    temporal_tls_cert: FilePath | None = None
    temporal_tls_key: FilePath | None = None
    # The name the server's certificate carries, when it is not the host of temporal_address.
    temporal_tls_server_name: str | None = None

    # App DB: SQLite file under data_dir unless a URL is given.
    database_url: str | None = None

    # HTTP gateway
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Request bodies over this many bytes are answered 413 before they are parsed (1 MiB).
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    # A token accepted as an admin key, so that a fresh deployment can create the others
    # (`omniroute keys create`, POST /v1/keys). Outside development and test the gateway refuses to
    # start when it is unset and the DB holds no admin key.
    bootstrap_admin_key: SecretStr | None = None
    # Requests per second each key may make on average, and how many it may make in a burst; over
    # that the gateway answers 429 with Retry-After.
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)

    # Provider sandboxes (embedded stack) and provider endpoints.
    sandbox_port: int = 8100
    # The SQLite file where the sandboxes keep shipments, labels, messages and stock between runs;
    # <data_dir>/sandboxes.db unless given.
    sandbox_state_path: Path | None = None
    easypost_base_url: str | None = None
    easypost_api_key: SecretStr = SecretStr(DEV_EASYPOST_KEY)
    easypost_webhook_secret: SecretStr = SecretStr(DEV_EASYPOST_WEBHOOK_SECRET)
    # The EasyPost sandbox's carriers (dev stack): seconds between a tracker's statuses, from the first
    # scan on; 0 (the default, while the demo's warehouse still posts in_transit/delivered itself) leaves
    # trackers where they are until /_sandbox/trackers/{code}/advance moves them.
    sandbox_tracking_step_s: float = Field(default=0.0, ge=0, le=3600)
    # Stripe (payments): None points at the sandbox's /stripe; the webhook secret is the endpoint's `whsec_...`.
    stripe_base_url: str | None = None
    stripe_api_key: SecretStr = SecretStr(DEV_STRIPE_KEY)
    stripe_webhook_secret: SecretStr = SecretStr(DEV_STRIPE_WEBHOOK_SECRET)
    # Shippo (the second carrier aggregator): None points at the sandbox's /shippo; the token is a
    # `shippo_live_...`/`shippo_test_...` API token; the webhook secret signs `Shippo-Auth-Signature`.
    shippo_base_url: str | None = None
    shippo_api_key: SecretStr = SecretStr(DEV_SHIPPO_KEY)
    shippo_webhook_secret: SecretStr = SecretStr(DEV_SHIPPO_WEBHOOK_SECRET)
    sendgrid_base_url: str | None = None
    sendgrid_api_key: SecretStr = SecretStr(DEV_SENDGRID_KEY)
    # The public key (base64 DER, as SendGrid shows it) that verifies SendGrid's signed Event Webhook
    # (POST /webhooks/sendgrid). No default in any environment: the sandbox signs with a new key each run
    # and publishes it at /v3/user/webhooks/event/settings/signed. Unset, the route answers 503.
    sendgrid_webhook_public_key: str | None = None
    shopify_base_url: str | None = None
    shopify_api_key: SecretStr = SecretStr(DEV_SHOPIFY_TOKEN)
    # The secrets Shopify signs each channel's webhooks with (`X-Shopify-Hmac-Sha256`, the app's client
    # secret): a JSON object of channel to secret, e.g. {"shop_us": "shpss_..."}. POST /webhooks/shopify/{channel}
    # checks with the channel's; outside development and test a channel not listed refuses every webhook (503).
    shopify_webhook_secrets: SecretStr = SecretStr("")
    mail_from: str = "orders@omniroute.example"
    # Twilio (SMS to customers who asked for it): None points at the sandbox's /twilio. The account SID is
    # `AC` and 32 hex digits; the sender a phone number in E.164 or a Messaging Service SID (`MG…`).
    # Outside development and test SMS goes out only once a URL, account or token is set.
    twilio_base_url: str | None = None
    twilio_account_sid: str = DEV_TWILIO_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(DEV_TWILIO_AUTH_TOKEN)
    twilio_from: str = DEV_TWILIO_FROM
    # At most this many messages of one kind to one recipient within an hour; more are suppressed.
    notify_per_recipient_per_hour: int = Field(default=10, ge=1)
    shipbob_base_url: str | None = None
    shipbob_api_key: SecretStr = SecretStr(DEV_SHIPBOB_KEY)
    # The node in our network that the ShipBob 3PL stands for; its inventory sync is scheduled when set.
    shipbob_node_id: str | None = None
    # The name, in the partner secrets, of the secret ShipBob signs its webhooks with (Standard Webhooks,
    # `whsec_...`); the gateway verifies POST /webhooks/shipbob with it.
    shipbob_webhook_secret_ref: str = "shipbob-webhooks"
    # Where the ShipBob sandbox sends its webhooks; None: this gateway's /webhooks/shipbob.
    shipbob_webhook_url: str | None = None
    # How long the ShipBob sandbox takes to ship an order (the demo's 3PL); empty: only when a test says.
    shipbob_sandbox_ship_after_seconds: float | None = Field(default=2.0, ge=0)
    # Partners' secrets, named by the nodes that use them (`hand_off.secret_ref`, `provider.credentials_ref`,
    # `provider.webhook_secret_ref`):
    # a JSON object of name to secret, e.g. {"wms-chi": "whsec_...", "vendor-acme": "..."}. In development
    # and test a name not listed resolves to a published dev secret (dev_partner_secret(name)).
    partner_secrets: SecretStr = SecretStr("")
    # Channels whose inventory sync every worker starts at start-up unless it already runs: a JSON list
    # of ChannelSyncConfig objects, e.g. [{"channel": "shop", "locations": {"dc-1": 1}, "items": {"SKU-1": 2}}].
    channel_syncs: Annotated[list[ChannelSyncConfig], NoDecode] = Field(default_factory=list)
    # Shopify channels whose fulfilments (carrier, tracking) and cancels every worker writes back to the shop
    # (docs/channels-shopify.md): a JSON list of ChannelWritebackConfig objects, e.g. [{"channel": "shop_us",
    # "poll_seconds": 5}] (optional "shop_url", "token_ref" naming a partner secret, "notify_customer").
    shopify_writebacks: Annotated[list[ChannelWritebackConfig], NoDecode] = Field(default_factory=list)

    # Workflow payload encryption (omniroute/config/codec.py, docs/operations.md): a JSON object of key id to
    # base64 AES-256 key, and the id that encrypts (optional with one key). Every listed key decrypts. Unset in
    # development and test: the published dev key; refused unset outside them.
    codec_keys: SecretStr = SecretStr("")
    codec_active_key: str | None = None
    # Origins allowed to call the gateway's /codec endpoints (the Temporal UI, from the browser); empty: the
    # UI at ui_url, as both 127.0.0.1 and localhost.
    codec_ui_origins: list[str] = Field(default_factory=list)

    # Traces: "none", "console" (stderr) or "otlp" (OTLP/HTTP to otel_endpoint, e.g. a collector).
    otel_traces: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str = "http://127.0.0.1:4318/v1/traces"

    # Policies
    return_window_days: int = Field(default=30, ge=0)
    rma_label_expiry_days: int = Field(default=30, ge=1)
    reservation_ttl_hours: int = Field(default=72, ge=1)
    reservation_sweep_minutes: int = Field(default=5, ge=1)
    # How often the look-ahead's stock prices are recomputed (runs do nothing unless the cost model turns it on).
    lookahead_refresh_minutes: int = Field(default=30, ge=1)
    # How often a release wave re-plans the orders waiting to be released (when the cost model has waves).
    wave_minutes: int = Field(default=10, ge=1)
    # How often orders waiting on backorder are checked for stock that has come in.
    backorder_sweep_minutes: int = Field(default=5, ge=1)
    # Events out (docs/events.md): how often the dispatcher fans new events out and starts their deliveries
    # (the latency from a state change to its first attempt), and the seconds to wait before each retry of a
    # delivery (a JSON list; unset: Standard Webhooks' schedule, about 3 days).
    events_dispatch_seconds: float = Field(default=2.0, ge=0.1, le=3600)
    events_retry_waits: list[Annotated[float, Field(gt=0, le=7 * 86400)]] | None = Field(
        default=None, min_length=1, max_length=50)
    # Customer messages whose send failed are sent again by the `message-retry` schedule, every this many
    # seconds: the first time `message_retry_first_seconds` after the failure, then after a wait as long
    # as the message is old (doubling), at most `message_retry_longest_wait_seconds`; abandoned once it is
    # `message_retry_give_up_hours` old (docs/notifications.md).
    message_retry_every_seconds: int = Field(default=60, ge=1)
    message_retry_first_seconds: int = Field(default=300, ge=1)
    message_retry_longest_wait_seconds: int = Field(default=3600, ge=1)
    message_retry_give_up_hours: float = Field(default=24.0, gt=0)

    # Worker sizing (2 cores by default)
    worker_max_cached_workflows: int = 1000
    worker_max_concurrent_activities: int = 16
    worker_max_concurrent_workflow_tasks: int = 8

    def partner_secret(self, name: str) -> str:
        """The secret a node names; outside development and test an unlisted name is an error naming it."""
        raw = self.partner_secrets.get_secret_value().strip()
        try:
            secrets = json.loads(raw) if raw else {}
        except json.JSONDecodeError as err:
            raise ValueError(f"OMNIROUTE_PARTNER_SECRETS must be a JSON object of name to secret: {err}") from err
        if not isinstance(secrets, dict):
            raise ValueError("OMNIROUTE_PARTNER_SECRETS must be a JSON object of name to secret")
        if name in secrets:
            return str(secrets[name])
        if self.environment in ("development", "test"):
            return dev_partner_secret(name)
        raise ValueError(f"no secret named {name!r} in OMNIROUTE_PARTNER_SECRETS")

    def shopify_webhook_secret(self, channel: str) -> str | None:
        """The secret `channel`'s Shopify webhooks are signed with; None when there is none to trust: the
        channel is not listed outside development and test (where an unlisted channel has the published
        dev_shopify_webhook_secret), or it is listed with that published secret."""
        secret = _shopify_webhook_secrets(self.shopify_webhook_secrets).get(channel)
        development = self.environment in ("development", "test")
        if secret is None:
            return dev_shopify_webhook_secret(channel) if development else None
        if not development and secret == dev_shopify_webhook_secret(channel):
            return None
        return secret

    @model_validator(mode="after")
    def _shopify_webhook_secrets_usable(self) -> Settings:
        # After validation, so that the error shows the settings (secrets masked), not the raw text.
        _shopify_webhook_secrets(self.shopify_webhook_secrets)  # a ValueError naming the variable
        return self

    @field_validator("twilio_account_sid")
    @classmethod
    def _twilio_account_sid(cls, value: str) -> str:
        if not _TWILIO_ACCOUNT_SID.match(value):
            raise ValueError("OMNIROUTE_TWILIO_ACCOUNT_SID must be 'AC' followed by 32 hex digits")
        return value

    @field_validator("twilio_from")
    @classmethod
    def _twilio_sender(cls, value: str) -> str:
        if not _TWILIO_SENDER.match(value):
            raise ValueError("OMNIROUTE_TWILIO_FROM must be an E.164 number (+14155550123) or a Messaging "
                             "Service SID ('MG' and 32 hex digits)")
        return value

    @property
    def uses_twilio(self) -> bool:
        """Whether SMS goes out: always in development and test (to the sandbox), elsewhere once Twilio is
        configured."""
        return self.environment in ("development", "test") or (
            self.twilio_base_url is not None or self.twilio_account_sid != DEV_TWILIO_ACCOUNT_SID
            or self.twilio_auth_token.get_secret_value() != DEV_TWILIO_AUTH_TOKEN)

    @field_validator("channel_syncs", mode="before")
    @classmethod
    def _channel_syncs_from_json(cls, value: object) -> object:
        """The environment gives a JSON text; Python callers may pass the list itself."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return []
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"must be a JSON list of channel sync configurations: {err}") from err

    @field_validator("shopify_writebacks", mode="before")
    @classmethod
    def _writebacks_from_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return []
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"must be a JSON list of Shopify write-back configurations: {err}") from err

    @field_validator("shopify_writebacks")
    @classmethod
    def _one_writeback_per_channel(cls, writebacks: list[ChannelWritebackConfig]) -> list[ChannelWritebackConfig]:
        seen: set[str] = set()
        for index, writeback in enumerate(writebacks):
            if writeback.channel in seen:
                raise ValueError(f"item {index} names channel {writeback.channel!r} again: one write-back per channel")
            seen.add(writeback.channel)
        return writebacks

    def shopify_shop(self, config: ChannelWritebackConfig) -> tuple[str, str]:
        """The shop URL and access token a channel's write-back uses: its own, else the deployment's."""
        token = (self.partner_secret(config.token_ref) if config.token_ref is not None
                 else self.shopify_api_key.get_secret_value())
        return (config.shop_url or self.shopify_url), token

    @field_validator("channel_syncs")
    @classmethod
    def _one_sync_per_channel(cls, syncs: list[ChannelSyncConfig]) -> list[ChannelSyncConfig]:
        # A channel's sync has one workflow id: a second entry for it could never start.
        seen: set[str] = set()
        for index, sync in enumerate(syncs):
            if sync.channel in seen:
                raise ValueError(f"item {index} names channel {sync.channel!r} again: one sync per channel")
            seen.add(sync.channel)
        return syncs

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments, then the environment, then .env, then the files in OMNIROUTE_SECRETS_DIR."""
        directory = os.environ.get("OMNIROUTE_SECRETS_DIR")
        if directory:
            file_secret_settings = SecretsSettingsSource(settings_cls, secrets_dir=directory)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _real_database_outside_development(self) -> Settings:
        """Every app process uses the app DB: staging and production refuse to fall back to a SQLite file
        inside the process's data directory, which a container would lose."""
        if self.environment not in ("development", "test") and self.database_url is None:
            raise ValueError(f"OMNIROUTE_DATABASE_URL must be set {self._outside_development}: left unset it "
                             "is a SQLite file in the process's data directory")
        return self

    @model_validator(mode="after")
    def _message_retry_waits_in_order(self) -> Settings:
        if self.message_retry_longest_wait_seconds < self.message_retry_first_seconds:
            raise ValueError("OMNIROUTE_MESSAGE_RETRY_LONGEST_WAIT_SECONDS must be at least "
                             "OMNIROUTE_MESSAGE_RETRY_FIRST_SECONDS")
        return self

    @model_validator(mode="after")
    def _client_certificate_with_its_key(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("OMNIROUTE_TEMPORAL_TLS_CERT and OMNIROUTE_TEMPORAL_TLS_KEY go together: "
                             "a client certificate needs its private key")
        return self

    def require_providers(self) -> None:
        """For the processes that call providers (the worker; the gateway and migrations call none, and get
        no provider keys). Staging and production refuse the sandboxes' keys, and provider URLs left to
        default to the local sandboxes, for every provider the deployment uses: carrier and e-mail
        always, Stripe and Shippo (and Shippo's webhook secret) when their URL or key is set, Shopify
        when a Shopify URL is set, ShipBob when a 3PL node or URL is set. Raises ValueError naming the
        variable to set. Twilio, once it is configured at all, needs all four of its variables."""
        if self.environment in ("development", "test"):
            return
        uses_shipbob = self.shipbob_node_id is not None or self.shipbob_base_url is not None
        # No workflow step calls Stripe yet: it counts as used once its URL or key is set.
        uses_stripe = (self.stripe_base_url is not None
                       or self.stripe_api_key.get_secret_value() != DEV_STRIPE_KEY)
        # No workflow step calls Shippo yet either: used once its URL or token is set.
        uses_shippo = (self.shippo_base_url is not None
                       or self.shippo_api_key.get_secret_value() != DEV_SHIPPO_KEY)
        for name, key, sandbox_key, url, used in (
            ("easypost", self.easypost_api_key, DEV_EASYPOST_KEY, self.easypost_base_url, True),
            ("stripe", self.stripe_api_key, DEV_STRIPE_KEY, self.stripe_base_url, uses_stripe),
            ("shippo", self.shippo_api_key, DEV_SHIPPO_KEY, self.shippo_base_url, uses_shippo),
            ("sendgrid", self.sendgrid_api_key, DEV_SENDGRID_KEY, self.sendgrid_base_url, True),
            ("shopify", self.shopify_api_key, DEV_SHOPIFY_TOKEN, self.shopify_base_url,
             self.shopify_base_url is not None),
            ("shipbob", self.shipbob_api_key, DEV_SHIPBOB_KEY, self.shipbob_base_url, uses_shipbob),
        ):
            if not used:
                continue
            if key.get_secret_value().strip() in ("", sandbox_key):
                raise ValueError(f"OMNIROUTE_{name.upper()}_API_KEY must be set {self._outside_development}: "
                                 "it is empty or the sandbox key")
            if url is None:
                raise ValueError(f"OMNIROUTE_{name.upper()}_BASE_URL must be set {self._outside_development}: "
                                 "left unset it points at the local sandbox")
        if self.uses_twilio:
            self._require_twilio()
        self._require_writeback_shops()
        if uses_shippo and self.shippo_webhook_secret.get_secret_value().strip() in ("", DEV_SHIPPO_WEBHOOK_SECRET):
            raise ValueError(f"OMNIROUTE_SHIPPO_WEBHOOK_SECRET must be set {self._outside_development}: "
                             "it is empty or the development secret")

    def _require_writeback_shops(self) -> None:
        """Each written-back channel needs a real shop: its own URL and token, or the deployment's."""
        for index, config in enumerate(self.shopify_writebacks):
            where = f"OMNIROUTE_SHOPIFY_WRITEBACKS[{index}] (channel {config.channel!r})"
            if config.shop_url is None and self.shopify_base_url is None:
                raise ValueError(f"{where}: set its shop_url or OMNIROUTE_SHOPIFY_BASE_URL "
                                 f"{self._outside_development}: left unset it points at the local sandbox")
            if config.token_ref is not None:
                try:
                    self.partner_secret(config.token_ref)
                except ValueError as err:
                    raise ValueError(f"{where}: token_ref: {err}") from err
            elif self.shopify_api_key.get_secret_value().strip() in ("", DEV_SHOPIFY_TOKEN):
                raise ValueError(f"{where}: set its token_ref or OMNIROUTE_SHOPIFY_API_KEY "
                                 f"{self._outside_development}: it is empty or the sandbox token")

    def _require_twilio(self) -> None:
        token = self.twilio_auth_token.get_secret_value().strip()
        for name, bad in (("ACCOUNT_SID", self.twilio_account_sid == DEV_TWILIO_ACCOUNT_SID),
                          ("AUTH_TOKEN", token in ("", DEV_TWILIO_AUTH_TOKEN)),
                          ("BASE_URL", self.twilio_base_url is None),
                          ("FROM", self.twilio_from == DEV_TWILIO_FROM)):
            if bad:
                raise ValueError(f"OMNIROUTE_TWILIO_{name} must be set {self._outside_development}: it is empty or "
                                 "the sandbox's, or left unset it points at the local sandbox")

    @property
    def _outside_development(self) -> str:
        return f"outside development and test (OMNIROUTE_ENVIRONMENT={self.environment})"

    @model_validator(mode="after")
    def _codec_keys_usable(self) -> Settings:
        """Keys that are given must be usable, in every process. Keys that are missing are refused
        outside development and test by the processes that talk to Temporal (the worker, the gateway,
        the SDK's users), when they build the codec (`codec_key_ring`): migrations need none."""
        if self.codec_keys.get_secret_value():
            _ = self.codec_key_ring  # raises ValueError naming the variable, never quoting a key
        return self

    @property
    def codec_key_ring(self) -> KeyRing:
        return key_ring(self.codec_keys.get_secret_value(), self.codec_active_key,
                        development=self.environment in ("development", "test"))

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'omniroute.db').resolve()}"

    @property
    def sandbox_state_file(self) -> Path:
        return self.sandbox_state_path or self.data_dir / "sandboxes.db"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def easypost_url(self) -> str:
        return self.easypost_base_url or f"{self.sandbox_url}/easypost/v2"

    @property
    def stripe_url(self) -> str:
        return self.stripe_base_url or f"{self.sandbox_url}/stripe"

    @property
    def shippo_url(self) -> str:
        return self.shippo_base_url or f"{self.sandbox_url}/shippo"

    @property
    def sendgrid_url(self) -> str:
        return self.sendgrid_base_url or f"{self.sandbox_url}/sendgrid"

    @property
    def twilio_url(self) -> str:
        return self.twilio_base_url or f"{self.sandbox_url}/twilio"

    @property
    def shopify_url(self) -> str:
        return self.shopify_base_url or f"{self.sandbox_url}/shopify"

    @property
    def shipbob_url(self) -> str:
        return self.shipbob_base_url or f"{self.sandbox_url}/shipbob"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def shipbob_webhook_target(self) -> str:
        return self.shipbob_webhook_url or f"{self.gateway_url}/webhooks/shipbob"

    @property
    def ui_url(self) -> str:
        if self.temporal_ui_url:
            return self.temporal_ui_url
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"


def _shopify_webhook_secrets(value: SecretStr) -> dict[str, str]:
    """OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS as channel to secret; a ValueError naming the variable (and the
    channel, never the secret) when it is not a JSON object of channel names to non-empty strings."""
    raw = value.get_secret_value().strip()
    if not raw:
        return {}
    try:
        secrets = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"{_SHOPIFY_SECRETS_VARIABLE} must be a JSON object of channel to secret: "
                         f"not JSON ({err.msg} at position {err.pos})") from None
    if not isinstance(secrets, dict):
        raise ValueError(f"{_SHOPIFY_SECRETS_VARIABLE} must be a JSON object of channel to secret")
    for channel, secret in secrets.items():
        if not _CHANNEL_NAME.match(channel):
            raise ValueError(f"{_SHOPIFY_SECRETS_VARIABLE}: {channel[:40]!r} is not a channel name "
                             "(lower-case letters, digits and _, at most 32)")
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError(f"{_SHOPIFY_SECRETS_VARIABLE}: the secret of channel {channel!r} must be a "
                             "non-empty string")
    return secrets
