"""The composition root: settings → client → integrations → activities → Worker."""
