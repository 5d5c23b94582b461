"""The bought label's URL and format, read from the EasyPost sandbox's wire answer, agree with what
EasyPost's own Python SDK reads from the same JSON (`postage_label.label_url` / `label_file_type`)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from easypost.easypost_object import convert_to_easypost_object

from integrations.carriers.easypost import label_format, parse_shipment
from tests.fixtures.sandbox import RunningSandbox

pytestmark = pytest.mark.conformance

TO = {"name": "Ada", "street1": "179 N Harbor Dr", "city": "Redondo Beach", "state": "CA", "zip": "90277",
      "country": "US"}
FROM = {"name": "DC", "street1": "2200 S Halsted St", "city": "Chicago", "state": "IL", "zip": "60608",
        "country": "US"}


@pytest.mark.parametrize(("asked", "expected"), [(None, "PNG"), ("PDF", "PDF"), ("ZPL", "ZPL")])
def test_a_bought_label_has_the_url_and_format_the_sdk_reads(sandbox: RunningSandbox, asked: str | None,
                                                             expected: str) -> None:
    auth = {"Authorization": f"Bearer {sandbox.easypost_key}"}
    options = {"label_format": asked} if asked else {}
    with httpx.Client(base_url=sandbox.easypost_url, headers=auth, timeout=10) as http:
        created = http.post("/shipments", json={"shipment": {
            "to_address": TO, "from_address": FROM, "parcel": {"length": 10, "width": 8, "height": 4, "weight": 20},
            "reference": f"fmt-{uuid.uuid4().hex[:10]}", "options": options}}).json()
        bought = http.post(f"/shipments/{created['id']}/buy", json={"rate": {"id": created["rates"][0]["id"]}}).json()

    oracle = convert_to_easypost_object(bought)
    ours = parse_shipment(bought)
    assert ours.label_url == oracle.postage_label.label_url
    assert ours.label_format == label_format(oracle.postage_label.label_file_type) == expected
    label = ours.label()
    assert label is not None and (label.label_url, label.label_format) == (ours.label_url, expected)


def test_label_file_types_name_their_format() -> None:
    assert [label_format(t) for t in ("image/png", "application/pdf", "application/zpl", "PDF", None)] == [
        "PNG", "PDF", "ZPL", "PDF", None]
