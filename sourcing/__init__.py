"""The brain: pure functions from an order, stock and a network to a fulfillment plan. No I/O."""
