"""3PL integrations: the ShipBob-format client and its sandbox.

DEV_SHIPBOB_KEY lives here, not in omniroute.config.settings, because integrations may not import omniroute
(DESIGN.md §2); settings re-exports it for its default and production check.
"""

DEV_SHIPBOB_KEY = "shipbob-omniroute-sandbox"
