"""3PL integrations: the ShipBob-format client and its sandbox (whose default key is in
models.sandbox_credentials)."""
