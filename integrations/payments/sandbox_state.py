"""The Stripe sandbox's PaymentIntents, charges and refunds, behind one lock, in Stripe's JSON.

Every change returns the answer and the events it caused (`(type, object)` pairs) for the caller to
send as webhooks; every change is written to the sandbox store before it is made in memory.
Rules kept: an authorisation holds `amount_capturable` until it is captured (once, or several times
with multicapture and `final_capture=false`), cancelled, or expires; a capture is at most what is
capturable; refunds add up to at most what was captured.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from integrations.payments.sandbox_cards import (
    APPROVED,
    BRANDS,
    DECLINES,
    StripeApiError,
    boolean_param,
    choice_param,
    integer_param,
    invalid,
    metadata_param,
    no_such,
    unexpected_state,
)
from integrations.sandbox_store import SandboxStore

_INTENTS, _CHARGES, _REFUNDS = "stripe.payment_intent", "stripe.charge", "stripe.refund"
CANCELLABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
               "processing")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
Events = list[tuple[str, dict[str, Any]]]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"


class StripeSandboxState:
    def __init__(self, store: SandboxStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store or SandboxStore(None)
        self._intents: dict[str, dict[str, Any]] = dict(self._store.load(_INTENTS))
        self._charges: dict[str, dict[str, Any]] = dict(self._store.load(_CHARGES))
        self._refunds: dict[str, dict[str, Any]] = dict(self._store.load(_REFUNDS))

    # -- PaymentIntents ----------------------------------------------------------------------------

    def create_intent(self, params: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        amount = integer_param(params, "amount", required=True, minimum=50)
        currency = params.get("currency")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise invalid("Missing or invalid currency: a three-letter ISO code.", param="currency",
                          code="parameter_missing" if currency is None else None)
        capture_method = choice_param(params, "capture_method", ("automatic", "automatic_async", "manual"),
                                      "automatic_async")
        confirm = boolean_param(params, "confirm", False)
        payment_method = params.get("payment_method") or None
        if confirm and payment_method is None:
            raise invalid("You must provide a payment_method to confirm this PaymentIntent.",
                          param="payment_method", code="parameter_missing")
        card_options = ((params.get("payment_method_options") or {}).get("card") or {})
        multicapture = choice_param(card_options, "request_multicapture", ("if_available", "never"), "never")
        intent_id = new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": 0, "capture_method": capture_method, "confirmation_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}", "created": int(time.time()),
            "currency": currency.lower(), "customer": params.get("customer"),
            "description": params.get("description"), "latest_charge": None, "last_payment_error": None,
            "livemode": False, "metadata": metadata_param(params), "next_action": None,
            "payment_method": payment_method, "payment_method_types": ["card"],
            "payment_method_options": {"card": {"request_multicapture": multicapture}},
            "canceled_at": None, "cancellation_reason": None, "receipt_email": params.get("receipt_email"),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
        with self._lock:
            if payment_method is not None and payment_method not in APPROVED and payment_method not in DECLINES:
                raise no_such("PaymentMethod", payment_method, "payment_method")
            if not confirm:
                self._save(intent)
                return dict(intent), [("payment_intent.created", dict(intent))]
            return self._confirm(intent, str(payment_method), [("payment_intent.created", dict(intent))])

    def confirm_intent(self, intent_id: str, params: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        with self._lock:
            intent = dict(self._intent(intent_id))
            if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
                raise unexpected_state(f"This PaymentIntent's status is {intent['status']}, so it cannot be "
                                       "confirmed.")
            payment_method = params.get("payment_method") or intent["payment_method"]
            if payment_method is None:
                raise invalid("You must provide a payment_method to confirm this PaymentIntent.",
                              param="payment_method", code="parameter_missing")
            if payment_method not in APPROVED and payment_method not in DECLINES:
                raise no_such("PaymentMethod", payment_method, "payment_method")
            return self._confirm(intent, payment_method, [])

    def _confirm(self, intent: dict[str, Any], payment_method: str, events: Events) -> tuple[dict[str, Any], Events]:
        """Authorise `intent` on `payment_method` (under the lock): a hold, a charge, or a 402 decline."""
        charge = self._new_charge(intent, payment_method)
        intent.update(payment_method=payment_method, latest_charge=charge["id"])
        decline = DECLINES.get(payment_method)
        if decline is not None:
            charge.update(status="failed", failure_code=decline.code, failure_message=decline.message,
                          outcome={"type": "issuer_declined", "seller_message": "The bank declined the payment."})
            error = {"type": "card_error", "code": decline.code, "message": decline.message,
                     "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"}}
            if decline.decline_code:
                error["decline_code"] = decline.decline_code
            intent.update(status="requires_payment_method", last_payment_error=error)
            self._save(intent, charge)
            extra = {"charge": charge["id"], "payment_intent": dict(intent),
                     **({"decline_code": decline.decline_code} if decline.decline_code else {})}
            raise StripeApiError(402, "card_error", decline.message, code=decline.code, extra=extra,
                                 events=[*events, ("payment_intent.payment_failed", dict(intent))])
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"], last_payment_error=None)
            events.append(("payment_intent.amount_capturable_updated", dict(intent)))
        else:
            intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
            charge.update(captured=True, amount_captured=intent["amount"])
            events.append(("payment_intent.succeeded", dict(intent)))
        self._save(intent, charge)
        return dict(intent), events

    def get_intent(self, intent_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._intent(intent_id))

    def capture(self, intent_id: str, params: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        amount = integer_param(params, "amount_to_capture")
        final = boolean_param(params, "final_capture", True)
        with self._lock:
            intent = dict(self._intent(intent_id))
            if intent["status"] != "requires_capture":
                raise unexpected_state(
                    f"This PaymentIntent could not be captured because it has a status of {intent['status']}. "
                    "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.")
            multicapture = intent["payment_method_options"]["card"]["request_multicapture"] == "if_available"
            if not final and not multicapture:
                raise invalid("final_capture=false needs multicapture: create the PaymentIntent with "
                              "payment_method_options[card][request_multicapture]=if_available.",
                              param="final_capture")
            amount = intent["amount_capturable"] if amount is None else amount
            if amount > intent["amount_capturable"]:
                raise invalid(f"The amount to capture ({amount}) is greater than the amount capturable "
                              f"({intent['amount_capturable']}).", param="amount_to_capture",
                              code="amount_too_large")
            charge = dict(self._charges[intent["latest_charge"]])
            charge.update(captured=True, amount_captured=charge["amount_captured"] + amount)
            capturable = 0 if final else intent["amount_capturable"] - amount
            intent.update(amount_received=intent["amount_received"] + amount, amount_capturable=capturable,
                          metadata=metadata_param(params, intent["metadata"]))
            if capturable == 0:
                intent["status"] = "succeeded"
                event = "payment_intent.succeeded"
            else:
                event = "payment_intent.amount_capturable_updated"
            self._save(intent, charge)
            return dict(intent), [("charge.captured", dict(charge)), (event, dict(intent))]

    def cancel(self, intent_id: str, params: dict[str, Any], *,
               reason: str | None = None) -> tuple[dict[str, Any], Events]:
        """Cancel at the caller's request, or (`reason="automatic"`) as an expired authorisation."""
        if reason is None:
            reason = choice_param(params, "cancellation_reason", CANCELLATION_REASONS)
        with self._lock:
            intent = dict(self._intent(intent_id))
            if intent["status"] not in CANCELLABLE:
                raise unexpected_state(
                    f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                    f"PaymentIntent with one of the following statuses may be canceled: {', '.join(CANCELLABLE)}.")
            intent.update(status="canceled", cancellation_reason=reason, canceled_at=int(time.time()),
                          amount_capturable=0)
            self._save(intent)
            return dict(intent), [("payment_intent.canceled", dict(intent))]

    def list_intents(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in sorted(self._intents.values(), key=lambda i: i["created"], reverse=True)][:limit]

    def all_intents(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in self._intents.values()]

    # -- charges and refunds -----------------------------------------------------------------------

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None:
                raise no_such("charge", charge_id)
            return dict(charge)

    def refund(self, params: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        amount = integer_param(params, "amount")
        reason = choice_param(params, "reason", REFUND_REASONS)
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if not intent_id and not charge_id:
            raise invalid("One of payment_intent or charge is required.", param="payment_intent",
                          code="parameter_missing")
        with self._lock:
            if intent_id:
                intent = self._intent(intent_id, param="payment_intent")
                charge_id = intent["latest_charge"]
                if intent["status"] != "succeeded" or charge_id is None:
                    raise unexpected_state(f"This PaymentIntent ({intent_id}) does not have a successful charge "
                                           f"to refund: its status is {intent['status']}.", param="payment_intent")
            charge = dict(self._charges.get(str(charge_id)) or {})
            if not charge or not charge["captured"]:
                raise unexpected_state(f"Charge {charge_id} has not been captured.", param="charge",
                                       code="charge_not_refundable")
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining == 0:
                raise unexpected_state(f"Charge {charge_id} has already been refunded.",
                                       code="charge_already_refunded")
            amount = remaining if amount is None else amount
            if amount > remaining:
                raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                              param="amount", code="amount_too_large")
            refund = {"id": new_id("re"), "object": "refund", "amount": amount, "balance_transaction": None,
                      "charge": charge["id"], "created": int(time.time()), "currency": charge["currency"],
                      "metadata": metadata_param(params), "payment_intent": charge["payment_intent"],
                      "reason": reason, "receipt_number": None, "status": "succeeded"}
            charge.update(amount_refunded=charge["amount_refunded"] + amount,
                          refunded=charge["amount_refunded"] + amount == charge["amount_captured"])
            with self._store.transaction():
                self._store.put(_REFUNDS, refund["id"], refund)
                self._save(None, charge)
            self._refunds[refund["id"]] = refund
            return dict(refund), [("refund.created", dict(refund)), ("charge.refunded", dict(charge))]

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        with self._lock:
            refund = self._refunds.get(refund_id)
            if refund is None:
                raise no_such("refund", refund_id)
            return dict(refund)

    def list_refunds(self, intent_id: str | None, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            found = [dict(r) for r in self._refunds.values() if intent_id is None or r["payment_intent"] == intent_id]
        return sorted(found, key=lambda r: r["created"], reverse=True)[:limit]

    # -- helpers (under the lock) ------------------------------------------------------------------

    def _intent(self, intent_id: str, param: str = "intent") -> dict[str, Any]:
        intent = self._intents.get(intent_id)
        if intent is None:
            raise no_such("payment_intent", intent_id, param)
        return intent

    def _new_charge(self, intent: dict[str, Any], payment_method: str) -> dict[str, Any]:
        return {"id": new_id("ch"), "object": "charge", "amount": intent["amount"], "amount_captured": 0,
                "amount_refunded": 0, "captured": False, "created": int(time.time()), "currency": intent["currency"],
                "failure_code": None, "failure_message": None, "livemode": False, "metadata": intent["metadata"],
                "outcome": {"type": "authorized", "seller_message": "Payment complete."}, "paid": True,
                "payment_intent": intent["id"], "payment_method": payment_method, "refunded": False,
                "status": "succeeded", "payment_method_details": {"type": "card", "card": {
                    "brand": BRANDS.get(payment_method, "visa"), "last4": "4242",
                    "multicapture": {"status": "available" if intent["payment_method_options"]["card"][
                        "request_multicapture"] == "if_available" else "unavailable"}}}}

    def _save(self, intent: dict[str, Any] | None, charge: dict[str, Any] | None = None) -> None:
        with self._store.transaction():
            if intent is not None:
                self._store.put(_INTENTS, intent["id"], intent)
            if charge is not None:
                self._store.put(_CHARGES, charge["id"], charge)
        if intent is not None:
            self._intents[intent["id"]] = intent
        if charge is not None:
            self._charges[charge["id"]] = charge
