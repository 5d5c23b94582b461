"""Payments: Stripe's PaymentIntents (authorise, capture, cancel, refund), a client and a sandbox."""
