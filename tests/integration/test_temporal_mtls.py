"""Mutual TLS to Temporal, end to end: a TLS front that demands a client certificate from our CA (as the
frontend does under deploy/compose.mtls.yml) stands before the dev server; the worker's connection and the
SDK's, built from OMNIROUTE_TEMPORAL_TLS_* settings, get through it, and a client without a certificate
does not. Certificates are made here with the openssl command."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path

import pytest
from temporalio.client import TLSConfig
from temporalio.testing import WorkflowEnvironment

from omniroute.client import OmnirouteClient, TemporalUnavailableError
from omniroute.config.settings import Settings
from omniroute.config.temporal_tls import temporal_tls
from workers.main import connect_client

SERVER_NAME = "temporal.test"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(folder: Path, name: str, usage: str, alt_name: str | None = None) -> None:
    """A P-256 key and a certificate for `name`, signed by the CA in `folder`."""
    extensions = folder / f"{name}.ext"
    lines = ["basicConstraints=CA:FALSE", f"extendedKeyUsage={usage}"]
    if alt_name:
        lines.append(f"subjectAltName=DNS:{alt_name}")
    extensions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "1", "-extfile", extensions.name, cwd=folder)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.fail("the mTLS test makes its certificates with the openssl command, which is not installed",
                    pytrace=False)
    folder = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=omniroute test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder)
    issue(folder, "frontend", "serverAuth", SERVER_NAME)
    issue(folder, "worker", "clientAuth")
    return folder


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def mtls_front(temporal_env: WorkflowEnvironment, certificates: Path) -> AsyncIterator[str]:
    """A TLS listener that requires a client certificate from the CA and passes the gRPC stream (HTTP/2)
    on to the dev server; its address."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=certificates / "ca.pem")
    context.load_cert_chain(certificates / "frontend.pem", certificates / "frontend.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = temporal_env.client.service_client.config.target_host.rsplit(":", 1)
    open_streams: set[asyncio.StreamWriter] = set()

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        open_streams.update((client_writer, server_writer))
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer),
                             return_exceptions=True)

    front = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{front.sockets[0].getsockname()[1]}"
    finally:
        front.close()
        for stream in open_streams:  # the clients keep their connections: end them so the front can close
            stream.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(front.wait_closed(), 5)


def mtls_settings(certificates: Path, address: str) -> Settings:
    return Settings(_env_file=None, temporal_address=address, temporal_tls_ca=certificates / "ca.pem",
                    temporal_tls_cert=certificates / "worker.pem", temporal_tls_key=certificates / "worker.key",
                    temporal_tls_server_name=SERVER_NAME)


async def test_the_worker_connects_with_its_client_certificate(mtls_front: str, certificates: Path) -> None:
    client = await connect_client(mtls_settings(certificates, mtls_front))

    assert await client.service_client.check_health()


async def test_an_sdk_channel_connects_with_the_tls_config_from_settings(mtls_front: str,
                                                                        certificates: Path) -> None:
    sdk = await OmnirouteClient.connect(mtls_front, tls=temporal_tls(mtls_settings(certificates, mtls_front)))

    assert await sdk.temporal.service_client.check_health()


async def test_a_client_without_a_certificate_is_refused(mtls_front: str, certificates: Path) -> None:
    without_certificate = TLSConfig(server_root_ca_cert=(certificates / "ca.pem").read_bytes(), domain=SERVER_NAME)

    with pytest.raises(TemporalUnavailableError):
        await OmnirouteClient.connect(mtls_front, tls=without_certificate)
