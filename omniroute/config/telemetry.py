"""OpenTelemetry traces: one tracer provider per process, chosen by settings.

The Temporal client carries `TracingInterceptor`, so a span started where an order is placed (the
gateway, a channel app) continues through the workflow, its activities and the provider calls.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from omniroute.config.settings import Settings


def build_tracer_provider(service: str, exporter: SpanExporter | None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def configure_tracing(settings: Settings, service: str) -> TracerProvider | None:
    """Install the process-wide tracer provider that settings ask for; None when traces are off."""
    if settings.otel_traces == "none":
        return None
    exporter: SpanExporter
    if settings.otel_traces == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint)
    provider = build_tracer_provider(service, exporter)
    trace.set_tracer_provider(provider)
    return provider
