"""Carrier integrations: a client for each aggregator's wire format and a sandbox that speaks it."""
