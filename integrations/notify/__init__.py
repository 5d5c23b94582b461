"""Customer notification integrations (email): a client for each provider and a sandbox that speaks it."""
