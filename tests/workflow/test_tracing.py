"""Traces follow an order from the client that placed it through the workflow and its activities."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment

from models.names import order_workflow_id
from omniroute.client import OmnirouteClient
from omniroute.config.settings import Settings
from omniroute.config.telemetry import build_tracer_provider, configure_tracing
from store import Store
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import DATA_CONVERTER, worker_settings
from workers.main import running_worker


async def test_one_trace_spans_the_start_the_workflow_and_its_activities(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox) -> None:
    spans = InMemorySpanExporter()
    provider = build_tracer_provider("omniroute-test", None)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    traced = await Client.connect(temporal_env.client.service_client.config.target_host,
                                  data_converter=DATA_CONVERTER,
                                  interceptors=[TracingInterceptor(provider.get_tracer("omniroute-test"))])
    settings = worker_settings(sandbox)
    add_node(sqlite_store, "dc-il", "60106")
    order = an_order(("SKU-T", 1))

    async with running_worker(settings, client=traced, store=sqlite_store):
        await OmnirouteClient(traced, task_queue=settings.task_queue).place_order(order)
        handle = traced.get_workflow_handle(order_workflow_id(order.order_id))
        await handle.result()  # nothing in stock: the order is cancelled at once

    names = {span.name for span in spans.get_finished_spans()}
    assert {"StartWorkflow:OrderWorkflow", "RunWorkflow:OrderWorkflow"} <= names
    assert any(name.startswith("StartActivity:") or name.startswith("RunActivity:") for name in names)
    assert len({span.context.trace_id for span in spans.get_finished_spans()}) == 1


def test_traces_are_off_unless_settings_ask_for_them() -> None:
    assert configure_tracing(Settings(otel_traces="none"), "x") is None
