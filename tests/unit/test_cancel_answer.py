"""A node's answer to a cancel request is one enum for every kind that asks (a WMS by webhook, a
dropship vendor's PO cancel): what the fulfilment acts on, and the dropship answers recorded under
their earlier names still read back, so running workflows replay their activity results."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from models.dropship import PurchaseOrderCancel
from models.fulfilment import CancelAnswer
from models.handoff import WebhookDelivered


@pytest.mark.parametrize(("answer", "decision"), [
    (CancelAnswer.CANCELLED, True), (CancelAnswer.REFUSED, False), (CancelAnswer.LATER, None)])
def test_an_answer_decides_yes_no_or_later(answer: CancelAnswer, decision: bool | None) -> None:
    assert answer.decision is decision


@pytest.mark.parametrize(("recorded", "read"), [
    ("refused_shipped", CancelAnswer.REFUSED), ("pending", CancelAnswer.LATER), ("cancelled", CancelAnswer.CANCELLED)])
def test_a_po_cancel_recorded_under_the_earlier_names_reads_back(recorded: str, read: CancelAnswer) -> None:
    payload = Payload(metadata={"encoding": b"json/plain"},
                      data=json.dumps({"po_number": "S1", "answer": recorded}).encode())

    [decoded] = pydantic_data_converter.payload_converter.from_payloads([payload], [PurchaseOrderCancel])

    assert decoded.answer is read


def test_a_webhook_answer_round_trips_and_an_unknown_one_is_refused() -> None:
    delivered = WebhookDelivered(status=202, answer=CancelAnswer.LATER)
    [payload] = pydantic_data_converter.payload_converter.to_payloads([delivered])
    assert json.loads(payload.data) == {"status": 202, "answer": "later"}
    with pytest.raises(ValidationError, match="answer"):
        WebhookDelivered.model_validate({"status": 200, "answer": "maybe"})
