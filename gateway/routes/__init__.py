"""One router per area of the gateway."""
