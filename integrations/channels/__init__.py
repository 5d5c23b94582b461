"""Sales-channel integrations: pushing what a channel may sell to the channel itself."""
