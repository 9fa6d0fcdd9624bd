"""Scraping Prometheus endpoints: ``[[scrape]]`` targets of the agent config
and the ``metrics_path`` of running service slots."""
