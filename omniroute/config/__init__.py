"""Configuration shared by every process: `settings` (one pydantic-settings object read from OMNIROUTE_*
variables) and `telemetry` (OpenTelemetry tracing from those settings). Low in the layers: models only."""
