"""pytest fixtures for the fake API server and a real kubectl (filled in with the server)."""
