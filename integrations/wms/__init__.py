"""A warehouse management system that takes Omniroute's signed hand-off webhooks (a sandbox)."""
