"""Prometheus rule files: loading and checking (the rule engine builds on this)."""
