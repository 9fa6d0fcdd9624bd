"""The web console: server-rendered pages on the HTTP server's port, the
same tokens and roles as the CLI, every action through the Ops servicer."""
