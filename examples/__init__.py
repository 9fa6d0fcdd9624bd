"""Runnable examples: the demo, its load generator, the hello service."""
