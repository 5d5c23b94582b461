"""Sales-channel integrations: pushing what a channel may sell to the channel itself."""

# The token the Shopify sandbox accepts by default; omniroute.config.settings re-exports it.
DEV_SHOPIFY_TOKEN = "shpat_omniroute_sandbox"
