"""The credentials the Shopify and ShipBob sandboxes accept by default.

Both the sandboxes (`integrations`) and the settings' development defaults and production check
(`omniroute.config.settings`) need them, and `models` is the one package both may import.
"""

from __future__ import annotations

DEV_SHOPIFY_TOKEN = "shpat_omniroute_sandbox"
DEV_SHIPBOB_KEY = "shipbob-omniroute-sandbox"
