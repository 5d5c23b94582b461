"""Omniroute's domain types: pure pydantic, no I/O, no Temporal."""
