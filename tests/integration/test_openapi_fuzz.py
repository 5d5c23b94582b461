"""Schemathesis against the gateway's own OpenAPI, in process: no 5xx and no response outside its schema.

The gateway runs on a migrated SQLite app DB with a Temporal client nobody answers, so the order and
return routes answer 503 (`TemporalUnavailableError`): that is the response they declare for Temporal
being out of reach, and the only 5xx allowed here. Examples are bounded so the module stays near a
minute on two cores; the stateful phase follows the links schemathesis infers between operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.types import ASGIApp, Receive, Scope, Send

from store import Store
from tests.fixtures.db import a_node
from tests.fixtures.gateway import ADMIN_TOKEN, gateway_app, unreachable_temporal

STATELESS_EXAMPLES = 50  # per operation: with ~100 operations, the module's largest cost
# A node that exists, so that half the cases naming a node in their path reach the store's writes
# (a random id only ever meets the 404 for an unknown node).
KNOWN_NODE = "fuzz-dc"
STATEFUL_EXAMPLES = 200
FUZZ_SETTINGS = settings(
    max_examples=STATELESS_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@dataclass
class RequestCounter:
    """ASGI wrapper counting the HTTP requests the fuzzer sends (for the figure in the test output).
    Every request carries the admin key, so that the fuzzer reaches the routes' own checks rather than
    the 401 (tests/integration/test_gateway_auth.py covers the keys)."""

    app: ASGIApp
    requests: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
            headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]}
        await self.app(scope, receive, send)


def no_server_error_but_declared_unavailable(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Any 5xx fails, except a 503 from an operation that declares it (Temporal out of reach)."""
    declared = case.operation.definition.raw.get("responses", {})
    if response.status_code == 503 and "503" in declared:
        return None
    assert response.status_code < 500, f"{case.method} {case.formatted_path} answered {response.status_code}"
    return None


GATEWAY_CHECKS = [no_server_error_but_declared_unavailable, response_schema_conformance]


@pytest.fixture
async def fuzzed_gateway(sqlite_store: Store) -> Iterator[RequestCounter]:
    client = await unreachable_temporal()
    sqlite_store.upsert_node(a_node(KNOWN_NODE))
    # No rate limit to meet: a 429 under a fast fuzzer would make the runs differ.
    yield RequestCounter(gateway_app(sqlite_store, client, rate_limit_per_second=1e9, rate_limit_burst=10**9))


@pytest.fixture
def gateway_schema(fuzzed_gateway: RequestCounter) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_gateway)


def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    gateway_schema: schemathesis.BaseSchema, fuzzed_gateway: RequestCounter
) -> None:
    operations = [result.ok() for result in gateway_schema.get_all_operations()]
    for operation in operations:

        valid_or_not = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @given(case=valid_or_not, at_known_node=st.booleans())
        @FUZZ_SETTINGS
        def call_and_validate(case: Case, at_known_node: bool) -> None:
            if at_known_node and "node_id" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "node_id": KNOWN_NODE}
            case.call_and_validate(checks=GATEWAY_CHECKS)

        call_and_validate()
    print(f"schemathesis: {fuzzed_gateway.requests} requests over {len(operations)} operations")
    assert fuzzed_gateway.requests >= len(operations)


def test_no_sequence_of_operations_answers_a_server_error_or_breaks_a_schema(
    gateway_schema: schemathesis.BaseSchema, fuzzed_gateway: RequestCounter
) -> None:
    base = gateway_schema.as_state_machine()

    class GatewayStateMachine(base):  # type: ignore[valid-type,misc]
        def validate_response(self, response: Response, case: Case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=GATEWAY_CHECKS)

    GatewayStateMachine.run(
        settings=settings(FUZZ_SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=6)
    )
    print(f"schemathesis stateful: {fuzzed_gateway.requests} requests")
    assert fuzzed_gateway.requests > STATEFUL_EXAMPLES
