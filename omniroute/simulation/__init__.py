"""Simulation: replay an order history through sourcing strategies and report what each would have cost.

`omniroute simulate` (see docs/simulation.md) reads plain input files (`inputs`), prices each order
(`pricing`), replays the orders through the strategies on a copy of the stock (`runner`), can
compute the hindsight lower bound (`bound`), and writes the report (`report`).
"""
