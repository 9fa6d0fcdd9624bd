"""The controller's HTTP server: Prometheus' HTTP API and HTTP service discovery."""
