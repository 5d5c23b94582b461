"""TLS to the Temporal frontend, from settings: what the worker, the gateway and the tools pass to
`Client.connect(tls=...)` (see docs/security.md for the server's side)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import TLSConfig

from omniroute.config.settings import Settings


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """False (plaintext) unless a TLS setting is given. With OMNIROUTE_TEMPORAL_TLS_CA the server's
    certificate is checked against that CA (else the system's roots); with OMNIROUTE_TEMPORAL_TLS_CERT and
    _KEY this process presents a client certificate (mTLS); OMNIROUTE_TEMPORAL_TLS_SERVER_NAME is the name
    the server's certificate must carry when it is not the host of the address. The files are read now:
    a missing or unreadable one fails here, naming it, rather than at the first call."""
    if (settings.temporal_tls_ca is None and settings.temporal_tls_cert is None
            and settings.temporal_tls_server_name is None):
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca),
        client_cert=_read(settings.temporal_tls_cert),
        client_private_key=_read(settings.temporal_tls_key),
        domain=settings.temporal_tls_server_name,
    )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()
