"""Sales-channel integrations (Shopify): pushing what a channel may sell, and writing fulfilments and cancels back."""
