"""Provider integrations: clients for real wire formats, their sandboxes, and shared HTTP concerns."""
